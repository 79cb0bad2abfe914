//! Crash safety: a writer process ingests photos and saves edits as fast as it can and is
//! killed with SIGKILL at pseudo-random moments, many times. After each kill the store is
//! reopened and must hold every save and photo link the writer had been told was committed,
//! agree with its index, and pass SQLite's integrity check; every stored original must still
//! match its SHA-256, and every photo a record names must be in the blob store.
//!
//! This target has no libtest harness: run normally it is the test (it spawns itself as the
//! writer, with `CRASH_WRITER_DB` set). It ends with the plain `N passed, N failed` line.

use app_core::checklist::ChecklistTemplate;
use app_core::enterprise::Enterprise;
use app_core::geo::Timestamp;
use app_core::ids::InspectionId;
use app_core::inspection::{Command, Context, Inspection, InspectionStatus, InspectorRef};
use app_core::kind::InspectionKind;
use app_core::user::User;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::Duration;
use tablet::blobs::BlobStore;
use tablet::photo::{IngestLimits, ingest_file, ingest_reader};
use tablet::store::{ListFilter, PhotoTarget, Store};

const ROUNDS: u64 = 40;
const T0: i64 = 1_795_420_800_000;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn template() -> ChecklistTemplate {
    let text = std::fs::read_to_string(fixtures().join("checklists/gongmao.toml")).unwrap();
    ChecklistTemplate::parse_toml(&text).unwrap()
}

fn load<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join(name)).unwrap()).unwrap()
}

fn user(id: &str) -> User {
    load::<Vec<User>>("demo/users.json")
        .into_iter()
        .find(|u| u.id.as_str() == id)
        .unwrap()
}

fn photos_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/photos")
}

/// A small PNG no other round makes (a fresh original each time).
fn unique_png(round: u64, i: u64) -> Vec<u8> {
    let img = image::RgbImage::from_fn(48, 32, |x, y| {
        image::Rgb([
            (x as u64 * 5 + round) as u8,
            (y as u64 * 7 + i) as u8,
            (round * 31 + i) as u8,
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn marker(round: u64, i: u64) -> String {
    format!("[{round}:{i}]")
}

/// The writer: creates this round's record, then appends a marker to its summary, over and
/// over. After each save returns, the marker is appended (and synced) to the ack log.
fn writer(db: &Path, ack: &Path, round: u64) -> ! {
    let t = template();
    let blobs = BlobStore::open(db.with_file_name("blobs")).unwrap();
    let fixtures: Vec<PathBuf> = {
        let mut v: Vec<PathBuf> = std::fs::read_dir(photos_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
            .collect();
        v.sort();
        v
    };
    let item = t.items().next().unwrap().code.clone();
    let (w, l) = (user("u-wang"), user("u-li"));
    let mut store = Store::open(db).unwrap();
    let enterprise = &load::<Vec<Enterprise>>("demo/enterprises.json")[0];
    let id = InspectionId::new(format!("crash-{round}"));
    let record = Inspection::new_draft(
        id.clone(),
        InspectionKind::Routine,
        enterprise.unit.clone(),
        enterprise.into(),
        t.reference(),
        w.id.clone(),
        Timestamp(T0),
    );
    store.create_inspection(&record, &t, Timestamp(T0)).unwrap();
    let cx = |minute: i64| Context {
        actor: &w,
        now: Timestamp(T0 + minute),
        template: &t,
    };
    for u in [&w, &l] {
        let r = InspectorRef {
            user: u.id.clone(),
            name: u.name.clone(),
            certificate: u.certificate().unwrap().clone(),
        };
        store.apply(&id, &Command::AddInspector(r), &cx(0)).unwrap();
    }
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(ack)
        .unwrap();
    writeln!(log, "created").unwrap();
    log.sync_data().unwrap();
    let mut summary = String::new();
    for i in 0.. {
        if i % 3 == 0 {
            let photo = if i % 2 == 0 {
                ingest_file(
                    &blobs,
                    &fixtures[(round + i) as usize % fixtures.len()],
                    &IngestLimits::default(),
                )
            } else {
                ingest_reader(&blobs, &unique_png(round, i)[..], &IngestLimits::default())
            }
            .unwrap();
            store
                .attach_photo(&id, &PhotoTarget::Item(item.clone()), &photo, &cx(i as i64))
                .unwrap();
            writeln!(log, "photo:{}", photo.sha256).unwrap();
            log.sync_data().unwrap();
        }
        summary.push_str(&marker(round, i));
        store
            .apply(
                &id,
                &Command::SetSummary {
                    text: summary.clone(),
                },
                &cx(i as i64),
            )
            .unwrap();
        writeln!(log, "{}", marker(round, i)).unwrap();
        log.sync_data().unwrap();
    }
    unreachable!()
}

/// Checks the store after a kill: every acknowledged save of every round so far is there.
fn check(db: &Path, acks: &[Vec<String>]) -> Result<usize, String> {
    let mut store = Store::open(db).map_err(|e| format!("reopen: {e}"))?;
    let blobs = BlobStore::open(db.with_file_name("blobs")).map_err(|e| format!("blobs: {e}"))?;
    let stored = blobs.list().map_err(|e| e.to_string())?;
    for sha in &stored {
        blobs
            .verify(sha)
            .map_err(|e| format!("stored original {sha} no longer matches: {e}"))?;
    }
    let integrity: String = store
        .connection()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if integrity != "ok" {
        return Err(format!("integrity_check: {integrity}"));
    }
    let rows = store
        .list(&ListFilter {
            limit: 1000,
            ..ListFilter::default()
        })
        .map_err(|e| e.to_string())?;
    for (round, acked) in acks.iter().enumerate() {
        let id = InspectionId::new(format!("crash-{round}"));
        if acked.is_empty() {
            continue; // killed before the record was created (or just after)
        }
        let record = store
            .inspection(&id)
            .map_err(|e| format!("round {round}: acknowledged record missing: {e}"))?;
        for m in acked.iter().filter(|m| m.starts_with('[')) {
            if !record.summary.contains(m.as_str()) {
                return Err(format!("round {round}: acknowledged save {m} lost"));
            }
        }
        let linked: Vec<String> = record
            .results
            .values()
            .flat_map(|r| r.photos.keys().map(|k| k.to_string()))
            .collect();
        for m in acked.iter().filter_map(|m| m.strip_prefix("photo:")) {
            if !linked.iter().any(|l| l == m) {
                return Err(format!("round {round}: acknowledged photo {m} not linked"));
            }
        }
        for sha in &linked {
            let sha = app_core::evidence::Sha256Hex::parse(sha).unwrap();
            if !blobs.contains(&sha) {
                return Err(format!(
                    "round {round}: record names photo {sha} but its original is missing"
                ));
            }
        }
        let row = rows
            .iter()
            .find(|r| r.id == id)
            .ok_or_else(|| format!("round {round}: record without index row"))?;
        if row.status != InspectionStatus::Draft || record.inspectors.len() != 2 && acked.len() > 1
        {
            return Err(format!("round {round}: index or record inconsistent"));
        }
    }
    Ok(stored.len())
}

fn main() {
    if let Ok(db) = std::env::var("CRASH_WRITER_DB") {
        let ack = PathBuf::from(std::env::var("CRASH_WRITER_ACK").unwrap());
        let round: u64 = std::env::var("CRASH_WRITER_ROUND")
            .unwrap()
            .parse()
            .unwrap();
        writer(Path::new(&db), &ack, round);
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tablet.db");
    let exe = std::env::current_exe().unwrap();
    let mut acks: Vec<Vec<String>> = Vec::new();
    let mut seed: u64 = 0x5eed_1234;
    let mut saves = 0usize;
    let mut photos = 0usize;
    let mut blobs = 0usize;
    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        let ack = dir.path().join(format!("ack-{round}.log"));
        let mut child = Process::new(&exe)
            .env("CRASH_WRITER_DB", &db)
            .env("CRASH_WRITER_ACK", &ack)
            .env("CRASH_WRITER_ROUND", round.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let wait_ms = 30 + (seed >> 33) % 400;
        std::thread::sleep(Duration::from_millis(wait_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let acked: Vec<String> = std::fs::read_to_string(&ack)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        saves += acked.iter().filter(|m| m.starts_with('[')).count();
        photos += acked.iter().filter(|m| m.starts_with("photo:")).count();
        acks.push(acked);
        match check(&db, &acks) {
            Ok(n) => blobs = n,
            Err(e) => {
                failures.push(format!("after kill {round} at {wait_ms} ms: {e}"));
                break;
            }
        }
    }
    println!(
        "crash test: {ROUNDS} kills; {saves} acknowledged saves and {photos} acknowledged photo links present after each reopen; {blobs} stored blobs all match their SHA-256"
    );
    if failures.is_empty() {
        println!("1 passed, 0 failed");
    } else {
        for f in &failures {
            eprintln!("FAILED: {f}");
        }
        println!("0 passed, 1 failed");
        std::process::exit(1);
    }
}
