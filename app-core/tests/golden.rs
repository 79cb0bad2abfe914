//! Formats that must not change by accident, pinned by bytes checked in under `tests/golden/`:
//! a saved inspection document (Automerge bytes, the record read from it and its change
//! notes) and the CBOR sync messages. Old bytes are loaded and what they read is compared, and
//! the same content written today must give the same bytes, so a format change shows up as a
//! diff of these files.
//!
//! To accept an intended change: `UPDATE_GOLDEN=1 cargo test -p app-core --test golden`, then
//! say in the commit why the format changed (and what reads the old one).

use app_core::checklist::ChecklistTemplate;
use app_core::document::InspectionDoc;
use app_core::evidence::{PhotoRef, Sha256Hex};
use app_core::geo::Timestamp;
use app_core::ids::{DeviceId, ItemCode, UserId};
use app_core::inspection::{
    Answer, Command, Context, EnterpriseSnapshot, Inspection, InspectionStatus, InspectorRef,
    OnsitePerson,
};
use app_core::kind::InspectionKind;
use app_core::user::{CertificateNo, Role, User};
use app_core::wire::{DocChanges, PROTOCOL_VERSION, Rejection, SyncRequest, SyncResponse};
use std::path::{Path, PathBuf};

const T0: i64 = 1_795_420_800_000; // 2026-11-23 16:00 in Shanghai

const TEMPLATE: &str = r#"
id = "golden"
version = 1
name = "格式固定检查表"
industries = ["machinery"]
published = "2026-11-01"

[[category]]
name = "基础管理"

[[category.item]]
code = "G-01"
text = "是否建立全员安全生产责任制"
basis = [{ source = "安全生产法", article = "第二十二条" }]

[[category.item]]
code = "G-02"
text = "是否按规定开展安全生产教育和培训"
basis = [{ source = "安全生产法", article = "第二十八条" }]
"#;

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

fn inspector(id: &str, name: &str, cert: &str) -> User {
    User {
        id: UserId::from(id),
        name: name.into(),
        unit: "xw".into(),
        role: Role::Inspector {
            certificate: CertificateNo::parse(cert).unwrap(),
        },
    }
}

fn on_record(u: &User) -> InspectorRef {
    InspectorRef {
        user: u.id.clone(),
        name: u.name.clone(),
        certificate: u.certificate().unwrap().clone(),
    }
}

/// A record written the way a tablet writes it: created, two inspectors, on site, answers, a
/// photo with a note, a summary and the person on site.
fn document() -> InspectionDoc {
    let t = ChecklistTemplate::parse_toml(TEMPLATE).unwrap();
    let w = inspector("u-wang", "王强", "32010220180012");
    let l = inspector("u-li", "李娜", "32010220190031");
    let dev = DeviceId::from("tablet-golden");
    let record = Inspection::new_draft(
        "insp-8f0e4b1c-2d3a-4e5f-9a6b-7c8d9e0f1a2b".into(),
        InspectionKind::Routine,
        "xw".into(),
        EnterpriseSnapshot {
            id: "e1".into(),
            name: "南京示例机械有限公司".into(),
            uscc: app_core::uscc::Uscc::parse("914403001922038216").unwrap(),
            address: "南京市玄武区示例路1号".into(),
            legal_representative: "李明".into(),
            phone: "025-84000000".into(),
            industry: app_core::enterprise::Industry::Machinery,
        },
        t.reference(),
        w.id.clone(),
        Timestamp(T0),
    );
    let mut doc = InspectionDoc::create(&record, &t, &dev, Timestamp(T0)).unwrap();
    let photo = Sha256Hex::of(b"golden photo");
    let steps: Vec<(&User, Command)> = vec![
        (&w, Command::AddInspector(on_record(&w))),
        (&w, Command::AddInspector(on_record(&l))),
        (
            &w,
            Command::Transition {
                to: InspectionStatus::OnSite,
                comment: String::new(),
            },
        ),
        (
            &w,
            Command::SetPlaces {
                text: "机加工车间、仓库".into(),
            },
        ),
        (
            &l,
            Command::Answer {
                item: ItemCode::from("G-01"),
                answer: Some(Answer::Complies),
            },
        ),
        (
            &l,
            Command::Answer {
                item: ItemCode::from("G-02"),
                answer: Some(Answer::Fails),
            },
        ),
        (
            &w,
            Command::AddItemPhoto {
                item: ItemCode::from("G-02"),
                photo: PhotoRef {
                    sha256: photo,
                    added_at: Timestamp(T0 + 600_000),
                    added_by: w.id.clone(),
                },
            },
        ),
        (
            &w,
            Command::SetNote {
                item: ItemCode::from("G-02"),
                text: "三级安全教育记录缺失".into(),
            },
        ),
        (
            &w,
            Command::SetSummary {
                text: "培训记录缺失，已责令整改。".into(),
            },
        ),
        (
            &l,
            Command::SetOnsitePerson(OnsitePerson {
                name: "陈经理".into(),
                position: "安全主管".into(),
                phone: "13800000000".into(),
            }),
        ),
    ];
    for (minute, (who, command)) in steps.into_iter().enumerate() {
        let cx = Context {
            actor: who,
            now: Timestamp(T0 + (minute as i64 + 1) * 60_000),
            template: &t,
        };
        doc.apply(&command, &cx, &dev).unwrap();
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
        version: PROTOCOL_VERSION,
        cursor: 41,
        push: vec![DocChanges {
            id: "insp-8f0e4b1c-2d3a-4e5f-9a6b-7c8d9e0f1a2b".into(),
            bytes: vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3],
        }],
    }
}

fn response() -> SyncResponse {
    SyncResponse {
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
        }],
        more: true,
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
