//! End to end in headless Chromium: the real server binary, a simulated tablet (the tablet
//! library) that syncs a submitted record with a real camera photo, and `e2e/console`'s
//! playwright-core script driving the system's Chromium. The browser signs in, finds the
//! record, opens the photo and sees its hash check, returns the record with a comment, runs a
//! draw twice from the same seed and re-runs it from its recorded input, and checks that a
//! supervisor of the sibling county gets 404. This test then syncs the tablet and checks it
//! received the comment, and that a drawn inspector's tablet receives the sealed plans.

mod common;

use app_core::inspection::{InspectionStatus, ReviewDecision};
use app_core::plan::Plan;
use common::console::{photo_bytes, submitted_record};
use common::{PASSWORD, Tablet, TestServer, rid};
use std::path::{Path, PathBuf};
use std::process::Command;

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../e2e/console")
}

/// Installs the pinned playwright-core (package-lock.json) when it is missing.
fn ensure_node_modules() {
    let dir = e2e_dir();
    if dir.join("node_modules/playwright-core").exists() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .expect("npm runs (Debian package nodejs/npm)");
    assert!(status.success(), "npm ci in e2e/console failed");
}

#[test]
fn a_supervisor_reviews_in_the_browser_and_the_tablet_receives_the_decision() {
    ensure_node_modules();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    let wang = Tablet::new(&server, "u-wang");
    let li = Tablet::new(&server, "u-li");
    let blobs = tablet::blobs::BlobStore::open(dir.path().join("wang-blobs")).unwrap();
    let sha = blobs.put(&photo_bytes("gps-DSCN0010.jpg")).unwrap().sha256;
    let id = rid("rec-e2e-1");
    submitted_record(&server, &wang, &li, &id, &blobs, &sha);

    let out = dir.path().join("e2e.json");
    // Under target/ unless `cargo xtask screenshots` asks for the README's pictures.
    let shots = std::env::var_os("SCREENSHOTS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots"));
    let run = Command::new("node")
        .arg(e2e_dir().join("console.e2e.mjs"))
        .env("CONSOLE_URL", server.url())
        .env("RECORD_ID", &id)
        .env("PHOTO_SHA", sha.as_str())
        .env("PASSWORD", PASSWORD)
        .env("SCREENSHOTS", &shots)
        .env("E2E_OUT", &out)
        .output()
        .expect("node runs");
    let result: serde_json::Value = std::fs::read_to_string(&out)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    assert!(
        run.status.success(),
        "browser script failed: {}\n{}\nresult so far: {result:#}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );

    // The record and its photo, as the browser saw them.
    assert_eq!(result["statusBefore"], "submitted");
    assert_eq!(result["photoSha"], sha.as_str());
    assert_eq!(result["photoCheck"], "match", "{result:#}");
    assert!(result["photoCamera"].as_str().unwrap().contains("NIKON"));
    assert_eq!(result["photoTakenAt"], "2008-10-22 16:28:39");
    assert!(
        result["photoPosition"]
            .as_str()
            .unwrap()
            .starts_with("43.46")
    );
    assert!(
        result["photoWidth"].as_u64().unwrap() > 100,
        "the image loaded full size"
    );
    // The return with its comment, shown as text.
    assert_eq!(result["statusAfter"], "returned");
    assert_eq!(result["reviewComment"], result["comment"]);
    assert!(result["ledgerHasRecord"].as_bool().unwrap());

    // The tablet receives the decision at its next sync.
    let report = wang.sync();
    assert_eq!(report.pulled, 1, "{report:?}");
    let record = wang.record(&id);
    assert_eq!(record.status, InspectionStatus::Returned);
    let review = record.review.expect("a review");
    assert_eq!(review.decision, ReviewDecision::Returned);
    assert_eq!(review.comment, result["comment"].as_str().unwrap());
    assert_eq!(review.by.as_str(), "u-zhao");

    // The same seed gives the same draw and the same plans; the re-run agrees.
    let rows = |key: &str| result[key]["rows"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows("draw1").len(), 2, "{result:#}");
    assert_eq!(rows("draw1"), rows("sealed"));
    assert_eq!(rows("draw1"), rows("draw2"));
    assert_eq!(rows("draw1"), rows("rerun"));
    assert_eq!(result["draw1"]["drawId"], result["draw2"]["drawId"]);
    assert!(result["draw2AlreadySealed"].as_bool().unwrap());
    assert_eq!(result["rerunSame"], "true");
    assert_eq!(result["sealed"]["seed"], "2026-11-23 福彩3D 517");

    // A drawn inspector's tablet receives the sealed plans assigned to them.
    let first = &rows("sealed")[0];
    let inspector = first["inspectors"]
        .as_str()
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    let drawn = Tablet::new(&server, inspector);
    let plans = drawn.store.lock().unwrap().reference::<Plan>().unwrap();
    let plan = plans
        .iter()
        .find(|p| p.id.as_str() == first["plan"].as_str().unwrap())
        .unwrap_or_else(|| panic!("{inspector} lacks the drawn plan: {plans:?}"));
    assert!(plan.sealed);
    assert_eq!(
        plan.enterprise.as_str(),
        first["enterprise"].as_str().unwrap()
    );

    // The sibling county sees nothing of it.
    assert_eq!(result["siblingListHasRecord"], false);
    assert_eq!(result["siblingRecordStatus"], 404);
    assert_eq!(result["siblingPhotoStatus"], 404);
    assert_eq!(result["siblingDrawStatus"], 404);
}
