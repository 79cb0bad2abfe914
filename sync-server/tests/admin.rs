//! `sync-server admin …` against a running server (the real binary, loopback): reference data
//! changed by the command is served within about a second; the enterprise import (5,000 rows,
//! XLSX and CSV, bad rows reported and nothing imported); a lost tablet revoked in the middle
//! of offline work uploads what it holds, then wipes itself, and nothing it recorded is lost.

mod common;

use app_core::evidence::{PhotoRef, Sha256Hex, blob_layout};
use app_core::inspection::{Answer, Command};
use common::{PASSWORD, Tablet, TestServer, rid};
use std::process::{Command as Process, Output, Stdio};
use std::time::{Duration, Instant};
use tablet::blobs::BlobStore;
use tablet::store::{ListFilter, Store};
use tablet::sync::{SyncClient, SyncError};

/// Runs `sync-server admin --data <server's data> ARGS`, with `stdin` as its input.
fn admin(server: &TestServer, args: &[&str], stdin: Option<&str>) -> Output {
    let data = server.data.to_str().unwrap();
    let mut with_data = vec!["--data", data];
    with_data.extend_from_slice(args);
    admin_env(&[], &with_data, stdin)
}

/// Runs `sync-server admin ARGS` with the environment `env` (the server's settings, as
/// the service's environment would give them), with `stdin` as its input.
fn admin_env(env: &[(String, String)], args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Process::new(env!("CARGO_BIN_EXE_sync-server"))
        .arg("admin")
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env_remove("SYNC_SERVER_CONFIG")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("admin runs");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "admin failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::new()
}

/// Signs in over HTTP: the status and the token (if any).
fn login(server: &TestServer, user: &str, password: &str) -> (u16, Option<String>) {
    let resp = http()
        .post(format!("{}/api/v1/login", server.url()))
        .json(&serde_json::json!({ "user": user, "password": password }))
        .send()
        .unwrap();
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.json().unwrap_or_default();
    (status, body["token"].as_str().map(str::to_owned))
}

/// `admin units create`'s arguments for a township 玄武门街道 under 玄武区 (xw).
const TOWNSHIP: [&str; 14] = [
    "units",
    "create",
    "--id",
    "xw-xwm",
    "--name",
    "玄武区玄武门街道",
    "--short-name",
    "玄武门",
    "--level",
    "township",
    "--code",
    "320102001",
    "--parent",
    "xw",
];

/// `admin units create`: the township [`TOWNSHIP`].
fn create_township(server: &TestServer) -> Output {
    admin(server, &TOWNSHIP, None)
}

/// `admin users create`'s arguments for inspector `id` (吴新) of the township, with the
/// password from standard input.
fn new_inspector<'a>(id: &'a str, certificate: &'a str) -> [&'a str; 13] {
    [
        "users",
        "create",
        "--id",
        id,
        "--name",
        "吴新",
        "--unit",
        "xw-xwm",
        "--role",
        "inspector",
        "--certificate",
        certificate,
        "--password-stdin",
    ]
}

/// Waits (at most 5 s) until `check` holds: the server reloads reference data about once a
/// second.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn health(server: &TestServer) -> serde_json::Value {
    http()
        .get(format!("{}/health", server.url()))
        .send()
        .unwrap()
        .json()
        .unwrap()
}

/// On a server whose database is PostgreSQL (issue 18), the commands work on that database
/// (its settings from the environment, as the service has them), never on an empty
/// server.db in the data folder; the SQLite-only ones (backup, restore, migrate) refuse and
/// name what to use instead.
#[test]
fn admin_commands_work_on_a_postgres_server() {
    let Some(db) = common::pg::PgDb::new() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    let env = vec![
        ("SYNC_SERVER_DATABASE".to_owned(), db.url()),
        (
            "SYNC_SERVER_DATA".to_owned(),
            data.to_str().unwrap().to_owned(),
        ),
    ];
    let server = TestServer::start_env(&data, &[], None, &env);
    assert_eq!(health(&server)["units"], 6);
    let users_before = health(&server)["users"].as_u64().unwrap();
    ok(&admin_env(&env, &TOWNSHIP, None));
    assert!(ok(&admin_env(&env, &["units", "list"], None)).contains("xw-xwm\t玄武区玄武门街道"));
    ok(&admin_env(
        &env,
        &new_inspector("u-pg", "32010220260002"),
        Some("pg-password-1\n"),
    ));
    eventually(
        "the server reads the new unit and user from PostgreSQL",
        || {
            health(&server)["units"] == 7
                && health(&server)["users"].as_u64() == Some(users_before + 1)
        },
    );
    assert_eq!(login(&server, "u-pg", "pg-password-1").0, 200);
    // A tablet that signed in is listed, and can be revoked.
    let wang = Tablet::new(&server, "u-wang");
    let listed = ok(&admin_env(&env, &["devices", "list"], None));
    assert!(listed.contains("u-wang"), "{listed}");
    let device = wang.store.lock().unwrap().device().to_string();
    ok(&admin_env(&env, &["devices", "revoke", &device], None));
    let listed = ok(&admin_env(&env, &["devices", "list"], None));
    assert!(listed.contains("revoked"), "{listed}");
    // The signing key: rotated in PostgreSQL, and the history names both keys.
    let before = ok(&admin_env(&env, &["key-history"], None));
    ok(&admin_env(&env, &["rotate-key"], None));
    let after = ok(&admin_env(&env, &["key-history"], None));
    assert!(after.len() > before.len(), "{before}\n{after}");
    // Every command above is in the server's audit log, whose chain holds.
    let audit = ok(&admin_env(&env, &["verify-audit"], None));
    assert!(
        audit.contains("the audit log's hash chain holds"),
        "{audit}"
    );
    // Nothing was written beside the server: no server.db in its data folder.
    assert!(!data.join("server.db").exists());
    // Backup, restore and migrate work on a SQLite data folder only.
    let backup = admin_env(
        &env,
        &["backup", dir.path().join("b").to_str().unwrap()],
        None,
    );
    assert!(!backup.status.success());
    let said = String::from_utf8_lossy(&backup.stderr);
    assert!(said.contains("pg_dump"), "{said}");
}

#[test]
fn admin_changes_to_units_and_users_reach_the_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path());
    assert_eq!(health(&server)["units"], 6, "seeded from the fixtures");
    let users_before = health(&server)["users"].as_u64().unwrap();
    // A township under 玄武区, then an inspector in it with a password from standard input.
    ok(&create_township(&server));
    // The unit tree's rules: a code outside the parent's is refused, nothing written.
    let bad = admin(
        &server,
        &[
            "units",
            "create",
            "--id",
            "bad",
            "--name",
            "x",
            "--short-name",
            "x",
            "--level",
            "township",
            "--code",
            "320104001",
            "--parent",
            "xw",
        ],
        None,
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not inside its parent"));
    let out = ok(&admin(
        &server,
        &new_inspector("u-new", "32010220260001"),
        Some("first-password-1\n"),
    ));
    assert!(
        !out.contains("first-password-1"),
        "a given password is never printed"
    );
    // A bad certificate number is refused by app-core's rule.
    let bad = admin(
        &server,
        &[
            "users",
            "create",
            "--id",
            "u-bad",
            "--name",
            "坏",
            "--unit",
            "xw",
            "--role",
            "inspector",
            "--certificate",
            "证号1",
        ],
        None,
    );
    assert!(!bad.status.success());
    // Waits on /health, not on sign-ins: failed sign-ins while the server has not reloaded
    // yet would count against the account's throttle and lock it on a slow machine.
    eventually("the server knows the new user", || {
        health(&server)["users"].as_u64() == Some(users_before + 1)
    });
    assert_eq!(login(&server, "u-new", "first-password-1").0, 200);
    assert_eq!(health(&server)["units"], 7);
    let (_, token) = login(&server, "u-new", "first-password-1");
    let token = token.unwrap();
    let reference = |token: &str| {
        http()
            .get(format!("{}/api/v1/reference", server.url()))
            .bearer_auth(token)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(reference(&token), 200);
    // A generated password is printed once, and works; the old one no longer does.
    let out = ok(&admin(&server, &["users", "reset-password", "u-new"], None));
    let generated = out
        .lines()
        .find_map(|l| l.strip_prefix("password (shown once): "))
        .expect("generated password printed")
        .to_owned();
    assert_eq!(login(&server, "u-new", &generated).0, 200);
    assert_eq!(login(&server, "u-new", "first-password-1").0, 401);
    let listed = ok(&admin(&server, &["users", "list"], None));
    assert!(listed.contains("u-new\t吴新\txw-xwm\tinspector 32010220260001\tenabled"));
    // The unit cannot be disabled while it has an enabled user.
    assert!(
        !admin(&server, &["units", "disable", "xw-xwm"], None)
            .status
            .success()
    );
    ok(&admin(&server, &["users", "disable", "u-new"], None));
    eventually("a disabled user's session stops working", || {
        reference(&token) == 401
    });
    assert_eq!(login(&server, "u-new", &generated).0, 401);
    ok(&admin(&server, &["units", "disable", "xw-xwm"], None));
    let units = ok(&admin(&server, &["units", "list"], None));
    assert!(
        units
            .lines()
            .any(|l| l.starts_with("xw-xwm\t") && l.ends_with("disabled"))
    );
    // The other users are untouched, and the data survives a restart (read from the database).
    drop(server);
    let server = TestServer::start(dir.path());
    assert_eq!(health(&server)["units"], 7);
    assert_eq!(login(&server, "u-wang", PASSWORD).0, 200);
    assert_eq!(login(&server, "u-new", &generated).0, 401);
}

/// A valid USCC for number `i` registered in 玄武区 (320102).
/// The tablet's periodic reference refresh sends the `ETag` it holds: while nothing changed
/// the server answers 304 with no body and the tablet keeps what it has; after an
/// administrator's change the next refresh brings it.
#[test]
fn the_reference_refresh_downloads_only_when_something_changed() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_tls(&dir.path().join("data"));
    let wang = Tablet::new(&server, "u-wang");
    let tag = || {
        wang.store
            .lock()
            .unwrap()
            .meta("reference_etag")
            .unwrap()
            .expect("the tablet keeps the reference data's tag")
    };
    let first = tag();
    let token = wang.client.session().unwrap().token.clone();
    let resp = server
        .http()
        .get(format!("{}/api/v1/reference", server.url()))
        .bearer_auth(&token)
        .header("if-none-match", &first)
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 304);
    assert!(resp.bytes().unwrap().is_empty());
    wang.client.fetch_reference(&wang.store).unwrap();
    assert_eq!(tag(), first);
    ok(&create_township(&server));
    eventually("the new unit reaches the tablet", || {
        wang.client.fetch_reference(&wang.store).unwrap();
        let units = wang
            .store
            .lock()
            .unwrap()
            .reference::<app_core::unit::Unit>()
            .unwrap();
        units.iter().any(|u| u.id.as_str() == "xw-xwm")
    });
    assert_ne!(tag(), first);
}

fn uscc(i: usize) -> String {
    let first17 = format!("91320102{i:09}");
    let check = app_core::uscc::check_character(first17.as_bytes().try_into().unwrap()).unwrap();
    format!("{first17}{check}")
}

/// The same with a wrong check character.
fn bad_uscc(i: usize) -> String {
    let good = uscc(i);
    let wrong = if good.ends_with('0') { '1' } else { '0' };
    format!("{}{wrong}", &good[..17])
}

const HEADER_ZH: [&str; 7] = [
    "企业名称",
    "统一社会信用代码",
    "地址",
    "行业",
    "所属单位",
    "联系人",
    "联系电话",
];

/// `n` enterprise rows starting at number `from`, in three ways of naming the unit.
fn rows(from: usize, n: usize) -> Vec<[String; 7]> {
    let units = ["xw", "南京市秦淮区应急管理局", "新街口"];
    let industries = ["机械", "商贸", "纺织", "危险化学品"];
    (from..from + n)
        .map(|i| {
            [
                format!("南京测试{i}号有限公司"),
                uscc(i),
                format!("南京市玄武区测试路{i}号"),
                industries[i % 4].to_owned(),
                units[i % 3].to_owned(),
                format!("联系人{i}"),
                format!("025-{:08}", i),
            ]
        })
        .collect()
}

fn write_xlsx(path: &std::path::Path, header: &[&str], rows: &[[String; 7]]) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                sheet.write_string(r as u32 + 1, c as u16, cell).unwrap();
            }
        }
    }
    book.save(path).unwrap();
}

fn csv_text(header: &[&str], rows: &[[String; 7]]) -> String {
    let mut out = header.join(",") + "\n";
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| {
                if c.contains(',') || c.contains('"') {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c.clone()
                }
            })
            .collect();
        out += &(cells.join(",") + "\n");
    }
    out
}

#[test]
fn enterprise_import_of_5000_rows_is_all_or_nothing_and_names_every_bad_row() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path());
    let files = tempfile::tempdir().unwrap();
    // 5,000 rows with five bad ones (rows as the sheet numbers them: header = row 1).
    let mut bad = rows(0, 5000);
    bad[9][1] = bad_uscc(9); // row 11: check character
    bad[99][4] = "浦口".into(); // row 101: unknown unit
    bad[1999][1] = bad[1000][1].clone(); // row 2001: duplicate of row 1002
    bad[2999][1] = "913201023AGYGLUY37".into(); // row 3001: in the database (fixtures' e-001)
    bad[4999][0] = String::new(); // row 5001: missing name
    let xlsx = files.path().join("台账-有误.xlsx");
    write_xlsx(&xlsx, &HEADER_ZH, &bad);
    let out = admin(
        &server,
        &["enterprises", "import", xlsx.to_str().unwrap()],
        None,
    );
    assert!(!out.status.success());
    let report = String::from_utf8_lossy(&out.stderr);
    for (row, reason) in [
        (11, "check character"),
        (101, "not a known unit"),
        (2001, "duplicates row 1002"),
        (3001, "already registered"),
        (5001, "企业名称 is missing"),
    ] {
        assert!(
            report
                .lines()
                .any(|l| l.starts_with(&format!("row {row}: ")) && l.contains(reason)),
            "row {row} ({reason}) not reported:\n{report}"
        );
    }
    assert!(
        report.contains("5 of 5000 rows are bad; nothing was imported"),
        "{report}"
    );
    assert_eq!(health(&server)["enterprises"], 8, "nothing imported");
    // The same rows, corrected: all 5,000 in one go.
    let good = rows(0, 5000);
    let xlsx = files.path().join("台账.xlsx");
    write_xlsx(&xlsx, &HEADER_ZH, &good);
    let started = Instant::now();
    let out = ok(&admin(
        &server,
        &["enterprises", "import", xlsx.to_str().unwrap()],
        None,
    ));
    println!(
        "XLSX 5,000 rows: {out}(whole command {} ms)",
        started.elapsed().as_millis()
    );
    assert!(out.contains("imported 5000 enterprises"), "{out}");
    eventually("the server serves 5,008 enterprises", || {
        health(&server)["enterprises"] == 5008
    });
    // Importing the same file again: every row is a duplicate against the database.
    let again = admin(
        &server,
        &["enterprises", "import", xlsx.to_str().unwrap()],
        None,
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("row 5001: 统一社会信用代码"));
    // CSV with English headers, as Excel on a Chinese Windows saves it (GB18030), with a
    // bad industry in one row; then corrected.
    let header_en = [
        "name", "USCC", "address", "industry", "unit", "contact", "phone",
    ];
    let mut csv_rows = rows(10_000, 5000);
    csv_rows[41][3] = "养殖".into(); // row 43
    let write_csv = |name: &str, rows: &[[String; 7]]| {
        let path = files.path().join(name);
        let text = csv_text(&header_en, rows);
        let (bytes, _, _) = encoding_rs::GB18030.encode(&text);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let csv = write_csv("register-bad.csv", &csv_rows);
    let out = admin(
        &server,
        &["enterprises", "import", csv.to_str().unwrap()],
        None,
    );
    assert!(!out.status.success());
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("row 43: 行业 \"养殖\"")),
        "{report}"
    );
    csv_rows[41][3] = "机械".into();
    let csv = write_csv("register.csv", &csv_rows);
    let started = Instant::now();
    let out = ok(&admin(
        &server,
        &["enterprises", "import", csv.to_str().unwrap()],
        None,
    ));
    println!(
        "CSV 5,000 rows: {out}(whole command {} ms)",
        started.elapsed().as_millis()
    );
    eventually("the server serves 10,008 enterprises", || {
        health(&server)["enterprises"] == 10_008
    });
    // An imported enterprise reaches a tablet of its unit.
    let wang = Tablet::new(&server, "u-wang");
    let e = wang.enterprise(&format!("e-{}", uscc(3)));
    assert_eq!(e.name, "南京测试3号有限公司");
    assert_eq!(e.legal_representative, "联系人3");
}

#[test]
fn a_lost_tablet_uploads_what_it_holds_then_wipes_itself() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_tls(&dir.path().join("data"));
    let wang = Tablet::new(&server, "u-wang");
    let li = Tablet::new(&server, "u-li");
    let photos = tempfile::tempdir().unwrap();
    let blobs = BlobStore::open(photos.path().join("wang")).unwrap();
    let device = wang.store.lock().unwrap().device().to_string();
    let template = wang.template();
    let items: Vec<String> = template
        .items()
        .map(|i| i.code.to_string())
        .take(3)
        .collect();
    let photo = |tag: &str| PhotoRef {
        sha256: Tablet::photo(&blobs, tag.as_bytes()),
        added_at: wang.at(5),
        added_by: wang.user.id.clone(),
    };
    // Online: a record synced.
    let first = rid("insp-lost-1");
    wang.new_record(&first, &li.user);
    assert_eq!(wang.upload_then_sync(&blobs).accepted, 1);
    // Offline work: an answer and a photo on the first record...
    wang.apply(
        &first,
        Command::Answer {
            item: items[0].as_str().into(),
            answer: Some(Answer::Complies),
        },
        3,
    );
    wang.apply(
        &first,
        Command::AddItemPhoto {
            item: items[0].as_str().into(),
            photo: photo("evidence-1"),
        },
        5,
    );
    // ...the tablet is reported lost and revoked in the middle of it...
    let out = ok(&admin(&server, &["devices", "revoke", &device], None));
    assert!(out.contains("revoked"), "{out}");
    let listed = ok(&admin(&server, &["devices", "list"], None));
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(&format!("u-wang\t{device}\t")) && l.contains("revoked")),
        "{listed}"
    );
    // ...and the work goes on offline: a second record with a photo.
    let second = rid("insp-lost-2");
    wang.new_record(&second, &li.user);
    wang.apply(
        &second,
        Command::AddItemPhoto {
            item: items[1].as_str().into(),
            photo: photo("evidence-2"),
        },
        6,
    );
    // Meanwhile a colleague changes the shared record: something the lost tablet could pull.
    li.sync();
    li.apply(
        &first,
        Command::Answer {
            item: items[2].as_str().into(),
            answer: Some(Answer::Complies),
        },
        7,
    );
    assert_eq!(li.sync().accepted, 1);
    // Back online: everything but uploading is refused with `device_revoked`.
    let refused = wang.client.fetch_reference(&wang.store).unwrap_err();
    assert!(
        matches!(&refused, SyncError::Server { status: 403, code, .. } if code == "device_revoked"),
        "{refused:?}"
    );
    let token = wang.client.session().unwrap().token.clone();
    for (method, path) in [
        ("POST", "/api/v1/numbers/reserve"),
        ("GET", "/api/v1/records/whatever"),
        (
            "GET",
            &format!("/api/v1/blobs/{}", Sha256Hex::of(b"evidence-1")),
        ),
        ("GET", "/api/v1/enterprises/e-001"),
    ] {
        let req = match method {
            "POST" => server
                .http()
                .post(format!("{}{path}", server.url()))
                .json(&serde_json::json!({})),
            _ => server.http().get(format!("{}{path}", server.url())),
        };
        let resp = req.bearer_auth(&token).send().unwrap();
        assert_eq!(resp.status().as_u16(), 403, "{method} {path}");
        let body: serde_json::Value = resp.json().unwrap();
        assert_eq!(body["error"]["code"], "device_revoked", "{method} {path}");
    }
    // The tablet syncs: photos uploaded, records pushed and judged as usual, nothing pulled;
    // it held nothing more, so it wiped itself.
    let report = wang.upload_then_sync(&blobs);
    assert_eq!(report.accepted, 2, "{report:?}");
    assert_eq!(report.pulled, 0, "a revoked tablet receives nothing");
    assert_eq!(
        report.revoked,
        Some(app_core::messages::DeviceRevoked::Wiped)
    );
    // Nothing it recorded is lost: a colleague's tablet receives both records with the
    // answer and both photos, and the server holds both originals.
    li.sync();
    let r1 = li.record(&first);
    assert_eq!(r1.results[items[0].as_str()].answer, Some(Answer::Complies));
    assert_eq!(r1.results[items[0].as_str()].photos.len(), 1);
    let r2 = li.record(&second);
    assert_eq!(r2.results[items[1].as_str()].photos.len(), 1);
    for tag in ["evidence-1", "evidence-2"] {
        let sha = Sha256Hex::of(tag.as_bytes());
        let held = std::fs::read(blob_layout::path(&server.data.join("blobs"), &sha)).unwrap();
        assert_eq!(held, tag.as_bytes());
    }
    // The tablet's local copy is gone: records, reference data, session key, photos.
    {
        let store = wang.store.lock().unwrap();
        assert!(store.list(&ListFilter::default()).unwrap().is_empty());
        assert!(
            store
                .reference::<app_core::enterprise::Enterprise>()
                .unwrap()
                .is_empty()
        );
        assert!(store.meta("device_signing_key").unwrap().is_none());
        assert!(store.wiped_revoked_at().unwrap().is_some());
        assert_eq!(store.device().as_str(), device, "the device keeps its id");
    }
    let left: Vec<_> = walk(blobs.root());
    assert!(left.is_empty(), "photos left on the tablet: {left:?}");
    // Signing in again from it is refused (a new session cannot be bound to the device).
    let store = Store::open(&wang.db_path()).unwrap();
    let err = SyncClient::new(server.address())
        .sign_in("u-wang", PASSWORD, &store)
        .unwrap_err();
    assert!(
        matches!(&err, SyncError::Server { code, .. } if code == "device_revoked"),
        "{err:?}"
    );
    let shown = tablet_api::ApiError::from(err);
    assert!(shown.zh.contains("本平板已被管理员停用"), "{}", shown.zh);
    // Another tablet of the same user works as before.
    let other = Tablet::new(&server, "u-wang");
    assert_eq!(other.sync().pulled, 2);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
