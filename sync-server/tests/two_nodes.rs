//! Two server nodes (the real binary, two processes on two loopback ports, each with its own
//! data folder) on ONE PostgreSQL database (`common::pg`) and ONE S3-compatible object store
//! (moto, `common::s3`): what a city runs behind its load balancer (issue 18, "tests across
//! nodes").
//!
//! - tablets sync half to one node, half to the other, edit the same records offline, and
//!   all converge (photos uploaded through one node are read through the other);
//! - either node is killed with SIGKILL (and started again) at least ten times while tablets
//!   on both sync and reserve document numbers: every change a tablet got acknowledged is on
//!   the server afterwards, once, and no two blocks of numbers overlap;
//! - a supervisor's console session made on one node works on the other (pages, CSRF-checked
//!   forms, signing out), and the sign-in throttle counts failures made through both;
//! - a resumable upload started through one node finishes through the other.
//!
//! Skipped with a message when PostgreSQL or moto is missing and not required
//! (`cargo xtask test` requires both).

mod common;

use app_core::docnumber::{Block, DocumentKind, Series};
use app_core::evidence::{PhotoRef, Sha256Hex};
use app_core::geo::Timestamp;
use app_core::ids::{InspectionId, UnitId};
use app_core::inspection::{Answer, Command};
use common::console::ConsoleClient;
use common::pg::PgDb;
use common::s3::Moto;
use common::{PASSWORD, Tablet, TestServer, now_ms, rid};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tablet::blobs::BlobStore;
use tablet::numbers::NumberClient;
use tablet::sync::SyncClient;

const BUCKET: &str = "evidence";
const PREFIX: &str = "city";

/// Two nodes on one database and one bucket.
struct Nodes {
    a: Arc<Mutex<TestServer>>,
    b: Arc<Mutex<TestServer>>,
    /// Their addresses (kept across restarts).
    urls: [String; 2],
    db: PgDb,
    moto: Moto,
    _dir: tempfile::TempDir,
}

/// Starts two nodes with `env` at the same instant (so that their first start on a fresh
/// database races: migrations, seeding the reference data and the accounts, the server key),
/// each with its data folder and log in `dir`. A node that does not start panics with its log.
fn start_pair(env: &[(String, String)], dir: &std::path::Path) -> (TestServer, TestServer) {
    let start = |name: &str| {
        let (data, log) = (dir.join(name), dir.join(format!("{name}.log")));
        let env = env.to_vec();
        std::thread::spawn(move || TestServer::start_env(&data, &[], Some(&log), &env))
    };
    let (a, b) = (start("a"), start("b"));
    let (a, b) = (a.join(), b.join());
    (a.unwrap(), b.unwrap())
}

impl Nodes {
    /// Both nodes on a fresh database and bucket (see [`start_pair`]), or `None` (with a
    /// message) when PostgreSQL or moto is missing and not required.
    fn start() -> Option<Self> {
        let db = PgDb::new()?;
        let moto = Moto::start()?;
        moto.bucket(BUCKET);
        let mut env = moto.server_env(BUCKET, PREFIX);
        env.push(("SYNC_SERVER_DATABASE".into(), db.url()));
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = start_pair(&env, dir.path());
        let urls = [a.url(), b.url()];
        assert_ne!(urls[0], urls[1]);
        Some(Self {
            a: Arc::new(Mutex::new(a)),
            b: Arc::new(Mutex::new(b)),
            urls,
            db,
            moto,
            _dir: dir,
        })
    }

    fn node(&self, n: usize) -> &Arc<Mutex<TestServer>> {
        if n == 0 { &self.a } else { &self.b }
    }

    /// A tablet of `user` that signs in and syncs through node `n`.
    fn tablet(&self, n: usize, user: &str) -> Tablet {
        Tablet::new(&self.node(n).lock().unwrap(), user)
    }

    fn sql(&self) -> postgres::Client {
        postgres::Client::connect(&self.db.url(), postgres::NoTls).unwrap()
    }
}

fn token(t: &Tablet) -> String {
    t.client.session().unwrap().token.clone()
}

fn items(t: &Tablet, n: usize) -> Vec<String> {
    t.template()
        .items()
        .take(n)
        .map(|i| i.code.to_string())
        .collect()
}

fn answer(item: &str, a: Answer) -> Command {
    Command::Answer {
        item: item.into(),
        answer: Some(a),
    }
}

fn note(item: &str, text: &str) -> Command {
    Command::SetNote {
        item: item.into(),
        text: text.into(),
    }
}

/// Tablets sync half through node A, half through node B; two records are edited offline on
/// tablets of both nodes (different items, the same item, notes, photos), then everyone
/// syncs: every tablet and a supervisor's fresh tablet on each node (fetching the records)
/// hold the same content, and a photo uploaded through one node is downloaded through the
/// other.
#[test]
fn tablets_on_two_nodes_edit_the_same_records_offline_and_converge() {
    let Some(nodes) = Nodes::start() else { return };
    let started = Instant::now();
    // Half on each node; u-wang has a tablet on each.
    let tablets = [
        nodes.tablet(0, "u-wang"),
        nodes.tablet(1, "u-li"),
        nodes.tablet(0, "u-zhang"),
        nodes.tablet(1, "u-wang"),
    ];
    let photos = tempfile::tempdir().unwrap();
    let blobs: Vec<BlobStore> = (0..tablets.len())
        .map(|i| BlobStore::open(photos.path().join(i.to_string())).unwrap())
        .collect();
    // One record made through each node.
    let records = [rid("two-nodes-converge-0"), rid("two-nodes-converge-1")];
    tablets[0].new_record(&records[0], &tablets[1].user);
    tablets[1].new_record(&records[1], &tablets[2].user);
    for t in &tablets[..2] {
        let report = t.sync();
        assert_eq!(
            (report.accepted, report.rejected.len()),
            (1, 0),
            "{report:?}"
        );
    }
    for t in &tablets {
        t.sync();
        for id in &records {
            // A record the tablet's inspector is not on is fetched (sync as deployed).
            t.observe(id);
        }
    }
    let items = items(&tablets[0], 8);
    // Offline on all four: each answers an item of its own, all answer item 6 differently,
    // each writes the note of item 7 and adds a photo to it.
    let answers = [
        Answer::Complies,
        Answer::Fails,
        Answer::NotApplicable,
        Answer::Complies,
    ];
    for (i, t) in tablets.iter().enumerate() {
        for id in &records {
            t.apply(id, answer(&items[i], answers[i]), 10 + i as i64);
            t.apply(id, answer(&items[6], answers[i]), 14);
            t.apply(id, note(&items[7], &format!("平板 {i} 的记录")), 15);
            let sha = Tablet::photo(&blobs[i], format!("photo {i} of {id}").as_bytes());
            t.apply(
                id,
                Command::AddItemPhoto {
                    item: items[7].as_str().into(),
                    photo: PhotoRef {
                        sha256: sha,
                        added_at: t.at(16),
                        added_by: t.user.id.clone(),
                    },
                },
                16,
            );
        }
    }
    // Everyone syncs, alternating nodes, twice round.
    for _ in 0..2 {
        for (t, b) in tablets.iter().zip(&blobs) {
            let report = t.upload_then_sync(b);
            assert!(report.rejected.is_empty(), "{}: {report:?}", t.user.id);
        }
    }
    // What each node serves, as a supervisor's fresh tablet on it fetches it.
    let supervisors = [nodes.tablet(0, "u-zhao"), nodes.tablet(1, "u-zhao")];
    for id in &records {
        let on_a = supervisors[0].observe(id);
        assert_eq!(
            on_a,
            supervisors[1].observe(id),
            "both nodes serve {id} alike"
        );
        for t in &tablets {
            assert_eq!(t.record(id), on_a, "{} converged on {id}", t.user.id);
        }
        for (i, a) in answers.iter().enumerate() {
            assert_eq!(on_a.results[items[i].as_str()].answer, Some(*a));
        }
        assert_eq!(
            on_a.results[items[7].as_str()].photos.len(),
            4,
            "every photo kept"
        );
        // The rival answers and notes are listed alike on every replica.
        let conflicts = |t: &Tablet| {
            t.store
                .lock()
                .unwrap()
                .document(&InspectionId::from(id.as_str()))
                .unwrap()
                .conflicts()
        };
        let first = conflicts(&supervisors[0]);
        assert!(first.len() >= 2, "{first:?}");
        for t in tablets.iter().chain(&supervisors[1..]) {
            assert_eq!(conflicts(t), first, "{}", t.user.id);
        }
    }
    // A photo u-li uploaded through node B: u-wang reads it through node A (the right comes
    // from the record, the bytes from the shared bucket).
    let sha = Sha256Hex::of(format!("photo 1 of {}", records[0]).as_bytes());
    let got = reqwest::blocking::Client::new()
        .get(format!("{}/api/v1/blobs/{sha}", nodes.urls[0]))
        .bearer_auth(token(&tablets[0]))
        .send()
        .unwrap();
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(
        got.bytes().unwrap().as_ref(),
        format!("photo 1 of {}", records[0]).as_bytes()
    );
    let key = format!("{PREFIX}/{}/{sha}", &sha.as_str()[..2]);
    assert!(nodes.moto.object(BUCKET, &key).is_some(), "in the bucket");
    println!("converged across two nodes in {:.1?}", started.elapsed());
}

/// Tablets on both nodes keep editing two shared records (each tablet the note of an item of
/// its own, markers appended) and syncing, and reserve document numbers, while one node or the
/// other is killed with SIGKILL and started again, twelve times (two tablets keep to their
/// node, two turn to the other node when theirs does not answer). Afterwards every marker a
/// tablet got acknowledged is on the server, once; every tablet agrees with the server; no
/// two blocks of numbers handed out overlap (as the tablets received them and as the database
/// holds them).
#[test]
fn kill_9_either_node_during_concurrent_syncs_loses_nothing_acknowledged() {
    let Some(nodes) = Nodes::start() else { return };
    let started = Instant::now();
    // (user, node) of each tablet: two on each node.
    let who = [("u-wang", 0), ("u-li", 1), ("u-zhang", 0), ("u-wang", 1)];
    let tablets: Vec<Arc<Tablet>> = who
        .iter()
        .map(|(u, n)| Arc::new(nodes.tablet(*n, u)))
        .collect();
    let records = [rid("two-nodes-kill-0"), rid("two-nodes-kill-1")];
    tablets[0].new_record(&records[0], &tablets[1].user);
    tablets[1].new_record(&records[1], &tablets[2].user);
    tablets[0].sync();
    tablets[1].sync();
    for t in &tablets {
        t.sync();
        for id in &records {
            // A record the tablet's inspector is not on is fetched (sync as deployed).
            t.fetch_unless_held(id);
        }
    }
    let items = items(&tablets[0], tablets.len());
    let year = Timestamp(now_ms()).shanghai_date().year();
    let series = [
        Series {
            unit: UnitId::new("xw"),
            kind: DocumentKind::InspectionRecord,
            year,
        },
        Series {
            unit: UnitId::new("xw"),
            kind: DocumentKind::RectificationOrder,
            year,
        },
    ];
    let stop = Arc::new(AtomicBool::new(false));
    // (tablet, marker) acknowledged by a sync; blocks received.
    let acked: Arc<Mutex<Vec<(usize, String)>>> = Arc::default();
    let blocks: Arc<Mutex<Vec<Block>>> = Arc::default();
    let failures = Arc::new(Mutex::new(0usize));
    let mut workers = Vec::new();
    for (i, t) in tablets.iter().enumerate() {
        let (t, stop, acked, blocks, failures) = (
            t.clone(),
            stop.clone(),
            acked.clone(),
            blocks.clone(),
            failures.clone(),
        );
        let (id, item) = (records[i % 2].clone(), items[i].clone());
        // Through either node with the tablet's session: tablets 0 and 1 keep to their node
        // (an address configured on the tablet), 2 and 3 turn to the other node when theirs
        // does not answer (a load balancer), so one device syncs through both.
        let session = t.client.session().unwrap().clone();
        let via = [0, 1].map(|n| {
            let url = nodes.urls[n].as_str();
            (
                SyncClient::new(url).with_session(session.clone()),
                NumberClient::new(url, session.token.clone()),
            )
        });
        let (mut at, fails_over) = (who[i].1, i >= 2);
        let series = series.clone();
        workers.push(std::thread::spawn(move || {
            let mut text = String::new();
            let mut written = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let marker = format!("[{i}:{n}]");
                n += 1;
                text.push_str(&marker);
                written.push(marker);
                t.apply_at(&id, note(&item, &text), Timestamp(now_ms()));
                let snapshot = written.clone();
                match via[at].0.sync(&t.store, t.at(0)) {
                    Ok(report) => {
                        assert!(report.rejected.is_empty(), "{report:?}");
                        let mut a = acked.lock().unwrap();
                        a.retain(|(w, _)| *w != i);
                        a.extend(snapshot.into_iter().map(|m| (i, m)));
                    }
                    Err(_) => {
                        *failures.lock().unwrap() += 1;
                        if fails_over {
                            at = 1 - at;
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
                if n % 3 == 0
                    && let Ok(got) = via[at].1.reserve(&series)
                {
                    blocks.lock().unwrap().extend(got);
                }
            }
        }));
    }
    let mut seed: u64 = 0x7e0_da7a;
    const KILLS: usize = 12;
    for k in 0..KILLS {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_millis(150 + (seed >> 33) % 350));
        // Alternating, so both nodes die mid-request.
        nodes.node(k % 2).lock().unwrap().restart();
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    // What the server holds before any tablet syncs again (a tablet would send anything it
    // still has): a supervisor's fresh tablet on each node fetches it (and follows it from
    // then on, so its syncs below bring the later changes).
    let supervisors = [nodes.tablet(0, "u-zhao"), nodes.tablet(1, "u-zhao")];
    for s in &supervisors {
        for id in &records {
            s.fetch_unless_held(id);
        }
    }
    let acked = acked.lock().unwrap();
    let per_tablet: Vec<usize> = (0..tablets.len())
        .map(|i| acked.iter().filter(|(w, _)| *w == i).count())
        .collect();
    assert!(
        per_tablet.iter().all(|n| *n >= 5),
        "too few acknowledged saves to mean anything: {per_tablet:?}"
    );
    let note_on_server = |i: usize| {
        supervisors[0].record(&records[i % 2]).results[items[i].as_str()]
            .note
            .clone()
    };
    for i in 0..tablets.len() {
        let text = note_on_server(i);
        for (_, m) in acked.iter().filter(|(w, _)| *w == i) {
            assert!(text.contains(m.as_str()), "acknowledged {m} lost");
        }
    }
    // Then every tablet syncs: all agree, and nothing is doubled. Twice: a tablet whose last
    // sync was cut by a kill pushes its unacknowledged changes in the first round, after the
    // tablets before it in the round have pulled; the second round brings them those.
    for _round in 0..2 {
        for t in &tablets {
            let report = t.sync();
            assert!(report.rejected.is_empty(), "{report:?}");
        }
    }
    for s in &supervisors {
        s.sync();
    }
    for id in &records {
        let on_server = supervisors[0].record(id);
        assert_eq!(
            on_server,
            supervisors[1].record(id),
            "both nodes serve {id} alike"
        );
        for t in &tablets {
            assert_eq!(
                t.record(id),
                on_server,
                "{} agrees with the server",
                t.user.id
            );
        }
    }
    for i in 0..tablets.len() {
        let text = note_on_server(i);
        let mut seen = BTreeSet::new();
        for part in text.split_inclusive(']') {
            assert!(seen.insert(part.to_owned()), "marker {part} twice");
        }
    }
    // Numbers: as the tablets received them, and as the database holds them.
    let blocks = blocks.lock().unwrap();
    assert!(
        blocks.len() >= 8,
        "too few blocks to mean anything: {}",
        blocks.len()
    );
    assert_disjoint(
        blocks
            .iter()
            .map(|b| (format!("{:?}", b.series), b.first, b.last)),
    );
    let rows: Vec<(String, u32, u32)> = nodes
        .sql()
        .query(
            "SELECT unit, kind, year, first, last FROM number_blocks",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| {
            let (unit, kind, year): (String, String, i32) = (r.get(0), r.get(1), r.get(2));
            let (first, last): (i64, i64) = (r.get(3), r.get(4));
            (format!("{unit}/{kind}/{year}"), first as u32, last as u32)
        })
        .collect();
    assert!(rows.len() >= blocks.len());
    assert_disjoint(rows.into_iter());
    println!(
        "{} acknowledged saves and {} number blocks checked after {KILLS} kills ({} failed syncs) in {:.1?}",
        acked.len(),
        blocks.len(),
        failures.lock().unwrap(),
        started.elapsed()
    );
}

/// No two ranges of one series overlap.
fn assert_disjoint(blocks: impl Iterator<Item = (String, u32, u32)>) {
    let mut by_series: BTreeMap<String, Vec<(u32, u32)>> = BTreeMap::new();
    for (s, first, last) in blocks {
        assert!(first <= last);
        by_series.entry(s).or_default().push((first, last));
    }
    for (s, list) in &mut by_series {
        list.sort();
        for pair in list.windows(2) {
            assert!(
                pair[0].1 < pair[1].0,
                "{s}: overlapping blocks {:?} and {:?}",
                pair[0],
                pair[1]
            );
        }
    }
}

/// A supervisor signs in to the console on node A; the cookie works on node B (a page, a
/// CSRF-checked form), and signing out on B ends the session on A. Failed sign-ins through
/// both nodes count together: the account is locked on both, and a lift on one frees it on
/// both.
#[test]
fn a_console_session_and_the_sign_in_throttle_span_both_nodes() {
    let Some(nodes) = Nodes::start() else { return };
    let mut on_a = ConsoleClient::at(&nodes.urls[0]);
    assert_eq!(on_a.sign_in("u-zhao", PASSWORD).status, 303);
    let on_b = on_a.moved_to(&nodes.urls[1]);
    let page = on_b.get("/console/records");
    assert_eq!(page.status, 200, "the session made on A opens pages on B");
    let csrf = on_a.csrf();
    assert_eq!(
        on_b.csrf(),
        csrf,
        "one CSRF token for the session on both nodes"
    );

    // Wrong passwords for u-wang, through A and B in turn: the account is locked on both.
    let http = reqwest::blocking::Client::new();
    let login = |n: usize, password: &str| {
        http.post(format!("{}/api/v1/login", nodes.urls[n]))
            .json(&serde_json::json!({ "user": "u-wang", "password": password }))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    for k in 0..4 {
        assert_eq!(login(k % 2, "wrong"), 401, "attempt {k}");
    }
    // The fifth, counted with the four before it whichever node they went to, locks.
    assert_eq!(login(0, "wrong"), 429, "attempt 4");
    assert_eq!(login(0, PASSWORD), 429, "locked on A");
    assert_eq!(login(1, PASSWORD), 429, "locked on B");
    // The supervisor lifts the lock through B with the session and CSRF token made on A.
    let lifted = on_b.post("/console/lockouts", &format!("csrf={csrf}&user=u-wang"));
    assert_eq!(lifted.status, 303, "{}", lifted.body);
    assert_eq!(login(0, PASSWORD), 200, "free again on A");
    // A form without the token is refused on either node.
    assert_eq!(on_b.post("/console/lockouts", "user=u-wang").status, 403);

    // Signing out on B ends the session on A.
    let out = on_b.post("/console/logout", &format!("csrf={csrf}"));
    assert_eq!(out.status, 303);
    let after = on_a.get("/console/records");
    assert_ne!(after.status, 200, "signed out everywhere");
    assert!(
        after
            .location
            .as_deref()
            .unwrap_or("")
            .contains("/console/login"),
        "{:?} {}",
        after.location,
        after.status
    );
    // The audit log is one chain, whichever node appended to it.
    let rows = nodes
        .sql()
        .query(
            "SELECT action, prev_hash, hash FROM audit_log ORDER BY seq",
            &[],
        )
        .unwrap();
    let actions: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert!(actions.iter().any(|a| a == "unlock"), "{actions:?}");
    for pair in rows.windows(2) {
        assert_eq!(
            pair[1].get::<_, String>(1),
            pair[0].get::<_, String>(2),
            "{actions:?}"
        );
    }
}

/// A large blob (a recording: 4 MiB chunks) is uploaded through node A until half of it is
/// acknowledged, then node A is killed; the tablet's blob client, pointed at node B, asks
/// where the upload stands, sends only the rest, and B puts the whole verified blob in the
/// bucket.
#[test]
fn a_resumable_upload_started_on_one_node_finishes_on_the_other() {
    let Some(nodes) = Nodes::start() else { return };
    let wang = nodes.tablet(0, "u-wang");
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::open(dir.path().join("blobs")).unwrap();
    // 20 MiB of a made-up recording (over the 16 MiB that the tablet sends in 4 MiB chunks).
    let size: usize = 20 << 20;
    let mut bytes = Vec::with_capacity(size);
    let mut x: u32 = 0x1234_5678;
    while bytes.len() < size {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    let sha = Tablet::photo(&blobs, &bytes);
    // Through A: the first half, in 4 MiB chunks, as the tablet sends them.
    let http = reqwest::blocking::Client::new();
    let chunk = 4 << 20;
    let half = 12 << 20;
    let mut offset = 0;
    while offset < half {
        let resp = http
            .put(format!(
                "{}/api/v1/blobs/{sha}?offset={offset}&total={size}",
                nodes.urls[0]
            ))
            .bearer_auth(token(&wang))
            .header("content-type", "application/octet-stream")
            .body(bytes[offset..offset + chunk].to_vec())
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{}", resp.text().unwrap());
        offset += chunk;
    }
    nodes.a.lock().unwrap().kill9();
    // Through B: the status says how much arrived; the client sends only the rest.
    let status: serde_json::Value = http
        .get(format!("{}/api/v1/blobs/{sha}/status", nodes.urls[1]))
        .bearer_auth(token(&wang))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(status["received"], half as u64, "{status}");
    assert_eq!(status["held"], false, "{status}");
    let report = tablet::upload::BlobClient::new(nodes.urls[1].as_str(), token(&wang))
        .upload_blob(&sha, &blobs, |_| {})
        .unwrap();
    assert_eq!(report.uploaded, 1, "{report:?}");
    assert_eq!(
        report.bytes_sent,
        (size - half) as u64,
        "only the rest: {report:?}"
    );
    let key = format!("{PREFIX}/{}/{sha}", &sha.as_str()[..2]);
    assert_eq!(
        nodes.moto.object(BUCKET, &key).as_deref(),
        Some(bytes.as_slice()),
        "the whole blob, verified, in the bucket"
    );
    assert!(
        nodes
            .moto
            .keys(BUCKET)
            .iter()
            .all(|k| !k.contains("/partial/")),
        "the staging is gone"
    );
    // A started again holds it too.
    nodes.a.lock().unwrap().start_again();
    let status: serde_json::Value = http
        .get(format!("{}/api/v1/blobs/{sha}/status", nodes.urls[0]))
        .bearer_auth(token(&wang))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(status["held"], true, "{status}");
    // And a record naming it, pushed through A, is taken: the right to name it (this device
    // uploaded it, recorded by B) is read from the database, not from what A saw.
    let li = nodes.tablet(1, "u-li");
    let id = rid("two-nodes-upload");
    wang.new_record(&id, &li.user);
    let item = items(&wang, 1).remove(0);
    wang.apply(
        &id,
        Command::AddItemPhoto {
            item: item.as_str().into(),
            photo: PhotoRef {
                sha256: sha.clone(),
                added_at: wang.at(2),
                added_by: wang.user.id.clone(),
            },
        },
        2,
    );
    let report = wang.sync();
    assert_eq!(
        (report.accepted, report.rejected.len()),
        (1, 0),
        "{report:?}"
    );
}

/// A supervisor starts a case-file export of a signed record on node A; the job's progress
/// and its file are read through node B (the file is kept in the object store, not in the
/// data folder of the node that wrote it), and it verifies with the servers' one key. Then
/// the supervisor approves the record through B, and the tablet syncing through A gets it.
#[test]
fn a_case_file_exported_through_one_node_downloads_through_the_other() {
    let Some(nodes) = Nodes::start() else { return };
    let wang = nodes.tablet(0, "u-wang");
    let li = nodes.tablet(1, "u-li");
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::open(dir.path().join("blobs")).unwrap();
    let sha = blobs
        .put(&common::console::photo_bytes("gps-DSCN0012.jpg"))
        .unwrap()
        .sha256;
    let id = rid("two-nodes-casefile");
    common::console::submitted_record(&nodes.a.lock().unwrap(), &wang, &li, &id, &blobs, &sha);
    let mut on_a = ConsoleClient::at(&nodes.urls[0]);
    assert_eq!(on_a.sign_in("u-zhao", PASSWORD).status, 303);
    let on_b = on_a.moved_to(&nodes.urls[1]);
    let started = on_a.post(
        &format!("/console/records/{id}/casefile"),
        &format!("csrf={}", on_a.csrf()),
    );
    assert_eq!(started.status, 303, "{}", started.body);
    let job = started.location.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let done = loop {
        let p = on_b.get(&job);
        assert_eq!(p.status, 200, "{}", p.body);
        if p.body.contains("data-state=\"done\"") {
            break p;
        }
        assert!(
            p.body.contains("data-state=\"running\""),
            "the export failed: {}",
            p.body
        );
        assert!(Instant::now() < deadline, "the export did not finish");
        std::thread::sleep(Duration::from_millis(100));
    };
    let at = done.body.find("id=\"casefile-download\" href=\"").unwrap() + 29;
    let href = &done.body[at..at + done.body[at..].find('"').unwrap()];
    let zip = on_b.get(href);
    assert_eq!(zip.status, 200, "the file is there for node B too");
    assert_eq!(zip.content_type, "application/zip");
    assert_eq!(on_a.get(href).bytes, zip.bytes, "and the same on A");
    let job_id = job.rsplit('/').next().unwrap();
    assert_eq!(
        nodes
            .moto
            .object(BUCKET, &format!("{PREFIX}/casefiles/{job_id}.zip"))
            .as_deref(),
        Some(zip.bytes.as_slice()),
        "kept in the bucket"
    );
    // Signed with the one key both nodes hold (made once in the database).
    let key_of = |c: &ConsoleClient| {
        let about = c.get("/console/casefiles").body;
        let at = about.find("id=\"server-key\"").unwrap();
        let start = at + about[at..].find('>').unwrap() + 1;
        about[start..start + about[start..].find('<').unwrap()].to_owned()
    };
    let key_hex = key_of(&on_b);
    assert_eq!(key_of(&on_a), key_hex);
    let options = casefile::VerifyOptions {
        trusted_keys: vec![casefile::TrustedKey {
            key: casefile::manifest::parse_public_key(&key_hex).unwrap(),
            label: "server".into(),
        }],
    };
    let report = casefile::verify(std::io::Cursor::new(&zip.bytes), &options);
    assert!(report.holds(), "{report:?}");
    // The supervisor approves the record through B; u-wang's tablet, syncing through A,
    // receives the decision (a change the server makes under its own device name).
    let approved = on_b.post(
        &format!("/console/records/{id}/review"),
        &format!("csrf={}&decision=approve&comment=ok", on_a.csrf()),
    );
    assert_eq!(approved.status, 303, "{}", approved.body);
    assert!(wang.sync().pulled >= 1);
    assert_eq!(
        wang.record(&id).status,
        app_core::inspection::InspectionStatus::Approved
    );
}

/// The same supervisor uploads new versions of one checklist through A and through B right
/// after each other (B's copy of the reference data is up to a second behind A's): each
/// upload gets a version of its own, and within a few seconds both nodes serve all of them.
#[test]
fn checklist_versions_uploaded_through_both_nodes_never_collide_and_reach_both() {
    let Some(nodes) = Nodes::start() else { return };
    let wang = nodes.tablet(0, "u-wang");
    // The newest version of 工贸's checklist, as the console's download gives it.
    let template = wang
        .store
        .lock()
        .unwrap()
        .reference::<app_core::checklist::ChecklistTemplate>()
        .unwrap()
        .into_iter()
        .filter(|t| t.id == "gongmao")
        .max_by_key(|t| t.version)
        .unwrap();
    let xlsx = sync_server::service::checklists::write_xlsx(&template).unwrap();
    let mut on_a = ConsoleClient::at(&nodes.urls[0]);
    assert_eq!(on_a.sign_in("u-zhao", PASSWORD).status, 303);
    let on_b = on_a.moved_to(&nodes.urls[1]);
    let csrf = on_a.csrf();
    let upload = |c: &ConsoleClient| {
        const B: &str = "two-nodes-boundary";
        let mut body = format!(
            "--{B}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
             --{B}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.xlsx\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&xlsx);
        body.extend_from_slice(format!("\r\n--{B}--\r\n").as_bytes());
        let page = c.post_bytes(
            &format!("/console/checklists/{}/upload", template.id),
            &format!("multipart/form-data; boundary={B}"),
            body,
        );
        assert_eq!(page.status, 200, "{}", page.body);
        let done = page
            .body
            .find("id=\"checklist-done\"")
            .unwrap_or_else(|| panic!("not taken: {}", page.body));
        let at = done + page.body[done..].find("data-version=\"").unwrap() + 14;
        page.body[at..at + page.body[at..].find('"').unwrap()]
            .parse::<u32>()
            .unwrap()
    };
    let mut versions = Vec::new();
    for _ in 0..2 {
        versions.push(upload(&on_a));
        versions.push(upload(&on_b));
    }
    let distinct: BTreeSet<u32> = versions.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        versions.len(),
        "one version each: {versions:?}"
    );
    // Both nodes serve every version within a few seconds (each checks the database's
    // reference version about once a second).
    let served = |n: usize| -> BTreeSet<u32> {
        let all: Vec<app_core::checklist::ChecklistTemplate> = reqwest::blocking::Client::new()
            .get(format!("{}/api/v1/reference/checklists", nodes.urls[n]))
            .send()
            .unwrap()
            .json()
            .unwrap();
        all.into_iter()
            .filter(|t| t.id == template.id)
            .map(|t| t.version)
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (a, b) = (served(0), served(1));
        if distinct.is_subset(&a) && a == b {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "A {a:?}, B {b:?}, uploaded {versions:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Two nodes started at the same instant on a fresh database, five times over: both start
/// (one seeds the reference data, the accounts and the server key, the other finds them), and
/// there is one server key, one key history entry and one account per user.
#[test]
fn two_nodes_start_together_on_a_fresh_database() {
    let Some(first) = PgDb::new() else { return };
    let Some(moto) = Moto::start() else { return };
    moto.bucket(BUCKET);
    let mut dbs = vec![first];
    while dbs.len() < 5 {
        dbs.push(PgDb::new().unwrap());
    }
    for (round, db) in dbs.iter().enumerate() {
        let mut env = moto.server_env(BUCKET, &format!("round-{round}"));
        env.push(("SYNC_SERVER_DATABASE".into(), db.url()));
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = start_pair(&env, dir.path());
        let mut sql = postgres::Client::connect(&db.url(), postgres::NoTls).unwrap();
        let count =
            |sql: &mut postgres::Client, q: &str| -> i64 { sql.query_one(q, &[]).unwrap().get(0) };
        assert_eq!(count(&mut sql, "SELECT count(*) FROM server_key"), 1);
        assert_eq!(count(&mut sql, "SELECT count(*) FROM server_keys"), 1);
        assert_eq!(
            count(&mut sql, "SELECT count(*) FROM ref_users"),
            count(&mut sql, "SELECT count(*) FROM accounts")
        );
        for s in [&a, &b] {
            let h = reqwest::blocking::get(format!("{}/health", s.url())).unwrap();
            assert_eq!(h.status().as_u16(), 200, "round {round}");
        }
    }
}
