//! `admin migrate` (issue 18): a county's server on SQLite and a blob folder moves to
//! PostgreSQL (a throwaway cluster of `common::pg`) and S3-compatible storage (moto, from
//! `common::s3`); then a server on the new backends carries on where the old one stopped:
//! the same records with their history, the same accounts, tokens, devices and number
//! blocks, the penalty cases with their change log, the photos from object storage, the
//! console's decision and the audit log.

mod common;

use app_core::inspection::{Inspection, InspectionStatus};
use app_core::penalty::CaseDoc;
use common::cases::{case_id, now, opened, opening, push};
use common::console::{ConsoleClient, photo_bytes, submitted_record};
use common::{PASSWORD, Tablet, TestServer, rid};
use std::process::Command as Process;
use tablet::blobs::BlobStore;
use tablet::numbers::{NumberClient, top_up};

/// `sync-server admin --data DATA migrate ARGS…` with `env`; (success, stdout + stderr).
fn migrate(data: &std::path::Path, args: &[&str], env: &[(String, String)]) -> (bool, String) {
    let out = Process::new(env!("CARGO_BIN_EXE_sync-server"))
        .arg("admin")
        .arg("--data")
        .arg(data)
        .arg("migrate")
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The document-number blocks a tablet holds.
fn blocks(t: &Tablet) -> Vec<app_core::docnumber::Block> {
    let pool = t.store.lock().unwrap().number_pool().unwrap();
    pool.blocks().cloned().collect()
}

#[test]
fn a_county_moves_to_postgres_and_object_storage_and_carries_on() {
    let Some(db) = common::pg::PgDb::new() else {
        return;
    };
    let Some(moto) = common::s3::Moto::start() else {
        return;
    };
    moto.bucket("county");
    let s3_env = moto.server_env("county", "originals");
    let blob_env: Vec<(String, String)> = s3_env
        .iter()
        .filter(|(k, _)| k != "SYNC_SERVER_BLOBS_STORE")
        .cloned()
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("county");
    let mut server = TestServer::start(&data);

    // The county's server in use: a submitted record with a photo, approved in the console,
    // a block of document numbers on a tablet.
    let wang = Tablet::new(&server, "u-wang");
    let li = Tablet::new(&server, "u-li");
    let blobs = BlobStore::open(dir.path().join("wang-blobs")).unwrap();
    let photo = photo_bytes("gps-DSCN0010.jpg");
    let sha = blobs.put(&photo).unwrap().sha256;
    let id = rid("migrated-record");
    submitted_record(&server, &wang, &li, &id, &blobs, &sha);
    let mut zhao = ConsoleClient::new(&server);
    assert_eq!(zhao.sign_in("u-zhao", PASSWORD).status, 303);
    let p = zhao.post(
        &format!("/console/records/{id}/review"),
        &format!("csrf={}&decision=approve&comment=ok", zhao.csrf()),
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let numbers = NumberClient::new(
        server.address(),
        wang.client.session().unwrap().token.clone(),
    );
    top_up(&wang.store, &numbers, &wang.user, wang.at(3)).unwrap();
    assert!(!blocks(&wang).is_empty());
    // A penalty case opened from the record (its tables refer to one another: the copy must
    // write the cases before their changes and inspectors).
    let case = case_id("migrated");
    let open = opening(&case, &wang.user, &li.user, &wang.enterprise("e-001"), &id);
    let mut cdoc = CaseDoc::create(&opened(open, &wang.user, now()), &wang.device()).unwrap();
    let pushed = wang.sync_cases(&server, 0, vec![push(&case, cdoc.save())]);
    assert_eq!(pushed.accepted, vec![0], "{pushed:?}");
    wang.sync();
    li.sync();

    // Refused while the server runs on the folder.
    let to = db.url();
    let args = ["--to", to.as_str(), "--blobs-to", "s3://county/originals"];
    let (ok, out) = migrate(&data, &args, &blob_env);
    assert!(!ok, "{out}");
    assert!(out.contains("stop it first"), "{out}");
    server.stop();
    let started = std::time::Instant::now();
    let (ok, out) = migrate(&data, &args, &blob_env);
    assert!(ok, "{out}");
    eprintln!("migrate took {:?}:\n{out}", started.elapsed());
    assert!(out.contains("tables verified"), "{out}");
    assert!(out.contains("1 blobs"), "{out}");
    // A second run finds the target in use.
    let (ok, out) = migrate(&data, &args, &blob_env);
    assert!(!ok, "{out}");
    assert!(out.contains("already holds"), "{out}");
    // The photo is in the bucket, byte for byte.
    let key = format!("originals/{}/{}", &sha.as_str()[..2], sha.as_str());
    assert_eq!(moto.object("county", &key), Some(photo.clone()));

    // A server on PostgreSQL and S3 (its own, empty data folder) carries on.
    let mut env = s3_env.clone();
    env.push(("SYNC_SERVER_DATABASE".into(), to.clone()));
    let new_data = dir.path().join("city-node");
    let city = TestServer::start_env(&new_data, &[], None, &env);
    let (mut wang, mut li) = (wang, li);
    for t in [&mut wang, &mut li] {
        let session = t.client.session().unwrap().clone();
        t.client = tablet::sync::SyncClient::new(city.address()).with_session(session);
    }
    // The same tokens work, nothing is pushed again (same epoch), and the record is there.
    let report = li.sync();
    assert!(report.rejected.is_empty(), "{report:?}");
    // A fresh tablet of the city's supervisor fetches the record (a supervisor's tablet pulls
    // only what the supervisor has a part in): the new node serves it.
    let fresh = Tablet::new(&city, "u-zhou");
    fresh.sync();
    let theirs: Inspection = fresh.observe(&id);
    assert_eq!(theirs, wang.record(&id));
    assert_eq!(theirs.status, InspectionStatus::Approved);
    // The case too, with its change log (what a tablet pulls is the log, not the snapshot).
    let cases = fresh.sync_cases(&city, 0, Vec::new());
    assert_eq!(cases.cases.len(), 1, "{cases:?}");
    let moved = CaseDoc::load(&cases.cases[0].bytes, &fresh.device()).unwrap();
    assert_eq!(moved.case(), cdoc.case());
    // The photo comes from object storage.
    let got = city
        .http()
        .get(format!("{}/api/v1/blobs/{sha}", city.url()))
        .bearer_auth(&li.client.session().unwrap().token)
        .send()
        .unwrap();
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.bytes().unwrap().to_vec(), photo);
    // The console: the same password, the decision shown.
    let mut zhao = ConsoleClient::new(&city);
    assert_eq!(zhao.sign_in("u-zhao", PASSWORD).status, 303);
    let page = zhao.get(&format!("/console/records/{id}")).body;
    assert!(page.contains("data-status=\"approved\""), "{page}");
    // Numbers go on from the same blocks: a new block does not overlap the old ones.
    let numbers = NumberClient::new(city.address(), wang.client.session().unwrap().token.clone());
    let held = blocks(&wang);
    top_up(&wang.store, &numbers, &wang.user, wang.at(60)).unwrap();
    for b in blocks(&wang).iter().filter(|b| !held.contains(b)) {
        for h in &held {
            assert!(
                b.series != h.series || b.first > h.last || h.first > b.last,
                "block {b:?} overlaps {h:?}"
            );
        }
    }
    // The audit log moved with its hash chain, and the new node appends to it.
    let mut c = postgres::Client::connect(&to, postgres::NoTls).unwrap();
    let entries: i64 = c
        .query_one("SELECT count(*) FROM audit_log", &[])
        .unwrap()
        .get(0);
    assert!(entries >= 2, "{entries}");
}
