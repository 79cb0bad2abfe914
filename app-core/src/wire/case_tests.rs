//! The case sync messages' CBOR bytes, pinned beside the records' (`tests/golden/`); to accept
//! an intended change: `UPDATE_GOLDEN=1 cargo test -p app-core --lib wire`.

use super::{CaseSyncRequest, CaseSyncResponse, DocChanges, Rejection};
use std::path::PathBuf;

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn cbor(value: &impl serde::Serialize) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("writing to a Vec cannot fail");
    out
}

fn pinned(name: &str, bytes: &[u8]) {
    let path = golden(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, bytes).expect("golden file written");
    }
    let expected = std::fs::read(&path).expect("golden file present");
    assert_eq!(bytes, &expected[..], "{} changed", path.display());
}

fn request() -> CaseSyncRequest {
    CaseSyncRequest {
        version: super::PROTOCOL_VERSION,
        cursor: 41,
        cases: vec![DocChanges {
            id: "0b6f3c1e-8d2a-4c55-9a1e-3f6b2d9c7e11".into(),
            bytes: vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3],
            receipt: None,
        }],
    }
}

fn response() -> CaseSyncResponse {
    CaseSyncResponse {
        cursor: 57,
        accepted: vec![0],
        rejected: vec![Rejection {
            id: "0b6f3c1e-8d2a-4c55-9a1e-3f6b2d9c7e12".into(),
            code: "not_reproducible".into(),
            message: "the change is not what command close writes".into(),
        }],
        cases: vec![DocChanges {
            id: "0b6f3c1e-8d2a-4c55-9a1e-3f6b2d9c7e13".into(),
            bytes: vec![9, 8, 7],
            receipt: None,
        }],
        more: true,
    }
}

#[test]
fn case_sync_messages_keep_their_cbor_bytes() {
    pinned("case-sync-request.cbor", &cbor(&request()));
    pinned("case-sync-response.cbor", &cbor(&response()));
    let old: CaseSyncRequest =
        ciborium::from_reader(&std::fs::read(golden("case-sync-request.cbor")).unwrap()[..])
            .unwrap();
    assert_eq!(old, request());
    let old: CaseSyncResponse =
        ciborium::from_reader(&std::fs::read(golden("case-sync-response.cbor")).unwrap()[..])
            .unwrap();
    assert_eq!(old, response());
}

/// A sync where nothing changed is a few bytes each way, as for records.
#[test]
fn an_empty_case_sync_is_a_few_bytes() {
    let empty = CaseSyncResponse {
        cursor: 57,
        accepted: Vec::new(),
        rejected: Vec::new(),
        cases: Vec::new(),
        more: false,
    };
    let bytes = cbor(&empty);
    assert!(bytes.len() <= 8, "{bytes:?}");
    let back: CaseSyncResponse = ciborium::from_reader(&bytes[..]).unwrap();
    assert_eq!(back, empty);
}
