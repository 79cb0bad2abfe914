//! A throwaway PostgreSQL for the tests: one cluster per test process (Debian's `initdb` and
//! `postgres`, run as the unprivileged `postgres` user when the tests run as root), in a
//! temporary folder with its Unix socket there too and TCP on a free loopback port, and a
//! fresh database per test ([`PgDb`], dropped with it).
//!
//! The cluster lives as long as the test process. It is started under a small shell that
//! waits on a pipe from this process: when the process ends (however it ends, a panic or a
//! kill included) the pipe closes, and the shell stops PostgreSQL (fast shutdown) and removes
//! the folder. Nothing is left behind and nothing outlives the tests.
//!
//! Found as `$PG_BIN` (a folder holding `initdb` and `postgres`), else the newest
//! `/usr/lib/postgresql/*/bin`, else `initdb` on the `PATH`. Without it a test that needs it
//! is skipped with a message, unless `$PG_TESTS_REQUIRED` is set (`cargo xtask test` sets it
//! and installs Debian's `postgresql`): then it fails.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The cluster of this test process.
pub struct Cluster {
    pub port: u16,
    /// The guardian shell (see the module's documentation) and the write end of its pipe.
    guard: Mutex<Option<(Child, ChildStdin)>>,
    next: AtomicUsize,
    /// How long `initdb` and the start took.
    pub started_in: Duration,
}

/// A database of its own for one test, dropped (connections and all) when this is dropped.
pub struct PgDb {
    pub name: String,
    cluster: &'static Cluster,
}

fn bin_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PG_BIN") {
        return Some(PathBuf::from(p));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    if let Some((_, bin)) = found.pop() {
        return Some(bin);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find(|d| d.join("initdb").is_file())
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `program args…`, as the `postgres` user when this process is root (PostgreSQL refuses
/// to run as root).
fn as_owner(root: bool, program: &Path) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

impl Cluster {
    /// This process's cluster, started at the first call; `None` (with a message) when
    /// PostgreSQL is not installed and not required.
    pub fn get() -> Option<&'static Cluster> {
        static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();
        CLUSTER.get_or_init(Cluster::start).as_ref()
    }

    fn start() -> Option<Cluster> {
        let Some(bin) = bin_dir() else {
            assert!(
                std::env::var_os("PG_TESTS_REQUIRED").is_none(),
                "PG_TESTS_REQUIRED is set but PostgreSQL is not found ($PG_BIN, \
                 /usr/lib/postgresql/*/bin, PATH)"
            );
            eprintln!(
                "SKIPPED: PostgreSQL not found (apt-get install postgresql, or run `cargo xtask test`)"
            );
            return None;
        };
        let started = Instant::now();
        let root = running_as_root();
        let dir = tempfile::Builder::new()
            .prefix("pg-test-")
            .tempdir()
            .unwrap()
            .keep();
        if root {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(status.success(), "chown postgres {}", dir.display());
        }
        let data = dir.join("data");
        let out = as_owner(root, &bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("starting initdb: {e}"));
        assert!(
            out.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        // Test settings: nothing here must survive a crash, so no fsync.
        let postgres = format!(
            "{} -D {} -k {} -h 127.0.0.1 -p {port} -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200",
            sh_quote(&bin.join("postgres")),
            sh_quote(&data),
            sh_quote(&dir),
        );
        // Waits for the pipe to close (this process ended, or the cluster was dropped), then
        // stops PostgreSQL (SIGINT: fast shutdown) and removes the folder.
        let script = format!(
            "{postgres} >{log} 2>&1 </dev/null & pid=$!; \
             while read -r _; do :; done; \
             kill -INT $pid; wait $pid; rm -rf {dir}",
            log = sh_quote(&dir.join("log")),
            dir = sh_quote(&dir),
        );
        let mut child = as_owner(root, Path::new("/bin/sh"))
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting postgres: {e}"));
        let stdin = child.stdin.take().unwrap();
        let mut cluster = Cluster {
            port,
            guard: Mutex::new(Some((child, stdin))),
            next: AtomicUsize::new(0),
            started_in: Duration::ZERO,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match postgres::Client::connect(&cluster.url("postgres"), postgres::NoTls) {
                Ok(_) => break,
                Err(e) => {
                    if Instant::now() > deadline {
                        let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
                        panic!("PostgreSQL did not start: {e}\n{log}");
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
        cluster.started_in = started.elapsed();
        Some(cluster)
    }

    /// The connection URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    fn admin(&self) -> postgres::Client {
        postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .expect("connecting to the test cluster")
    }

    /// Stops the cluster now (the guardian shell stops PostgreSQL and removes the folder).
    pub fn stop(&self) {
        if let Some((mut child, mut stdin)) = self.guard.lock().unwrap().take() {
            let _ = stdin.flush();
            drop(stdin);
            let _ = child.wait();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

impl PgDb {
    /// A fresh, empty database, or `None` (with a message) when PostgreSQL is not installed
    /// and not required.
    pub fn new() -> Option<PgDb> {
        let cluster = Cluster::get()?;
        let n = cluster.next.fetch_add(1, Ordering::Relaxed);
        let name = format!("test_{n}");
        cluster
            .admin()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("creating a test database");
        Some(PgDb { name, cluster })
    }

    /// Its connection URL (`postgres://…`), as the server's configuration takes it.
    pub fn url(&self) -> String {
        self.cluster.url(&self.name)
    }

    pub fn cluster(&self) -> &'static Cluster {
        self.cluster
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let _ = self.cluster.admin().batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}
