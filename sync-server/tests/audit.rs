//! The console's audit log against the real server binary: sign-ins (and failed ones), an
//! approval, an export and admin commands are logged with who, when and from where; each
//! supervisor sees the entries of their unit and the units under it (the top unit's also the
//! command line's); the export carries the entries; an edited row is found by
//! `admin verify-audit` and by the page.

mod common;

use common::console::{ConsoleClient, photo_bytes, submitted_record};
use common::{PASSWORD, Tablet, TestServer, rid};
use std::ffi::OsStr;

fn rows(page: &str) -> Vec<(String, String)> {
    // (action, actor) of every entry shown.
    page.match_indices("class=\"audit-entry\"")
        .map(|(at, _)| {
            let tail = &page[at..];
            let attr = |name: &str| {
                let start = tail.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                tail[start..start + tail[start..].find('"').unwrap()].to_owned()
            };
            (attr("data-action"), attr("data-actor"))
        })
        .collect()
}

#[test]
fn the_audit_log_records_who_did_what_and_shows_each_supervisor_their_units() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_tls(&dir.path().join("server"));
    let wang = Tablet::new(&server, "u-wang");
    let li = Tablet::new(&server, "u-li");
    let blobs = tablet::blobs::BlobStore::open(dir.path().join("blobs")).unwrap();
    let sha = blobs.put(&photo_bytes("gps-DSCN0012.jpg")).unwrap().sha256;
    let id = rid("audited");
    submitted_record(&server, &wang, &li, &id, &blobs, &sha);

    // A failed sign-in in 青淮 (qh), sign-ins in 玄武 (xw) and at the top (nj).
    let mut sun = ConsoleClient::new(&server);
    assert_eq!(sun.sign_in("u-sun", "wrong password").status, 401);
    assert_eq!(sun.sign_in("u-sun", PASSWORD).status, 303);
    let mut zhao = ConsoleClient::new(&server);
    assert_eq!(zhao.sign_in("u-zhao", PASSWORD).status, 303);
    let p = zhao.post(
        &format!("/console/records/{id}/review"),
        &format!("csrf={}&decision=approve&comment=ok", zhao.csrf()),
    );
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(zhao.get("/console/hazards.csv").status, 200);
    let (ok, out) = server.admin(&[OsStr::new("rotate-key")]);
    assert!(ok, "{out}");
    let mut zhou = ConsoleClient::new(&server);
    assert_eq!(zhou.sign_in("u-zhou", PASSWORD).status, 303);

    // 玄武's supervisor: his sign-in, approval and export; nothing of 青淮, nothing of the
    // command line.
    let page = zhao.get("/console/audit");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("操作日志"), "{}", page.body);
    assert!(page.body.contains(r#"data-holds="true""#), "{}", page.body);
    let seen = rows(&page.body);
    for expected in [
        ("signin", "u-zhao"),
        ("approve", "u-zhao"),
        ("export_table", "u-zhao"),
    ] {
        assert!(
            seen.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} in {seen:?}"
        );
    }
    assert!(!seen.iter().any(|(_, who)| who == "u-sun"), "{seen:?}");
    assert!(
        !seen.iter().any(|(a, _)| a.starts_with("admin_")),
        "{seen:?}"
    );
    // From where and when (Asia/Shanghai, as the page shows it).
    assert!(page.body.contains("127.0.0.1"), "{}", page.body);
    assert!(page.body.contains(&id));
    // 青淮's supervisor: the failed sign-in and his own, nothing of 玄武.
    let seen = rows(&sun.get("/console/audit").body);
    assert!(
        seen.contains(&("signin_failed".into(), "u-sun".into())),
        "{seen:?}"
    );
    assert!(!seen.iter().any(|(_, who)| who == "u-zhao"), "{seen:?}");
    // The city's (the top unit's) supervisor: everything, the command line's too.
    let seen = rows(&zhou.get("/console/audit").body);
    for action in ["signin_failed", "approve", "admin_rotate_key", "signin"] {
        assert!(
            seen.iter().any(|(a, _)| a == action),
            "{action} in {seen:?}"
        );
    }
    // Inspectors have no console at all; an unknown page stays unknown.
    // The export: the entries shown, with their hashes; the export is logged too.
    let csv = zhao.get("/console/audit.csv");
    assert_eq!(csv.status, 200);
    let text = String::from_utf8(csv.bytes.clone()).unwrap();
    assert!(text.contains("审核通过 (approve)"), "{text}");
    assert!(text.contains("u-zhao"));
    assert!(!text.contains("u-sun"));
    let xlsx = zhao.get("/console/audit.xlsx");
    assert_eq!(xlsx.status, 200);
    assert!(xlsx.bytes.starts_with(b"PK"));
    assert!(
        rows(&zhao.get("/console/audit").body).contains(&("export_audit".into(), "u-zhao".into()))
    );

    // The chain holds; an edited row is found by the command line and the page.
    let (ok, out) = server.admin(&[OsStr::new("verify-audit")]);
    assert!(ok, "{out}");
    let conn = rusqlite::Connection::open(server.data.join("server.db")).unwrap();
    let edit = conn.execute(
        "UPDATE audit_log SET actor = 'u-li' WHERE action = 'approve'",
        [],
    );
    assert!(edit.unwrap_err().to_string().contains("append-only"));
    conn.execute_batch("DROP TRIGGER audit_log_no_update")
        .unwrap();
    conn.execute(
        "UPDATE audit_log SET actor = 'u-li' WHERE action = 'approve'",
        [],
    )
    .unwrap();
    let seq: i64 = conn
        .query_row(
            "SELECT seq FROM audit_log WHERE action = 'approve'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let (ok, out) = server.admin(&[OsStr::new("verify-audit")]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!("audit entry {seq} was changed")),
        "{out}"
    );
    let page = zhou.get("/console/audit");
    assert!(page.body.contains(r#"data-holds="false""#), "{}", page.body);
}
