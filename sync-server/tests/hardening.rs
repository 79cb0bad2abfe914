//! Connections and input, against the real server: thousands of stalled half-sent requests do
//! not keep `/health` or a sign-in from being answered; the serving path's header-read and
//! idle timeouts and its connection cap (in process, with short limits); out-of-range dates
//! get 400 pages, not panics; console responses carry the security headers and pages have
//! nothing inline for the CSP to forbid; the draw-verify page does not name another unit's
//! enterprises or inspectors.

mod common;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::{get, post};
use common::console::ConsoleClient;
use common::{PASSWORD, TestServer};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use sync_server::net::{ServeConfig, open_files_limit, serve_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Stalled connections the flood test holds open.
const STALLED: usize = 2000;
/// How long `/health` and a sign-in may take while they are held.
const PROMPT: Duration = Duration::from_secs(2);

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn signed_in(server: &TestServer, user: &str) -> ConsoleClient {
    let mut c = ConsoleClient::new(server);
    let r = c.sign_in(user, PASSWORD);
    assert_eq!(r.status, 303, "{user} signs in: {}", r.body);
    c
}

/// Percent-encodes a form value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn thousands_of_stalled_half_sent_requests_do_not_starve_health_or_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    let addr: SocketAddr = server.addr.parse().unwrap();
    // Each stalled connection is one descriptor here too: stay below this process's limit.
    let limit = open_files_limit().unwrap_or(u64::MAX);
    let count = STALLED.min(limit.saturating_sub(256) as usize);
    if count < STALLED {
        eprintln!("open-file limit {limit}: holding {count} stalled connections, not {STALLED}");
    }

    let started = Instant::now();
    let mut stalled = Vec::with_capacity(count);
    for i in 0..count {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("connection {i}: {e}"));
        // A request line and half the headers, then nothing.
        s.write_all(b"POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
            .unwrap();
        stalled.push(s);
        if i % 250 == 249 {
            eprintln!(
                "{} stalled connections after {:?}",
                i + 1,
                started.elapsed()
            );
        }
    }
    let opened = started.elapsed();
    // Let the server accept them all.
    std::thread::sleep(Duration::from_millis(500));

    // A fresh connection for every request (no pooled keep-alive connection to lean on).
    let client = reqwest::blocking::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut health_times = Vec::new();
    let mut login_times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let r = client
            .get(format!("{}/health", server.url()))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        health_times.push(t.elapsed());

        let t = Instant::now();
        let r = client
            .post(format!("{}/api/v1/login", server.url()))
            .json(&serde_json::json!({"user": "u-wang", "password": PASSWORD}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().unwrap_or_default());
        login_times.push(t.elapsed());
        std::thread::sleep(Duration::from_millis(100));
    }
    // How many of the stalled connections the server closed to make room (at its cap).
    let closed = stalled
        .iter_mut()
        .filter(|s| {
            let s: &TcpStream = s;
            s.set_nonblocking(true).unwrap();
            let mut b = [0u8; 64];
            !matches!((&*s).read(&mut b), Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock)
        })
        .count();
    eprintln!(
        "{count} stalled connections opened in {opened:?}; /health answered in {health_times:?}; \
         sign-in in {login_times:?}; {closed} stalled connections closed by the server"
    );
    for t in health_times.iter().chain(&login_times) {
        assert!(
            *t < PROMPT,
            "answered in {t:?} with {count} stalled connections"
        );
    }
    drop(stalled);
    // Still healthy afterwards, and it stops cleanly.
    assert_eq!(
        client
            .get(format!("{}/health", server.url()))
            .send()
            .unwrap()
            .status(),
        200
    );
    assert!(server.terminate().success());
}

/// A tiny router over the real serving path: `/peer` answers the client's address (from
/// `ConnectInfo`), `/echo` reads the whole body.
fn tiny_router() -> Router {
    Router::new()
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        )
        .route(
            "/echo",
            post(|body: axum::body::Bytes| async move { body.len().to_string() }),
        )
}

async fn start_tiny(
    config: ServeConfig,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve_with(
        listener,
        tiny_router(),
        async move {
            let _ = stopped.await;
        },
        config,
    ));
    (addr, stop, task)
}

/// Reads until the server closes the connection (or `within` passes); returns what was read
/// and when the connection ended, if it did.
async fn until_closed(
    s: &mut tokio::net::TcpStream,
    within: Duration,
) -> (Vec<u8>, Option<Duration>) {
    let t = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(within.saturating_sub(t.elapsed()), s.read(&mut buf)).await {
            Err(_) => return (got, None),
            Ok(Ok(0)) | Ok(Err(_)) => return (got, Some(t.elapsed())),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_head_is_dropped_after_the_header_read_timeout() {
    let (addr, stop, task) = start_tiny(ServeConfig {
        max_connections: 64,
        header_read_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(30),
        drain_timeout: Duration::from_secs(2),
        ..Default::default()
    })
    .await;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (_, closed) = until_closed(&mut s, Duration::from_secs(5)).await;
    let closed = closed.expect("the server closes a stalled request head");
    assert!(
        closed >= Duration::from_millis(900) && closed < Duration::from_secs(3),
        "{closed:?}"
    );
    // A connection that says nothing at all is dropped the same way.
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (_, closed) = until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "a silent connection is closed");
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_request_body_is_dropped_after_the_idle_timeout() {
    let (addr, stop, task) = start_tiny(ServeConfig {
        max_connections: 64,
        header_read_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(1),
        drain_timeout: Duration::from_secs(2),
        ..Default::default()
    })
    .await;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        .await
        .unwrap();
    let (_, closed) = until_closed(&mut s, Duration::from_secs(6)).await;
    let closed = closed.expect("the server closes a connection whose body stalls");
    assert!(closed < Duration::from_secs(3), "{closed:?}");
    // A complete request is answered as usual.
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    )
    .await
    .unwrap();
    let (got, _) = until_closed(&mut s, Duration::from_secs(5)).await;
    let got = String::from_utf8_lossy(&got);
    assert!(
        got.starts_with("HTTP/1.1 200") && got.ends_with("\r\n\r\n3"),
        "{got}"
    );
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_a_stalled_connection_makes_room_and_handlers_see_the_peer() {
    let (addr, stop, task) = start_tiny(ServeConfig {
        max_connections: 8,
        header_read_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(30),
        drain_timeout: Duration::from_secs(2),
        ..Default::default()
    })
    .await;
    let mut stalled = Vec::new();
    for _ in 0..20 {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        stalled.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = Instant::now();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let local = s.local_addr().unwrap();
    s.write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (got, closed) = until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "answered and closed");
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    let got = String::from_utf8_lossy(&got);
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(
        got.ends_with(&local.to_string()),
        "ConnectInfo is the peer: {got}"
    );
    // Graceful shutdown returns even with stalled connections open.
    let t = Instant::now();
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    drop(stalled);
}

#[test]
fn dates_out_of_range_or_malformed_get_a_400_page_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    let zhao = signed_in(&server, "u-zhao");
    let pages = [
        "/console/records",
        "/console/hazards",
        "/console/hazards.csv",
        "/console/hazards.xlsx",
        "/console/figures",
        "/console/publication",
        "/console/publication.csv",
    ];
    let bad = [
        "99999-01-01",
        "0000-00-00",
        "-5-01-01",
        "-9999-01-01",
        "9999-12-31",
        "1899-12-31",
        "3000-01-01",
        "2026-13-01",
        "2026-02-30",
        "99999999999999999999",
        "-99999999999999999999",
        "2026-1-1",
        "yesterday",
    ];
    for page in pages {
        for key in ["from", "to"] {
            for value in bad {
                let p = zhao.get(&format!("{page}?{key}={value}"));
                assert_eq!(p.status, 400, "{page}?{key}={value}: {}", p.body);
                assert!(
                    p.body.contains("日期参数"),
                    "{page}?{key}={value}: {}",
                    p.body
                );
                assert!(p.body.contains("Date parameter"), "{}", p.body);
                let zh = p.body.find("日期参数").unwrap();
                let en = p.body.find("Date parameter").unwrap();
                assert!(zh < en, "Chinese first");
            }
        }
        // The period the wrong way round.
        let p = zhao.get(&format!("{page}?from=2026-12-31&to=2026-01-01"));
        assert_eq!(p.status, 400, "{page}: {}", p.body);
        assert!(p.body.contains("晚于") && p.body.contains("after the end date"));
        // The widest accepted period, and blank fields (an empty date input), are fine.
        let p = zhao.get(&format!("{page}?from=1900-01-01&to=2999-12-31"));
        assert_eq!(p.status, 200, "{page}: {}", p.body);
        let p = zhao.get(&format!("{page}?from=&to=&unit="));
        assert_eq!(p.status, 200, "{page}: {}", p.body);
    }
    // A malformed paging cursor.
    for after in ["garbage", "99999999999999999999~x", "~"] {
        let p = zhao.get(&format!("/console/records?after={after}"));
        assert_eq!(p.status, 400, "after={after}: {}", p.body);
        assert!(p.body.contains("分页参数") && p.body.contains("paging parameter"));
    }
    // The server is still there.
    assert_eq!(
        http()
            .get(format!("{}/health", server.url()))
            .send()
            .unwrap()
            .status(),
        200
    );
}

fn assert_security_headers(what: &str, resp: &reqwest::blocking::Response) {
    let h = resp.headers();
    let get = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no {name} header"))
            .to_owned()
    };
    let csp = get("content-security-policy");
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{what}: {csp}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
    assert!(get("cache-control").contains("no-store"), "{what}");
}

/// Nothing inline for the CSP to forbid: no `<style>`, no `style=`, no `<script>` without a
/// `src`, no `on…=` handlers.
fn assert_nothing_inline(what: &str, body: &str) {
    assert!(!body.contains("<style"), "{what}: inline <style>");
    assert!(!body.contains(" style="), "{what}: style attribute");
    for (at, _) in body.match_indices("<script") {
        let tag = &body[at..at + body[at..].find('>').unwrap()];
        assert!(tag.contains(" src="), "{what}: inline script {tag}");
    }
    for handler in [" onclick=", " onload=", " onsubmit=", " onerror="] {
        assert!(!body.contains(handler), "{what}: {handler}");
    }
}

#[test]
fn console_responses_carry_the_security_headers_and_pages_have_nothing_inline() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    let client = http();
    // Before sign-in.
    let resp = client
        .get(format!("{}/console/login", server.url()))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_security_headers("/console/login", &resp);
    let body = resp.text().unwrap();
    assert_nothing_inline("/console/login", &body);
    assert!(body.contains(r#"<link rel="stylesheet" href="/console/static/console.css">"#));

    // The assets the CSP allows, with their real types (nosniff).
    for (path, ty, needle) in [
        ("/console/static/console.css", "text/css", "header.top"),
        (
            "/console/static/verify.js",
            "text/javascript",
            "x-csrf-token",
        ),
    ] {
        let resp = client
            .get(format!("{}{path}", server.url()))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_security_headers(path, &resp);
        let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with(ty), "{path}: {ct}");
        assert!(resp.text().unwrap().contains(needle), "{path}");
    }

    // Signed in: every section of the console, and an error page.
    let mut zhao = ConsoleClient::new(&server);
    assert_eq!(zhao.sign_in("u-zhao", PASSWORD).status, 303);
    let cookie = {
        // The client keeps the cookie private; sign in again by hand for raw responses.
        let resp = client
            .post(format!("{}/console/login", server.url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("user=u-zhao&password={PASSWORD}"))
            .send()
            .unwrap();
        assert_security_headers("POST /console/login", &resp);
        resp.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    };
    for path in [
        "/console",
        "/console/records",
        "/console/hazards",
        "/console/hazards.csv",
        "/console/figures",
        "/console/draws",
        "/console/publication",
        "/console/casefiles",
        "/console/records/no-such-record",
        "/console/records?from=99999-01-01",
    ] {
        let resp = client
            .get(format!("{}{path}", server.url()))
            .header("cookie", &cookie)
            .send()
            .unwrap();
        assert_security_headers(path, &resp);
        let html = resp
            .headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap().starts_with("text/html"));
        let body = resp.text().unwrap();
        if html {
            assert_nothing_inline(path, &body);
        }
    }
    // The case-file verify form carries its CSRF token for the script's header, not in the URL.
    let about = zhao.get("/console/casefiles").body;
    assert!(about.contains(r#"action="/console/casefiles/verify""#));
    assert!(about.contains(r#"<script src="/console/static/verify.js">"#));
    assert!(!about.contains("?csrf="));
    // No page links carry a token or session in the URL.
    for path in ["/console/records", "/console/draws", "/console/casefiles"] {
        let body = zhao.get(path).body;
        for needle in ["?csrf=", "&amp;csrf=", "token=", "session="] {
            assert!(!body.contains(needle), "{path} has {needle} in a URL");
        }
    }
    // The API is not a console page: no console headers needed there, but still answered.
    let resp = client
        .get(format!("{}/health", server.url()))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// The value of the hidden `name` field of a page, HTML entities undone.
fn hidden_field(body: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name}"))
        + marker.len();
    let raw = &body[at..at + body[at..].find('"').unwrap()];
    raw.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[test]
fn the_draw_verify_page_does_not_name_another_units_enterprises_or_inspectors() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    // 秦淮 (qh): its supervisor draws and seals among its enterprises and inspectors.
    let sun = signed_in(&server, "u-sun");
    let csrf = sun.csrf();
    let run = sun.post(
        "/console/draws/run",
        &format!(
            "csrf={csrf}&unit=qh&roster=u-chen&roster=u-liu&targets=2&per_target=2&seed=hardening-2026"
        ),
    );
    assert_eq!(run.status, 200, "{}", run.body);
    assert!(
        run.body.contains("陈静"),
        "the drawing unit sees its own names"
    );
    let input = hidden_field(&run.body, "input");
    let sealed = sun.post(
        "/console/draws/seal",
        &format!("csrf={csrf}&input={}", enc(&input)),
    );
    assert_eq!(sealed.status, 303, "{}", sealed.body);
    let draw = sealed.location.unwrap();
    let json = sun.get(&format!("{draw}/input.json")).body;
    let qh_names = [
        "南京秦淮化工原料经营有限公司",
        "南京夫子庙轻工制品厂",
        "陈静",
        "刘洋",
        "孙科长",
    ];

    // 玄武 (xw)'s supervisor verifies that input: the re-run is shown by id only.
    let zhao = signed_in(&server, "u-zhao");
    let verify = |who: &ConsoleClient, input: &str| {
        who.post(
            "/console/draws/verify",
            &format!("csrf={}&input={}", who.csrf(), enc(input)),
        )
    };
    let page = verify(&zhao, &json);
    assert_eq!(page.status, 200, "{}", page.body);
    for name in qh_names {
        assert!(!page.body.contains(name), "{name} shown to u-zhao");
    }
    assert!(page.body.contains("id=\"names-withheld\""), "{}", page.body);
    assert!(page.body.contains("e-005") || page.body.contains("e-006"));
    // Nor is the recorded draw of qh linked or compared.
    assert!(!page.body.contains(&draw), "{}", page.body);
    // The draw page itself stays 404 for zhao.
    assert_eq!(zhao.get(&draw).status, 404);

    // An input made up by zhao: his own territory, qh's inspectors on the roster.
    let mut crafted: serde_json::Value = serde_json::from_str(&json).unwrap();
    crafted["filter"]["unit"] = "xw".into();
    crafted["pool"] = serde_json::json!(["e-001", "e-002", "e-005"]);
    let page = verify(&zhao, &crafted.to_string());
    assert_eq!(page.status, 200, "{}", page.body);
    for name in qh_names {
        assert!(
            !page.body.contains(name),
            "{name} shown to u-zhao (crafted input)"
        );
    }
    // Running a draw with another unit's inspectors on the roster is refused (as sealing is).
    let zcsrf = zhao.csrf();
    let run = zhao.post(
        "/console/draws/run",
        &format!("csrf={zcsrf}&unit=xw&roster=u-wang&roster=u-chen&targets=1&per_target=2&seed=x"),
    );
    assert_eq!(run.status, 400, "{}", run.body);
    assert!(!run.body.contains("陈静"));

    // The city's supervisor oversees qh: the names are shown, and the recorded draw matches.
    let zhou = signed_in(&server, "u-zhou");
    let page = verify(&zhou, &json);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("陈静") || page.body.contains("刘洋"));
    assert!(!page.body.contains("id=\"names-withheld\""));
    assert!(page.body.contains(r#"data-same="true""#), "{}", page.body);
    // And qh's own supervisor sees the same.
    let page = verify(&sun, &json);
    assert!(page.body.contains(r#"data-same="true""#));
    assert!(page.body.contains("陈静") || page.body.contains("刘洋"));
}
