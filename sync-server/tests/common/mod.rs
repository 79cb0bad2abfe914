//! A real server process on loopback, and real tablets (the tablet library with its own
//! SQLite store) that talk to it.

#![allow(dead_code)]

pub mod ca;
pub mod cases;
pub mod console;
pub mod pg;
pub mod proxy;
pub mod s3;

use app_core::checklist::ChecklistTemplate;
use app_core::evidence::Sha256Hex;
use app_core::geo::Timestamp;
use app_core::ids::InspectionId;
use app_core::inspection::{Command, Context, Inspection, InspectorRef};
use app_core::kind::InspectionKind;
use app_core::user::User;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tablet::store::Store;
use tablet::sync::SyncClient;

pub const PASSWORD: &str = "test-password";

/// One step of a test's story (see [`Tablet::at`]): a second of real time. The server takes a
/// change only if its time is at most five minutes after the server's clock and not before
/// its device was registered, so a test's story must fit into real time: "minute 16 of the
/// visit" is sixteen seconds after the server started.
pub const STEP_MS: i64 = 1_000;

/// The real clock, in milliseconds since the Unix epoch (what a tablet stamps its changes with).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The record id a tablet would mint, for a readable test name: `insp-` and a UUID (version
/// 4, variant 8, lowercase) made of the SHA-256 of `name`, so the same name gives the same id
/// in every test and run, and the server accepts it (`app_core::judge::valid_record_id`).
pub fn rid(name: &str) -> String {
    let digest = Sha256Hex::of(name.as_bytes());
    let h = digest.as_str();
    format!(
        "insp-{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

#[derive(Debug)]
pub struct TestServer {
    child: Option<Child>,
    pub data: PathBuf,
    pub addr: String,
    /// When the server was started (ms): the start of the test's story (see [`Tablet::at`]).
    pub t0: i64,
    /// Further command-line arguments (e.g. `--tls-cert`, `--tls-key`).
    extra: Vec<std::ffi::OsString>,
    /// Serving HTTPS: [`TestServer::url`] is `https://localhost:PORT`.
    pub tls: bool,
    /// The server's log (standard output) goes to this file when set (`RUST_LOG=info`).
    pub log: Option<PathBuf>,
    /// Environment variables for the server (e.g. `SYNC_SERVER_BLOBS_STORE`).
    pub env: Vec<(String, String)>,
    /// The test CA's certificate (PEM) when started by [`TestServer::start_tls`]: what its
    /// tablets and HTTP clients trust.
    pub ca: Option<String>,
}

/// The server binary the tests start: this build's, or `SYNC_TEST_SERVER` (to measure another
/// build, e.g. the release binary's memory in the 1 GB recording test, with the same harness).
pub fn server_binary() -> std::path::PathBuf {
    std::env::var_os("SYNC_TEST_SERVER")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_sync-server").into())
}

impl TestServer {
    /// Starts the server binary on a free loopback port with its data in `data`.
    pub fn start(data: &Path) -> Self {
        Self::start_with(data, &[], None)
    }

    /// Starts the server with further arguments (`--tls-cert F --tls-key F` makes it serve
    /// HTTPS), logging at `info` into `log` if given.
    pub fn start_with(data: &Path, extra: &[std::ffi::OsString], log: Option<&Path>) -> Self {
        Self::start_env(data, extra, log, &[])
    }

    /// [`TestServer::start_with`], with environment variables (the blob store's settings).
    pub fn start_env(
        data: &Path,
        extra: &[std::ffi::OsString],
        log: Option<&Path>,
        env: &[(String, String)],
    ) -> Self {
        let mut s = Self {
            env: env.to_vec(),
            child: None,
            data: data.to_owned(),
            addr: String::new(),
            t0: now_ms(),
            extra: extra.to_vec(),
            tls: extra.iter().any(|a| a == "--tls-cert"),
            log: log.map(Path::to_owned),
            ca: None,
        };
        s.launch("127.0.0.1:0");
        s
    }

    /// Starts the server serving HTTPS with a certificate for `localhost` from a CA made for
    /// it; [`TestServer::address`] and [`TestServer::http`] trust that CA (as a bureau's
    /// tablets trust its CA after enrollment).
    pub fn start_tls(data: &Path) -> Self {
        std::fs::create_dir_all(data).unwrap();
        let ca = ca::Ca::new("测试 CA (test)");
        let certs = data.with_extension("tls");
        std::fs::create_dir_all(&certs).unwrap();
        let args = ca.issue(&certs, "server", &["localhost", "127.0.0.1"], (-1, 30));
        let mut server = Self::start_with(data, &args, None);
        server.ca = Some(ca.pem());
        server
    }

    /// The server as a tablet reaches it: its URL, and the test CA when it serves HTTPS.
    pub fn address(&self) -> tablet::tls::Server {
        let trust = match &self.ca {
            Some(pem) => tablet::tls::ServerTrust::Ca { pem: pem.clone() },
            None => tablet::tls::ServerTrust::System,
        };
        tablet::tls::Server::new(self.url(), trust)
    }

    /// An HTTP client for the server (trusting its test CA; no redirects followed).
    pub fn http(&self) -> reqwest::blocking::Client {
        tablet::tls::client(
            &self.address(),
            Duration::from_secs(10),
            Some(Duration::from_secs(120)),
        )
        .unwrap()
    }

    fn launch(&mut self, listen: &str) {
        let port_file = self.data.join("port");
        let _ = std::fs::remove_file(&port_file);
        let child = Process::new(server_binary())
            .args(["--data"])
            .arg(&self.data)
            .arg("--fixtures")
            .arg(fixtures())
            .args([
                "--listen",
                listen,
                "--demo-password",
                PASSWORD,
                "--port-file",
            ])
            .arg(&port_file)
            .args(&self.extra)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("RUST_LOG", if self.log.is_some() { "info" } else { "warn" })
            // The server logs to standard output; the reason it stops, if it does, goes to
            // standard error (the same file).
            .stdout(match &self.log {
                Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
                None => Stdio::null(),
            })
            .stderr(match &self.log {
                Some(path) => {
                    Stdio::from(std::fs::OpenOptions::new().append(true).open(path).unwrap())
                }
                None => Stdio::null(),
            })
            .spawn()
            .expect("server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(addr) = std::fs::read_to_string(&port_file) {
                self.addr = addr;
                return;
            }
            let log = || match &self.log {
                Some(path) => std::fs::read_to_string(path).unwrap_or_default(),
                None => "(no log kept)".into(),
            };
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("server stopped before serving ({status}):\n{}", log());
            }
            assert!(
                Instant::now() < deadline,
                "server did not start:\n{}",
                log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn url(&self) -> String {
        if self.tls {
            // The name the test certificates are issued for.
            let port = self.addr.rsplit(':').next().unwrap();
            format!("https://localhost:{port}")
        } else {
            format!("http://{}", self.addr)
        }
    }

    /// The server process's id, while it runs (to read its memory from `/proc`).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL: no graceful shutdown, no flush.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// SIGTERM, then waits: the server should finish in-flight requests and exit cleanly.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        Process::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = c.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "server ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts again on the same address with the same data.
    pub fn restart(&mut self) {
        self.kill9();
        let addr = self.addr.clone();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            // The port may linger briefly after a kill.
            if std::net::TcpListener::bind(&addr).is_ok() {
                break;
            }
            assert!(Instant::now() < deadline, "port {addr} stays busy");
            std::thread::sleep(Duration::from_millis(20));
        }
        self.launch(&addr);
    }
}

impl TestServer {
    /// SIGTERM and wait, keeping the address (for [`TestServer::start_again`]).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            Process::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status()
                .unwrap();
            c.wait().unwrap();
        }
    }

    /// Starts the binary again on the same address and data folder (after [`TestServer::stop`]).
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "stop the server first");
        let addr = self.addr.clone();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpListener::bind(&addr).is_err() {
            assert!(Instant::now() < deadline, "port {addr} stays busy");
            std::thread::sleep(Duration::from_millis(20));
        }
        self.launch(&addr);
    }

    /// Runs `sync-server admin --data <data> ARGS…`; returns (success, stdout + stderr).
    pub fn admin(&self, args: &[&std::ffi::OsStr]) -> (bool, String) {
        let out = Process::new(env!("CARGO_BIN_EXE_sync-server"))
            .arg("admin")
            .arg("--data")
            .arg(&self.data)
            .args(args)
            .output()
            .expect("admin runs");
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A tablet: its own store, signed in as `user`, with the reference data fetched.
pub struct Tablet {
    pub store: Mutex<Store>,
    db: PathBuf,
    pub client: SyncClient,
    pub user: User,
    /// The start of the test's story: the server's start (see [`Tablet::at`]).
    pub t0: i64,
    _dir: tempfile::TempDir,
}

impl Tablet {
    pub fn new(server: &TestServer, user: &str) -> Self {
        Self::connect(server, server.address(), user).unwrap()
    }

    /// A tablet that reaches `server` as `address` says (its URL and whom it trusts), or the
    /// error its sign-in ends with.
    pub fn connect(
        server: &TestServer,
        address: tablet::tls::Server,
        user: &str,
    ) -> Result<Self, tablet::sync::SyncError> {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("tablet.db")).unwrap();
        let mut client = SyncClient::new(address);
        let session = client.sign_in(user, PASSWORD, &store)?.clone();
        let store = Mutex::new(store);
        client.fetch_reference(&store)?;
        Ok(Self {
            store,
            db: dir.path().join("tablet.db"),
            client,
            user: session.user,
            t0: server.t0,
            _dir: dir,
        })
    }

    /// The tablet's database file (a second handle may open it, as the app's sync thread does).
    pub fn db_path(&self) -> PathBuf {
        self.db.clone()
    }

    pub fn template(&self) -> ChecklistTemplate {
        let all = self
            .store
            .lock()
            .unwrap()
            .reference::<ChecklistTemplate>()
            .unwrap();
        all.into_iter().find(|t| t.id == "gongmao").unwrap()
    }

    /// Step `step` of the test's story: [`STEP_MS`] per step after the server started. Every
    /// tablet of a server shares the story's clock.
    pub fn at(&self, step: i64) -> Timestamp {
        Timestamp(self.t0 + step * STEP_MS)
    }

    pub fn cx<'a>(&'a self, t: &'a ChecklistTemplate, step: i64) -> Context<'a> {
        self.cx_at(t, self.at(step))
    }

    pub fn cx_at<'a>(&'a self, t: &'a ChecklistTemplate, now: Timestamp) -> Context<'a> {
        Context {
            actor: &self.user,
            now,
            template: t,
        }
    }

    /// Applies `command` at step `step` of the story (see [`Tablet::at`]).
    pub fn apply(&self, id: &str, command: Command, step: i64) {
        self.apply_at(id, command, self.at(step))
    }

    /// Applies `command` at time `now`.
    pub fn apply_at(&self, id: &str, command: Command, now: Timestamp) {
        let t = self.template();
        self.store
            .lock()
            .unwrap()
            .apply(&InspectionId::from(id), &command, &self.cx_at(&t, now))
            .unwrap_or_else(|e| panic!("{} {}: {e}", self.user.id, command.name()));
    }

    pub fn record(&self, id: &str) -> Inspection {
        self.store
            .lock()
            .unwrap()
            .inspection(&InspectionId::from(id))
            .unwrap()
    }

    /// Fetches record `id` on demand (`POST /api/v1/fetch`) unless the tablet holds it: an
    /// inspector's or a supervisor's tablet is sent only the records the user has a part in
    /// (and those of plans assigned to them); a colleague's record of the unit (of the
    /// subtree, for a supervisor) is fetched, and from then on syncs like the tablet's own.
    pub fn fetch_unless_held(&self, id: &str) {
        let held = self
            .store
            .lock()
            .unwrap()
            .inspection(&InspectionId::from(id))
            .is_ok();
        if !held {
            self.client
                .fetch(
                    &self.store,
                    app_core::wire::FetchQuery::Record(id.to_owned()),
                    self.at(0),
                )
                .unwrap_or_else(|e| panic!("{} fetching {id}: {e}", self.user.id));
        }
    }

    /// Record `id` as this tablet holds it, fetched on demand first if it does not hold it
    /// ([`Tablet::fetch_unless_held`]): for a tablet that only observes a record it has no part
    /// in (a supervisor's, or a colleague's). A supervisor's tablet does not pull every record
    /// of the subtree at sync (supervisors review in the console, which reads the server);
    /// once fetched, the record is followed, and later syncs bring its changes.
    pub fn observe(&self, id: &str) -> Inspection {
        self.fetch_unless_held(id);
        self.record(id)
    }

    pub fn sync(&self) -> tablet::sync::SyncReport {
        self.client.sync(&self.store, self.at(0)).unwrap()
    }

    /// The tablet's sync cycle (`tablet::sync::upload_then_sync`): first the photo originals
    /// in `blobs` that the records name and the server lacks, then the records. The server
    /// accepts a record naming a photo only from a device that uploaded it (or from a user
    /// who may already read a record naming it). Asserts every upload succeeded.
    pub fn upload_then_sync(&self, blobs: &tablet::blobs::BlobStore) -> tablet::sync::SyncReport {
        let (report, uploads) = tablet::sync::upload_then_sync(
            &self.client,
            &self.store,
            Some(blobs),
            || self.at(0),
            |_| {},
        )
        .unwrap();
        let uploads = uploads.expect("blobs given");
        assert!(uploads.failed.is_empty(), "{uploads:?}");
        report
    }

    /// Keeps `bytes` as a photo original in `blobs` (as the camera screen does) and returns
    /// its digest, for a record to name and [`Tablet::upload_then_sync`] to upload.
    pub fn photo(blobs: &tablet::blobs::BlobStore, bytes: &[u8]) -> Sha256Hex {
        blobs.put(bytes).unwrap().sha256
    }

    /// A new draft of enterprise `e-001` with `self` and `colleague` as inspectors (`id`: see
    /// [`rid`]).
    pub fn new_record(&self, id: &str, colleague: &User) {
        let enterprise = self.enterprise("e-001");
        self.new_draft(
            id,
            &enterprise,
            InspectionKind::Unannounced,
            None,
            colleague,
        );
    }

    /// Enterprise `id` as this tablet received it with the reference data.
    pub fn enterprise(&self, id: &str) -> app_core::enterprise::Enterprise {
        self.store
            .lock()
            .unwrap()
            .reference::<app_core::enterprise::Enterprise>()
            .unwrap()
            .into_iter()
            .find(|e| e.id.as_str() == id)
            .unwrap_or_else(|| panic!("enterprise {id} is in this tablet's reference data"))
    }

    /// A new draft of `enterprise` (optionally under `plan`) created on this tablet, with
    /// `self` and `colleague` as its inspectors.
    pub fn new_draft(
        &self,
        id: &str,
        enterprise: &app_core::enterprise::Enterprise,
        kind: InspectionKind,
        plan: Option<&str>,
        colleague: &User,
    ) {
        let t = self.template();
        let mut record = Inspection::new_draft(
            InspectionId::from(id),
            kind,
            enterprise.unit.clone(),
            enterprise.into(),
            t.reference(),
            self.user.id.clone(),
            self.at(0),
        );
        record.plan = plan.map(app_core::ids::PlanId::from);
        self.store
            .lock()
            .unwrap()
            .create_inspection(&record, &t, self.at(0))
            .unwrap();
        for u in [&self.user, colleague] {
            self.apply(
                id,
                Command::AddInspector(InspectorRef {
                    user: u.id.clone(),
                    name: u.name.clone(),
                    certificate: u.certificate().unwrap().clone(),
                }),
                1,
            );
        }
    }
}
