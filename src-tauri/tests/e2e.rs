//! End to end: the real app (this package's binary, with the Yew bundle embedded) under Xvfb,
//! driven through tauri-driver and WebKitWebDriver, against the real sync server binary.
//!
//! One inspector's whole day, in order: sign in online; the network goes away; a sealed
//! 四不两直 plan is started from the home screen; the arrival proof (position entered by
//! hand, entrance photo, both attestations); the checklist, with a failed item, its note and
//! photo — and the app is killed with SIGKILL mid-checklist, restarted, and everything typed
//! is still there; a hazard from the failed item; the on-site person and three signatures
//! drawn on the pads; complete and sign; submit. Then the network comes back: the record and
//! both photos (and the signature images) reach the server; a supervisor returns the record
//! with a comment and the app shows it; the hazard is re-inspected and closed (销号), and the
//! record signed again. Document numbers (文号): the app reserves blocks from the server at
//! sign-in, and issues the 现场检查记录 and 责令限期整改指令书 numbers offline, from its own
//! pool, at the first signing (into the signed version), the 整改复查意见书 number at the
//! signing after the re-inspection. Then the case file (电子案卷), exported with its progress
//! shown, and the file verified as a recipient would (`casefile::verify` against the tablet's
//! key, the three PDFs carrying their numbers, every photo taken byte for byte).
//!
//! Run by `cargo xtask test` (`cargo test -p inspection-app --features e2e`). Needs Xvfb,
//! tauri-driver and WebKitWebDriver; the test starts them itself. Screenshots of the main
//! screens are written to target/screenshots/app-*.png (to `$SCREENSHOTS_DIR` when set:
//! `cargo xtask screenshots` refreshes the README's pictures in docs/screenshots).

use app_core::evidence::Sha256Hex;
use app_core::geo::Timestamp;
use app_core::inspection::{Command as RecordCommand, Context, InspectionStatus};
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tablet::blobs::BlobStore;
use tablet::store::Store;
use tablet::sync::SyncClient;
use tablet::upload::BlobClient;

const PASSWORD: &str = "demo-2026";
const WAIT: Duration = Duration::from_secs(30);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn photo(name: &str) -> PathBuf {
    root().join("../shared/fixtures/photos").join(name)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process stopped with SIGTERM (then waited for) when dropped.
struct Proc(Option<Child>, &'static str);

impl Proc {
    fn terminate(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            eprintln!("{} ignored SIGTERM; killing it", self.1);
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.terminate();
    }
}

struct Xvfb {
    _proc: Proc,
    display: String,
}

fn start_xvfb() -> Xvfb {
    // A display number of our own: free if its lock file and socket are absent.
    let n = (100..400)
        .find(|n| {
            !Path::new(&format!("/tmp/.X{n}-lock")).exists()
                && !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
        })
        .expect("a free X display number");
    let display = format!(":{n}");
    let child = Command::new("Xvfb")
        .args([&display, "-screen", "0", "1280x1280x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb starts (apt install xvfb; `cargo xtask test` installs it)");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
        assert!(Instant::now() < deadline, "Xvfb {display} did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    Xvfb {
        _proc: Proc(Some(child), "Xvfb"),
        display,
    }
}

/// The sync server binary (built by `cargo xtask test` beside this test's binary).
struct Server {
    proc: Proc,
    data: PathBuf,
    addr: String,
}

impl Server {
    fn binary() -> PathBuf {
        let bin = Path::new(env!("CARGO_BIN_EXE_inspection-app"))
            .parent()
            .unwrap()
            .join("sync-server");
        assert!(
            bin.exists(),
            "{} is missing: build it first (`cargo build -p sync-server`; `cargo xtask test` does)",
            bin.display()
        );
        bin
    }

    /// The test's certificate authority and the server's certificate for `localhost` (made
    /// once per data folder, kept across restarts): the CA certificate's path and the
    /// server's `--tls-cert`/`--tls-key` arguments.
    fn certificates(data: &Path) -> (PathBuf, [PathBuf; 2]) {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
        let dir = data.join("tls");
        let (ca, cert, key) = (
            dir.join("ca.pem"),
            dir.join("server.pem"),
            dir.join("server.key"),
        );
        if !ca.exists() {
            std::fs::create_dir_all(&dir).unwrap();
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params
                .distinguished_name
                .push(DnType::CommonName, "测试县应急管理局 CA");
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let issuer =
                CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
            let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
            leaf.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
            let leaf_key = KeyPair::generate().unwrap();
            let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
            std::fs::write(&cert, format!("{}{}", leaf_cert.pem(), issuer.pem())).unwrap();
            std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
            std::fs::write(&ca, issuer.pem()).unwrap();
        }
        (ca, [cert, key])
    }

    fn start(data: &Path, listen: &str) -> Server {
        let log = || {
            if std::env::var_os("E2E_SERVER_LOG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            }
        };
        let (_, [cert, key]) = Self::certificates(data);
        let port_file = data.join("port");
        let _ = std::fs::remove_file(&port_file);
        let deadline = Instant::now() + Duration::from_secs(30);
        let child = loop {
            let mut child = Command::new(Self::binary())
                .arg("--data")
                .arg(data)
                .arg("--fixtures")
                .arg(root().join("fixtures"))
                .args([
                    "--listen",
                    listen,
                    "--demo-password",
                    PASSWORD,
                    "--port-file",
                ])
                .arg(&port_file)
                .arg("--tls-cert")
                .arg(&cert)
                .arg("--tls-key")
                .arg(&key)
                .env(
                    "RUST_LOG",
                    std::env::var("E2E_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
                )
                // E2E_SERVER_LOG=info (a level): the server's log on the test's output.
                .stdout(log())
                .stderr(log())
                .spawn()
                .expect("sync-server starts");
            let started = Instant::now();
            let mut exited = false;
            while started.elapsed() < Duration::from_secs(10) {
                if port_file.exists() {
                    break;
                }
                if let Ok(Some(_)) = child.try_wait() {
                    exited = true; // the port may linger after a kill: try again
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if !exited && port_file.exists() {
                break child;
            }
            let _ = child.kill();
            let _ = child.wait();
            assert!(
                Instant::now() < deadline,
                "sync-server did not start on {listen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        };
        let addr = std::fs::read_to_string(&port_file).unwrap();
        Server {
            proc: Proc(Some(child), "sync-server"),
            data: data.to_owned(),
            addr,
        }
    }

    /// `https://localhost:PORT` (the name on the server's certificate).
    fn url(&self) -> String {
        let port = self.addr.rsplit(':').next().unwrap();
        format!("https://localhost:{port}")
    }

    /// The test CA's certificate (what a bureau gives its tablets).
    fn ca_file(&self) -> PathBuf {
        Self::certificates(&self.data).0
    }

    /// The server as a tablet-library client reaches it: its URL, trusting the test CA.
    fn address(&self) -> tablet::tls::Server {
        tablet::tls::Server::new(
            self.url(),
            tablet::tls::ServerTrust::Ca {
                pem: std::fs::read_to_string(self.ca_file()).unwrap(),
            },
        )
    }

    /// The network goes away: the server is killed and nothing listens on its port.
    fn kill(&mut self) {
        if let Some(mut c) = self.proc.0.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    fn restart(&mut self) {
        self.kill();
        let again = Server::start(&self.data.clone(), &self.addr.clone());
        *self = again;
    }
}

/// The app under tauri-driver, with its data folder and server URL.
struct AppSession {
    client: Client,
    driver: Proc,
}

/// The app is told the server's address and the CA to trust for it, as a bureau's tablet is
/// at enrollment (`INSPECTION_SERVER`, `INSPECTION_SERVER_CA`).
async fn open_app(x: &Xvfb, data: &Path, server: &Server) -> AppSession {
    open_app_at(x, data, server, &server.url(), None).await
}

/// [`open_app`] reaching the server at `url` (a proxy in front of it), with a body camera's
/// card mounted at `media` (`INSPECTION_MEDIA_ROOTS`) if given.
async fn open_app_at(
    x: &Xvfb,
    data: &Path,
    server: &Server,
    url: &str,
    media: Option<&Path>,
) -> AppSession {
    let port = free_port();
    let native = free_port();
    let child = Command::new("tauri-driver")
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .env("DISPLAY", &x.display)
        .env("INSPECTION_DATA", data)
        // A webview cache of its own: a cache kept from an earlier build can serve a stale
        // app_ui.js beside a new wasm, and the page then stays blank.
        .env("XDG_CACHE_HOME", data.with_extension("cache"))
        .env("XDG_DATA_HOME", data.with_extension("share"))
        .env("INSPECTION_SERVER", url)
        .env("INSPECTION_SERVER_CA", server.ca_file())
        .env(
            "INSPECTION_MEDIA_ROOTS",
            media.unwrap_or(&data.join("recordings")),
        )
        .env("INSPECTION_SYNC_INTERVAL_MS", "500")
        .env("INSPECTION_SYNC_MAX_BACKOFF_MS", "1000")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect(
            "tauri-driver starts (cargo install tauri-driver --locked; `cargo xtask test` does)",
        );
    let driver = Proc(Some(child), "tauri-driver");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "tauri-driver did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": env!("CARGO_BIN_EXE_inspection-app") }),
    );
    // Without a working display the app panics and the session request never answers.
    let client = tokio::time::timeout(
        Duration::from_secs(90),
        ClientBuilder::rustls()
            .expect("TLS provider")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}")),
    )
    .await
    .expect("WebDriver session within 90 s")
    .expect("WebDriver session");
    AppSession { client, driver }
}

impl AppSession {
    async fn close(mut self) {
        let _ = self.client.close().await;
        self.driver.terminate();
    }
}

async fn wait_for(c: &Client, css: &str) -> Element {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            return e;
        }
        assert!(Instant::now() < deadline, "{css} did not appear");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the image `css` has loaded (`naturalWidth > 0`) from the app's thumbnail
/// protocol (`thumb://localhost/<sha256>`), not from a data URL.
async fn wait_image(c: &Client, css: &str) {
    let deadline = Instant::now() + WAIT;
    let script = "const i = document.querySelector(arguments[0]);
        return i ? [i.getAttribute('src'), i.complete, i.naturalWidth] : null;";
    let mut last = serde_json::Value::Null;
    loop {
        last = c
            .execute(script, vec![serde_json::json!(css)])
            .await
            .unwrap_or(last);
        if let Some([src, complete, width]) = last.as_array().map(Vec::as_slice)
            && complete.as_bool() == Some(true)
            && width.as_u64().unwrap_or(0) > 0
        {
            let src = src.as_str().unwrap_or_default();
            assert!(src.starts_with("thumb://localhost/"), "{css}: {src}");
            assert_eq!(src.len(), "thumb://localhost/".len() + 64, "{css}: {src}");
            return;
        }
        assert!(Instant::now() < deadline, "{css} did not load: {last}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_text(c: &Client, css: &str, wanted: &str) -> String {
    let deadline = Instant::now() + WAIT;
    let mut last = String::new();
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(t) = e.text().await
        {
            if t.contains(wanted) {
                return t;
            }
            last = t;
        }
        assert!(
            Instant::now() < deadline,
            "{css} never said {wanted:?}; last: {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Waits until the value of the input or text area at `css` contains `wanted`; returns it.
async fn wait_value(c: &Client, css: &str, wanted: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let value = wait_for(c, css).await.prop("value").await.unwrap();
        if let Some(v) = value.filter(|v| v.contains(wanted)) {
            return v;
        }
        assert!(Instant::now() < deadline, "{css} never held {wanted:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn click(c: &Client, css: &str) {
    let e = wait_for(c, css).await;
    // Centred first: the checklist's steering bar stays at the top of the screen, and a
    // click WebDriver scrolls to the edge would land on the bar.
    let _ = c
        .execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&e).unwrap()],
        )
        .await;
    e.click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn type_into(c: &Client, css: &str, text: &str) {
    let e = wait_for(c, css).await;
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

/// Waits until `css` matches exactly `n` elements.
async fn wait_count(c: &Client, css: &str, n: usize) {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = count(c, css).await;
        if now == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{css}: {now} elements, wanted {n}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until element `css` is on screen (its top inside the viewport).
async fn wait_in_view(c: &Client, css: &str) {
    let deadline = Instant::now() + WAIT;
    let script = "const e = document.querySelector(arguments[0]);
        if (!e) return false;
        const r = e.getBoundingClientRect();
        return r.top >= 0 && r.top < window.innerHeight;";
    loop {
        let v = c
            .execute(script, vec![serde_json::json!(css)])
            .await
            .unwrap_or_default();
        if v.as_bool() == Some(true) {
            return;
        }
        assert!(Instant::now() < deadline, "{css} did not come into view");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn count(c: &Client, css: &str) -> usize {
    c.find_all(Locator::Css(css))
        .await
        .map(|v| v.len())
        .unwrap_or(0)
}

/// The two tablet sizes every screen is photographed at (landscape, portrait).
const SIZES: [(u32, u32); 2] = [(1280, 800), (800, 1280)];

/// Saves the screen at 1280×800 and at 800×1280 (the window resized through WebDriver, then
/// restored), and checks that the visible text of the Chinese UI shows no internal
/// identifier, JSON path, command name or English error ([`machine_text`]).
async fn screenshot(c: &Client, name: &str) {
    let dir = std::env::var_os("SCREENSHOTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/screenshots"));
    std::fs::create_dir_all(&dir).unwrap();
    let (x, y, w, h) = c.get_window_rect().await.expect("window rect");
    for (width, height) in SIZES {
        c.set_window_rect(0, 0, width, height)
            .await
            .expect("resize the window");
        tokio::time::sleep(Duration::from_millis(400)).await;
        let png = c.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "screenshot is a PNG");
        std::fs::write(dir.join(format!("app-{name}-{width}x{height}.png")), png).unwrap();
    }
    c.set_window_rect(x as u32, y as u32, w as u32, h as u32)
        .await
        .expect("restore the window");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let chinese = match c.find(Locator::Css("#lang")).await {
        Ok(e) => e.text().await.unwrap_or_default() == "English",
        Err(_) => false,
    };
    if chinese {
        let text = c
            .find(Locator::Css("body"))
            .await
            .expect("body")
            .text()
            .await
            .expect("visible text");
        let found = machine_text(&text);
        assert!(
            found.is_empty(),
            "screen {name} shows machine text: {found:?}"
        );
    }
}

/// What in `text` (a screen's visible text in the Chinese UI) is not a person's word:
/// record/hazard/re-inspection ids (`insp-…`, `hz-…`, `ri-…`), UUIDs, user ids (`u-wang`),
/// JSON paths (`/hazards/…/closed_on`), snake_case names (`add_inspector`) and English
/// sentences (three or more English words in a row: an error the rules wrote in English).
fn machine_text(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for token in text.split(|c: char| {
        c.is_whitespace() || !c.is_ascii() || "，。：；（）、,;()\"'“”".contains(c)
    }) {
        let t = token.trim_matches(|c: char| matches!(c, '.' | ':' | '!' | '?'));
        if t.is_empty() {
            continue;
        }
        let lower = t.to_ascii_lowercase();
        let id_prefix = ["insp-", "hz-", "ri-", "u-"].iter().any(|p| {
            lower.starts_with(p)
                && lower.len() > p.len()
                && lower[p.len()..]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        let uuid = lower
            .split('-')
            .map(str::len)
            .collect::<Vec<_>>()
            .windows(5)
            .any(|w| w == [8, 4, 4, 4, 12])
            && lower
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == '-' || c.is_ascii_alphanumeric());
        let path = t.starts_with('/')
            && t[1..].contains('/')
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_-…".contains(c));
        let snake = t.contains('_')
            && t.split('_')
                .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()));
        if id_prefix || uuid || path || snake {
            found.push(t.to_owned());
        }
    }
    // English sentences: three or more ASCII words in a row (not codes like "SHA-256").
    let mut run: Vec<&str> = Vec::new();
    let flush = |run: &mut Vec<&str>, found: &mut Vec<String>| {
        if run.len() >= 3 {
            found.push(run.join(" "));
        }
        run.clear();
    };
    for word in text.split(|c: char| c.is_whitespace()) {
        let w = word.trim_matches(|c: char| ",.:;!?()\"'".contains(c));
        let english = !w.is_empty()
            && w.chars().all(|c| c.is_ascii_alphabetic())
            && w.chars().any(|c| c.is_ascii_lowercase());
        if english {
            run.push(w);
        } else {
            flush(&mut run, &mut found);
        }
    }
    flush(&mut run, &mut found);
    found
}

#[test]
fn machine_text_finds_ids_paths_and_english_and_passes_chinese() {
    // Found.
    for (text, what) in [
        ("隐患 hz-1796ab3c 已整改", "hz-1796ab3c"),
        (
            "记录 insp-266928b7-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
            "insp-266928b7-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        ),
        ("复查 ri-3 通过", "ri-3"),
        (
            "设备 0b6f3c1e-8d2a-4c55-9a1e-3f6b2d9c7e10",
            "0b6f3c1e-8d2a-4c55-9a1e-3f6b2d9c7e10",
        ),
        ("执法人员 u-wang", "u-wang"),
        (
            "修改：/hazards/hz-1796/closed_on",
            "/hazards/hz-1796/closed_on",
        ),
        ("操作 add_inspector", "add_inspector"),
        (
            "cannot move a record from Submitted to Returned",
            "cannot move a record from Submitted to Returned",
        ),
    ] {
        let found = machine_text(text);
        assert!(
            found.iter().any(|f| f == what),
            "{text:?}: found {found:?}, wanted {what:?}"
        );
    }
    // Not found: the words a person reads, codes a person uses.
    for text in [
        "安全生产执法检查 首页 English 已答 12/43",
        "现场检查记录 （玄武）应急检记〔2026〕1号",
        "统一社会信用代码 913201023AGYGLUY37 GM-JX-01 冲床防护罩",
        "SHA-256 3f6b2d9c7e10 签署内容已冻结并校验一致 v2",
        "2026年12月21日 32.0935, 118.8056 PDF GPS",
        "https://example.cn/a 南京市玄武区红山路88号",
    ] {
        assert_eq!(machine_text(text), Vec::<String>::new(), "{text:?}");
    }
}

/// Draws a stroke across a signature pad with WebDriver pointer actions.
async fn draw(c: &Client, css: &str, variant: f64) {
    let pad = wait_for(c, css).await;
    let mut mouse = MouseActions::new("pen".into()).then(PointerAction::MoveToElement {
        element: pad.clone(),
        duration: None,
        x: 0.0,
        y: 0.0,
    });
    mouse = mouse.then(PointerAction::MoveBy {
        duration: None,
        x: -150.0,
        y: 10.0,
    });
    mouse = mouse.then(PointerAction::Down {
        button: MOUSE_BUTTON_LEFT,
    });
    // Each signer's stroke differs (identical strokes would give identical images).
    for (x, y) in [
        (50.0, -40.0),
        (60.0, 60.0),
        (60.0, -55.0),
        (60.0, 60.0),
        (60.0, -35.0),
    ] {
        mouse = mouse.then(PointerAction::MoveBy {
            duration: Some(Duration::from_millis(60)),
            x: x + variant * 5.0,
            y: y * (1.0 - variant * 0.3),
        });
    }
    mouse = mouse.then(PointerAction::Up {
        button: MOUSE_BUTTON_LEFT,
    });
    c.perform_actions(mouse).await.expect("draw on the pad");
}

/// The app process started for `data` (found by its environment), to kill it like a crash.
fn app_pid(data: &Path) -> Option<i32> {
    let wanted = format!("INSPECTION_DATA={}", data.display());
    let bin = env!("CARGO_BIN_EXE_inspection-app");
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let exe = std::fs::read_link(entry.path().join("exe")).unwrap_or_default();
        if exe != Path::new(bin) {
            continue;
        }
        let env = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if env.split(|b| *b == 0).any(|kv| kv == wanted.as_bytes()) {
            return Some(pid);
        }
    }
    None
}

/// The files in the app's exports folder (case files, and any temporary file).
fn exported_files(app_data: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(app_data.join("exports"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The text of a PDF as `pdftotext -raw` extracts it.
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-raw", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext runs (poppler-utils; `cargo xtask test` installs it)");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout).unwrap()
}

/// A supervisor at the server: a tablet-library client signed in as `user`.
struct Desk {
    store: Mutex<Store>,
    client: SyncClient,
    user: app_core::user::User,
    _dir: tempfile::TempDir,
}

impl Desk {
    fn new(server: tablet::tls::Server, user: &str) -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("desk.db")).unwrap();
        let mut client = SyncClient::new(server);
        let session = client.sign_in(user, PASSWORD, &store).unwrap().clone();
        let store = Mutex::new(store);
        client.fetch_reference(&store).unwrap();
        client.sync(&store, Timestamp(0)).unwrap();
        Desk {
            store,
            client,
            user: session.user,
            _dir: dir,
        }
    }

    /// Fetches record `id` on demand and follows it from then on: a supervisor's tablet is
    /// sent at sync only the records the supervisor has a part in (see docs/ARCHITECTURE.md,
    /// "What a tablet pulls").
    fn follow(&self, id: &app_core::ids::InspectionId) {
        self.client
            .fetch(
                &self.store,
                app_core::wire::FetchQuery::Record(id.to_string()),
                Timestamp(0),
            )
            .expect("the supervisor may read the record");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_unannounced_inspection_offline_then_synced_returned_and_reinspected() {
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../app-ui/dist/app_ui_bg.wasm")
            .exists(),
        "the Yew bundle is missing: run `cargo xtask ui`"
    );
    let x = start_xvfb();
    let tmp = tempfile::tempdir().unwrap();
    let server_data = tmp.path().join("server");
    let app_data = tmp.path().join("tablet");
    std::fs::create_dir_all(&server_data).unwrap();
    let mut server = Server::start(&server_data, "127.0.0.1:0");

    // 1. Sign in once, online.
    let app = open_app(&x, &app_data, &server).await;
    let c = &app.client;
    assert_eq!(
        wait_text(c, "#app-title", "安全生产执法检查").await,
        "安全生产执法检查"
    );
    wait_for(c, "#sign-in").await;
    type_into(c, "#user", "u-wang").await;
    type_into(c, "#password", "wrong-password").await;
    click(c, "#sign-in").await;
    wait_text(c, "form .error", "用户名或密码不正确").await;
    screenshot(c, "sign-in").await;
    type_into(c, "#password", PASSWORD).await;
    click(c, "#sign-in").await;
    wait_text(c, "main h2", "王强").await;

    // The network goes away for the whole inspection.
    server.kill();
    wait_text(c, "#sync-indicator", "离线").await;

    // 2. Home: the sealed 四不两直 plan assigned to u-wang and u-li.
    let plan = wait_text(c, "#plan-plan-sbl-001", "南京玄武精密机械有限公司").await;
    assert!(
        plan.contains("四不两直") && plan.contains("密封任务"),
        "{plan}"
    );
    screenshot(c, "home").await;

    // 3. Find the enterprise among the stored ones by address and by USCC.
    click(c, "#new-inspection").await;
    type_into(c, "#search", "红山路").await;
    wait_text(c, "#search-results", "南京玄武精密机械有限公司").await;
    type_into(c, "#search", "913201023AGYGLUY37").await;
    wait_text(c, "#search-results", "南京玄武精密机械有限公司").await;
    screenshot(c, "search").await;
    // No kind is chosen for the inspector (the 四不两直 share is a figure), "请先选择企业"
    // goes once an enterprise is chosen, and a search with no match says so.
    click(c, "#start").await;
    wait_text(c, ".error", "请先选择企业").await;
    click(c, "#search-results .enterprise button").await;
    wait_text(c, "#chosen", "南京玄武精密机械有限公司").await;
    wait_count(c, ".error", 0).await;
    click(c, "#start").await;
    wait_text(c, ".error", "请选择检查类型").await;
    wait_for(c, "#kind")
        .await
        .select_by_value("1")
        .await
        .unwrap();
    wait_count(c, ".error", 0).await;
    type_into(c, "#search", "没有这家企业").await;
    wait_text(c, "#no-match", "暂无匹配企业").await;
    screenshot(c, "search-no-match").await;
    // The chosen enterprise's past inspections (以往检查): none on this tablet, and fetching
    // the unit's from the server needs the network, which is away.
    wait_text(c, "#history", "本机暂无该企业的检查记录").await;
    click(c, "#fetch-history").await;
    wait_text(c, "#history .error", "无法连接服务器").await;

    // 4. Start from the plan: kind, enterprise and co-inspector come from it.
    click(c, "#nav-home").await;
    click(c, "#plan-plan-sbl-001 .start-plan").await;
    wait_text(c, "#chosen", "南京玄武精密机械有限公司").await;
    click(c, "#start").await;
    wait_for(c, "#arrival").await;
    // Nothing entered yet: the error says so next to the position.
    click(c, "#arrive").await;
    wait_text(c, "#arrival .error", "请填写到达位置").await;
    type_into(c, "#lat", "32.0935").await;
    type_into(c, "#lon", "118.8056").await;
    wait_text(c, "#position-source", "手动录入").await;
    click(c, "#arrive").await;
    wait_text(c, "#arrival .error", "入口照片").await;
    wait_for(c, "#entrance-photo")
        .await
        .send_keys(photo("gps-DSCN0010.jpg").to_str().unwrap())
        .await
        .unwrap();
    wait_for(c, "#entrance-thumb").await;
    wait_image(c, "#entrance-thumb").await;
    click(c, "#att-notice").await;
    click(c, "#att-escort").await;
    screenshot(c, "arrival").await;
    // Attestations are record commands: wait until the record has both before going on.
    tokio::time::sleep(Duration::from_millis(800)).await;
    click(c, "#arrive").await;
    wait_for(c, "#checklist").await;
    wait_text(c, "#record-status", "现场检查中").await;

    // 5. The checklist: fail the first item with a note and a photo, comply with half of
    //    the others, then the app is killed.
    let items = c.find_all(Locator::Css("#checklist .item")).await.unwrap();
    let n = items.len();
    assert!(n > 10, "the checklist shows its items ({n})");
    let first_id = items[0].attr("id").await.unwrap().unwrap();
    let first = format!("#{first_id}");
    let basis = wait_for(c, &format!("{first} .basis"))
        .await
        .text()
        .await
        .unwrap();
    assert!(basis.contains('《'), "legal basis visible: {basis}");
    click(c, &format!("{first} .ans-fails")).await;
    wait_for(c, &format!("{first} .ans-fails.on")).await;
    type_into(c, &format!("{first} textarea.note"), "冲床防护罩缺失").await;
    wait_for(c, &format!("{first} .item-photo"))
        .await
        .send_keys(photo("gps-DSCN0012.jpg").to_str().unwrap())
        .await
        .unwrap();
    wait_for(c, &format!("{first} .item-thumb")).await;
    wait_image(c, &format!("{first} .item-thumb")).await;
    let ids: Vec<String> = {
        let mut v = Vec::new();
        for e in &items {
            v.push(e.attr("id").await.unwrap().unwrap());
        }
        v
    };
    let half = n / 2;
    for id in &ids[1..half] {
        click(c, &format!("#{id} .ans-complies")).await;
        wait_for(c, &format!("#{id} .ans-complies.on")).await;
    }
    // The last one also gets a note, typed and left (saved while typing).
    type_into(
        c,
        &format!("#{} textarea.note", ids[half - 1]),
        "消防通道畅通",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    screenshot(c, "checklist").await;

    // Crash: SIGKILL, no goodbye.
    let pid = app_pid(&app_data).expect("the app's process");
    Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    app.close().await;

    // Reopen: the app comes back on the record, with every answer, note and photo.
    let app = open_app(&x, &app_data, &server).await;
    let c = &app.client;
    wait_for(c, "#checklist").await;
    wait_for(c, &format!("{first} .ans-fails.on")).await;
    assert_eq!(
        count(c, "#checklist .ans-complies.on").await,
        half - 1,
        "every answer survived the crash"
    );
    let note = wait_for(c, &format!("{first} textarea.note")).await;
    assert_eq!(
        note.prop("value").await.unwrap().as_deref(),
        Some("冲床防护罩缺失")
    );
    let note = wait_for(c, &format!("#{} textarea.note", ids[half - 1])).await;
    assert_eq!(
        note.prop("value").await.unwrap().as_deref(),
        Some("消防通道畅通")
    );
    // Each item shows the provisions it rests on (issue 17: 违法依据, with 处罚依据 and the
    // 判定依据 where the checklist gives them); the official answer label is 不涉及.
    let basis = wait_text(c, &format!("{first} .item-detail.basis"), "违法依据").await;
    assert!(basis.contains('《'), "{basis}");
    wait_text(c, &format!("{first} .ans-not_applicable"), "不涉及").await;
    wait_for(c, &format!("{first} .item-thumb")).await;
    wait_image(c, &format!("{first} .item-thumb")).await;

    // Steering the checklist (issue 20): the answered count, the sections with a jump list
    // (by the enterprise's industry: a 机械 plant sees no 冶金 section), the 专项 sections
    // folded with 本节不涉及 at hand.
    let progress = wait_text(c, "#checklist-progress", "已答").await;
    assert!(progress.contains(&format!("已答 {half}/")), "{progress}");
    let sections = wait_text(c, "#section-jump", "机械").await;
    assert!(
        !sections.contains("冶金") && !sections.contains("有色"),
        "{sections}"
    );
    assert!(sections.contains("液氨制冷"), "{sections}");
    assert!(
        count(c, ".category .folded").await >= 3,
        "the 专项 sections start folded"
    );
    let last = count(c, ".category").await - 1;
    wait_for(c, "#section-jump")
        .await
        .select_by_value(&last.to_string())
        .await
        .unwrap();
    wait_in_view(c, &format!("#section-{last}")).await;

    // The rest of the checklist.
    for id in &ids[half..] {
        click(c, &format!("#{id} .ans-complies")).await;
        wait_for(c, &format!("#{id} .ans-complies.on")).await;
    }

    // A second photo on the failed item, retaken, then deleted: the links change, the
    // originals stay stored (evidence); the first photo stays (the case file carries it).
    let camera = wait_text(c, &format!("{first} .camera"), "拍照").await;
    assert_eq!(camera.trim(), "拍照");
    let srcs = |c: &Client| {
        let c = c.clone();
        let css = format!("{first} .item-thumb");
        // The list re-renders when a change lands: an element found a moment ago may be gone
        // (stale); read the whole list again until one pass reads it through.
        async move {
            'again: for _ in 0..50 {
                let mut v = Vec::new();
                for e in c.find_all(Locator::Css(&css)).await.unwrap_or_default() {
                    match e.attr("src").await {
                        Ok(src) => v.push(src.unwrap_or_default()),
                        Err(_) => {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue 'again;
                        }
                    }
                }
                return v;
            }
            panic!("the thumbnails of {css} kept changing")
        }
    };
    let original = srcs(c).await;
    assert_eq!(original.len(), 1, "{original:?}");
    wait_for(c, &format!("{first} .item-photo"))
        .await
        .send_keys(photo("gps-DSCN0021.jpg").to_str().unwrap())
        .await
        .unwrap();
    wait_count(c, &format!("{first} .item-thumb"), 2).await;
    wait_text(c, &format!("{first} .photo-count"), "已附照片 2").await;
    // The other photo's place among the thumbnails (ordered by digest).
    let other = |v: &[String]| v.iter().position(|s| *s != original[0]).unwrap() + 1;
    let added = srcs(c).await;
    let k = other(&added);
    wait_for(
        c,
        &format!("{first} .thumb:nth-child({k}) .item-photo-retake"),
    )
    .await
    .send_keys(photo("gps-DSCN0025.jpg").to_str().unwrap())
    .await
    .unwrap();
    let deadline = Instant::now() + WAIT;
    let retaken = loop {
        let now = srcs(c).await;
        if now.len() == 2
            && now.contains(&original[0])
            && !now.iter().any(|s| added.contains(s) && *s != original[0])
        {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "the retake did not replace the photo: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    };
    let k = other(&retaken);
    click(c, &format!("{first} .thumb:nth-child({k}) .photo-delete")).await;
    wait_count(c, &format!("{first} .item-thumb"), 1).await;
    assert_eq!(srcs(c).await, original, "the first photo stays");
    wait_image(c, &format!("{first} .item-thumb")).await;

    // 完成 tapped too early: the unanswered items (in the folded 专项 sections) are listed in
    // the bar at the top, each a jump to its item.
    click(c, "#complete").await;
    wait_for(c, "#missing-list").await;
    let missing = count(c, "#missing-list .missing").await;
    assert!(missing >= 3, "the missing items are listed ({missing})");
    wait_in_view(c, "#missing-list").await;
    screenshot(c, "checklist-missing").await;
    let code = wait_for(c, "#missing-list .missing strong")
        .await
        .text()
        .await
        .unwrap();
    click(c, "#missing-list .missing").await;
    wait_in_view(c, &format!("#item-{code}")).await;
    click(c, "#next-unanswered").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // 本节不涉及 for each 专项 section (with its confirmation): one command per section.
    let mut rounds = 0;
    while count(c, ".section-na").await > 0 {
        click(c, ".section-na").await;
        click(c, ".section-na-confirm").await;
        wait_count(c, ".section-na-confirm", 0).await;
        rounds += 1;
        assert!(rounds < 20, "本节不涉及 does not finish");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_for(c, "#all-answered").await;
    let progress = wait_text(c, "#checklist-progress", "已答").await;
    let (done, total) = progress
        .trim_start_matches("已答 ")
        .split_once('/')
        .unwrap();
    assert_eq!(done.trim(), total.trim(), "{progress}");
    assert_eq!(count(c, "#missing-list").await, 0);
    screenshot(c, "checklist-steered").await;
    // A hazard prefilled from the failed item.
    click(c, &format!("{first} .new-hazard")).await;
    let description = wait_for(c, "#hz-description").await;
    assert_eq!(
        description.prop("value").await.unwrap().as_deref(),
        Some("冲床防护罩缺失"),
        "the hazard is prefilled from the item's note"
    );
    click(c, "#hz-submit").await;
    wait_text(c, ".hazard-form .error", "整改措施").await;
    type_into(c, "#hz-place", "一号冲压车间").await;
    type_into(c, "#hz-measures", "立即停用冲床，加装防护罩后方可使用").await;
    screenshot(c, "hazard").await;
    click(c, "#hz-submit").await;
    wait_text(c, &format!("{first} .ok"), "已登记隐患").await;
    wait_text(c, "#hazards", "责令整改").await;

    // 6. On-site person, signatures (two inspectors, the enterprise), complete and sign.
    click(c, "#complete").await;
    wait_text(c, "#signing .error", "现场负责人").await;
    type_into(c, "#op-name", "赵建国").await;
    type_into(c, "#op-position", "安全主管").await;
    type_into(c, "#op-phone", "13905171234").await;
    click(c, "#op-save").await;
    wait_text(c, "#signing", "已保存").await;
    // The record's own fields: 检查场所 typed, 检查情况 drafted from the answers, then edited.
    type_into(c, "#places", "一号冲压车间、配电室、成品仓库").await;
    click(c, "#draft-summary").await;
    let drafted = wait_value(c, "#summary", "不符合1项").await;
    assert!(
        drafted.starts_with("检查") && drafted.contains("发现隐患1项"),
        "{drafted}"
    );
    type_into(
        c,
        "#summary",
        &format!("{drafted}已当场告知企业现场负责人。"),
    )
    .await;
    click(c, "#places").await; // leaving the field saves it at once
    // Before any pad opens, the documents to be signed are shown full screen: the
    // 现场检查记录 and the 责令限期整改指令书 with the hazard's deadline and the rights.
    let enterprise = wait_for(c, "#record-title").await.text().await.unwrap();
    let deadline = {
        let hazards = wait_text(c, "#hazards", "整改期限").await;
        // The hazard card shows the day as the documents print it (2027年1月5日).
        let after = hazards.split("整改期限 ").nth(1).unwrap();
        let day = &after[..after.find('日').expect("a day in Chinese") + '日'.len_utf8()];
        format!("{day}前")
    };
    for (i, pad) in ["inspector-u-wang", "inspector-u-li", "enterprise"]
        .into_iter()
        .enumerate()
    {
        assert_eq!(
            count(c, &format!("#pad-{pad} canvas")).await,
            0,
            "no pad before reading"
        );
        click(c, &format!("#read-{pad}")).await;
        let shown = wait_text(c, "#preview", "责令限期整改指令书").await;
        for wanted in [
            enterprise.as_str(),
            deadline.as_str(),
            "一号冲压车间、配电室、成品仓库",
            "已当场告知企业现场负责人",
            "60日内申请行政复议",
            "6个月内依法向人民法院提起行政诉讼",
            "（签署时编号）",
        ] {
            assert!(shown.contains(wanted), "{wanted} in the preview: {shown}");
        }
        if pad == "enterprise" {
            screenshot(c, "preview").await;
        }
        click(c, "#preview-read").await;
        wait_for(c, &format!("#pad-{pad} canvas")).await;
        click(c, &format!("#sign-{pad}")).await;
        wait_text(c, &format!("#pad-{pad} .error"), "请先在框内签名").await;
        draw(c, &format!("#pad-{pad} canvas"), i as f64).await;
        click(c, &format!("#sign-{pad}")).await;
        wait_for(c, &format!("#pad-{pad} .signed-mark")).await;
    }
    // Signing numbers the documents this record yields, from the numbers reserved at sign-in.
    let year = Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    )
    .shanghai_date()
    .year();
    let numbers = [
        format!("（玄武）应急检记〔{year}〕1号"),
        format!("（玄武）应急责改〔{year}〕1号"),
        format!("（玄武）应急复查〔{year}〕1号"),
    ];
    wait_text(c, "#record-numbers", "签署时自动编号").await;
    let hint = wait_text(c, "#numbers-at-signing", "现场检查记录").await;
    assert!(
        hint.contains("责令限期整改指令书") && hint.contains("本机余 20 个"),
        "{hint}"
    );
    screenshot(c, "signing").await;
    click(c, "#complete").await;
    wait_text(c, "#signed", "签署内容已冻结并校验一致").await;
    wait_text(c, "#signed", "签署后无修改").await;
    wait_text(c, "#record-status", "已完成").await;
    // Offline, from the tablet's own pool: both numbers in the record and its signed version.
    let shown = wait_text(c, "#record-numbers", &numbers[0]).await;
    assert!(shown.contains(&numbers[1]), "{shown}");
    assert!(!shown.contains(&numbers[2]), "{shown}");
    // A change after signing is an amendment, and the signed version stays as it was.
    let place_note = format!("#{} textarea.note", ids[1]);
    type_into(c, &place_note, "补充：灭火器在有效期内").await;
    click(c, "#record-title").await; // blur: saved at once
    wait_text(c, "#signed", "补正").await;
    wait_text(c, "#signed", "签署内容已冻结并校验一致").await;
    click(c, "#complete").await; // re-sign what is now there (v2)
    wait_text(c, "#signed", "v2").await;
    // A signed record offers its case file, with its numbers; an amendment signed again is
    // the same documents: no new number.
    let shown = wait_text(c, "#export-numbers", &numbers[0]).await;
    assert!(shown.contains(&numbers[1]), "{shown}");
    assert_eq!(exported_files(&app_data), Vec::<String>::new());
    // 送达: each signed document handed to the on-site person, recorded per document.
    let listed = wait_text(c, "#service", "未送达").await;
    assert!(
        listed.contains(&numbers[0]) && listed.contains(&numbers[1]),
        "{listed}"
    );
    for n in 0..2 {
        click(c, &format!("#serve-{n}")).await;
        wait_text(c, &format!("#service-{n} .service-state"), "直接送达").await;
    }
    screenshot(c, "service").await;
    click(c, "#submit").await;
    wait_text(c, "#record-status", "已提交").await;
    let record_id = {
        let mut store = Store::open(&app_data.join("tablet.db")).unwrap();
        let rows = store
            .list(&tablet::store::ListFilter {
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(rows.len(), 1);
        let r = store.inspection(&rows[0].id).unwrap();
        assert_eq!(r.status, InspectionStatus::Submitted);
        assert!(r.arrival.is_some());
        assert_eq!(r.hazards.len(), 1);
        let held: Vec<&String> = r.documents.keys().collect();
        assert_eq!(held.len(), 2, "{held:?}");
        assert!(held.contains(&&numbers[0]) && held.contains(&&numbers[1]));
        // In the first signed version, exactly as signed.
        let v1 = store
            .document(&rows[0].id)
            .unwrap()
            .signed_record("v1")
            .unwrap();
        assert_eq!(v1.documents, r.documents);
        // Served on the spot, both documents, to the on-site person.
        assert_eq!(r.services.len(), 2);
        assert!(r.services.values().all(|s| matches!(
            &s.method,
            app_core::delivery::ServiceMethod::Direct { recipient } if recipient == "赵建国"
        )));
        // The record's own fields, and what each signer read before signing.
        assert_eq!(v1.places, "一号冲压车间、配电室、成品仓库");
        assert!(
            v1.summary.ends_with("已当场告知企业现场负责人。"),
            "{}",
            v1.summary
        );
        for s in v1.signatures.values() {
            let kinds: Vec<_> = s.read.iter().map(|d| d.kind).collect();
            assert_eq!(
                kinds,
                [
                    app_core::docnumber::DocumentKind::InspectionRecord,
                    app_core::docnumber::DocumentKind::RectificationOrder
                ],
                "{}",
                s.name
            );
        }
        // Taken from the pool reserved at sign-in: one number of each used.
        let device = store.device().clone();
        let pool = store.number_pool().unwrap();
        for (kind, left) in [
            (app_core::docnumber::DocumentKind::InspectionRecord, 19),
            (app_core::docnumber::DocumentKind::RectificationOrder, 19),
            (app_core::docnumber::DocumentKind::ReinspectionOpinion, 20),
        ] {
            let series = app_core::docnumber::Series {
                unit: "xw".into(),
                kind,
                year,
            };
            assert_eq!(pool.remaining(&series), left, "{kind:?}");
        }
        assert!(r.documents.values().all(|d| d.device == device));
        rows[0].id.clone()
    };
    click(c, "#nav-home").await;
    wait_text(c, "#waiting", "1 条记录").await;

    // 8. The network comes back: the background sync sends the record and the photos.
    server.restart();
    wait_text(c, "#sync-indicator", "已同步").await;
    click(c, "#sync-indicator").await;
    wait_text(c, "#sync-state", "上次同步成功").await;
    screenshot(c, "sync").await;

    // At the server: the record as signed, with both photos and the signature images. The
    // supervisor's side uses the blocking sync client: off the async runtime.
    let (url, rid, blob_dir) = (
        server.address(),
        record_id.clone(),
        tmp.path().join("desk-blobs"),
    );
    let entrance = std::fs::read(photo("gps-DSCN0010.jpg")).unwrap();
    let comment = "隐患部位照片不清晰，请补拍后重新提交";
    tokio::task::spawn_blocking(move || {
        let desk = Desk::new(url.clone(), "u-zhao");
        desk.follow(&rid);
        let at_server = desk
            .store
            .lock()
            .unwrap()
            .inspection(&rid)
            .expect("the record reached the server");
        assert_eq!(at_server.status, InspectionStatus::Submitted);
        assert_eq!(at_server.hazards.len(), 1);
        assert_eq!(at_server.signatures.len(), 3);
        assert_eq!(at_server.signed_versions.len(), 2);
        assert_eq!(at_server.services.len(), 2, "the judge accepted the 送达");
        let digests = at_server.photo_digests();
        assert_eq!(
            digests.len(),
            2 + 3,
            "2 photos and 3 signature images: {digests:?} {:?}",
            at_server.signatures
        );
        let blobs = BlobStore::open(blob_dir).unwrap();
        let token = desk.client.session().unwrap().token.clone();
        let fetch = BlobClient::new(url.clone(), token);
        for sha in &digests {
            fetch.download(sha, &blobs).expect("the server holds it");
            blobs.verify(sha).unwrap();
        }
        assert_eq!(
            blobs
                .get(&at_server.arrival.as_ref().unwrap().entrance_photo)
                .unwrap(),
            entrance,
            "the entrance photo arrived byte for byte"
        );
        // The supervisor returns it with a comment.
        let template = desk
            .store
            .lock()
            .unwrap()
            .template(&at_server.template)
            .unwrap()
            .unwrap();
        let cx = Context {
            actor: &desk.user,
            now: Timestamp(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_millis() as i64,
            ),
            template: &template,
        };
        desk.store
            .lock()
            .unwrap()
            .apply(
                &rid,
                &RecordCommand::Transition {
                    to: InspectionStatus::Returned,
                    comment: comment.into(),
                },
                &cx,
            )
            .unwrap();
        let report = desk.client.sync(&desk.store, cx.now).unwrap();
        assert_eq!(report.accepted, 1, "{report:?}");
    })
    .await
    .unwrap();
    click(c, "#nav-home").await;
    let deadline = Instant::now() + WAIT;
    loop {
        // The home screen reads once when shown: come back to it until the return arrives.
        if let Ok(e) = c.find(Locator::Css("#returned-list")).await
            && e.text().await.unwrap_or_default().contains(comment)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the returned record never showed"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        click(c, "#nav-home").await;
    }
    screenshot(c, "returned").await;
    click(c, "#returned-list .open").await;
    wait_text(c, "#review-comment", comment).await;
    wait_text(c, "#record-status", "已退回").await;

    // 7. Re-inspection of the hazard: the enterprise reports it rectified; it passes with
    //    a photo and is closed (销号).
    click(c, "#hazards button").await;
    click(c, "#report-rectified").await;
    wait_text(c, "#hazard-stage", "整改完成").await;
    click(c, "#ri-submit").await;
    wait_text(c, "main .error", "请选择复查结论").await;
    click(c, "#ri-pass").await;
    type_into(c, "#ri-note", "防护罩已加装，试运行正常").await;
    wait_for(c, "#ri-photo")
        .await
        .send_keys(photo("gps-DSCN0021.jpg").to_str().unwrap())
        .await
        .unwrap();
    wait_for(c, ".ri-thumb").await;
    wait_image(c, ".ri-thumb").await;
    screenshot(c, "reinspect").await;
    click(c, "#ri-submit").await;
    wait_text(c, "#hazard-stage", "销号").await;

    // The closure reaches the server too.
    wait_text(c, "#sync-indicator", "已同步").await;
    let (url, rid) = (server.address(), record_id.clone());
    tokio::task::spawn_blocking(move || {
        let desk = Desk::new(url.clone(), "u-zhao");
        desk.follow(&rid);
        let deadline = Instant::now() + WAIT;
        loop {
            // The background sync sends the closure within a second or so.
            desk.client.sync(&desk.store, Timestamp(0)).unwrap();
            let r = desk.store.lock().unwrap().inspection(&rid).unwrap();
            let h = r.hazards.values().next().unwrap().clone();
            if h.stage == app_core::hazard::HazardStage::Closed {
                assert_eq!(h.reinspections.len(), 1);
                assert!(h.reinspections.values().next().unwrap().passed);
                assert_eq!(
                    r.photo_digests().len(),
                    2 + 3 + 1,
                    "and the re-inspection photo"
                );
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the closure never reached the server"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    })
    .await
    .unwrap();

    // 9. Signed again after the re-inspection (v3): the 整改复查意见书 gets its number, from
    //    the same pool. Then the case file (电子案卷).
    click(c, "#nav-home").await;
    click(c, &format!("#ret-{record_id} .open")).await;
    let hint = wait_text(c, "#numbers-at-signing", "整改复查意见书").await;
    assert!(!hint.contains("现场检查记录"), "{hint}");
    click(c, "#complete").await;
    wait_text(c, "#signed", "v3").await;
    let shown = wait_text(c, "#record-numbers", &numbers[2]).await;
    assert!(
        shown.contains(&numbers[0]) && shown.contains(&numbers[1]),
        "{shown}"
    );
    click(c, "#export-casefile").await;
    wait_for(c, "#export-progress").await;
    wait_for(c, "#export-done").await;
    let progress = wait_text(c, "#export-progress", "100%").await;
    let path = PathBuf::from(wait_for(c, "#export-path").await.text().await.unwrap());
    let shown_sha = wait_for(c, "#export-sha256").await.text().await.unwrap();
    let shown_size = wait_for(c, "#export-size").await.text().await.unwrap();
    let shown_key = wait_for(c, "#export-fingerprint")
        .await
        .text()
        .await
        .unwrap();
    wait_text(c, "#export-done", "v3").await;
    c.execute(
        "document.getElementById('export').scrollIntoView({block: 'start'})",
        vec![],
    )
    .await
    .unwrap();
    screenshot(c, "export").await;
    assert_eq!(path.parent(), Some(app_data.join("exports").as_path()));
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!("电子案卷_{}_v3_", numbers[0])),
        "{name}"
    );
    assert_eq!(
        exported_files(&app_data),
        vec![name],
        "one file, nothing partial"
    );
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(shown_sha, Sha256Hex::of(&bytes).as_str());
    assert!(
        shown_size.contains(&format!("{} 字节", bytes.len())),
        "{shown_size}"
    );
    assert!(progress.contains("个文件"), "{progress}");
    // As a recipient checks it: against the key this tablet registered at sign-in.
    let key = {
        let store = Store::open(&app_data.join("tablet.db")).unwrap();
        assert!(store.meta("device_signing_key").unwrap().is_some());
        tablet::sync::device_key(&store).unwrap().verifying_key()
    };
    assert_eq!(shown_key, casefile::manifest::fingerprint(&key));
    let report = casefile::verify(
        std::io::Cursor::new(&bytes),
        &casefile::VerifyOptions {
            trusted_keys: vec![casefile::TrustedKey {
                key,
                label: "the inspector's tablet".into(),
            }],
        },
    );
    assert!(report.holds(), "{}", report.render_zh_en());
    let manifest = report.manifest.unwrap();
    assert_eq!(manifest.signed_version, "v3");
    assert_eq!(manifest.inspection.as_str(), record_id.as_str());
    let files = casefile::archive::read_all(std::io::Cursor::new(&bytes)).unwrap();
    let listed: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    for (pdf, number) in [
        ("documents/现场检查记录.pdf", &numbers[0]),
        ("documents/责令限期整改指令书.pdf", &numbers[1]),
        ("documents/整改复查意见书.pdf", &numbers[2]),
    ] {
        assert!(listed.contains(&pdf), "{pdf} missing: {listed:?}");
        let (_, inside) = files.iter().find(|(n, _)| n == pdf).unwrap();
        assert!(inside.starts_with(b"%PDF-"), "{pdf} is a PDF");
        // The number as printed (poppler's pdftotext, as a reader would copy it).
        let text = pdf_text(inside);
        assert!(
            text.contains(number.as_str()),
            "{pdf} lacks {number}: {text}"
        );
    }
    // And in the record as signed (record.json): the three numbers, issued by this tablet.
    let (_, json) = files.iter().find(|(n, _)| n == "record.json").unwrap();
    let signed: app_core::inspection::Inspection = serde_json::from_slice(json).unwrap();
    assert_eq!(signed.documents.keys().collect::<Vec<_>>(), {
        let mut n: Vec<&String> = numbers.iter().collect();
        n.sort();
        n
    });
    // Every photo taken in this test (entrance, checklist item, re-inspection), byte for
    // byte, and the three signature images.
    for taken in ["gps-DSCN0010.jpg", "gps-DSCN0012.jpg", "gps-DSCN0021.jpg"] {
        let original = std::fs::read(photo(taken)).unwrap();
        let inside = format!("photos/{}.jpg", Sha256Hex::of(&original));
        let (_, held) = files
            .iter()
            .find(|(n, _)| *n == inside)
            .unwrap_or_else(|| panic!("{taken} is not in the case file: {listed:?}"));
        assert!(*held == original, "{taken} is not byte for byte");
    }
    assert_eq!(
        listed.iter().filter(|p| p.starts_with("photos/")).count(),
        3 + 3,
        "{listed:?}"
    );

    // English is one tap away.
    click(c, "#lang").await;
    wait_text(c, "#app-title", "Work-safety inspection").await;
    click(c, "#lang").await;
    wait_text(c, "#app-title", "安全生产执法检查").await;

    app.close().await;
    drop(server);
}

/// Signs in on the app's sign-in screen, online.
async fn sign_in(c: &Client, user: &str, name: &str) {
    wait_for(c, "#sign-in").await;
    type_into(c, "#user", user).await;
    type_into(c, "#password", PASSWORD).await;
    click(c, "#sign-in").await;
    wait_text(c, "main h2", name).await;
}

/// From home: a new inspection of the enterprise found by `search` (`name`), with u-li,
/// through the arrival proof to its checklist; returns the checklist's first item
/// (`#item-CODE`).
async fn new_inspection_at_the_checklist(c: &Client, search: &str, name: &str) -> String {
    click(c, "#nav-home").await;
    click(c, "#new-inspection").await;
    type_into(c, "#search", search).await;
    wait_text(c, "#search-results", name).await;
    click(c, "#search-results .enterprise button").await;
    wait_text(c, "#chosen", name).await;
    // 四不两直 (the first of `InspectionKind::ALL`).
    wait_for(c, "#kind")
        .await
        .select_by_value("0")
        .await
        .unwrap();
    wait_for(c, "#co")
        .await
        .select_by_value("u-li")
        .await
        .unwrap();
    click(c, "#start").await;
    wait_for(c, "#arrival").await;
    type_into(c, "#lat", "32.0935").await;
    type_into(c, "#lon", "118.8056").await;
    wait_for(c, "#entrance-photo")
        .await
        .send_keys(photo("gps-DSCN0010.jpg").to_str().unwrap())
        .await
        .unwrap();
    wait_image(c, "#entrance-thumb").await;
    click(c, "#att-notice").await;
    click(c, "#att-escort").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    click(c, "#arrive").await;
    wait_for(c, "#checklist").await;
    let first = wait_for(c, "#checklist .item").await;
    format!("#{}", first.attr("id").await.unwrap().unwrap())
}

/// A supervisor uploads `sheet` at the console as the next version of checklist `id`, as the
/// browser's form does (sign-in, then the multipart form with the page's CSRF value); returns
/// the page the console answers.
fn console_upload(server: &tablet::tls::Server, user: &str, id: &str, sheet: &[u8]) -> String {
    let http = tablet::tls::client(server, Duration::from_secs(5), Some(WAIT)).unwrap();
    let base = &server.url;
    let cookie = |r: &reqwest::blocking::Response, name: &str| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("the console sets {name}"))
    };
    let field = |body: &str, name: &str| {
        let key = format!("name=\"{name}\" value=\"");
        let at = body.find(&key).unwrap_or_else(|| panic!("no {name}")) + key.len();
        body[at..].split('"').next().unwrap().to_owned()
    };
    let form = http.get(format!("{base}/console/login")).send().unwrap();
    let login_cookie = cookie(&form, "console_login");
    let login_csrf = field(&form.text().unwrap(), "login_csrf");
    let signed_in = http
        .post(format!("{base}/console/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", login_cookie)
        .body(format!(
            "login_csrf={login_csrf}&user={user}&password={PASSWORD}"
        ))
        .send()
        .unwrap();
    let session = cookie(&signed_in, "console_session");
    let page = http
        .get(format!("{base}/console/checklists"))
        .header("cookie", &session)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let csrf = field(&page, "csrf");
    let boundary = "----e2e-checklist-upload";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{id}.xlsx\"\r\n\
         Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(sheet);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let answer = http
        .post(format!("{base}/console/checklists/{id}/upload"))
        .header("cookie", &session)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200, "checklist upload");
    answer.text().unwrap()
}

/// Issue 17: a supervisor changes an item's wording in the checklist's spreadsheet and
/// uploads it at the console; after its next (background) sync the tablet starts new records
/// on the new version and shows the new wording, while a record made before keeps its version
/// and its wording.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checklist_wording_changed_in_a_spreadsheet_reaches_the_tablet_and_older_records_keep_theirs()
 {
    let x = start_xvfb();
    let tmp = tempfile::tempdir().unwrap();
    let server_data = tmp.path().join("server");
    let app_data = tmp.path().join("tablet");
    std::fs::create_dir_all(&server_data).unwrap();
    let server = Server::start(&server_data, "127.0.0.1:0");
    let app = open_app(&x, &app_data, &server).await;
    let c = &app.client;
    sign_in(c, "u-wang", "王强").await;

    // A record made before the upload, on the newest version the server ships.
    let first = new_inspection_at_the_checklist(c, "红山路", "南京玄武精密机械有限公司").await;
    let code = first.trim_start_matches("#item-").to_owned();
    let old_text = wait_for(c, &format!("{first} > div"))
        .await
        .text()
        .await
        .unwrap();
    click(c, "#nav-home").await;
    let before = wait_for(c, "#drafts .card.record")
        .await
        .attr("id")
        .await
        .unwrap()
        .unwrap();

    // The supervisor's sheet: that version with the first item reworded.
    let new_text = "是否建立并落实全员安全生产责任制（电子表格修改）";
    let (address, item) = (server.address(), code.clone());
    let page = tokio::task::spawn_blocking(move || {
        let desk = Desk::new(address.clone(), "u-zhao");
        let templates = desk
            .store
            .lock()
            .unwrap()
            .reference::<app_core::checklist::ChecklistTemplate>()
            .unwrap();
        let mut newest = templates
            .into_iter()
            .filter(|t| t.id == "gongmao")
            .max_by_key(|t| t.version)
            .unwrap();
        let version = newest.version;
        for i in newest
            .categories
            .iter_mut()
            .flat_map(|c| c.items.iter_mut())
        {
            if i.code.as_str() == item {
                i.text = new_text.to_owned();
            }
        }
        let sheet = sync_server::service::checklists::write_xlsx(&newest).unwrap();
        (
            version,
            console_upload(&address, "u-zhao", "gongmao", &sheet),
        )
    })
    .await
    .unwrap();
    let (shipped, answer) = page;
    assert!(
        answer.contains(&format!("v{}", shipped + 1)),
        "the console names the new version: {answer}"
    );

    // The inspector syncs (立即同步; the background sync also refreshes the reference data,
    // every tenth round): a new record (of another plant: the open record of the first stays
    // its one open record) shows the new wording.
    click(c, "#sync-indicator").await;
    click(c, "#sync-now").await;
    wait_text(c, "#sync-result", "同步完成").await;
    let first = new_inspection_at_the_checklist(c, "玄武大道", "南京钟山铝业制品有限公司").await;
    assert_eq!(first, format!("#item-{code}"));
    let text = wait_text(c, &format!("{first} > div"), new_text).await;
    assert!(text.contains(&code), "{text}");
    screenshot(c, "checklist-new-version").await;

    // The record made before keeps its version and its wording.
    click(c, "#nav-home").await;
    click(c, &format!("#{before} .open")).await;
    let kept = wait_text(c, &format!("#item-{code} > div"), &code).await;
    assert_eq!(kept, old_text);
    assert!(!kept.contains(new_text), "{kept}");

    app.close().await;
    drop(server);
}

// ---- Issue 19: a whole penalty case, tablet (WebKit) and console (Chromium) -------------

#[path = "../../e2e/console/npm.rs"]
mod npm;

/// A TCP proxy on loopback in front of the server. Once armed with a number of bytes, it
/// cuts (both ways, mid-request) the connection that carries the armed number of client→server
/// bytes, once: the cable pulled during an upload.
struct CuttingProxy {
    port: u16,
    budget: std::sync::Arc<Mutex<Option<u64>>>,
    cuts: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl CuttingProxy {
    fn start(target: String) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let budget = std::sync::Arc::new(Mutex::new(None::<u64>));
        let cuts = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (b, k) = (budget.clone(), cuts.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                let (b, k, target) = (b.clone(), k.clone(), target.clone());
                std::thread::spawn(move || Self::relay(client, &target, &b, &k));
            }
        });
        Self { port, budget, cuts }
    }

    fn relay(
        mut client: std::net::TcpStream,
        target: &str,
        budget: &Mutex<Option<u64>>,
        cuts: &std::sync::atomic::AtomicUsize,
    ) {
        use std::io::{Read, Write};
        use std::net::Shutdown;
        let Ok(mut server) = std::net::TcpStream::connect(target) else {
            return;
        };
        let (mut from_server, mut to_client) =
            (server.try_clone().unwrap(), client.try_clone().unwrap());
        let down = std::thread::spawn(move || {
            let _ = std::io::copy(&mut from_server, &mut to_client);
            let _ = to_client.shutdown(Shutdown::Write);
        });
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match client.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = server.shutdown(Shutdown::Write);
                    break;
                }
                Ok(n) => n,
            };
            let (pass, cut) = {
                let mut left = budget.lock().unwrap();
                match *left {
                    Some(l) if (n as u64) >= l => {
                        *left = None;
                        (l as usize, true)
                    }
                    Some(l) => {
                        *left = Some(l - n as u64);
                        (n, false)
                    }
                    None => (n, false),
                }
            };
            if server.write_all(&buf[..pass]).is_err() {
                break;
            }
            if cut {
                cuts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = server.shutdown(Shutdown::Both);
                let _ = client.shutdown(Shutdown::Both);
                break;
            }
        }
        let _ = down.join();
    }

    /// Cuts the connection that carries the `after`th client→server byte from now.
    fn arm(&self, after: u64) {
        *self.budget.lock().unwrap() = Some(after);
    }

    fn cuts(&self) -> usize {
        self.cuts.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The server's address through the proxy (the name on the server's certificate).
    fn url(&self) -> String {
        format!("https://localhost:{}", self.port)
    }
}

/// A body camera's recording of `len` bytes: an MP4 header, then 1 MiB blocks of noise, each
/// stamped with its number (so every part of the file differs); returns its SHA-256.
fn write_recording(path: &Path, len: u64) -> String {
    use sha2::Digest;
    use std::io::Write;
    let mut block = vec![0u8; 1 << 20];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for chunk in block.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    let head = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom";
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut hash = sha2::Sha256::new();
    let mut written = 0u64;
    let mut n = 0u64;
    while written < len {
        block[..head.len()].copy_from_slice(head);
        block[head.len()..head.len() + 8].copy_from_slice(&n.to_le_bytes());
        let take = (len - written).min(block.len() as u64) as usize;
        out.write_all(&block[..take]).unwrap();
        hash.update(&block[..take]);
        written += take as u64;
        n += 1;
    }
    out.flush().unwrap();
    out.get_ref().sync_all().unwrap();
    app_core::evidence::hex(&hash.finalize())
}

/// The bytes of `path` at `at` (`len` of them).
fn bytes_at(path: &Path, at: u64, len: usize) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    let mut b = vec![0u8; len];
    f.read_exact(&mut b).unwrap();
    b
}

/// Flips one bit of the byte at `at` of `path` in place (twice restores it).
fn flip(path: &Path, at: u64) {
    use std::io::{Seek, SeekFrom, Write};
    let b = bytes_at(path, at, 1)[0];
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(&[b ^ 0x01]).unwrap();
    f.sync_all().unwrap();
}

/// A file named `name` under `dir` (any depth), outside upload folders in progress.
fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if entry.file_name() == "partial" {
                continue;
            }
            if let Some(found) = find_file(&path, name) {
                return Some(found);
            }
        } else if entry.file_name() == name {
            return Some(path);
        }
    }
    None
}

/// Runs phase `phase` of the supervisor's part (`e2e/console/case.e2e.mjs`) in headless
/// Chromium against `server`; returns what the script saw.
async fn console_phase(server: &Server, phase: &str, vars: &[(&str, String)]) -> serde_json::Value {
    let out = server.data.join(format!("console-{phase}.json"));
    let mut env: Vec<(String, std::ffi::OsString)> = vec![
        ("CONSOLE_URL".into(), server.url().into()),
        ("PASSWORD".into(), PASSWORD.into()),
        ("PHASE".into(), phase.into()),
        ("SCREENSHOTS".into(), screenshots_dir().into()),
    ];
    env.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), v.into())));
    tokio::task::spawn_blocking(move || npm::run_script("case.e2e.mjs", &out, env))
        .await
        .unwrap()
}

/// Opens case `id` from home's case list until its stage reads `stage` (the background sync
/// brings the supervisor's steps) and every change of it has been pushed.
async fn open_case_when(c: &Client, id: &str, stage: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        click(c, "#nav-home").await;
        click(c, &format!("#case-{id} .open-case")).await;
        let header = wait_text(c, "#case-stage", "：").await;
        // The case header's row: the stage, and 未同步 while changes wait to be pushed.
        let unsynced = c
            .execute(
                "return document.getElementById('case-stage').parentElement.innerText;",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_str().map(|t| t.contains("未同步")))
            .unwrap_or(true);
        if header.contains(stage) && !unsynced {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "case {id} never reached {stage} synced; it says {header} (unsynced: {unsynced})"
        );
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
}

/// Chooses the served document whose title contains `title` in the service form, and records
/// its delivery in person to `recipient`.
async fn serve(c: &Client, title: &str, recipient: &str) {
    let options = c
        .find_all(Locator::Css("#case-document option"))
        .await
        .unwrap();
    let mut value = None;
    for o in options {
        if o.text().await.unwrap().contains(title) {
            value = o.attr("value").await.unwrap();
        }
    }
    let value = value.unwrap_or_else(|| panic!("{title} is not offered for delivery"));
    wait_for(c, "#case-document")
        .await
        .select_by_value(&value)
        .await
        .unwrap();
    type_into(c, "#case-recipient", recipient).await;
    act(c, "#record-service").await;
}

/// Clicks the button at `css` and checks that the app did not refuse what it sent (no
/// alert on the screen a moment later).
async fn act(c: &Client, css: &str) {
    click(c, css).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let alerts = c
        .find_all(Locator::Css("[role=alert]"))
        .await
        .unwrap_or_default();
    for a in alerts {
        let text = a.text().await.unwrap_or_default();
        assert!(text.trim().is_empty(), "{css} was refused: {text}");
    }
}

/// Where screenshots go (as [`screenshot`] writes them).
fn screenshots_dir() -> PathBuf {
    std::env::var_os("SCREENSHOTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/screenshots"))
}

/// Issue 19: a whole penalty case, from a failed checklist item to 结案. On the tablet
/// (WebKit): 立案 from the failed item; after the supervisor's approval (Chromium) an
/// interview of two pages signed on the pads by the interviewee and both inspectors; a 1 GiB
/// body-camera video imported and uploaded through a connection cut mid-upload (resumed); the
/// penalty proposed from the unit's discretion table; the notice (告知书) made and delivered;
/// the statement of defence recorded and the remaining rights waived. In the console
/// (Chromium): the video played by ranges, the decision with the proposed fine, its
/// publication. On the tablet: the decision delivered, the fine paid, the warning carried out.
/// In the console: 结案审批 and the case file, which verifies (`casefile::verify` against the
/// key the console shows) and in which a flipped byte anywhere (the video included) is
/// caught.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_penalty_case_from_a_failed_item_to_closing() {
    npm::ensure_node_modules();
    let x = start_xvfb();
    let tmp = tempfile::tempdir().unwrap();
    let server_data = tmp.path().join("server");
    let app_data = tmp.path().join("tablet");
    let card = tmp.path().join("card");
    std::fs::create_dir_all(&server_data).unwrap();
    std::fs::create_dir_all(card.join("DCIM")).unwrap();
    let video_len: u64 = std::env::var("E2E_VIDEO_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1 << 30);
    let video = card.join("DCIM/20261207_0930.MP4");
    let video_sha = write_recording(&video, video_len);
    let server = Server::start(&server_data, "127.0.0.1:0");
    let proxy = CuttingProxy::start(server.addr.clone());
    let app = open_app_at(&x, &app_data, &server, &proxy.url(), Some(&card)).await;
    let c = &app.client;
    let today = Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    )
    .shanghai_date()
    .to_string();
    sign_in(c, "u-wang", "王强").await;

    // The inspection: the training item fails (its 处罚依据 is 《安全生产法》第九十七条, which
    // the unit's discretion table covers).
    let enterprise = "南京玄武精密机械有限公司";
    new_inspection_at_the_checklist(c, "红山路", enterprise).await;
    let item = "#item-GM-PX-01";
    click(c, &format!("{item} .ans-fails")).await;
    wait_for(c, &format!("{item} .ans-fails.on")).await;
    type_into(
        c,
        &format!("{item} textarea.note"),
        "3名新员工未经安全生产教育和培训即上岗作业",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;

    // 立案 from the failed item, with the facts.
    click(c, "#case-item-GM-PX-01 .open-case-for").await;
    let facts = "经查，该公司冲压车间3名新员工未经安全生产教育和培训即上岗作业。";
    type_into(c, "#case-facts", facts).await;
    act(c, "#open-case").await;
    wait_text(c, "#case-stage", "立案").await;
    wait_text(c, "#case-facts-text", "冲压车间3名新员工").await;
    let violated = wait_text(c, "#case-title", enterprise).await;
    assert!(violated.contains(enterprise));
    click(c, "#nav-home").await;
    let case_id = wait_for(c, "section.cases .case-row")
        .await
        .attr("id")
        .await
        .unwrap()
        .unwrap()
        .trim_start_matches("case-")
        .to_owned();
    open_case_when(c, &case_id, "立案").await;

    // The supervisor approves the filing in the console.
    let approved = console_phase(&server, "approve", &[("ENTERPRISE", enterprise.into())]).await;
    assert_eq!(approved["caseId"], case_id.as_str(), "{approved:#}");
    assert_eq!(approved["stageBefore"], "立案", "{approved:#}");
    assert_eq!(approved["stage"], "调查取证", "{approved:#}");
    assert!(
        approved["saved"].as_str().unwrap().contains("应急立审"),
        "{approved:#}"
    );

    // The tablet receives it: 调查取证, the 立案审批表 numbered.
    open_case_when(c, &case_id, "调查取证").await;
    wait_text(c, "#case-documents", "立案审批表").await;

    // 询问笔录: two pages, typed on the tablet.
    type_into(c, "#case-interviewee", "张伟").await;
    type_into(c, "#case-position", "安全主管").await;
    type_into(c, "#case-place", "公司二楼会议室").await;
    let lines = [
        ("你在公司担任什么职务？", "我是安全主管，负责员工安全培训。"),
        (
            "冲压车间三名新员工上岗前是否接受了安全培训？",
            "没有，他们入职当天就上岗了。",
        ),
        ("以上记录是否属实？", "属实。"),
    ];
    let fill = |i: usize, q: &'static str, a: &'static str| async move {
        let qs = c
            .find_all(Locator::Css("#interview-form input.question"))
            .await
            .unwrap();
        qs[i].send_keys(q).await.unwrap();
        let answers = c
            .find_all(Locator::Css("#interview-form textarea.answer"))
            .await
            .unwrap();
        answers[i].send_keys(a).await.unwrap();
    };
    fill(0, lines[0].0, lines[0].1).await;
    click(c, "#add-line").await;
    wait_count(c, "#interview-form input.question", 2).await;
    fill(1, lines[1].0, lines[1].1).await;
    click(c, "#new-page").await;
    wait_count(c, "#interview-form input.question", 3).await;
    fill(2, lines[2].0, lines[2].1).await;
    act(c, "#save-interview").await;
    wait_text(c, "#case-interviews", "张伟").await;
    // Each page signed by the interviewee and both inspectors on the pads.
    wait_count(c, "#case-interviews .card.pad", 6).await;
    let pads: Vec<String> = {
        let mut ids = Vec::new();
        for e in c
            .find_all(Locator::Css("#case-interviews .card.pad"))
            .await
            .unwrap()
        {
            ids.push(e.attr("id").await.unwrap().unwrap());
        }
        ids
    };
    for (i, pad) in pads.iter().enumerate() {
        wait_for(c, &format!("#{pad} canvas")).await;
        let _ = c
            .execute(
                "document.getElementById(arguments[0]).scrollIntoView({block: 'center'});",
                vec![serde_json::json!(pad)],
            )
            .await;
        draw(c, &format!("#{pad} canvas"), i as f64).await;
        click(c, &format!("#{pad} .sign-confirm")).await;
        wait_for(c, &format!("#{pad} .signed-mark")).await;
    }
    wait_text(c, "#case-documents", "询问笔录").await;
    screenshot(c, "case-interview").await;

    // 先行登记保存: the training records registered and preserved, numbered by the tablet;
    // then its decision (the notice needs every preservation decided).
    wait_for(c, "#case-measure_kind")
        .await
        .select_by_value("preservation")
        .await
        .unwrap();
    type_into(
        c,
        "#case-measure_items",
        "新员工安全培训签到表 1册（公司档案室）",
    )
    .await;
    type_into(c, "#case-measure_basis", "《行政处罚法》第五十六条").await;
    act(c, "#add-measure").await;
    wait_text(c, "#case-measures", "应急").await;
    wait_text(c, "#case-documents", "先行登记保存证据通知书").await;
    let preserved = c
        .find_all(Locator::Css("#case-preservation option"))
        .await
        .unwrap();
    let measure_id = preserved[1].attr("value").await.unwrap().unwrap();
    wait_for(c, "#case-preservation")
        .await
        .select_by_value(&measure_id)
        .await
        .unwrap();
    type_into(c, "#case-outcome_on", &today).await;
    type_into(c, "#case-outcome", "经核对后解除先行登记保存，复印件附卷").await;
    act(c, "#record-outcome").await;
    wait_text(c, "#case-measures", "解除先行登记保存").await;

    // The body camera's video: found on the card, copied in through its hash, named in the
    // case; the upload's connection is cut a third of the way in, and the upload resumes.
    proxy.arm(video_len / 3);
    type_into(c, "#media-camera", "DSJ-A8 执法记录仪 01").await;
    type_into(c, "#media-note", "现场检查及询问全程录像").await;
    click(c, "#find-recordings").await;
    wait_text(c, "#recordings", "20261207_0930.MP4").await;
    click(c, ".import-recording").await;
    let import_started = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(600);
    while count(c, "#case-media .case-medium").await == 0 {
        assert!(Instant::now() < deadline, "the video was not imported");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let imported_in = import_started.elapsed();
    let medium = wait_text(c, "#case-media .case-medium", "录像").await;
    assert!(medium.contains("执法记录仪"), "{medium}");
    let deadline = Instant::now() + Duration::from_secs(900);
    let stored = loop {
        if let Some(p) = find_file(&server_data, &video_sha)
            && std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0) == video_len
        {
            break p;
        }
        assert!(
            Instant::now() < deadline,
            "the video did not reach the server (cuts: {})",
            proxy.cuts()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let uploaded_in = import_started.elapsed() - imported_in;
    assert_eq!(proxy.cuts(), 1, "the upload went through a cut connection");
    assert_eq!(
        bytes_at(&stored, video_len / 2, 64),
        bytes_at(&video, video_len / 2, 64)
    );

    // The penalty proposed from the unit's discretion table (裁量基准), the notice made.
    wait_for(c, "#case-circumstance")
        .await
        .select_by_value("97-1")
        .await
        .unwrap();
    type_into(c, "#case-reasons", "首次发现，涉及从业人员3人，已及时改正").await;
    act(c, "#save-proposal").await;
    wait_text(c, "#notify-form", "拟处罚").await;
    act(c, "#notify").await;
    wait_text(c, "#case-stage", "告知").await;
    wait_text(c, "#case-documents", "行政处罚告知书").await;
    // The notice delivered; the party's statement of defence, then its waiver of the rest.
    serve(c, "告知书", "张伟").await;
    wait_text(c, "#case-documents", "送达回证").await;
    type_into(c, "#case-speaker", "张伟").await;
    type_into(
        c,
        "#case-statement",
        "三名新员工已于次日补训并考核合格，请求从轻处罚。",
    )
    .await;
    type_into(
        c,
        "#case-review",
        "当事人已改正，陈述的事实属实，维持拟处罚。",
    )
    .await;
    act(c, "#record-statement").await;
    wait_text(c, "#case-documents", "陈述申辩").await;
    // The fine is below the unit's hearing threshold: no hearing is offered, only the
    // statement's remaining days are waived.
    type_into(c, "#case-waiver", "张伟").await;
    assert_eq!(count(c, "#waive-hearing").await, 0);
    assert_eq!(count(c, "#hearing-form").await, 0);
    click(c, "#waive-statement").await;
    act(c, "#record-waiver").await;
    assert_eq!(
        wait_for(c, "#case-waiver")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some(""),
        "the waiver went through (its form starts empty again)"
    );
    screenshot(c, "case-defence").await;
    open_case_when(c, &case_id, "陈述申辩").await;

    // The console: the video played by ranges; the decision; its publication.
    let probe_at = video_len / 2 + 12_345;
    let probe = app_core::evidence::hex(&bytes_at(&video, probe_at, 32));
    let decided = console_phase(
        &server,
        "decide",
        &[
            ("CASE_ID", case_id.clone()),
            ("PROBE_AT", probe_at.to_string()),
            ("PROBE_HEX", probe.clone()),
        ],
    )
    .await;
    assert_eq!(decided["rangeStatus"], 206, "{decided:#}");
    assert_eq!(decided["rangeHex"], probe.as_str(), "{decided:#}");
    assert_eq!(
        decided["contentRange"],
        format!("bytes {probe_at}-{}/{video_len}", probe_at + 31).as_str()
    );
    assert_eq!(decided["fine"], "20000", "{decided:#}");
    assert_eq!(decided["stageDecided"], "决定", "{decided:#}");
    assert!(
        decided["published"].as_str().unwrap().contains(&today),
        "{decided:#}"
    );

    // The tablet: the decision delivered, the fine paid, the warning carried out.
    open_case_when(c, &case_id, "决定").await;
    serve(c, "决定书", "张伟").await;
    wait_text(c, "#case-stage", "送达").await;
    type_into(c, "#case-paid_on", &today).await;
    type_into(c, "#case-amount", "20000").await;
    type_into(c, "#case-receipt", "32010026120700123").await;
    act(c, "#record-payment").await;
    wait_text(c, "#case-stage", "执行").await;
    type_into(c, "#case-executed_on", &today).await;
    type_into(c, "#case-execution", "警告已随行政处罚决定书送达当事人").await;
    act(c, "#record-execution").await;
    wait_text(c, "#payment-form", "20000").await;
    open_case_when(c, &case_id, "执行").await;

    // The console: 结案审批, then the case file.
    let export_started = Instant::now();
    let closed = console_phase(&server, "close", &[("CASE_ID", case_id.clone())]).await;
    assert_eq!(closed["stage"], "结案", "{closed:#}");
    let documents = closed["documents"].as_str().unwrap();
    for kind in [
        "立案审批表",
        "询问笔录",
        "先行登记保存证据通知书",
        "行政处罚告知书",
        "陈述申辩笔录",
        "行政处罚决定书",
        "送达回证",
        "结案审批表",
    ] {
        assert!(documents.contains(kind), "{kind}: {documents}");
    }
    let key = casefile::manifest::parse_public_key(closed["key"].as_str().unwrap()).expect("a key");
    let zip = tmp.path().join("case.zip");
    {
        let (address, href, cookie, zip) = (
            server.address(),
            closed["download"].as_str().unwrap().to_owned(),
            closed["cookie"].as_str().unwrap().to_owned(),
            zip.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let http = tablet::tls::client(
                &address,
                Duration::from_secs(5),
                Some(Duration::from_secs(900)),
            )
            .unwrap();
            let mut resp = http
                .get(format!("{}{href}", address.url))
                .header("cookie", cookie)
                .send()
                .unwrap();
            assert_eq!(resp.status().as_u16(), 200);
            let mut f = std::fs::File::create(&zip).unwrap();
            resp.copy_to(&mut f).unwrap();
        })
        .await
        .unwrap();
    }
    let exported_in = export_started.elapsed();
    // The tablet shows the case closed.
    open_case_when(c, &case_id, "结案").await;
    screenshot(c, "case-closed").await;
    app.close().await;

    // The case file verifies against the key the console showed; it carries the video byte
    // for byte, the documents with the 卷内目录 first.
    let options = casefile::VerifyOptions {
        trusted_keys: vec![casefile::TrustedKey {
            key,
            label: "server".into(),
        }],
    };
    let check = |path: &Path| casefile::verify(std::fs::File::open(path).unwrap(), &options);
    let verify_started = Instant::now();
    let report = check(&zip);
    let verified_in = verify_started.elapsed();
    assert!(report.holds(), "{}", report.render_zh_en());
    let manifest = report.manifest.clone().unwrap();
    assert_eq!(
        manifest.case.as_ref().map(|c| c.as_str()),
        Some(case_id.as_str())
    );
    assert_eq!(manifest.signed_version, "closed");
    let video_entry = manifest
        .files
        .iter()
        .find(|f| f.sha256.as_str() == video_sha)
        .expect("the video is in the case file")
        .clone();
    assert_eq!(video_entry.size, video_len);
    let pdfs: Vec<&str> = manifest
        .files
        .iter()
        .map(|f| f.path.as_str())
        .filter(|p| p.ends_with(".pdf"))
        .collect();
    assert!(pdfs[0].contains("卷内目录"), "{pdfs:?}");
    assert!(pdfs.len() >= 8, "{pdfs:?}");
    // A flipped byte anywhere is caught: in the first document, in the middle of the file
    // (the video), near the end (the manifest and its signature).
    let len = std::fs::metadata(&zip).unwrap().len();
    for (at, what) in [
        (200, "a document"),
        (len / 2, "the video"),
        (len - 300, "the end"),
    ] {
        flip(&zip, at);
        let report = check(&zip);
        assert!(
            !report.holds(),
            "a flipped byte in {what} (at {at}) was not caught"
        );
        if what == "the video" {
            let text = report.render_zh_en();
            assert!(text.contains(&video_entry.path), "{text}");
        }
        flip(&zip, at);
    }
    assert!(check(&zip).holds());
    eprintln!(
        "penalty case e2e: a {video_len}-byte video imported in {imported_in:.1?} and uploaded \
         through one cut in {uploaded_in:.1?}; closing, export and download {exported_in:.1?} \
         ({len} bytes); one verification {verified_in:.1?}"
    );
    drop(proxy);
    drop(server);
}
