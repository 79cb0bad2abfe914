//! HTTPS end to end: the real tablet client (`tablet::tls`, rustls) against the real server
//! binary serving TLS from PEM files, with certificate authorities made at test time by rcgen.
//!
//! A valid chain syncs (through the bureau's CA certificate, or a pin of its key). A wrong
//! host name, an expired certificate, an unknown CA and a pin that matches no key are each
//! refused with a clear error, and nothing was sent: the server saw only a failed handshake
//! (its log), issued no token, registered no device and stored no record. Plain `http://` to
//! another machine is refused before any connection. Under TLS the console's cookies are
//! `Secure` and HSTS is sent; a trusted proxy's `X-Forwarded-For` is the client address of
//! sign-in throttling, anyone else's is ignored.

mod common;

use app_core::messages::{Bilingual, ConnectionRefusal};
use common::ca::Ca;
use common::{Tablet, TestServer, rid};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tablet::sync::SyncError;
use tablet::tls::{Server, ServerTrust};

/// What the server has stored: tokens issued, devices registered, records.
fn server_counts(data: &Path) -> (i64, i64, i64) {
    let db = rusqlite::Connection::open_with_flags(
        data.join("server.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let count = |table: &str| -> i64 {
        db.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    (count("tokens"), count("devices"), count("docs"))
}

/// The server's log so far.
fn log_of(server: &TestServer) -> String {
    std::fs::read_to_string(server.log.as_ref().unwrap()).unwrap_or_default()
}

/// How many TLS handshakes the server saw fail.
fn failed_handshakes(server: &TestServer) -> usize {
    log_of(server).matches("TLS handshake failed").count()
}

fn refusal(e: SyncError) -> ConnectionRefusal {
    match e {
        SyncError::Refused(r) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A server of `ca` for `names`, logging into its data folder's parent.
fn tls_server(dir: &Path, ca: &Ca, tag: &str, names: &[&str], days: (i64, i64)) -> TestServer {
    let data = dir.join(tag);
    std::fs::create_dir_all(&data).unwrap();
    let args = ca.issue(dir, tag, names, days);
    TestServer::start_with(&data, &args, Some(&dir.join(format!("{tag}.log"))))
}

/// Tries to sign in (and, with `session_of`'s token, to sync a record) through `address`;
/// asserts the refusal is `expected`, that the server saw a failed handshake and stored
/// nothing new.
fn refused(
    server: &TestServer,
    address: Server,
    expected: ConnectionRefusal,
    session_of: Option<(&Tablet, &app_core::user::User)>,
) {
    let before = server_counts(&server.data);
    let handshakes = failed_handshakes(server);
    let err = Tablet::connect(server, address.clone(), "u-wang")
        .err()
        .expect("refused");
    let r = refusal(err);
    assert_eq!(r, expected, "{r}");
    // Clear in both languages.
    assert!(r.zh().contains("已拒绝连接"), "{}", r.zh());
    assert!(r.en().starts_with("refused"), "{}", r.en());
    if let Some((good, colleague)) = session_of {
        // A tablet holding a valid session and a pending record, but the wrong trust: the
        // record is not pushed.
        let client = tablet::sync::SyncClient::new(address)
            .with_session(good.client.session().unwrap().clone());
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        good.new_record(&rid(&format!("tls-refused-{n}")), colleague);
        let err = client.sync(&good.store, good.at(0)).unwrap_err();
        assert_eq!(refusal(err), expected);
        assert!(
            !client
                .sync(&good.store, good.at(0))
                .unwrap_err()
                .is_transient()
        );
    }
    // The server saw the handshake fail (the client's alert) and nothing else.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while failed_handshakes(server) == handshakes {
        assert!(
            std::time::Instant::now() < deadline,
            "no failed handshake in the server's log:\n{}",
            log_of(server)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        server_counts(&server.data),
        before,
        "the server stored something"
    );
}

#[test]
fn the_tablet_syncs_only_with_a_server_it_trusts() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("某县应急管理局 测试 CA");
    let other_ca = Ca::new("Unknown test CA");

    // A valid chain (the bureau's CA given to the tablet): signs in, syncs a record.
    let good = tls_server(
        dir.path(),
        &ca,
        "good",
        &["localhost", "127.0.0.1"],
        (-1, 30),
    );
    assert!(good.url().starts_with("https://localhost:"));
    let trusted = Server::new(good.url(), ServerTrust::Ca { pem: ca.pem() });
    assert_eq!(server_counts(&good.data), (0, 0, 0));
    let wang = Tablet::connect(&good, trusted.clone(), "u-wang").expect("a valid chain syncs");
    let li = Tablet::connect(&good, trusted.clone(), "u-li").unwrap();
    let id = rid("tls-valid-chain");
    wang.new_record(&id, &li.user);
    let report = wang.sync();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(server_counts(&good.data), (2, 2, 1));
    li.sync();
    assert_eq!(li.record(&id).id.as_str(), id);

    // The same server through a pin of the CA's key (sent in the server's chain).
    let pinned = Server::new(
        good.url(),
        ServerTrust::from_settings(None, Some(&ca.pin())).unwrap(),
    );
    let zhao = Tablet::connect(&good, pinned, "u-zhao").expect("a pinned CA works");
    zhao.sync();
    assert_eq!(server_counts(&good.data).1, 3);

    // An unknown CA: the tablet trusts another one.
    refused(
        &good,
        Server::new(
            good.url(),
            ServerTrust::Ca {
                pem: other_ca.pem(),
            },
        ),
        ConnectionRefusal::UnknownIssuer,
        Some((&wang, &li.user)),
    );
    // The public roots do not know the bureau's CA either.
    refused(
        &good,
        Server::from(good.url()),
        ConnectionRefusal::UnknownIssuer,
        None,
    );
    // A pin that matches no key in the chain.
    refused(
        &good,
        Server::new(
            good.url(),
            ServerTrust::Pins {
                pins: vec![other_ca.pin()],
            },
        ),
        ConnectionRefusal::PinMismatch,
        Some((&wang, &li.user)),
    );

    // A certificate for another host name.
    let wrong_host = tls_server(
        dir.path(),
        &ca,
        "wrong-host",
        &["sync.other.example"],
        (-1, 30),
    );
    refused(
        &wrong_host,
        Server::new(wrong_host.url(), ServerTrust::Ca { pem: ca.pem() }),
        ConnectionRefusal::WrongHost,
        Some((&wang, &li.user)),
    );
    // A certificate that has expired.
    let expired = tls_server(dir.path(), &ca, "expired", &["localhost"], (-30, -1));
    refused(
        &expired,
        Server::new(expired.url(), ServerTrust::Ca { pem: ca.pem() }),
        ConnectionRefusal::Expired,
        Some((&wang, &li.user)),
    );
    // The pin does not excuse an expired certificate.
    refused(
        &expired,
        Server::new(
            expired.url(),
            ServerTrust::Pins {
                pins: vec![ca.pin()],
            },
        ),
        ConnectionRefusal::Expired,
        None,
    );

    // The records synced over the valid chain are all the server holds.
    assert_eq!(server_counts(&good.data).2, 1);
    assert_eq!(server_counts(&wrong_host.data), (0, 0, 0));
    assert_eq!(server_counts(&expired.data), (0, 0, 0));
}

#[test]
fn plain_http_is_refused_except_to_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path());
    // Loopback over plain HTTP still works (development, the tests).
    let t = Tablet::new(&server, "u-wang");
    t.sync();
    // Another machine over plain HTTP: refused before any connection is made.
    let store = tablet::store::Store::open(&dir.path().join("t.db")).unwrap();
    for address in [
        "http://192.0.2.10:8080",
        "http://sync.bureau.example",
        "http://[2001:db8::1]:8080",
    ] {
        let mut client = tablet::sync::SyncClient::new(address);
        let err = client.sign_in("u-wang", "pw", &store).unwrap_err();
        match refusal(err) {
            ConnectionRefusal::PlainHttp { host } => assert!(address.contains(&host)),
            other => panic!("{other:?}"),
        }
        let numbers = tablet::numbers::NumberClient::new(address, "token");
        assert!(matches!(
            numbers.reserve(&[]),
            Err(tablet::numbers::NumbersError::Refused(
                ConnectionRefusal::PlainHttp { .. }
            ))
        ));
    }
    // The screens read it in Chinese.
    let api: tablet_api::ApiError = SyncError::Refused(ConnectionRefusal::PlainHttp {
        host: "192.0.2.10".into(),
    })
    .into();
    assert_eq!(api.code, tablet_api::ErrorCode::Untrusted);
    assert!(
        api.zh.contains("http://") && api.zh.contains("https://"),
        "{}",
        api.zh
    );
}

/// An HTTP client that trusts `ca` (the tablet's own).
fn http(url: &str, ca: &Ca) -> reqwest::blocking::Client {
    tablet::tls::client(
        &Server::new(url, ServerTrust::Ca { pem: ca.pem() }),
        Duration::from_secs(5),
        Some(Duration::from_secs(30)),
    )
    .unwrap()
}

#[test]
fn under_tls_cookies_are_secure_and_hsts_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Test CA");
    let server = tls_server(dir.path(), &ca, "s", &["localhost"], (-1, 30));
    let http = http(&server.url(), &ca);
    let page = http
        .get(format!("{}/console/login", server.url()))
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    let h = page.headers();
    assert_eq!(h["strict-transport-security"], "max-age=31536000");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    let cookies: Vec<&str> = h
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(!cookies.is_empty());
    for c in cookies {
        for attr in ["HttpOnly", "SameSite=Strict", "Secure"] {
            assert!(c.contains(attr), "{c} lacks {attr}");
        }
    }
    // API answers carry HSTS and a CSP too.
    let health = http.get(format!("{}/health", server.url())).send().unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.headers()["content-security-policy"],
        sync_server::net::DEFAULT_CSP
    );
    assert!(health.headers().contains_key("strict-transport-security"));
    // Plain HTTP to a TLS port gets no answer.
    let plain = reqwest::blocking::Client::new()
        .get(format!("http://{}/health", server.addr))
        .timeout(Duration::from_secs(5))
        .send();
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
}

/// The throttle keys of client addresses the server counted failures for.
fn throttled_addresses(data: &Path) -> Vec<String> {
    let db = rusqlite::Connection::open_with_flags(
        data.join("server.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut q = db
        .prepare("SELECT key FROM signin_throttle WHERE key LIKE 'address:%' ORDER BY key")
        .unwrap();
    q.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn failed_sign_in(url: &str, forwarded: &str) {
    let resp = reqwest::blocking::Client::new()
        .post(format!("{url}/api/v1/login"))
        .header("x-forwarded-for", forwarded)
        .json(&serde_json::json!({"user": "u-wang", "password": "wrong"}))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[test]
fn only_a_trusted_proxy_names_the_client_address() {
    let dir = tempfile::tempdir().unwrap();
    let data = |n: &str| -> PathBuf {
        let d = dir.path().join(n);
        std::fs::create_dir_all(&d).unwrap();
        d
    };
    // Behind a proxy on loopback: its X-Forwarded-For is the client.
    let behind = TestServer::start_with(
        &data("behind"),
        &[
            "--trusted-proxy".into(),
            "127.0.0.0/8".into(),
            "--trusted-proxy".into(),
            "::1".into(),
        ],
        None,
    );
    failed_sign_in(&behind.url(), "198.51.100.23");
    // A client's own claim left of the proxy's entry is not believed.
    failed_sign_in(&behind.url(), "6.6.6.6, 203.0.113.9");
    assert_eq!(
        throttled_addresses(&behind.data),
        ["address:198.51.100.23", "address:203.0.113.9"]
    );
    // No trusted proxy: the header is ignored, the peer is the client.
    let direct = TestServer::start(&data("direct"));
    failed_sign_in(&direct.url(), "198.51.100.23");
    assert_eq!(throttled_addresses(&direct.data), ["address:127.0.0.1"]);
}

/// The serving loop's limits hold under TLS: a connection that never finishes its handshake
/// is dropped after the header timeout, and at the connection cap stalled handshakes make
/// room for a real HTTPS request (which sees the client address the loop inserts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_limits_hold_under_tls() {
    use axum::routing::get;
    use tokio::io::AsyncReadExt;
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Limits CA");
    let args = ca.issue(dir.path(), "limits", &["localhost"], (-1, 30));
    let tls = sync_server::net::tls_config(Path::new(&args[1]), Path::new(&args[3])).unwrap();
    let router = axum::Router::new().route(
        "/peer",
        get(
            |axum::Extension(sync_server::net::ClientIp(ip)): axum::Extension<
                sync_server::net::ClientIp,
            >| async move { ip.to_string() },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(sync_server::net::serve_with(
        listener,
        router,
        async move {
            let _ = stopped.await;
        },
        sync_server::net::ServeConfig {
            max_connections: 4,
            header_read_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(2),
            tls: Some(tls),
            trusted_proxies: Vec::new(),
        },
    ));
    // Silent: closed after about the header timeout.
    let t = std::time::Instant::now();
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
    // Twenty stalled handshakes against a cap of four, then a real request.
    let mut stalled = Vec::new();
    for _ in 0..20 {
        stalled.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    let url = format!("https://localhost:{}/peer", addr.port());
    let trusted = Server::new(url.clone(), ServerTrust::Ca { pem: ca.pem() });
    let body = tokio::task::spawn_blocking(move || {
        let http = tablet::tls::client(
            &trusted,
            Duration::from_secs(5),
            Some(Duration::from_secs(10)),
        )
        .unwrap();
        let resp = http.get(&url).send().unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()["strict-transport-security"],
            sync_server::net::HSTS
        );
        resp.text().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(body, "127.0.0.1");
    drop(stalled);
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}
