//! The Debian package as an operator gets it: built by cargo-deb from the dev-profile binary
//! (no release build in CI), installed with `dpkg -i`, the INSTALLED binary started with the
//! INSTALLED configuration as the unit's `ExecStart` would (as the user `inspection-sync`, in
//! its `WorkingDirectory`; systemd is not PID 1 here, so it is started directly, with only the
//! port moved to a free loopback one through `SYNC_SERVER_LISTEN`), `/health` answered, no demo
//! account, a wrong setting refused by name; then the package is purged. When `rpm` is
//! installed, the RPM built by cargo-generate-rpm from the same files is checked too.
//!
//! It changes the machine (a package, a system user, /var/lib/inspection-sync), needs root,
//! `dpkg` and `cargo-deb`, so it is ignored by `cargo test`; `cargo xtask test` runs it:
//! `cargo test -p sync-server --test package -- --ignored --nocapture`. It refuses to touch
//! an `inspection-sync-server` that it did not install itself.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PACKAGE: &str = "inspection-sync-server";
/// The version the test's packages carry, so a leftover of an interrupted run is recognised
/// (and only such a leftover is purged before starting).
const TEST_VERSION: &str = "0.0.0~installtest-1";
const USER: &str = "inspection-sync";
const DATA: &str = "/var/lib/inspection-sync";
const UNIT: &str = "/usr/lib/systemd/system/inspection-sync.service";
const CONFIG: &str = "/etc/inspection-sync/sync-server.toml";

fn run(program: &str, args: &[&str]) -> String {
    run_in(Path::new("."), program, args)
}

fn run_in(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    assert!(
        out.status.success(),
        "`{program} {}` failed with {}:\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn installed_version() -> Option<String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Status} ${Version}", PACKAGE])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.strip_prefix("install ok installed ")
        .map(str::to_owned)
}

fn user_exists() -> bool {
    Command::new("getent")
        .args(["passwd", USER])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Purges the package, and removes what the test's install added to the machine, also when
/// the test fails half-way.
struct Installed {
    data_existed: bool,
    user_existed: bool,
}

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["--purge", PACKAGE]).output();
        // The package keeps the data folder and the user on purge (the evidence is never
        // deleted by a package manager); the test removes its own.
        if !self.data_existed {
            let _ = std::fs::remove_dir_all(DATA);
        }
        if !self.user_existed {
            let _ = Command::new("userdel").arg(USER).output();
        }
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// `key=` lines of the installed unit's `[Service]`.
fn unit_value(unit: &str, key: &str) -> String {
    unit.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{UNIT} has no {key}="))
        .trim()
        .to_owned()
}

/// The installed `ExecStart`, run as the unit's user in its working directory, with `env`.
fn start_as_the_unit(unit: &str, env: &[(&str, &str)], extra: &[&str]) -> Command {
    let exec: Vec<String> = unit_value(unit, "ExecStart")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let user = unit_value(unit, "User");
    let group = unit_value(unit, "Group");
    let mut cmd = Command::new("setpriv");
    cmd.args([
        &format!("--reuid={user}"),
        &format!("--regid={group}"),
        "--init-groups",
        "--",
    ])
    .args(&exec)
    .args(extra)
    .current_dir(unit_value(unit, "WorkingDirectory"))
    .env_clear()
    .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    .env("RUST_LOG", "info");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

#[test]
#[ignore = "installs a Debian package: run as root by `cargo xtask test`"]
fn the_debian_package_installs_starts_with_its_configuration_answers_health_and_purges() {
    let started = Instant::now();
    let target_dir = PathBuf::from(env!("CARGO_BIN_EXE_sync-server"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_path_buf();
    match installed_version() {
        None => {}
        Some(v) if v == TEST_VERSION => {
            eprintln!("purging the leftover of an interrupted run ({v})");
            run("dpkg", &["--purge", PACKAGE]);
        }
        Some(v) => panic!(
            "{PACKAGE} {v} is installed on this machine and was not installed by this test; \
             not touching it"
        ),
    }
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().to_str().unwrap();

    // Build: the dev-profile binary cargo has just built for this test (--no-build), fast
    // compression. cargo-deb warns that dev profiles are not its purpose; it packages them.
    let t = Instant::now();
    run(
        "cargo",
        &[
            "deb",
            "--locked",
            "-p",
            "sync-server",
            "--no-build",
            "--profile",
            "dev",
            "--fast",
            "--deb-version",
            TEST_VERSION,
            "-o",
            out_dir,
        ],
    );
    let deb = out
        .path()
        .join(format!("{PACKAGE}_{TEST_VERSION}_amd64.deb"));
    assert!(deb.exists(), "no {}", deb.display());
    let built = t.elapsed();
    let listing = run("dpkg-deb", &["-c", deb.to_str().unwrap()]);
    for path in [
        "./usr/bin/sync-server",
        &format!(".{CONFIG}"),
        &format!(".{UNIT}"),
        "./usr/share/inspection-sync/fixtures/checklists/gongmao.toml",
        "./usr/share/inspection-sync/fixtures/checklists/gongmao-v2.toml",
        "./usr/share/inspection-sync/fixtures/checklists/weihuapin-v2.toml",
    ] {
        assert!(
            listing.contains(path),
            "{path} not in the package:\n{listing}"
        );
    }
    assert!(
        !listing.contains("fixtures/demo"),
        "the package must not carry the demo data:\n{listing}"
    );
    let name = run("dpkg-deb", &["-f", deb.to_str().unwrap(), "Package"]);
    assert_eq!(name.trim(), PACKAGE);

    // Install.
    let guard = Installed {
        data_existed: Path::new(DATA).exists(),
        user_existed: user_exists(),
    };
    let t = Instant::now();
    run("dpkg", &["-i", deb.to_str().unwrap()]);
    let installed = t.elapsed();
    assert_eq!(installed_version().as_deref(), Some(TEST_VERSION));
    assert!(user_exists(), "the postinst makes the system user {USER}");
    let owner = run("stat", &["-c", "%U:%G %a", DATA]);
    assert_eq!(owner.trim(), format!("{USER}:{USER} 750"));
    let conffiles = run("dpkg-query", &["-W", "-f=${Conffiles}", PACKAGE]);
    assert!(
        conffiles.contains(CONFIG),
        "{CONFIG} is a conffile: {conffiles}"
    );
    let unit = std::fs::read_to_string(UNIT).unwrap();
    assert_eq!(
        unit_value(&unit, "ExecStart"),
        format!("/usr/bin/sync-server --config {CONFIG}")
    );
    assert_eq!(unit_value(&unit, "StateDirectory"), "inspection-sync");
    // The allocator commits memory as it is used (see the unit's comment).
    assert_eq!(
        unit_value(&unit, "Environment"),
        "MIMALLOC_ARENA_EAGER_COMMIT=0"
    );
    // systemd's own check of the installed unit (its directives, the binary it names), where
    // systemd's tools are installed (they work without systemd running).
    if let Ok(out) = Command::new("systemd-analyze")
        .args(["verify", UNIT])
        .output()
    {
        assert!(
            out.status.success()
                && !String::from_utf8_lossy(&out.stderr).contains("inspection-sync"),
            "systemd-analyze verify {UNIT}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // A wrong setting stops the installed binary with a message naming it.
    let refused = start_as_the_unit(
        &unit,
        &[
            ("SYNC_SERVER_TLS_CERT", "/nonexistent/server.crt"),
            ("SYNC_SERVER_TLS_KEY", "/nonexistent/server.key"),
        ],
        &[],
    )
    .output()
    .unwrap();
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        said.contains(
            "setting tls.cert (SYNC_SERVER_TLS_CERT, from the environment): /nonexistent/server.crt"
        ),
        "{said}"
    );

    // Start the installed binary as the unit would, on a free loopback port.
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let log = out.path().join("server.log");
    let t = Instant::now();
    let mut server = start_as_the_unit(&unit, &[("SYNC_SERVER_LISTEN", &listen)], &[])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let health = loop {
        if let Ok(resp) = http.get(format!("http://{listen}/health")).send() {
            break resp;
        }
        if let Some(status) = server.try_wait().unwrap() {
            let mut text = String::new();
            std::fs::File::open(&log)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            panic!("the installed server exited with {status}:\n{text}");
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "no /health within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let answered = t.elapsed();
    assert_eq!(health.status().as_u16(), 200);
    let body: serde_json::Value = health.json().unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    // The shipped checklists: gongmao and weihuapin, v1 and v2.
    assert_eq!(body["templates"], 4, "the packaged checklists: {body}");
    assert_eq!(
        body["users"], 0,
        "no demo users in the packaged configuration: {body}"
    );
    // No demo account with the demo password.
    let login = http
        .post(format!("http://{listen}/api/v1/login"))
        .json(&serde_json::json!({ "user": "u-wang", "password": "demo-2026" }))
        .send()
        .unwrap();
    assert_eq!(login.status().as_u16(), 401);
    // The database is in the installed data folder, owned by the service's user.
    let db = run("stat", &["-c", "%U", &format!("{DATA}/server.db")]);
    assert_eq!(db.trim(), USER);
    // SIGTERM, as `systemctl stop` sends: a clean stop.
    run("kill", &["-TERM", &server.id().to_string()]);
    let status = server.wait().unwrap();
    assert!(status.success(), "stopped with {status}");

    // Purge: the program, the unit and the configuration go.
    let t = Instant::now();
    run("dpkg", &["--purge", PACKAGE]);
    let purged = t.elapsed();
    assert_eq!(installed_version(), None);
    for path in ["/usr/bin/sync-server", UNIT, CONFIG] {
        assert!(!Path::new(path).exists(), "{path} left after purge");
    }
    drop(guard);

    // The RPM from the same description, when the rpm tool is there to read it.
    let rpm = rpm_check(&target_dir, out.path());
    eprintln!(
        "package test: built in {built:.1?}, installed in {installed:.1?}, /health after \
         {answered:.1?}, purged in {purged:.1?}, {rpm}; {:.1?} in all",
        started.elapsed()
    );
}

/// Builds the RPM (cargo-generate-rpm, dev profile) and reads its file list and scripts
/// with `rpm`, when both are installed.
fn rpm_check(target_dir: &Path, out: &Path) -> String {
    let have = |p: &str| {
        Command::new(p)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !have("rpm") || !have("cargo-generate-rpm") {
        return "RPM not checked (rpm or cargo-generate-rpm missing)".into();
    }
    let t = Instant::now();
    let file = out.join("package.rpm");
    // cargo-generate-rpm maps `target/release` to `<target dir>/<profile>` (it reads
    // CARGO_TARGET_DIR); the dev profile's folder is `debug`, so that is the name given.
    let _ = target_dir;
    // From the workspace's root, where it looks for `-p`'s manifest.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    run_in(
        root,
        "cargo",
        &[
            "generate-rpm",
            "-p",
            "sync-server",
            "--profile",
            "debug",
            // The unstripped dev binary is over 100 MB: zstd at the default level would take
            // minutes of CPU for nothing the test reads.
            "--payload-compress",
            "none",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    let list = run("rpm", &["-qlp", file.to_str().unwrap()]);
    for path in ["/usr/bin/sync-server", CONFIG, UNIT] {
        assert!(list.contains(path), "{path} not in the RPM:\n{list}");
    }
    let config = run("rpm", &["-qcp", file.to_str().unwrap()]);
    assert!(
        config.contains(CONFIG),
        "{CONFIG} is a config file: {config}"
    );
    let scripts = run("rpm", &["-qp", "--scripts", file.to_str().unwrap()]);
    assert!(scripts.contains("useradd --system"), "{scripts}");
    format!("RPM built and read in {:.1?}", t.elapsed())
}
