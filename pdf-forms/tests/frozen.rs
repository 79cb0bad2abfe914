//! What was signed is frozen: after later edits, rendering the signed version still shows the
//! signed text and the signed version's content hash; the edits show only in the current
//! record.

mod common;

use app_core::evidence::Sha256Hex;
use app_core::inspection::{Command, OnsitePerson};
use common::*;
use pdf_forms::FormKind;

#[test]
fn the_signed_version_renders_the_signed_text_after_later_edits() {
    let mut case = on_site_case(&Names::default(), false);
    case.sign("v1");
    let signed_hash = case.doc.record().signed_versions["v1"].content_hash.clone();
    // Edits after signing (allowed while completed, shown as amendments).
    case.apply(
        "wang",
        Command::SetSummary {
            text: "事后改写的检查情况：未发现问题。".into(),
        },
    );
    case.apply(
        "li",
        Command::SetPlaces {
            text: "办公楼".into(),
        },
    );
    case.apply(
        "li",
        Command::SetOnsitePerson(OnsitePerson {
            name: "赵替身".into(),
            position: "行政助理".into(),
            phone: "13000000000".into(),
        }),
    );
    assert!(!case.doc.amendments("v1").unwrap().is_empty());
    let signed = case.doc.signed_record("v1").unwrap();
    let current = case.doc.record().clone();
    let images = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();

    let path = write(
        "frozen-signed.pdf",
        &render(FormKind::InspectionRecord, &case.input(&signed, &lookup)),
    );
    let joined = text_joined(&path);
    assert!(joined.contains(&squash(SUMMARY)));
    assert!(joined.contains("抛光车间、喷涂车间、危化品仓库"));
    assert!(joined.contains("陈立新（安全生产管理部经理）"));
    for later in ["事后改写的检查情况", "办公楼", "赵替身"] {
        assert!(
            !joined.contains(later),
            "{later} leaked into the signed version"
        );
    }
    // The footer carries the hash the signature recorded.
    assert!(joined.contains(&format!("内容哈希SHA-256：{signed_hash}")));

    // The current record (not what was signed) does show the edits and another hash.
    let path = write(
        "frozen-current.pdf",
        &render(FormKind::InspectionRecord, &case.input(&current, &lookup)),
    );
    let joined = text_joined(&path);
    assert!(joined.contains("事后改写的检查情况"));
    assert!(joined.contains("赵替身"));
    assert!(!joined.contains(signed_hash.as_str()));
}

#[test]
fn the_same_signed_version_renders_to_identical_bytes() {
    let mut case = on_site_case(&Names::default(), false);
    let v1 = case.sign("v1");
    let images = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    for kind in [FormKind::InspectionRecord, FormKind::RectificationOrder] {
        let a = render(kind, &case.input(&v1, &lookup));
        let b = render(kind, &case.input(&v1, &lookup));
        assert!(a == b, "{kind:?}: two renders differ");
    }
}
