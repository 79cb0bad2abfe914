//! The server loads the shipped fixtures and serves them over real HTTP on loopback; a
//! user's bundle carries each unit's penalty rules as the server judges with them (issue 19).

mod common;

use std::path::Path;
use std::sync::Arc;
use sync_server::db::Db;
use sync_server::state::system_clock;
use sync_server::{AppState, LoadError, ReferenceData, router};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures"))
}

/// A minimal HTTP/1.1 GET over a real socket.
async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, serde_json::Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        // Reassemble chunks.
        let mut out = String::new();
        let mut rest = body;
        loop {
            let (size, tail) = rest.split_once("\r\n").unwrap();
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            out.push_str(&tail[..size]);
            rest = &tail[size + 2..];
        }
        out
    } else {
        body.to_owned()
    };
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn serves_the_validated_demo_data_on_loopback() {
    let data = ReferenceData::load(fixtures()).expect("shipped fixtures are valid");
    assert_eq!(data.enterprises.len(), 8);
    assert_eq!(data.plans.len(), 3);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let state = AppState {
            db: Db::open_in_memory().unwrap(),
            reference: Arc::new(data).into(),
            data: std::env::temp_dir(),
            blobs: sync_server::blobstore::Blobs::folder(std::env::temp_dir()),
            token_ttl_secs: 3600,
            clock: system_clock(),
            known_uploads: Default::default(),
            plausibility: Default::default(),
        };
        axum::serve(listener, router(state)).await.unwrap();
    });
    let (status, health) = get(addr, "/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["templates"], 4);
    let (status, templates) = get(addr, "/api/v1/reference/checklists").await;
    assert_eq!(status, 200);
    let items: usize = templates
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["categories"].as_array().unwrap())
        .map(|c| c["items"].as_array().unwrap().len())
        .sum();
    assert!(items >= 60, "{items} items");
    let (status, _) = get(addr, "/no/such/path").await;
    assert_eq!(status, 404);
    let (status, body) = get(addr, "/api/v1/reference").await;
    assert_eq!(status, 401, "reference data needs a token");
    assert_eq!(body["error"]["code"], "unauthorized");
    server.abort();
}

#[test]
fn an_enterprise_with_a_bad_uscc_stops_the_load_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("fixtures-bad-{}", std::process::id()));
    let copy = |rel: &str| {
        let to = dir.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(fixtures().join(rel), to).unwrap();
    };
    for rel in [
        "demo/units.json",
        "demo/users.json",
        "checklists/gongmao.toml",
    ] {
        copy(rel);
    }
    let enterprises = std::fs::read_to_string(fixtures().join("demo/enterprises.json")).unwrap();
    let mut list: serde_json::Value = serde_json::from_str(&enterprises).unwrap();
    let uscc = list[0]["uscc"].as_str().unwrap().to_owned();
    let last = if uscc.ends_with('0') { "1" } else { "0" };
    list[0]["uscc"] = format!("{}{last}", &uscc[..17]).into();
    std::fs::write(dir.join("demo/enterprises.json"), list.to_string()).unwrap();
    let err = ReferenceData::load(&dir).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(err, LoadError::Invalid { .. }));
    let message = err.to_string();
    assert!(
        message.contains("enterprises.json") && message.contains("check character"),
        "{message}"
    );
}

/// The bundle `tablet`'s user receives, and its `ETag`.
fn bundle(
    server: &common::TestServer,
    tablet: &common::Tablet,
) -> (sync_server::reference::ReferenceBundle, String) {
    let token = tablet.client.session().unwrap().token.clone();
    let resp = server
        .http()
        .get(format!("{}/api/v1/reference", server.url()))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    (resp.json().unwrap(), etag)
}

#[test]
fn the_bundle_carries_each_units_penalty_rules_inherited_and_edited() {
    use app_core::ids::UnitId;
    use app_core::penalty::{DiscretionTable, PenaltySettings, Period, WorkCalendar};
    use sync_server::service::case_rules::set_settings;

    let dir = tempfile::tempdir().unwrap();
    let server = common::TestServer::start(dir.path());
    let wang = common::Tablet::new(&server, "u-wang");
    let (first, etag) = bundle(&server, &wang);
    let rules = |b: &sync_server::reference::ReferenceBundle, unit: &str| {
        b.penalty_rules
            .iter()
            .find(|r| r.unit.as_str() == unit)
            .cloned()
            .unwrap_or_else(|| panic!("no rules for {unit}"))
    };
    // Every unit of the bundle has its rules.
    assert_eq!(first.penalty_rules.len(), first.units.len());
    // The county inherits the city's demo table (seeded at start); default settings.
    let text = std::fs::read_to_string(fixtures().join("demo/discretion/nj.toml")).unwrap();
    let table = DiscretionTable::parse_toml(&text).unwrap();
    for unit in ["nj", "xw", "xw-xjk"] {
        let r = rules(&first, unit);
        assert_eq!(r.discretion.as_ref(), Some(&table), "{unit}");
        assert_eq!(r.settings, PenaltySettings::default(), "{unit}");
        assert_eq!(r.calendar, WorkCalendar::default(), "{unit}");
    }

    // The county sets its own settings (as the console does, through the store): the next
    // bundle has them for the county and the township under it, not for the city.
    let conn = rusqlite::Connection::open(server.data.join("server.db")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    let own = PenaltySettings {
        decision_period: Period::calendar(60),
        hearing_fine_threshold: 30_000,
        ..PenaltySettings::default()
    };
    set_settings(
        &conn,
        &UnitId::from("xw"),
        own.clone(),
        "u-zhao",
        common::now_ms(),
    )
    .unwrap();
    let (next, next_etag) = bundle(&server, &wang);
    assert_ne!(next_etag, etag, "the edit changes the bundle's tag");
    assert_eq!(rules(&next, "xw").settings, own);
    assert_eq!(rules(&next, "xw-xjk").settings, own, "inherited");
    assert_eq!(rules(&next, "nj").settings, PenaltySettings::default());
    assert_eq!(rules(&next, "xw").discretion, Some(table));

    // The tablet stores what it fetched: the county's rules, read for a case of the county.
    wang.client.fetch_reference(&wang.store).unwrap();
    let stored = wang
        .store
        .lock()
        .unwrap()
        .case_rules(&UnitId::from("xw"))
        .unwrap();
    assert_eq!(stored.settings, own);
    assert!(stored.discretion.is_some());
}
