//! The contract's shapes: a request reaches the shell and an answer returns as the same
//! value, a request gets only its own answer, and the views' helpers read as the screens
//! show them.

use app_core::checklist::ChecklistTemplate;
use app_core::docnumber::DocumentKind;
use app_core::geo::Day;
use app_core::hazard::{HazardLevel, NewHazard};
use app_core::ids::InspectionId;
use app_core::inspection::{Inspection, Unmet};
use app_core::settings::UnitSettings;
use app_core::signing::SignOffer;
use serde_json::json;
use tablet_api::*;

#[test]
fn a_request_and_its_answer_survive_the_trip_through_the_shell() {
    let request: Request = ExportCaseFile {
        id: InspectionId::new("insp-1"),
        version: Some("v2".into()),
    }
    .into();
    let text = serde_json::to_string(&request).unwrap();
    assert_eq!(
        serde_json::from_str::<Request>(&text).unwrap(),
        request,
        "{text}"
    );
    let answer = Answer::GetDraft(Some("{}".into()));
    let back: Answer = serde_json::from_str(&serde_json::to_string(&answer).unwrap()).unwrap();
    assert_eq!(GetDraft::answer(back).unwrap(), Some("{}".to_owned()));
}

#[test]
fn an_answer_to_another_request_is_an_internal_error() {
    let e = GetHome::answer(Answer::PutDraft(())).unwrap_err();
    assert_eq!(e.code, ErrorCode::Internal);
    assert!(
        e.en.contains("PutDraft") && e.en.contains("GetHome"),
        "{}",
        e.en
    );
}

#[test]
fn an_error_carries_its_code_and_field() {
    let e = ApiError::new(ErrorCode::Input, "请输入密码", "password is empty").at("password");
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(
        v,
        json!({"code": "input", "field": "password", "zh": "请输入密码", "en": "password is empty"})
    );
}

#[test]
fn an_export_status_parses_and_reads_as_progress() {
    // The shape `ExportStatus` travels in.
    let v = json!({"id": "insp-1", "signed_version": "v2", "state": "running",
        "started_at": 1, "finished_at": null, "bytes_done": 300, "bytes_total": 1200,
        "files_done": 4, "current": "documents/现场检查记录.pdf",
        "path": "/data/exports/电子案卷_insp-1_v2_20261123-140509.zip",
        "file_name": "电子案卷_insp-1_v2_20261123-140509.zip", "fingerprint": "ab12",
        "size": null, "sha256": null, "files": null, "photos": null, "error": null});
    let s: ExportStatus = serde_json::from_value(v).unwrap();
    assert!(s.running());
    assert_eq!(s.percent(), 25);
    let failed = json!({"id": "insp-1", "signed_version": "v2", "state": "failed",
        "started_at": 1, "finished_at": 2, "bytes_done": 0, "bytes_total": 0,
        "files_done": 0, "current": "", "path": "p", "file_name": "f", "fingerprint": "ab12",
        "size": null, "sha256": null, "files": null, "photos": null,
        "error": {"code": "export", "zh": "原始照片已损坏", "en": "damaged", "field": "export"}});
    let s: ExportStatus = serde_json::from_value(failed).unwrap();
    assert!(!s.running());
    assert_eq!(s.state, ExportState::Failed);
    assert_eq!(s.percent(), 0);
    assert_eq!(s.error.unwrap().zh, "原始照片已损坏");
}

#[test]
fn a_record_view_carries_what_the_rules_decided_for_its_forms() {
    let stock = json!([
        {"unit": "xw", "kind": "inspection_record", "year": 2026, "remaining": 3},
        {"unit": "xw", "kind": "rectification_order", "year": 2026, "remaining": 0}
    ]);
    let view = RecordView {
        record: sample_record(),
        template: sample_template(),
        signed: Vec::new(),
        revision: "r0".into(),
        signing: SignOffer {
            can_sign: true,
            can_submit: false,
            blockers: vec![Unmet::NoOnsitePerson],
        },
        to_number: vec![
            DocumentKind::InspectionRecord,
            DocumentKind::RectificationOrder,
        ],
        numbers: serde_json::from_value(stock).unwrap(),
        numbers_missing: vec![DocumentKind::RectificationOrder],
        deadlines: UnitSettings::default().suggested_deadlines(Day::ymd(2026, 11, 23)),
    };
    let text = serde_json::to_string(&Answer::GetRecord(view.clone())).unwrap();
    let back = GetRecord::answer(serde_json::from_str(&text).unwrap()).unwrap();
    assert_eq!(back, view);
    assert_eq!(back.deadlines.general, Day::ymd(2026, 12, 23));
}

#[test]
fn a_new_hazard_travels_without_an_id() {
    let request: Request = RegisterHazard {
        id: InspectionId::new("insp-1"),
        hazard: NewHazard {
            item: "T-01".into(),
            level: HazardLevel::General,
            description: "d".into(),
            place: String::new(),
            measures: "m".into(),
            deadline: Day::ymd(2026, 12, 23),
            supervision_level: String::new(),
            supervision_responsible: String::new(),
        },
    }
    .into();
    let v = serde_json::to_value(&request).unwrap();
    assert!(v["register_hazard"]["hazard"].get("id").is_none(), "{v}");
    assert_eq!(serde_json::from_value::<Request>(v).unwrap(), request);
}

#[test]
fn a_change_applies_only_to_the_view_of_its_record_at_its_base_revision() {
    use app_core::ids::ItemCode;
    use app_core::inspection::{Answer as Ans, InspectionStatus, ItemResult};
    let view = RecordView {
        record: sample_record(),
        template: sample_template(),
        signed: Vec::new(),
        revision: "r0".into(),
        signing: SignOffer::default(),
        to_number: Vec::new(),
        numbers: Vec::new(),
        numbers_missing: Vec::new(),
        deadlines: UnitSettings::default().suggested_deadlines(Day::ymd(2026, 11, 23)),
    };
    let mut after = view.record.clone();
    after.results.insert(
        ItemCode::new("T-01"),
        ItemResult {
            answer: Some(Ans::Fails),
            ..ItemResult::default()
        },
    );
    after.status = InspectionStatus::Completed;
    let changes = diff(&view.record, &after);
    assert_eq!(changes.len(), 2, "{changes:?}");
    let change = RecordChange {
        id: view.record.id.clone(),
        base: "r0".into(),
        revision: "r1".into(),
        status: after.status,
        changes,
        signed: None,
        signing: SignOffer {
            can_sign: true,
            can_submit: false,
            blockers: vec![Unmet::NoOnsitePerson],
        },
        to_number: vec![DocumentKind::InspectionRecord],
        numbers: Vec::new(),
        numbers_missing: vec![DocumentKind::InspectionRecord],
    };
    // The shape it travels in: the changed item's result, not the record.
    let text = serde_json::to_string(&Answer::ApplyCommand(change.clone())).unwrap();
    assert!(text.contains(r#"{"result":["T-01",{"#), "{text}");
    assert!(!text.contains("enterprise"), "{text}");
    let mut other = view.clone();
    other.revision = "r9".into();
    assert!(!other.apply(change.clone()), "another revision reloads");
    let mut elsewhere = view.clone();
    elsewhere.record.id = InspectionId::new("r2");
    assert!(!elsewhere.apply(change.clone()), "another record's view");
    let mut v = view.clone();
    assert!(v.apply(change));
    assert_eq!((v.record, v.revision.as_str()), (after, "r1"));
    assert_eq!(v.to_number, vec![DocumentKind::InspectionRecord]);
    assert_eq!(v.numbers_missing, vec![DocumentKind::InspectionRecord]);
    assert_eq!(v.signing.blockers, vec![Unmet::NoOnsitePerson]);
    assert_eq!(thumb_url("ab"), "thumb://localhost/ab");
}

#[test]
fn the_sync_status_parses() {
    let v = json!({"state": {"Waiting": {"error": "network: refused", "retry_in_secs": 2}},
        "pending": {"records": 1, "bytes": 2048}, "photos_pending": 4, "upload": null,
        "last_upload": null});
    let s: SyncStatus = serde_json::from_value(v).unwrap();
    assert_eq!(s.pending.records, 1);
    assert_eq!(s.photos_pending, 4);
    assert!(matches!(
        s.state,
        SyncState::Waiting {
            retry_in_secs: 2,
            ..
        }
    ));
}

fn sample_template() -> ChecklistTemplate {
    ChecklistTemplate::parse_toml(
        r#"
id = "t"
version = 1
name = "测试"
industries = ["machinery"]
published = "2026-11-01"
[[category]]
name = "基础管理"
[[category.item]]
code = "T-01"
text = "是否建立全员安全生产责任制"
basis = [{ source = "安全生产法", article = "第二十二条" }]
"#,
    )
    .unwrap()
}

fn sample_record() -> Inspection {
    serde_json::from_value(json!({
        "id": "r1", "kind": "routine", "unit": "xw",
        "enterprise": {"id": "e-001", "name": "企业", "uscc": "913201023AGYGLUY37",
            "address": "地址", "legal_representative": "张三", "phone": "1",
            "industry": "machinery"},
        "template": {"id": "t", "version": 1}, "plan": null, "created_at": 0,
        "created_by": "u-wang", "inspectors": {}, "arrival": null,
        "attestations": {"no_notice_given": false, "no_escort_accepted": false},
        "places": "", "summary": "", "results": {}, "hazards": {}, "onsite_person": null,
        "signatures": {}, "status": "on_site", "started_at": null, "completed_at": null,
        "review": null, "signed_versions": {}, "documents": {}
    }))
    .unwrap()
}
