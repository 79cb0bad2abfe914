//! Sign-in that cannot be abused: failed sign-ins lock an account (and, when the server knows
//! client addresses, an address) until a supervisor lifts the lock; an unknown user costs as
//! much as a wrong password; password checks wait in a bounded queue (503 beyond it); a flood
//! of wrong passwords does not grow the server's memory; the console's sign-in form refuses
//! cross-site posts (login CSRF).

mod common;

use common::console::{ConsoleClient, login_form_token};
use common::{PASSWORD, TestServer, fixtures};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The server binary started with extra environment (the sign-in settings of `signin.rs`).
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(data: &Path, env: &[(&str, &str)]) -> Self {
        let port_file = data.join("port");
        let _ = std::fs::remove_file(&port_file);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sync-server"));
        cmd.arg("--data")
            .arg(data)
            .arg("--fixtures")
            .arg(fixtures())
            .args([
                "--listen",
                "127.0.0.1:0",
                "--demo-password",
                PASSWORD,
                "--port-file",
            ])
            .arg(&port_file)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut server = Self {
            child: cmd.spawn().expect("server starts"),
            addr: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(addr) = std::fs::read_to_string(&port_file) {
                server.addr = addr;
                return server;
            }
            // On a panic here the server is killed by `Drop`.
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Resident memory of the server process, in kB (`VmRSS` of /proc/<pid>/status).
    fn rss_kb(&self) -> u64 {
        rss_kb(self.child.id())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

/// `POST /api/v1/login`: the status, the error code (if any) and the whole answer.
fn api_login(
    http: &reqwest::blocking::Client,
    base: &str,
    user: &str,
    password: &str,
) -> (u16, String, reqwest::header::HeaderMap, String) {
    let resp = http
        .post(format!("{base}/api/v1/login"))
        .json(&serde_json::json!({ "user": user, "password": password }))
        .send()
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let code = v["error"]["code"].as_str().unwrap_or("").to_owned();
    (status, code, headers, body)
}

#[test]
fn failed_sign_ins_lock_the_account_until_a_supervisor_of_its_unit_lifts_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    // The per-address limit (when the server knows addresses) is raised: every request of
    // this test comes from 127.0.0.1.
    let limits = [("SYNC_SERVER_SIGNIN_ADDRESS_FAILURES", "1000")];
    let server = Server::start(dir.path(), &limits);
    let base = server.url();
    let http = reqwest::blocking::Client::new();

    // Four failures are answered as wrong passwords; the fifth locks the account.
    for _ in 0..4 {
        let (status, code, ..) = api_login(&http, &base, "u-wang", "wrong");
        assert_eq!((status, code.as_str()), (401, "bad_credentials"));
    }
    let (status, code, headers, body) = api_login(&http, &base, "u-wang", "wrong");
    assert_eq!(
        (status, code.as_str()),
        (429, "too_many_attempts"),
        "{body}"
    );
    assert!(body.contains("too many failed sign-ins"), "{body}");
    let retry: i64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((800..=900).contains(&retry), "Retry-After {retry}");
    // Locked: even the right password is refused.
    let (status, code, ..) = api_login(&http, &base, "u-wang", PASSWORD);
    assert_eq!((status, code.as_str()), (429, "too_many_attempts"));
    // Other accounts are not affected.
    assert_eq!(api_login(&http, &base, "u-li", PASSWORD).0, 200);

    // Only failures count: a success clears the account's counter.
    for _ in 0..4 {
        assert_eq!(api_login(&http, &base, "u-zhang", "wrong").0, 401);
    }
    assert_eq!(api_login(&http, &base, "u-zhang", PASSWORD).0, 200);
    for _ in 0..4 {
        assert_eq!(api_login(&http, &base, "u-zhang", "wrong").0, 401);
    }
    assert_eq!(api_login(&http, &base, "u-zhang", PASSWORD).0, 200);

    // An unknown name is locked the same way (the lockout does not tell which names exist).
    for n in 0..5 {
        let expected = if n < 4 { 401 } else { 429 };
        assert_eq!(api_login(&http, &base, "u-nobody", "wrong").0, expected);
    }

    // The console's form counts the same failures and says so in Chinese and English.
    let mut locked = ConsoleClient::at(&base);
    let p = locked.sign_in("u-wang", PASSWORD);
    assert_eq!(p.status, 429);
    assert!(
        p.body.contains("登录失败次数过多") && p.body.contains("Too many failed sign-ins"),
        "{}",
        p.body
    );

    // A supervisor of another county neither sees nor lifts the lock.
    let mut sun = ConsoleClient::at(&base);
    assert_eq!(sun.sign_in("u-sun", PASSWORD).status, 303);
    let page = sun.get("/console/lockouts");
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("u-wang"), "{}", page.body);
    let csrf = sun.csrf();
    let p = sun.post("/console/lockouts", &format!("csrf={csrf}&user=u-wang"));
    assert_eq!(p.status, 404);
    assert_eq!(api_login(&http, &base, "u-wang", PASSWORD).0, 429);

    // An inspector has no console; an admin has no lockout page.
    let mut li = ConsoleClient::at(&base);
    assert_eq!(li.sign_in("u-li", PASSWORD).status, 403);
    let mut admin = ConsoleClient::at(&base);
    assert_eq!(admin.sign_in("u-admin", PASSWORD).status, 303);
    assert_eq!(admin.get("/console/lockouts").status, 404);

    // u-wang's own supervisor sees the lock and lifts it (with the form's CSRF token only).
    let mut zhao = ConsoleClient::at(&base);
    assert_eq!(zhao.sign_in("u-zhao", PASSWORD).status, 303);
    let page = zhao.get("/console/lockouts");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("u-wang") && page.body.contains("王强"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("u-nobody"),
        "unknown names are not listed"
    );
    assert_eq!(
        zhao.post("/console/lockouts", "csrf=forged&user=u-wang")
            .status,
        403
    );
    assert_eq!(api_login(&http, &base, "u-wang", PASSWORD).0, 429);
    let csrf = zhao.csrf();
    let p = zhao.post("/console/lockouts", &format!("csrf={csrf}&user=u-wang"));
    assert_eq!(p.status, 303);
    assert_eq!(
        p.location.as_deref(),
        Some("/console/lockouts?lifted=u-wang")
    );
    let page = zhao.get("/console/lockouts?lifted=u-wang");
    assert!(page.body.contains("已解除"), "{}", page.body);
    // Lifted: the right password works again, and the counter starts from zero.
    assert_eq!(api_login(&http, &base, "u-wang", PASSWORD).0, 200);
    for _ in 0..4 {
        assert_eq!(api_login(&http, &base, "u-wang", "wrong").0, 401);
    }
    assert_eq!(api_login(&http, &base, "u-wang", PASSWORD).0, 200);

    // The lock survives a restart: it is in the database, not in the process.
    for _ in 0..5 {
        api_login(&http, &base, "u-liu", "wrong");
    }
    drop(server);
    let server = Server::start(dir.path(), &limits);
    assert_eq!(api_login(&http, &server.url(), "u-liu", PASSWORD).0, 429);
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

#[test]
fn an_unknown_user_costs_as_much_time_as_a_wrong_password() {
    let dir = tempfile::tempdir().unwrap();
    // No lockouts: only the cost of the check is measured.
    let server = Server::start(dir.path(), &[("SYNC_SERVER_SIGNIN_THROTTLE", "off")]);
    let http = reqwest::blocking::Client::new();
    let base = server.url();
    // Warm up (threads, connections, the database's pages).
    assert_eq!(api_login(&http, &base, "u-zhao", PASSWORD).0, 200);
    let known = ["u-wang", "u-li", "u-zhang", "u-chen", "u-liu"];
    let (mut wrong, mut unknown) = (Vec::new(), Vec::new());
    // Interleaved.
    for round in 0..10 {
        let start = Instant::now();
        let (status, ..) = api_login(&http, &base, known[round % known.len()], "wrong");
        wrong.push(start.elapsed());
        assert_eq!(status, 401);
        let start = Instant::now();
        let (status, ..) = api_login(&http, &base, &format!("u-ghost-{round}"), "wrong");
        unknown.push(start.elapsed());
        assert_eq!(status, 401);
    }
    let (wrong, unknown) = (median(wrong), median(unknown));
    eprintln!("median sign-in time: wrong password {wrong:?}, unknown user {unknown:?}");
    let ratio = unknown.as_secs_f64() / wrong.as_secs_f64();
    assert!(
        (0.5..=2.0).contains(&ratio),
        "unknown user {unknown:?} vs wrong password {wrong:?}"
    );
}

#[test]
fn password_checks_beyond_the_queue_are_refused_with_503() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("SYNC_SERVER_SIGNIN_THREADS", "1"),
            ("SYNC_SERVER_SIGNIN_QUEUE", "2"),
            ("SYNC_SERVER_SIGNIN_THROTTLE", "off"),
        ],
    );
    let base = server.url();
    let start = Arc::new(std::sync::Barrier::new(24));
    let answers: Vec<_> = (0..24)
        .map(|i| {
            let (base, start) = (base.clone(), start.clone());
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::new();
                start.wait();
                api_login(&http, &base, &format!("u-flood-{i}"), "wrong")
            })
        })
        .collect();
    let mut busy = 0;
    for a in answers {
        let (status, code, headers, body) = a.join().unwrap();
        match status {
            401 => assert_eq!(code, "bad_credentials"),
            503 => {
                busy += 1;
                assert_eq!(code, "busy");
                assert!(body.contains("try again in a few seconds"), "{body}");
                assert!(headers.contains_key("retry-after"));
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    // One being checked and two waiting: most of the 24 are refused at once.
    assert!(busy >= 12, "only {busy} of 24 refused");
    // The queue drains and sign-in works again.
    let http = reqwest::blocking::Client::new();
    assert_eq!(api_login(&http, &base, "u-wang", PASSWORD).0, 200);
}

/// The measurement: 1,000 failed sign-ins from 64 concurrent loopback connections.
/// The throttle is off so that every one of them runs Argon2 (the worst case for memory).
#[test]
fn a_flood_of_wrong_passwords_does_not_grow_the_servers_memory() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[("SYNC_SERVER_SIGNIN_THROTTLE", "off")]);
    let base = server.url();
    let pid = server.child.id();
    assert!(
        reqwest::blocking::get(format!("{base}/health"))
            .unwrap()
            .status()
            .is_success()
    );
    let before = server.rss_kb();
    let failed = Arc::new(AtomicUsize::new(0));
    let busy = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let peak = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(rss_kb(pid));
                std::thread::sleep(Duration::from_millis(50));
            }
            peak
        })
    };
    let started = Instant::now();
    let clients: Vec<_> = (0..64)
        .map(|i| {
            let (base, failed, busy) = (base.clone(), failed.clone(), busy.clone());
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::new();
                let users = ["u-wang", "u-li", "u-zhao", "u-nobody"];
                let mut n = 0;
                while failed.load(Ordering::Relaxed) < 1000 {
                    let (status, ..) = api_login(&http, &base, users[(i + n) % 4], "wrong");
                    n += 1;
                    match status {
                        401 => {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                        503 => {
                            busy.fetch_add(1, Ordering::Relaxed);
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        other => panic!("unexpected status {other}"),
                    }
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    let elapsed = started.elapsed();
    let after = server.rss_kb();
    done.store(true, Ordering::Relaxed);
    let peak = peak.join().unwrap().max(after);
    let (failed, busy) = (failed.load(Ordering::Relaxed), busy.load(Ordering::Relaxed));
    eprintln!(
        "RSS flood: {failed} failed sign-ins ({busy} answered 503 and retried) in {elapsed:.1?}: \
         VmRSS before {} MB, after {} MB, peak {} MB",
        before / 1024,
        after / 1024,
        peak / 1024
    );
    assert!(failed >= 1000);
    assert!(
        after.saturating_sub(before) <= 100 * 1024,
        "RSS grew from {before} kB to {after} kB"
    );
    assert!(
        peak.saturating_sub(before) <= 100 * 1024,
        "RSS peaked at {peak} kB (from {before} kB)"
    );
    // Still serving.
    let http = reqwest::blocking::Client::new();
    assert_eq!(api_login(&http, &base, "u-wang", PASSWORD).0, 200);
}

#[test]
fn the_console_sign_in_form_refuses_cross_site_posts() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path());
    let base = server.url();
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // The page sets an HttpOnly, SameSite=Strict pre-sign-in cookie matching a hidden field.
    let page = http.get(format!("{base}/console/login")).send().unwrap();
    let set = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("console_login="))
        .expect("a console_login cookie")
        .to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let (cookie, field) = login_form_token(&http, &base);
    assert_eq!(cookie, format!("console_login={field}"));
    // Loading the page again keeps this browser's value (two tabs both work).
    let again = http
        .get(format!("{base}/console/login"))
        .header("cookie", &cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(again.contains(&field));

    let post = |cookie: Option<&str>, body: String, extra: &[(&str, &str)]| {
        let mut req = http
            .post(format!("{base}/console/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let resp = req.send().unwrap();
        let session = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.starts_with("console_session=") && !v.starts_with("console_session=;"));
        (resp.status().as_u16(), session, resp.text().unwrap())
    };
    let creds = format!("user=u-zhao&password={PASSWORD}");
    let with_field = format!("login_csrf={field}&{creds}");
    // Neither cookie nor field (what a cross-site form would send), or only one of them, or
    // a field that does not match.
    for (c, body) in [
        (None, creds.clone()),
        (Some(cookie.as_str()), creds.clone()),
        (None, with_field.clone()),
        (
            Some(cookie.as_str()),
            format!("login_csrf={}&{creds}", "A".repeat(43)),
        ),
    ] {
        let (status, session, text) = post(c, body, &[]);
        assert_eq!(status, 403, "{text}");
        assert!(!session);
        assert!(text.contains("登录表单已失效") && text.contains("sign-in form expired"));
    }
    // Cookie and field, but the browser says it comes from another site.
    for headers in [
        &[("origin", "https://evil.example")][..],
        &[("origin", "null")][..],
        &[("sec-fetch-site", "cross-site")][..],
        &[("sec-fetch-site", "same-site")][..],
    ] {
        let (status, session, text) = post(Some(&cookie), with_field.clone(), headers);
        assert_eq!(status, 403, "{headers:?}: {text}");
        assert!(!session);
    }
    // The browser's own same-origin post signs in; also as Chromium sends it under
    // `Referrer-Policy: no-referrer` (Origin null, Fetch Metadata same-origin).
    let origin = base.clone();
    let (status, session, _) = post(
        Some(&cookie),
        with_field.clone(),
        &[("origin", "null"), ("sec-fetch-site", "same-origin")],
    );
    assert_eq!((status, session), (303, true));
    let (status, session, _) = post(
        Some(&cookie),
        with_field,
        &[("origin", &origin), ("sec-fetch-site", "same-origin")],
    );
    assert_eq!((status, session), (303, true));
}

/// The per-address limit, with the server serving client addresses
/// (`into_make_service_with_connect_info`), in process: 20 failures from one address, over
/// names that are each below the account limit, lock that address for every account.
#[test]
fn failures_from_one_address_lock_that_address_when_addresses_are_known() {
    use std::net::SocketAddr;
    use sync_server::{AppState, ReferenceData, db::Db, router, state::system_clock};
    let dir = tempfile::tempdir().unwrap();
    let reference = ReferenceData::load(&fixtures()).unwrap();
    let db = Db::open(&dir.path().join("server.db")).unwrap();
    let users = reference.users.clone();
    db.with_conn(|c| sync_server::auth::seed_accounts(c, &users, PASSWORD))
        .unwrap();
    let state = AppState {
        db,
        reference: Arc::new(reference).into(),
        data: dir.path().to_owned(),
        blobs: sync_server::blobstore::Blobs::folder(dir.path().join("blobs")),
        token_ttl_secs: 3600,
        clock: system_clock(),
        known_uploads: Default::default(),
        plausibility: Default::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(async move {
        axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let http = reqwest::blocking::Client::new();
    for n in 0..19 {
        let (status, ..) = api_login(&http, &base, &format!("u-guess-{}", n % 5), "wrong");
        assert_eq!(status, 401, "failure {n}");
    }
    let (status, code, ..) = api_login(&http, &base, "u-guess-x", "wrong");
    assert_eq!((status, code.as_str()), (429, "too_many_attempts"));
    // The address is locked: even an honest sign-in from it waits.
    assert_eq!(api_login(&http, &base, "u-wang", PASSWORD).0, 429);
    drop(runtime);
}
