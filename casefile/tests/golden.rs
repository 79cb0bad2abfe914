//! A case file's format, pinned by a whole case file checked in under `tests/golden/`
//! (`casefile.zip`, with its manifest and layout beside it as text for readable diffs):
//!
//! - the old case file still verifies with today's verifier, as a recipient years later
//!   would verify it;
//! - exporting the same record today gives the same bytes, so any change of layout, manifest,
//!   record, audit trail or ZIP encoding shows up as a diff of these files.
//!
//! To accept an intended change: `UPDATE_GOLDEN=1 cargo test -p casefile --test golden`, and
//! say in the commit why (old case files must still verify).

mod common;

use common::*;
use std::path::{Path, PathBuf};

const PHOTOS: &[&str] = &["Canon_40D.jpg", "Nikon_D70.jpg"];

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn check_or_update(name: &str, now: &[u8]) {
    let path = golden(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, now).unwrap();
    } else {
        let old = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
        assert!(
            old == now,
            "{name}: today's export differs from the checked-in case file; if intended, \
             UPDATE_GOLDEN=1 and explain it in the commit"
        );
    }
}

fn layout(bytes: &[u8]) -> String {
    entries(bytes)
        .iter()
        .map(|(name, data)| format!("{name}\t{}\n", data.len()))
        .collect()
}

#[test]
fn a_case_file_exported_today_has_the_pinned_bytes_layout_and_manifest() {
    let bytes = export(&fixture(PHOTOS, false));
    let files = entries(&bytes);
    let (_, manifest) = files
        .iter()
        .find(|(n, _)| n == "manifest.json")
        .expect("a manifest");
    check_or_update("layout.txt", layout(&bytes).as_bytes());
    check_or_update("manifest.json", manifest);
    check_or_update("casefile.zip", &bytes);
}

#[test]
fn the_checked_in_case_file_still_verifies() {
    let bytes = std::fs::read(golden("casefile.zip")).unwrap();
    let report = verify(&bytes, &expect(&key(7)));
    assert!(report.holds(), "{}", report.render_zh_en());
    assert_eq!(
        layout(&bytes),
        std::fs::read_to_string(golden("layout.txt")).unwrap()
    );
    let record: app_core::inspection::Inspection =
        serde_json::from_slice(&entries(&bytes)[1].1).unwrap();
    assert_eq!(record, fixture(PHOTOS, false).signed);
}
