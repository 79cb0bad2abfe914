//! Document-number blocks (文号) from the real server binary on loopback: blocks for different
//! devices never overlap — across a restart, and between two server instances on one
//! database hit at the same time; another unit's series is refused with 403 and nothing is
//! stored; bad input gets a clear 4xx. Then the tablet's side against the same server: the
//! pool filled at sign-in, topped up after a sync when a series runs low, numbers issued at
//! signing.

mod common;

use app_core::docnumber::{Block, DocumentKind, Series};
use app_core::geo::Timestamp;
use app_core::ids::{InspectionId, UnitId};
use app_core::inspection::{
    Answer, Command, InspectionStatus, OnsitePerson, SignOutcome, Signature, Signer,
};
use common::{Tablet, TestServer};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};
use tablet::app::{App, AppConfig};
use tablet::numbers::{LOW_WATER, NumberClient, NumbersError};

const BLOCK: u32 = 20;

fn now() -> Timestamp {
    tablet::app::now()
}

fn this_year() -> i32 {
    now().shanghai_date().year()
}

fn series(unit: &str, kind: DocumentKind, year: i32) -> Series {
    Series {
        unit: UnitId::new(unit),
        kind,
        year,
    }
}

fn client(server_url: &str, t: &Tablet) -> NumberClient {
    NumberClient::new(server_url, t.client.session().unwrap().token.clone())
}

/// A raw JSON request to the endpoint: (status, body).
fn post(url: &str, token: Option<&str>, content_type: &str, body: &str) -> (u16, Value) {
    let mut req = reqwest::blocking::Client::new()
        .post(format!("{url}/api/v1/numbers/reserve"))
        .header("content-type", content_type)
        .body(body.to_owned());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Every pair of blocks of one series is disjoint; each block is [`BLOCK`] numbers.
fn assert_disjoint(blocks: &[Block]) {
    let mut by_series: BTreeMap<&Series, Vec<&Block>> = BTreeMap::new();
    for b in blocks {
        assert_eq!(b.last - b.first + 1, BLOCK, "{b:?}");
        by_series.entry(&b.series).or_default().push(b);
    }
    for list in by_series.values_mut() {
        list.sort_by_key(|b| b.first);
        for pair in list.windows(2) {
            assert!(
                pair[0].last < pair[1].first,
                "overlapping blocks: {:?} and {:?}",
                pair[0],
                pair[1]
            );
        }
    }
}

#[test]
fn blocks_for_two_devices_never_overlap_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start(dir.path());
    let wang = Tablet::new(&server, "u-wang");
    let li = Tablet::new(&server, "u-li");
    let year = this_year();
    let all = [
        series("xw", DocumentKind::InspectionRecord, year),
        series("xw", DocumentKind::RectificationOrder, year),
        series("xw", DocumentKind::ReinspectionOpinion, year),
    ];
    let mut blocks: Vec<Block> = Vec::new();
    let take = |t: &Tablet, url: &str, asked: &[Series]| -> Vec<Block> {
        let got = client(url, t).reserve(asked).unwrap();
        assert_eq!(
            got.iter().map(|b| &b.series).collect::<Vec<_>>(),
            asked.iter().collect::<Vec<_>>(),
            "one block per series, in the order asked"
        );
        let device = t.store.lock().unwrap().device().clone();
        assert!(got.iter().all(|b| b.device == device), "{got:?}");
        got
    };
    blocks.extend(take(&wang, &server.url(), &all));
    blocks.extend(take(&li, &server.url(), &all[..1]));
    blocks.extend(take(&wang, &server.url(), &all[..1]));
    // The first blocks of a series start at 1 and follow each other.
    let record: Vec<(u32, u32)> = blocks
        .iter()
        .filter(|b| b.series == all[0])
        .map(|b| (b.first, b.last))
        .collect();
    assert_eq!(record, vec![(1, 20), (21, 40), (41, 60)]);

    // Killed and restarted: it continues after the highest number ever reserved.
    server.restart();
    blocks.extend(take(&li, &server.url(), &all));
    blocks.extend(take(&wang, &server.url(), &all[2..]));
    assert_disjoint(&blocks);
    let record_after: Vec<u32> = blocks
        .iter()
        .filter(|b| b.series == all[0])
        .map(|b| b.first)
        .collect();
    assert_eq!(record_after, vec![1, 21, 41, 61]);
    // A named year (the next one) is a series of its own, from 1.
    let next = client(&server.url(), &wang)
        .reserve(&[series("xw", DocumentKind::InspectionRecord, year + 1)])
        .unwrap();
    assert_eq!((next[0].first, next[0].last), (1, 20));

    // The tablet's top-up stores what it received in its pool, and asks for nothing while
    // the pool is full.
    let user = wang.user.clone();
    let topped =
        tablet::numbers::top_up(&wang.store, &client(&server.url(), &wang), &user, now()).unwrap();
    let needed = tablet::numbers::series_needed(&user.unit, now());
    assert_eq!(topped.asked, needed);
    assert_disjoint(&[blocks.clone(), topped.received.clone()].concat());
    for s in &needed {
        assert_eq!(
            wang.store.lock().unwrap().numbers_remaining(s).unwrap(),
            BLOCK
        );
    }
    let again =
        tablet::numbers::top_up(&wang.store, &client(&server.url(), &wang), &user, now()).unwrap();
    assert!(again.asked.is_empty() && again.received.is_empty());
}

/// Another server process on the same data folder (its own port file).
struct Instance(Child, String);

impl Instance {
    fn start(data: &Path) -> Self {
        let port_file = data.join("port-2");
        let child = Process::new(env!("CARGO_BIN_EXE_sync-server"))
            .arg("--data")
            .arg(data)
            .arg("--fixtures")
            .arg(common::fixtures())
            .args([
                "--listen",
                "127.0.0.1:0",
                "--demo-password",
                common::PASSWORD,
                "--port-file",
            ])
            .arg(&port_file)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Dropped (killed and waited for) on every path, also if it never comes up.
        let mut instance = Self(child, String::new());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(addr) = std::fs::read_to_string(&port_file) {
                instance.1 = format!("http://{addr}");
                return instance;
            }
            assert!(Instant::now() < deadline, "second instance did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn two_instances_on_one_database_never_hand_out_overlapping_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path());
    let second = Instance::start(dir.path());
    let tablets: Vec<Tablet> = ["u-wang", "u-li", "u-zhang"]
        .iter()
        .map(|u| Tablet::new(&server, u))
        .collect();
    let year = this_year();
    let asked = [
        series("xw", DocumentKind::InspectionRecord, year),
        series("xw", DocumentKind::RectificationOrder, year),
    ];
    let urls = [server.url(), second.1.clone()];
    const ROUNDS: usize = 8;
    // Every tablet asks both instances at once, over and over.
    let blocks: Vec<Block> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for t in &tablets {
            for url in &urls {
                let c = client(url, t);
                let asked = &asked;
                handles.push(scope.spawn(move || {
                    (0..ROUNDS)
                        .flat_map(|_| c.reserve(asked).unwrap())
                        .collect::<Vec<_>>()
                }));
            }
        }
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let requests = tablets.len() * urls.len() * ROUNDS;
    assert_eq!(blocks.len(), requests * asked.len());
    assert_disjoint(&blocks);
    // No gaps either: every request succeeded, so the blocks tile 1..=20·requests.
    for s in &asked {
        let highest = blocks
            .iter()
            .filter(|b| &b.series == s)
            .map(|b| b.last)
            .max()
            .unwrap();
        assert_eq!(highest, BLOCK * requests as u32);
    }
}

#[test]
fn another_units_series_or_a_non_inspector_is_refused_with_403_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path());
    let wang = Tablet::new(&server, "u-wang");
    let url = server.url();
    let year = this_year();
    let forbidden = |r: Result<Vec<Block>, NumbersError>| match r {
        Err(NumbersError::Server {
            status: 403,
            code,
            message,
        }) => {
            assert_eq!(code, "forbidden");
            message
        }
        other => panic!("expected 403, got {other:?}"),
    };
    // 秦淮's numbers from a 玄武 inspector: refused, also beside a series of their own.
    let message = forbidden(client(&url, &wang).reserve(&[series(
        "qh",
        DocumentKind::InspectionRecord,
        year,
    )]));
    assert!(message.contains("not your unit"), "{message}");
    forbidden(client(&url, &wang).reserve(&[
        series("xw", DocumentKind::InspectionRecord, year),
        series("qh", DocumentKind::InspectionRecord, year),
    ]));
    // The parent city's series is not the inspector's either.
    forbidden(client(&url, &wang).reserve(&[series("nj", DocumentKind::InspectionRecord, year)]));
    // A supervisor issues no inspection document, only the case documents he signs.
    let zhao = Tablet::new(&server, "u-zhao");
    let message = forbidden(client(&url, &zhao).reserve(&[series(
        "xw",
        DocumentKind::InspectionRecord,
        year,
    )]));
    assert!(message.contains("a supervisor issues only"), "{message}");
    forbidden(client(&url, &zhao).reserve(&[
        series("xw", DocumentKind::PenaltyDecision, year),
        series("xw", DocumentKind::Interview, year),
    ]));
    // A token not bound to a registered device.
    let login: Value = reqwest::blocking::Client::new()
        .post(format!("{url}/api/v1/login"))
        .json(&json!({ "user": "u-wang", "password": common::PASSWORD }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let bare = login["token"].as_str().unwrap();
    let body = json!({ "series": [{ "unit": "xw", "kind": "inspection_record" }] }).to_string();
    let (status, answer) = post(&url, Some(bare), "application/json", &body);
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("register this device"),
        "{answer}"
    );
    // No token at all.
    assert_eq!(post(&url, None, "application/json", &body).0, 401);

    // Nothing was stored by any of these: the first blocks still start at 1.
    let qh = Tablet::new(&server, "u-chen");
    for (t, unit) in [(&wang, "xw"), (&qh, "qh")] {
        let got = client(&url, t)
            .reserve(&[series(unit, DocumentKind::InspectionRecord, year)])
            .unwrap();
        assert_eq!((got[0].first, got[0].last), (1, 20), "{unit}");
    }
}

/// The penalty case documents' series (issue 19): an inspector reserves every kind of the
/// current and the next year in one request, each its own series starting at 1; a supervisor
/// the four he signs, continuing the same series; blocks of one series never overlap.
#[test]
fn the_case_documents_series_are_reserved_like_the_inspection_documents() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path());
    let wang = Tablet::new(&server, "u-wang");
    let zhao = Tablet::new(&server, "u-zhao");
    let url = server.url();
    let year = this_year();
    let every: Vec<Series> = [year, year + 1]
        .into_iter()
        .flat_map(|y| DocumentKind::ALL.map(|k| series("xw", k, y)))
        .collect();
    let blocks = client(&url, &wang).reserve(&every).unwrap();
    assert_eq!(blocks.len(), every.len());
    for (b, s) in blocks.iter().zip(&every) {
        assert_eq!((&b.series, b.first, b.last), (s, 1, BLOCK), "{s:?}");
    }
    let signed = app_core::docnumber::SUPERVISOR_KINDS.map(|k| series("xw", k, year));
    let his = client(&url, &zhao).reserve(&signed).unwrap();
    for (b, s) in his.iter().zip(&signed) {
        assert_eq!((&b.series, b.first, b.last), (s, BLOCK + 1, 2 * BLOCK));
        assert_eq!(b.device, zhao.device());
    }
    let mut all = blocks;
    all.extend(his);
    assert_disjoint(&all);
}

#[test]
fn bad_input_gets_a_clear_4xx_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path());
    let wang = Tablet::new(&server, "u-wang");
    let url = server.url();
    let token = wang.client.session().unwrap().token.clone();
    let year = this_year();
    let check = |body: &str, status: u16, code: &str, says: &str| {
        let (got, answer) = post(&url, Some(&token), "application/json", body);
        assert_eq!(got, status, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], json!(code), "{body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{body}: {message}");
    };
    check("not json", 400, "bad_body", "");
    check(r#"{"series": []}"#, 400, "bad_series", "at least one");
    check(
        r#"{"series": [{"unit": "xw", "kind": "inspection_record"}], "extra": 1}"#,
        422,
        "bad_body",
        "extra",
    );
    // A kind there is no such document of (`penalty_decision` is one since issue 19).
    check(
        r#"{"series": [{"unit": "xw", "kind": "search_warrant"}]}"#,
        422,
        "bad_body",
        "search_warrant",
    );
    check(
        r#"{"series": [{"kind": "inspection_record"}]}"#,
        422,
        "bad_body",
        "unit",
    );
    check(
        &json!({ "series": [{ "unit": "xw", "kind": "inspection_record", "year": year - 5 }] })
            .to_string(),
        400,
        "bad_year",
        &format!("year {}", year - 5),
    );
    check(
        &json!({ "series": [{ "unit": "xw", "kind": "inspection_record", "year": year + 2 }] })
            .to_string(),
        400,
        "bad_year",
        "out of range",
    );
    check(
        &json!({ "series": [
            { "unit": "xw", "kind": "inspection_record" },
            { "unit": "xw", "kind": "inspection_record", "year": year },
        ] })
        .to_string(),
        400,
        "bad_series",
        "asked twice",
    );
    let many: Vec<Value> = DocumentKind::ALL
        .iter()
        .flat_map(|k| (0..3).map(move |i| json!({ "unit": "xw", "kind": k, "year": year - 1 + i })))
        .collect();
    check(
        &json!({ "series": many }).to_string(),
        400,
        "bad_series",
        &format!("at most {}", 2 * DocumentKind::ALL.len()),
    );
    // The wrong content type.
    let (status, _) = post(
        &url,
        Some(&token),
        "text/plain",
        r#"{"series": [{"unit": "xw", "kind": "inspection_record"}]}"#,
    );
    assert_eq!(status, 415);
    // Nothing stored: the first block of the series still starts at 1, for the year asked
    // (the current one when none is named).
    let (status, answer) = post(
        &url,
        Some(&token),
        "application/json",
        r#"{"series": [{"unit": "xw", "kind": "inspection_record"}]}"#,
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["block_size"], json!(BLOCK));
    let block: Block = serde_json::from_value(answer["blocks"][0].clone()).unwrap();
    assert_eq!(
        block.series,
        series("xw", DocumentKind::InspectionRecord, year)
    );
    assert_eq!((block.first, block.last), (1, 20));
}

/// The app (the tablet library's service) against the real server: numbers at sign-in,
/// issued at signing, topped up by the background after a sync once a series runs low.
#[test]
fn the_app_takes_numbers_at_sign_in_issues_them_at_signing_and_tops_up_after_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    // Another tablet takes the first block: this one's numbers start after it.
    let li = Tablet::new(&server, "u-li");
    let year = this_year();
    client(&server.url(), &li)
        .reserve(&[series("xw", DocumentKind::InspectionRecord, year)])
        .unwrap();
    let data = dir.path().join("tablet");
    let config = AppConfig::in_folder(
        &data,
        server.url(),
        Duration::from_millis(150),
        Duration::from_millis(600),
    );
    let app = App::open(config).unwrap();
    app.sign_in("u-wang", common::PASSWORD).unwrap();
    let stock = app.numbers().unwrap().stock;
    assert_eq!(
        stock.len(),
        tablet::numbers::series_needed(&UnitId::new("xw"), now()).len()
    );
    assert!(stock.iter().all(|s| s.remaining == BLOCK), "{stock:?}");

    let record_series = series("xw", DocumentKind::InspectionRecord, year);
    let remaining = |app: &App| {
        app.numbers()
            .unwrap()
            .stock
            .into_iter()
            .find(|s| s.kind == DocumentKind::InspectionRecord && s.year == year)
            .unwrap()
            .remaining
    };
    // Sign records while the series holds at least the low-water mark; once it is below,
    // the background sync runs and the keeper reserves another block after it.
    let mut issued = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let topped = loop {
        let numbers = app.numbers().unwrap();
        if let Some(b) = numbers.last_top_up.as_ref().and_then(|l| {
            l.received
                .iter()
                .find(|b| b.series == record_series && b.first > BLOCK + 1)
        }) {
            break b.clone();
        }
        assert!(Instant::now() < deadline, "never topped up: {numbers:?}");
        if remaining(&app) >= LOW_WATER {
            let id = signed_record(&app);
            let record = app.record(&id).unwrap();
            let numbers: Vec<String> = record.record.documents.keys().cloned().collect();
            assert_eq!(numbers.len(), 1, "{numbers:?}");
            issued.push(numbers[0].clone());
        } else {
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // This tablet's block was 21..=40 (u-li's tablet holds 1..=20): signed in order.
    let expected: Vec<String> = (21..21 + BLOCK - LOW_WATER + 1)
        .map(|n| format!("（玄武）应急检记〔{year}〕{n}号"))
        .collect();
    assert_eq!(issued, expected);
    assert_eq!((topped.first, topped.last), (41, 60));
    assert_eq!(remaining(&app), LOW_WATER - 1 + BLOCK);
    // And a manual sync reports the stock.
    let result = app.sync_now().unwrap();
    assert_eq!(result.numbers.error, None, "{result:?}");
    assert!(result.numbers.stock.len() >= 3);
    // The records with their numbers reached the server: u-li's tablet (named on every one
    // as the co-inspector) receives them all by sync.
    let desk = li;
    desk.sync();
    let rows = desk
        .store
        .lock()
        .unwrap()
        .list(&tablet::store::ListFilter {
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    let mut at_server: Vec<String> = rows
        .into_iter()
        .flat_map(|row| desk.record(row.id.as_str()).documents.into_keys())
        .collect();
    at_server.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(at_server, expected_sorted);
}

/// A routine record of e-001 with u-li, every applicable item answered, the on-site person
/// and all signatures, completed and signed through the app.
fn signed_record(app: &App) -> InspectionId {
    let id = app
        .call(tablet_api::StartInspection {
            kind: app_core::kind::InspectionKind::Routine,
            enterprise: "e-001".into(),
            plan: None,
            co_inspector: Some("u-li".into()),
        })
        .unwrap();
    let view = app.record(&id).unwrap();
    for item in view.template.items() {
        app.command(
            &id,
            &Command::Answer {
                item: item.code.clone(),
                answer: Some(Answer::Complies),
            },
        )
        .unwrap();
    }
    app.command(
        &id,
        &Command::SetOnsitePerson(OnsitePerson {
            name: "陈经理".into(),
            position: "安全主管".into(),
            phone: "13800000000".into(),
        }),
    )
    .unwrap();
    for (signer, name) in [
        (Signer::Inspector("u-wang".into()), "王强"),
        (Signer::Inspector("u-li".into()), "李娜"),
        (Signer::Enterprise, "陈经理"),
    ] {
        app.command(
            &id,
            &Command::Sign(Signature {
                outcome: SignOutcome::Signed {
                    // Drawn on the pad and kept by the app, which uploads it before the
                    // record naming it is pushed.
                    image: app.ingest_signature(&signature_png(name)).unwrap(),
                },
                signer,
                name: name.into(),
                at: now(),
                read: Vec::new(),
            }),
        )
        .unwrap();
    }
    app.complete(&id).unwrap();
    assert_eq!(
        app.record(&id).unwrap().record.status,
        InspectionStatus::Completed
    );
    id
}

/// A signature pad's PNG for `name`: one wavy stroke across a transparent pad, shaped by the
/// name (so each signer's image, and digest, is their own).
fn signature_png(name: &str) -> Vec<u8> {
    let seed: u32 = name.chars().map(u32::from).sum();
    let mut pad = image::RgbaImage::new(240, 80);
    for x in 10..230u32 {
        let phase = f64::from(x) / 12.0 + f64::from(seed % 97);
        let y = (40.0 + 25.0 * phase.sin()) as u32;
        for dy in 0..3 {
            pad.put_pixel(x, y + dy, image::Rgba([20, 20, 60, 255]));
        }
    }
    let mut png = std::io::Cursor::new(Vec::new());
    pad.write_to(&mut png, image::ImageFormat::Png).unwrap();
    png.into_inner()
}
