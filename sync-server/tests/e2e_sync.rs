//! Real server process, real tablets, loopback only.

mod common;

use app_core::document::Conflict;
use app_core::evidence::{PhotoRef, Sha256Hex};
use app_core::geo::{Position, PositionSource, Timestamp};
use app_core::ids::InspectionId;
use app_core::inspection::{Answer, ArrivalProof, Attestations, Command, InspectionStatus};
use common::{Tablet, TestServer, now_ms, rid};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tablet::blobs::BlobStore;
use tablet::store::Store;

/// A photo of `t` with `tag` as its bytes, kept in `t`'s `blobs` (uploaded by
/// [`Tablet::upload_then_sync`] before the record naming it is pushed).
fn photo(tag: &str, t: &Tablet, blobs: &BlobStore) -> PhotoRef {
    let sha256 = Tablet::photo(blobs, tag.as_bytes());
    assert_eq!(sha256, Sha256Hex::of(tag.as_bytes()));
    PhotoRef {
        sha256,
        added_at: t.at(13),
        added_by: t.user.id.clone(),
    }
}

fn answer(item: &str, a: Answer) -> Command {
    Command::Answer {
        item: item.into(),
        answer: Some(a),
    }
}

/// Two tablets edit one inspection offline — different items, the same item, photos, notes,
/// a status change — then sync in the given order. Returns the three views (tablet A, tablet
/// B, and a supervisor's fresh tablet fetching the record: what the server holds).
fn two_tablets_edit_offline(a_first: bool, env: &[(String, String)]) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let server = TestServer::start_env(dir.path(), &[], Some(&log), env);
    let a = Tablet::new(&server, "u-wang");
    let b = Tablet::new(&server, "u-li");
    // Each tablet's photo originals, uploaded before its records are pushed.
    let photos = tempfile::tempdir().unwrap();
    let a_blobs = BlobStore::open(photos.path().join("a")).unwrap();
    let b_blobs = BlobStore::open(photos.path().join("b")).unwrap();
    let id = rid("insp-shared");
    let id = id.as_str();
    a.new_record(id, &b.user);
    let report = a.sync();
    assert_eq!(
        (report.accepted, report.rejected.len()),
        (1, 0),
        "{report:?}"
    );
    let report = b.sync();
    assert_eq!(report.pulled, 1, "B receives the record");
    let items: Vec<String> = a
        .template()
        .items()
        .take(5)
        .map(|i| i.code.to_string())
        .collect();
    // Offline on A.
    a.apply(id, answer(&items[0], Answer::Complies), 10);
    a.apply(id, answer(&items[2], Answer::Complies), 11);
    a.apply(
        id,
        Command::SetNote {
            item: items[3].as_str().into(),
            text: "A：消防通道畅通。".into(),
        },
        12,
    );
    a.apply(
        id,
        Command::AddItemPhoto {
            item: items[4].as_str().into(),
            photo: photo("a-photo", &a, &a_blobs),
        },
        13,
    );
    a.apply(
        id,
        Command::SetArrival(ArrivalProof {
            at: a.at(14),
            position: Position::new(32.0935, 118.8056, PositionSource::Device).unwrap(),
            entrance_photo: Tablet::photo(&a_blobs, b"entrance"),
        }),
        14,
    );
    a.apply(
        id,
        Command::SetAttestations(Attestations {
            no_notice_given: true,
            no_escort_accepted: true,
        }),
        15,
    );
    a.apply(
        id,
        Command::Transition {
            to: InspectionStatus::OnSite,
            comment: String::new(),
        },
        16,
    );
    // Offline on B.
    b.apply(id, answer(&items[1], Answer::Fails), 10);
    b.apply(id, answer(&items[2], Answer::Fails), 11);
    b.apply(
        id,
        Command::SetNote {
            item: items[3].as_str().into(),
            text: "B：有杂物堆放。".into(),
        },
        12,
    );
    b.apply(
        id,
        Command::AddItemPhoto {
            item: items[4].as_str().into(),
            photo: photo("b-photo", &b, &b_blobs),
        },
        13,
    );
    // Sync in the given order, then once more each so both have everything.
    let (first, second) = if a_first {
        ((&a, &a_blobs), (&b, &b_blobs))
    } else {
        ((&b, &b_blobs), (&a, &a_blobs))
    };
    for (t, blobs) in [first, second, first, second] {
        let report = t.upload_then_sync(blobs);
        assert!(report.rejected.is_empty(), "{}: {report:?}", t.user.id);
    }
    let supervisor = Tablet::new(&server, "u-zhao");
    let (ra, rb, rs) = (a.record(id), b.record(id), supervisor.observe(id));
    assert_eq!(ra, rb, "both tablets converge");
    assert_eq!(ra, rs, "the server holds the same content");
    assert_eq!(ra.results[items[0].as_str()].answer, Some(Answer::Complies));
    assert_eq!(ra.results[items[1].as_str()].answer, Some(Answer::Fails));
    // Notes are text registers: one version wins everywhere alike, both are kept and listed
    // as a conflict (below).
    let note = &ra.results[items[3].as_str()].note;
    assert!(
        note == "A：消防通道畅通。" || note == "B：有杂物堆放。",
        "one whole note wins: {note}"
    );
    assert_eq!(
        ra.results[items[4].as_str()].photos.len(),
        2,
        "both photos kept"
    );
    assert_eq!(ra.status, InspectionStatus::OnSite);
    // The conflict on the same item is visible on every replica.
    let conflicts = |t: &Tablet| {
        t.store
            .lock()
            .unwrap()
            .document(&InspectionId::from(id))
            .unwrap()
            .conflicts()
    };
    for t in [&a, &b, &supervisor] {
        let c = conflicts(t);
        assert!(
            c.iter()
                .any(|c| matches!(c, Conflict::Answer { item, values, .. }
                if item.as_str() == items[2] && values == &vec![Answer::Complies, Answer::Fails])),
            "{}: {c:?}",
            t.user.id
        );
        let note_path = format!("results/{}/note", items[3]);
        assert!(
            c.iter().any(|c| matches!(c, Conflict::Field { path, values }
                if *path == note_path
                    && values == &vec!["A：消防通道畅通。".to_owned(), "B：有杂物堆放。".to_owned()])),
            "{}: both notes kept: {c:?}",
            t.user.id
        );
    }
    // The list row shows the conflicts too (the answer and the note).
    let rows = b.store.lock().unwrap().list(&Default::default()).unwrap();
    assert_eq!(rows[0].conflicts, 2);
    // Nothing left to send: a quiet sync costs a few bytes, in one round trip (the records'
    // answer says no penalty case waits, so the cases' round trip is skipped).
    let quiet = a.sync();
    assert_eq!((quiet.pushed, quiet.pulled, quiet.round_trips), (0, 0, 1));
    // And the case cursor stands where the records' does: the server's next look for cases
    // starts there.
    {
        let s = a.store.lock().unwrap();
        assert_eq!(
            s.case_cursor(&a.user.id).unwrap(),
            s.sync_cursor(&a.user.id).unwrap()
        );
    }
    assert!(
        quiet.bytes_sent < 64 && quiet.bytes_received < 64,
        "{quiet:?}"
    );
    // And the server stops cleanly (on PostgreSQL too: its connections close off the
    // runtime's threads).
    let status = server.terminate();
    assert!(status.success(), "the server stops cleanly: {status}");
}

#[test]
fn two_tablets_converge_when_a_syncs_first() {
    two_tablets_edit_offline(true, &[]);
}

#[test]
fn two_tablets_converge_when_b_syncs_first() {
    two_tablets_edit_offline(false, &[]);
}

/// The same story with the server on PostgreSQL (`database = "postgres://…"`, a throwaway
/// cluster of `common::pg`).
#[test]
fn two_tablets_converge_on_postgres() {
    let Some(db) = common::pg::PgDb::new() else {
        return;
    };
    two_tablets_edit_offline(true, &[("SYNC_SERVER_DATABASE".into(), db.url())]);
    // The records and their change log are in PostgreSQL.
    let mut c = postgres::Client::connect(&db.url(), postgres::NoTls).unwrap();
    let count = |c: &mut postgres::Client, table: &str| -> i64 {
        c.query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .unwrap()
            .get(0)
    };
    assert_eq!(count(&mut c, "docs"), 1);
    assert!(count(&mut c, "changes") > 1);
    assert!(count(&mut c, "tokens") >= 3);
    assert!(count(&mut c, "console_records") == 1);
}

/// Tablets sync concurrently while the server is killed with SIGKILL at random moments, 20+
/// times. Every change the server acknowledged is there afterwards, and nothing is doubled.
#[test]
fn acknowledged_changes_survive_server_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let server = Arc::new(Mutex::new(TestServer::start(dir.path())));
    let users = ["u-wang", "u-li", "u-zhang"];
    let tablets: Vec<Arc<Tablet>> = {
        let s = server.lock().unwrap();
        users.iter().map(|u| Arc::new(Tablet::new(&s, u))).collect()
    };
    let colleague = tablets[1].user.clone();
    for (i, t) in tablets.iter().enumerate() {
        t.new_record(
            &rid(&format!("kill-{i}")),
            if i == 1 { &tablets[0].user } else { &colleague },
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<Vec<(usize, String)>>> = Arc::default();
    let mut workers = Vec::new();
    for (i, t) in tablets.iter().enumerate() {
        let (t, stop, acked) = (t.clone(), stop.clone(), acked.clone());
        workers.push(std::thread::spawn(move || {
            let id = rid(&format!("kill-{i}"));
            let mut summary = String::new();
            let mut written = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let marker = format!("[{i}:{n}]");
                n += 1;
                summary.push_str(&marker);
                written.push(marker);
                // Edits as fast as the loop goes, at the real time: more of them than a
                // story's steps could hold within the server's clock.
                t.apply_at(
                    &id,
                    Command::SetSummary {
                        text: summary.clone(),
                    },
                    Timestamp(now_ms()),
                );
                // Everything written before a successful sync is acknowledged by it.
                let snapshot = written.clone();
                if let Ok(report) = t.client.sync(&t.store, t.at(0)) {
                    assert!(report.rejected.is_empty(), "{report:?}");
                    let mut a = acked.lock().unwrap();
                    a.retain(|(w, _)| *w != i);
                    a.extend(snapshot.into_iter().map(|m| (i, m)));
                } else {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }));
    }
    let mut seed: u64 = 0x51ab_5eed;
    for _ in 0..22 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_millis(40 + (seed >> 33) % 200));
        server.lock().unwrap().restart();
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    // Final sync from every tablet, then a supervisor's fresh tablet fetches what the server
    // has.
    for t in &tablets {
        t.sync();
    }
    let s = server.lock().unwrap();
    let supervisor = Tablet::new(&s, "u-zhao");
    let acked = acked.lock().unwrap();
    assert!(
        acked.len() > 20,
        "too few acknowledged saves to mean anything: {}",
        acked.len()
    );
    for (i, t) in tablets.iter().enumerate() {
        let id = rid(&format!("kill-{i}"));
        let on_server = supervisor.observe(&id);
        let local = t.record(&id);
        assert_eq!(
            on_server.summary, local.summary,
            "tablet {i} and server agree after resync"
        );
        let mut seen = BTreeSet::new();
        for part in on_server.summary.split_inclusive(']') {
            assert!(seen.insert(part.to_owned()), "marker {part} duplicated");
        }
        for (_, m) in acked.iter().filter(|(w, _)| *w == i) {
            assert!(
                on_server.summary.contains(m.as_str()),
                "acknowledged {m} lost"
            );
        }
    }
    println!("{} acknowledged saves checked after 22 kills", acked.len());
}

/// The network (here: the server) goes away; the tablet keeps working, its background sync
/// backs off and reports the failure, and when the server returns everything reaches it.
#[test]
fn background_sync_backs_off_while_offline_and_catches_up() {
    use tablet::sync::{BackgroundSync, SyncState};
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start(dir.path());
    let a = Arc::new(Tablet::new(&server, "u-wang"));
    let li = Tablet::new(&server, "u-li");
    server.kill9();
    // Offline: capture goes on.
    let offline = rid("offline-1");
    let offline = offline.as_str();
    a.new_record(offline, &li.user);
    a.apply(
        offline,
        Command::SetSummary {
            text: "离线记录".into(),
        },
        5,
    );
    let store = Arc::new(Mutex::new(Store::open(&a.db_path()).unwrap()));
    // A photo linked while offline travels too, once the server is back.
    let blobs = tablet::blobs::BlobStore::open(a.db_path().with_file_name("blobs")).unwrap();
    let photo = tablet::photo::ingest_file(
        &blobs,
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/fixtures/photos/gps-DSCN0012.jpg"),
        &tablet::photo::IngestLimits::default(),
    )
    .unwrap();
    let item = a.template().items().next().unwrap().code.clone();
    store
        .lock()
        .unwrap()
        .attach_photo(
            &InspectionId::from(offline),
            &tablet::store::PhotoTarget::Item(item),
            &photo,
            &a.cx(&a.template(), 5),
        )
        .unwrap();
    let t0 = a.at(0);
    let bg = BackgroundSync::start(
        a.client.clone(),
        store.clone(),
        Some(blobs),
        Duration::from_millis(50),
        Duration::from_millis(400),
        move || t0,
    );
    let wait_for = |pred: &dyn Fn(&tablet::sync::SyncStatus) -> bool, what: &str| {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let s = bg.status();
            if pred(&s) {
                return s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}: {s:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let waiting = wait_for(
        &|s| matches!(&s.state, SyncState::Waiting { .. }),
        "a failed attempt",
    );
    assert_eq!(
        waiting.pending.records, 1,
        "the record waits to be sent: {waiting:?}"
    );
    // Capture is never blocked by the sync loop.
    store
        .lock()
        .unwrap()
        .apply(
            &InspectionId::from(offline),
            &Command::SetPlaces {
                text: "一号车间".into(),
            },
            &a.cx(&a.template(), 6),
        )
        .unwrap();
    server.restart();
    let done = wait_for(
        &|s| {
            matches!(&s.state, SyncState::Done(r) if r.accepted >= 1)
                && s.pending.records == 0
                && s.photos_pending == 0
        },
        "the sync after the server returned",
    );
    assert_eq!(done.pending.records, 0);
    assert_eq!(
        done.last_upload.as_ref().map(|u| u.uploaded),
        Some(1),
        "{done:?}"
    );
    drop(bg);
    let supervisor = Tablet::new(&server, "u-zhao");
    let on_server = supervisor.observe(offline);
    assert_eq!(on_server.summary, "离线记录");
    assert_eq!(on_server.places, "一号车间");
    // The supervisor's tablet can fetch the original, byte for byte.
    let theirs = tablet::blobs::BlobStore::open(dir.path().join("supervisor-blobs")).unwrap();
    let client = tablet::upload::BlobClient::new(
        server.url(),
        supervisor.client.session().unwrap().token.clone(),
    );
    assert!(client.download(&photo.sha256, &theirs).unwrap());
    assert_eq!(
        theirs.get(&photo.sha256).unwrap(),
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/fixtures/photos/gps-DSCN0012.jpg")
        )
        .unwrap()
    );
}
