//! Formats that must not change by accident, pinned by bytes checked in under `tests/golden/`:
//! a saved inspection document (Automerge bytes, the record read from it and its change
//! notes) and the CBOR sync messages. Old bytes are loaded and what they read is compared, and
//! the same content written today must give the same bytes, so a format change shows up as a
//! diff of these files.
//!
//! To accept an intended change: `UPDATE_GOLDEN=1 cargo test -p app-core --lib golden`, then
//! say in the commit why the format changed (and what reads the old one).

use crate::document::InspectionDoc;
use crate::hazard::HazardLevel;
use crate::ids::DeviceId;
use crate::inspection::{Command, Inspection};
use crate::kind::InspectionKind;
use crate::test_support::*;
use crate::wire::{DocChanges, PROTOCOL_VERSION, Receipt, Rejection, SyncRequest, SyncResponse};
use std::path::{Path, PathBuf};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares `now` with the checked-in file (or rewrites it with `UPDATE_GOLDEN=1`).
fn pinned(name: &str, now: &[u8]) {
    let path = golden(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, now).unwrap();
        return;
    }
    let old = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (create it with UPDATE_GOLDEN=1)", path.display()));
    assert!(
        old == now,
        "{name} differs from the checked-in format ({} bytes then, {} now): if the change is \
         intended, run with UPDATE_GOLDEN=1 and explain it in the commit",
        old.len(),
        now.len()
    );
}

/// A 四不两直 record written the way a tablet writes it: created, then the shared on-site
/// script (inspectors, arrival proof with photo, attestations, answers, the person on site,
/// signatures and a refusal with a witness), then a hazard from the failed item.
fn document() -> InspectionDoc {
    let t = template();
    let dev = DeviceId::from("tablet-golden");
    let mut record = new_record(InspectionKind::Unannounced);
    record.id = "insp-8f0e4b1c-2d3a-4e5f-9a6b-7c8d9e0f1a2b".into();
    let mut doc = InspectionDoc::create(&record, &t, &dev, T0).unwrap();
    let mut script = on_site_script();
    script.push((
        wang(),
        Command::RegisterHazard(hazard("h-1", "T-03", HazardLevel::Major)),
    ));
    for (minute, (who, command)) in script.into_iter().enumerate() {
        doc.apply(&command, &cx(&who, &t, minute as i64 + 1), &dev)
            .unwrap();
    }
    doc
}

fn json(value: &impl serde::Serialize) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(value).unwrap();
    out.push(b'\n');
    out
}

#[test]
fn a_saved_inspection_document_keeps_its_format() {
    let mut doc = document();
    pinned("inspection.automerge", &doc.save());
    pinned("inspection.record.json", &json(doc.record()));
    pinned("inspection.history.json", &json(&doc.history()));
}

#[test]
fn old_document_bytes_read_as_they_did() {
    let bytes = std::fs::read(golden("inspection.automerge")).unwrap();
    let mut doc = InspectionDoc::load(&bytes, &DeviceId::from("reader")).unwrap();
    let record: Inspection =
        serde_json::from_slice(&std::fs::read(golden("inspection.record.json")).unwrap()).unwrap();
    assert_eq!(*doc.record(), record);
    let history: serde_json::Value =
        serde_json::from_slice(&std::fs::read(golden("inspection.history.json")).unwrap()).unwrap();
    assert_eq!(serde_json::to_value(doc.history()).unwrap(), history);
    assert!(doc.record().violations().is_empty());
}

fn cbor(value: &impl serde::Serialize) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).unwrap();
    out
}

fn request() -> SyncRequest {
    SyncRequest {
        // Pinned at version 2, before receipts; a server still answers it.
        version: 2,
        cursor: 41,
        push: vec![DocChanges {
            id: "insp-8f0e4b1c-2d3a-4e5f-9a6b-7c8d9e0f1a2b".into(),
            bytes: vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3],
            receipt: None,
        }],
        epoch: None,
        case_cursor: None,
    }
}

fn response() -> SyncResponse {
    SyncResponse {
        revoked: false,
        cursor: 57,
        accepted: vec![0, 2],
        rejected: vec![Rejection {
            id: "insp-1".into(),
            code: "rule".into(),
            message: "rule: the record is frozen".into(),
        }],
        pull: vec![DocChanges {
            id: "insp-2".into(),
            bytes: vec![9, 8, 7],
            receipt: None,
        }],
        more: true,
        epoch: None,
        cases: None,
    }
}

#[test]
fn sync_messages_keep_their_cbor_bytes() {
    pinned("sync-request.cbor", &cbor(&request()));
    pinned("sync-response.cbor", &cbor(&response()));
    let old: SyncRequest =
        ciborium::from_reader(&std::fs::read(golden("sync-request.cbor")).unwrap()[..]).unwrap();
    assert_eq!(old, request());
    let old: SyncResponse =
        ciborium::from_reader(&std::fs::read(golden("sync-response.cbor")).unwrap()[..]).unwrap();
    assert_eq!(old, response());
}

/// Server epochs (the `e` fields) came later: the messages above, pinned before them, still
/// read the same (no epoch); the messages with an epoch are pinned beside them.
#[test]
fn sync_messages_with_an_epoch_keep_their_cbor_bytes() {
    let request = SyncRequest {
        epoch: Some("6f1c0d2e9a8b4c3d".into()),
        ..request()
    };
    let response = SyncResponse {
        epoch: Some("7a2b3c4d5e6f7081".into()),
        ..response()
    };
    pinned("sync-request-epoch.cbor", &cbor(&request));
    pinned("sync-response-epoch.cbor", &cbor(&response));
    let old: SyncRequest =
        ciborium::from_reader(&std::fs::read(golden("sync-request-epoch.cbor")).unwrap()[..])
            .unwrap();
    assert_eq!(old, request);
    let old: SyncResponse =
        ciborium::from_reader(&std::fs::read(golden("sync-response-epoch.cbor")).unwrap()[..])
            .unwrap();
    assert_eq!(old, response);
    // A tablet that sends no epoch is answered without one: the bytes it reads are unchanged.
    assert_eq!(
        cbor(&self::response()),
        std::fs::read(golden("sync-response.cbor")).unwrap()
    );
}

/// Whether penalty cases wait (the `k` fields) came with the cases' sync: the messages
/// without them keep their bytes (above); those with them are pinned beside them.
#[test]
fn sync_messages_asking_whether_cases_wait_keep_their_cbor_bytes() {
    let request = SyncRequest {
        version: PROTOCOL_VERSION,
        epoch: Some("6f1c0d2e9a8b4c3d".into()),
        case_cursor: Some(52),
        ..request()
    };
    let response = SyncResponse {
        epoch: Some("7a2b3c4d5e6f7081".into()),
        cases: Some(false),
        ..response()
    };
    pinned("sync-request-cases.cbor", &cbor(&request));
    pinned("sync-response-cases.cbor", &cbor(&response));
    let old: SyncRequest =
        ciborium::from_reader(&std::fs::read(golden("sync-request-cases.cbor")).unwrap()[..])
            .unwrap();
    assert_eq!(old, request);
    let old: SyncResponse =
        ciborium::from_reader(&std::fs::read(golden("sync-response-cases.cbor")).unwrap()[..])
            .unwrap();
    assert_eq!(old, response);
}

/// Version 3 added receipts (`wire::Receipt`) on pulled documents and on documents pushed
/// whole; the messages without them keep their bytes (above).
#[test]
fn sync_messages_with_receipts_keep_their_cbor_bytes() {
    let receipt = Receipt {
        heads: [[0x11u8; 32], [0x22u8; 32]].concat(),
        seal: vec![0x5a; 64],
    };
    let mut request = SyncRequest {
        version: PROTOCOL_VERSION,
        epoch: Some("6f1c0d2e9a8b4c3d".into()),
        ..request()
    };
    request.push[0].receipt = Some(receipt.clone());
    let mut response = SyncResponse {
        epoch: Some("7a2b3c4d5e6f7081".into()),
        ..response()
    };
    response.pull[0].receipt = Some(receipt);
    pinned("sync-request-receipt.cbor", &cbor(&request));
    pinned("sync-response-receipt.cbor", &cbor(&response));
    let old: SyncRequest =
        ciborium::from_reader(&std::fs::read(golden("sync-request-receipt.cbor")).unwrap()[..])
            .unwrap();
    assert_eq!(old, request);
    let old: SyncResponse =
        ciborium::from_reader(&std::fs::read(golden("sync-response-receipt.cbor")).unwrap()[..])
            .unwrap();
    assert_eq!(old, response);
}
