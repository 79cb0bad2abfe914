//! Document numbers (文号) through the app's own methods, on a real store: issued
//! automatically at signing from this tablet's pool, into the signed version; an empty pool
//! offline asks to sync and changes nothing; a number issued before an interrupted signing is
//! the one the next signing uses.

use super::tests::{TestApp, files_in, filled, inspected, signed_in_app, started, wait_export};
use super::*;
use app_core::docnumber::{Block, DocumentKind, IssuedDocument, Series};
use app_core::hazard::{Hazard, HazardAction, HazardLevel, HazardStage, Reinspection};
use app_core::ids::UnitId;
use app_core::ids::{HazardId, UserId};
use app_core::inspection::Answer;
use app_core::inspection::{Command, Context, Inspection, InspectionStatus};
use casefile::{TrustedKey, VerifyOptions};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::fs;
use tablet_api::{CompleteRecord, ExportState, GetNumbers, NumbersView};

/// Blocks `first..=first+19` of every series u-wang needs now, for this tablet (what a
/// reservation at sign-in or sync brings).
fn stock_up(app: &App, first: u32) {
    let mut store = app.store();
    let blocks: Vec<Block> = crate::numbers::series_needed(&UnitId::new("xw"), now())
        .into_iter()
        .map(|series| Block {
            series,
            device: store.device().clone(),
            first,
            last: first + 19,
        })
        .collect();
    store.add_number_blocks(&blocks).unwrap();
}

fn year() -> i32 {
    now().shanghai_date().year()
}

fn number(code: &str, seq: u32) -> String {
    format!("（玄武）应急{code}〔{}〕{seq}号", year())
}

fn remaining(app: &App, kind: DocumentKind) -> u32 {
    app.store()
        .numbers_remaining(&Series {
            unit: UnitId::new("xw"),
            kind,
            year: year(),
        })
        .unwrap()
}

/// The numbers of the documents in a record (or a signed version of it).
fn numbers_of(record: &Inspection) -> BTreeSet<String> {
    record.documents.keys().cloned().collect()
}

fn signed(app: &App, id: &InspectionId, version: &str) -> Inspection {
    app.store()
        .document(id)
        .unwrap()
        .signed_record(version)
        .unwrap()
}

fn hazard_action(app: &App, id: &InspectionId, hazard: &HazardId, action: HazardAction) {
    app.command(
        id,
        &Command::Hazard {
            hazard: hazard.clone(),
            action,
        },
    )
    .unwrap();
}

/// Registers a hazard on the record's first failed item and orders it rectified.
fn ordered_hazard(app: &App, id: &InspectionId) -> HazardId {
    let record = app.record(id).unwrap();
    let item = record
        .record
        .results
        .iter()
        .find(|(_, r)| r.answer == Some(Answer::Fails))
        .map(|(code, _)| code.clone())
        .unwrap();
    let basis = record.template.item(&item).unwrap().basis.clone();
    let today = App::today();
    let hid = HazardId::new("hz-1");
    app.command(
        id,
        &Command::RegisterHazard(Hazard {
            id: hid.clone(),
            item: Some(item),
            level: HazardLevel::General,
            description: "冲床防护罩缺失".into(),
            place: "一号冲压车间".into(),
            basis,
            penalty: Vec::new(),
            photos: BTreeMap::new(),
            measures: String::new(),
            deadline: None,
            stage: HazardStage::Registered,
            supervision: None,
            registered_on: today,
            reported_on: None,
            reinspections: BTreeMap::new(),
            closed_on: None,
        }),
    )
    .unwrap();
    hazard_action(
        app,
        id,
        &hid,
        HazardAction::Order {
            deadline: today.plus_days(15),
            measures: "立即停用冲床，加装防护罩后方可使用".into(),
        },
    );
    hid
}

fn reinspect(app: &App, id: &InspectionId, hazard: &HazardId, n: u32, passed: bool) {
    let today = App::today();
    hazard_action(app, id, hazard, HazardAction::ReportRectified { on: today });
    hazard_action(
        app,
        id,
        hazard,
        HazardAction::Reinspect {
            id: format!("ri-{n}"),
            reinspection: Reinspection {
                on: today,
                by: UserId::new("u-wang"),
                passed,
                note: if passed {
                    "已加装防护罩"
                } else {
                    "防护罩尚未加装"
                }
                .into(),
                photos: BTreeMap::new(),
                new_deadline: (!passed).then(|| today.plus_days(30)),
            },
        },
    );
}

fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-raw", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_first_signing_issues_the_record_number_into_the_signed_version_and_it_exports() {
    let t = signed_in_app();
    let app = &t.app;
    stock_up(app, 41);
    let (id, originals) = filled(app);
    let before = app.record(&id).unwrap();
    assert_eq!(before.to_number, vec![DocumentKind::InspectionRecord]);
    assert!(
        before
            .numbers
            .iter()
            .all(|s| s.remaining == 20 && s.unit.as_str() == "xw"),
        "{:?}",
        before.numbers
    );
    app.call(CompleteRecord { id: id.clone() }).unwrap();

    let record = app.store().inspection(&id).unwrap();
    assert_eq!(record.status, InspectionStatus::Completed);
    let issued: Vec<&IssuedDocument> = record.documents.values().collect();
    assert_eq!(issued.len(), 1, "{issued:?}");
    let d = issued[0];
    assert_eq!(d.kind, DocumentKind::InspectionRecord);
    assert_eq!(d.number, number("检记", 41));
    assert_eq!((d.seq, d.year), (41, year()));
    assert_eq!(d.by.as_str(), "u-wang");
    assert_eq!(&d.device, app.store().device());
    // In the signed version: what the documents are rendered from.
    assert_eq!(
        numbers_of(&signed(app, &id, "v1")),
        BTreeSet::from([number("检记", 41)])
    );
    assert_eq!(remaining(app, DocumentKind::InspectionRecord), 19);
    assert_eq!(remaining(app, DocumentKind::RectificationOrder), 20);
    let view = app.record(&id).unwrap();
    assert!(view.to_number.is_empty());

    // Amended and signed again: the same document, no new number.
    let item = view.template.categories[0].items[2].code.clone();
    app.command(
        &id,
        &Command::SetNote {
            item,
            text: "补充说明".into(),
        },
    )
    .unwrap();
    app.complete(&id).unwrap();
    assert_eq!(
        numbers_of(&signed(app, &id, "v2")),
        BTreeSet::from([number("检记", 41)])
    );
    assert_eq!(remaining(app, DocumentKind::InspectionRecord), 19);

    // The case file: verifies, and its 现场检查记录 carries the number.
    app.export_casefile(&id, None).unwrap();
    let done = wait_export(app, &id);
    assert_eq!(done.state, ExportState::Done, "{:?}", done.error);
    assert!(
        done.file_name
            .starts_with(&format!("电子案卷_{}_v2_", number("检记", 41))),
        "{}",
        done.file_name
    );
    let path = PathBuf::from(&done.path);
    let key = crate::sync::device_key(&app.store())
        .unwrap()
        .verifying_key();
    let report = casefile::verify(
        fs::File::open(&path).unwrap(),
        &VerifyOptions {
            trusted_keys: vec![TrustedKey {
                key,
                label: "this tablet".into(),
            }],
        },
    );
    assert!(report.holds(), "{}", report.render_zh_en());
    let files = casefile::archive::read_all(fs::File::open(&path).unwrap()).unwrap();
    let file = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| panic!("{name} not in the case file"))
    };
    let text = pdf_text(&file("documents/现场检查记录.pdf"));
    assert!(text.contains(&number("检记", 41)), "{text}");
    let json: Value = serde_json::from_slice(&file("record.json")).unwrap();
    assert_eq!(
        json["documents"][number("检记", 41)]["seq"],
        json!(41),
        "{}",
        json["documents"]
    );
    assert_eq!(done.photos, Some(originals.len()));
    assert_eq!(files_in(&t.config.exports), vec![done.file_name.clone()]);
}

#[test]
fn orders_and_reinspection_opinions_are_numbered_at_the_signing_that_carries_them() {
    let t = signed_in_app();
    let app = &t.app;
    stock_up(app, 1);
    let (id, _) = filled(app);
    let hazard = ordered_hazard(app, &id);
    assert_eq!(
        app.record(&id).unwrap().to_number,
        vec![
            DocumentKind::InspectionRecord,
            DocumentKind::RectificationOrder
        ]
    );
    app.complete(&id).unwrap();
    let v1 = BTreeSet::from([number("检记", 1), number("责改", 1)]);
    assert_eq!(numbers_of(&signed(app, &id, "v1")), v1);

    // A failed re-inspection orders rectification again with a new deadline: the next
    // signing numbers the opinion and the new order.
    reinspect(app, &id, &hazard, 1, false);
    assert_eq!(
        app.record(&id).unwrap().to_number,
        vec![
            DocumentKind::RectificationOrder,
            DocumentKind::ReinspectionOpinion
        ]
    );
    app.complete(&id).unwrap();
    let mut v2 = v1.clone();
    v2.extend([number("责改", 2), number("复查", 1)]);
    assert_eq!(numbers_of(&signed(app, &id, "v2")), v2);
    assert_eq!(numbers_of(&signed(app, &id, "v1")), v1, "v1 as it was");

    // Passed and closed: a new opinion; the order (same hazards, same deadline) stands.
    reinspect(app, &id, &hazard, 2, true);
    hazard_action(app, &id, &hazard, HazardAction::Close { on: App::today() });
    app.complete(&id).unwrap();
    let mut v3 = v2.clone();
    v3.insert(number("复查", 2));
    assert_eq!(numbers_of(&signed(app, &id, "v3")), v3);
    assert_eq!(remaining(app, DocumentKind::InspectionRecord), 19);
    assert_eq!(remaining(app, DocumentKind::RectificationOrder), 18);
    assert_eq!(remaining(app, DocumentKind::ReinspectionOpinion), 18);
    // Signing again with nothing new issues nothing.
    app.complete(&id).unwrap();
    assert_eq!(numbers_of(&app.store().inspection(&id).unwrap()), v3);

    // Every document of v3 is rendered with its number: the latest order and opinion.
    app.export_casefile(&id, Some("v3")).unwrap();
    let done = wait_export(app, &id);
    assert_eq!(done.state, ExportState::Done, "{:?}", done.error);
    let files = casefile::archive::read_all(fs::File::open(&done.path).unwrap()).unwrap();
    let text = |name: &str| {
        pdf_text(
            &files
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("{name} missing"))
                .1,
        )
    };
    assert!(text("documents/现场检查记录.pdf").contains(&number("检记", 1)));
    assert!(text("documents/责令限期整改指令书.pdf").contains(&number("责改", 2)));
    let opinion = text("documents/整改复查意见书.pdf");
    assert!(opinion.contains(&number("复查", 2)), "{opinion}");
    // The opinion answers the first order.
    assert!(opinion.contains(&number("责改", 1)), "{opinion}");
}

#[test]
fn offline_with_an_empty_pool_the_signing_asks_to_sync_and_changes_nothing() {
    let TestApp { _dir, app, config } = signed_in_app();
    // The server named in the session does not answer: this tablet is offline.
    let (id, _) = filled(&app);
    let before = app.store().inspection(&id).unwrap();
    let e = app.call(CompleteRecord { id: id.clone() }).unwrap_err();
    assert!(
        e.zh.starts_with("本机没有可用的文书编号（文号）：现场检查记录（检记〔"),
        "{}",
        e.zh
    );
    assert!(
        e.zh.contains("本机离线") && e.zh.contains("同步") && e.zh.contains("已保存"),
        "{}",
        e.zh
    );
    assert!(
        e.en.contains("No document numbers") && e.en.contains("sync"),
        "{}",
        e.en
    );
    assert_eq!(e.field.as_deref(), Some("numbers"));
    // Nothing spent, signed or changed; every signature kept.
    let after = app.store().inspection(&id).unwrap();
    assert_eq!(after, before);
    assert_eq!(after.status, InspectionStatus::OnSite);
    assert!(after.signed_versions.is_empty() && after.documents.is_empty());
    assert_eq!(after.signatures.len(), 3);

    // Record numbers held, but none for the order this record now needs: refused the same
    // way, and the record number is not spent either.
    {
        let mut store = app.store();
        let device = store.device().clone();
        store
            .add_number_blocks(&[Block {
                series: Series {
                    unit: UnitId::new("xw"),
                    kind: DocumentKind::InspectionRecord,
                    year: year(),
                },
                device,
                first: 1,
                last: 20,
            }])
            .unwrap();
    }
    ordered_hazard(&app, &id);
    let e = app.complete(&id).unwrap_err();
    assert!(
        e.zh.contains("责令限期整改指令书") && !e.zh.contains("现场检查记录"),
        "{}",
        e.zh
    );
    assert!(app.store().inspection(&id).unwrap().documents.is_empty());
    assert_eq!(remaining(&app, DocumentKind::InspectionRecord), 20);

    // After a sync brought numbers, the same tap signs; after a restart too.
    drop(app);
    let app = App::open(config).unwrap();
    stock_up(&app, 101);
    app.complete(&id).unwrap();
    assert_eq!(
        numbers_of(&signed(&app, &id, "v1")),
        BTreeSet::from([number("检记", 1), number("责改", 101)])
    );
}

#[test]
fn a_number_issued_before_an_interrupted_signing_is_the_one_the_next_signing_uses() {
    let TestApp { _dir, app, config } = signed_in_app();
    stock_up(&app, 1);
    let (id, _) = filled(&app);
    // What a signing does first, then the app stops before the signed version is recorded.
    {
        let user = app.user().unwrap();
        let mut store = app.store();
        let reference = store.inspection(&id).unwrap().template;
        let template = store.template(&reference).unwrap().unwrap();
        let cx = Context {
            actor: &user,
            now: now(),
            template: &template,
        };
        store
            .issue_document(
                &id,
                DocumentKind::InspectionRecord,
                &UnitId::new("xw"),
                "玄武",
                &cx,
            )
            .unwrap();
    }
    drop(app);
    let app = App::open(config).unwrap();
    let record = app.store().inspection(&id).unwrap();
    assert_eq!(numbers_of(&record), BTreeSet::from([number("检记", 1)]));
    assert!(record.signed_versions.is_empty());
    assert!(app.record(&id).unwrap().to_number.is_empty());
    app.complete(&id).unwrap();
    assert_eq!(
        numbers_of(&signed(&app, &id, "v1")),
        BTreeSet::from([number("检记", 1)])
    );
    assert_eq!(remaining(&app, DocumentKind::InspectionRecord), 19);
}

#[test]
fn a_signing_the_rules_refuse_spends_no_number() {
    let t = signed_in_app();
    let app = &t.app;
    stock_up(app, 1);
    let id = started(app);
    let e = app.complete(&id).unwrap_err();
    assert!(e.zh.starts_with("无法进入“已完成”"), "{}", e.zh);
    assert!(app.store().inspection(&id).unwrap().documents.is_empty());
    assert_eq!(remaining(app, DocumentKind::InspectionRecord), 20);
    // And the manual path still works: a record signed with a number issued elsewhere keeps
    // it and takes none from the pool.
    let (id, _) = inspected(app, true);
    assert_eq!(
        numbers_of(&app.store().inspection(&id).unwrap()),
        BTreeSet::from([super::tests::NUMBER.to_owned()])
    );
    assert_eq!(remaining(app, DocumentKind::InspectionRecord), 20);
    // The screen's stock.
    let numbers: NumbersView = app.call(GetNumbers {}).unwrap();
    assert_eq!(
        numbers.stock.len(),
        crate::numbers::series_needed(&UnitId::new("xw"), now()).len()
    );
    assert!(numbers.stock.iter().all(|s| s.remaining == 20));
}
