//! The tablet store: records survive reopening, index rows follow every save, refused edits
//! and bad bytes store nothing, compaction keeps the record, reference data works offline.

use app_core::checklist::ChecklistTemplate;
use app_core::enterprise::Enterprise;
use app_core::geo::{Day, Timestamp};
use app_core::hazard::{Hazard, HazardAction, HazardLevel, HazardStage};
use app_core::ids::{HazardId, InspectionId, ItemCode};
use app_core::inspection::{Answer, Command, Context, Inspection, InspectionStatus, InspectorRef};
use app_core::kind::InspectionKind;
use app_core::legal::LegalBasis;
use app_core::user::User;
use std::collections::BTreeMap;
use std::path::Path;
use tablet::store::{ListFilter, Store, StoreError};

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures"))
}

fn template() -> ChecklistTemplate {
    let text = std::fs::read_to_string(fixtures().join("checklists/gongmao.toml")).unwrap();
    ChecklistTemplate::parse_toml(&text).unwrap()
}

fn users() -> Vec<User> {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join("demo/users.json")).unwrap())
        .unwrap()
}

fn enterprises() -> Vec<Enterprise> {
    serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("demo/enterprises.json")).unwrap(),
    )
    .unwrap()
}

fn user(id: &str) -> User {
    users().into_iter().find(|u| u.id.as_str() == id).unwrap()
}

const T0: i64 = 1_795_420_800_000;

fn cx<'a>(actor: &'a User, t: &'a ChecklistTemplate, minute: i64) -> Context<'a> {
    Context {
        actor,
        now: Timestamp(T0 + minute * 60_000),
        template: t,
    }
}

fn new_record(id: &str, kind: InspectionKind) -> Inspection {
    let e = &enterprises()[0];
    Inspection::new_draft(
        InspectionId::from(id),
        kind,
        e.unit.clone(),
        e.into(),
        template().reference(),
        user("u-wang").id,
        Timestamp(T0),
    )
}

fn inspector_ref(u: &User) -> InspectorRef {
    InspectorRef {
        user: u.id.clone(),
        name: u.name.clone(),
        certificate: u.certificate().unwrap().clone(),
    }
}

/// A record on site with two inspectors.
fn on_site(store: &mut Store, id: &str) -> InspectionId {
    let t = template();
    let (w, l) = (user("u-wang"), user("u-li"));
    let rec = new_record(id, InspectionKind::Routine);
    store.create_inspection(&rec, &t, Timestamp(T0)).unwrap();
    let id = rec.id;
    for (i, c) in [
        Command::AddInspector(inspector_ref(&w)),
        Command::AddInspector(inspector_ref(&l)),
        Command::Transition {
            to: InspectionStatus::OnSite,
            comment: String::new(),
        },
    ]
    .iter()
    .enumerate()
    {
        store.apply(&id, c, &cx(&w, &t, i as i64)).unwrap();
    }
    id
}

fn hazard(id: &str, item: &str) -> Hazard {
    Hazard {
        id: HazardId::from(id),
        item: Some(ItemCode::from(item)),
        level: HazardLevel::General,
        description: "配电箱未上锁".into(),
        place: "机加工车间".into(),
        basis: vec![LegalBasis::new("安全生产法", "第四十一条第二款")],
        penalty: Vec::new(),
        photos: BTreeMap::new(),
        measures: String::new(),
        deadline: None,
        stage: HazardStage::Registered,
        supervision: None,
        registered_on: Day::ymd(2026, 11, 23),
        reported_on: None,
        reinspections: BTreeMap::new(),
        closed_on: None,
    }
}

#[test]
fn records_survive_reopening_with_their_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tablet.db");
    let t = template();
    let w = user("u-wang");
    let expected;
    let device;
    {
        let mut store = Store::open(&path).unwrap();
        device = store.device().clone();
        let id = on_site(&mut store, "i-1");
        let first_item = t.items().next().unwrap().code.clone();
        store
            .apply(
                &id,
                &Command::Answer {
                    item: first_item.clone(),
                    answer: Some(Answer::Fails),
                },
                &cx(&w, &t, 10),
            )
            .unwrap();
        store
            .apply(
                &id,
                &Command::RegisterHazard(hazard("h-1", first_item.as_str())),
                &cx(&w, &t, 11),
            )
            .unwrap();
        store
            .apply(
                &id,
                &Command::Hazard {
                    hazard: "h-1".into(),
                    action: HazardAction::Order {
                        deadline: Day::ymd(2026, 12, 1),
                        measures: "立即上锁并张贴警示标志".into(),
                    },
                },
                &cx(&w, &t, 12),
            )
            .unwrap();
        expected = store.inspection(&id).unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.device(), &device, "the device id is kept");
    let id = InspectionId::from("i-1");
    assert_eq!(store.inspection(&id).unwrap(), expected);
    let rows = store.list(&ListFilter::default()).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, InspectionStatus::OnSite);
    assert_eq!(rows[0].open_hazards, 1);
    assert_eq!(rows[0].enterprise_name, enterprises()[0].name);
    let due = store.hazards_due(Day::ymd(2026, 12, 1)).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].deadline.as_deref(), Some("2026-12-01"));
    assert!(
        store
            .hazards_due(Day::ymd(2026, 11, 30))
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.inspections_of(&w.id).unwrap(), vec![id]);
}

#[test]
fn list_filters_by_status_and_pages_newest_first() {
    let mut store = Store::open_in_memory().unwrap();
    let t = template();
    for i in 0..5 {
        store
            .create_inspection(
                &new_record(&format!("d-{i}"), InspectionKind::Routine),
                &t,
                Timestamp(T0 + i * 1000),
            )
            .unwrap();
    }
    on_site(&mut store, "s-1");
    let drafts = store
        .list(&ListFilter {
            status: Some(InspectionStatus::Draft),
            limit: 2,
            ..ListFilter::default()
        })
        .unwrap();
    let ids: Vec<&str> = drafts.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["d-4", "d-3"]);
    let next = store
        .list(&ListFilter {
            status: Some(InspectionStatus::Draft),
            limit: 2,
            offset: 2,
            ..ListFilter::default()
        })
        .unwrap();
    assert_eq!(
        next.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["d-2", "d-1"]
    );
    let on = store
        .list(&ListFilter {
            status: Some(InspectionStatus::OnSite),
            ..ListFilter::default()
        })
        .unwrap();
    assert_eq!(on.len(), 1);
    assert_eq!(on[0].id.as_str(), "s-1");
}

#[test]
fn a_refused_edit_or_bad_remote_bytes_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tablet.db");
    let mut store = Store::open(&path).unwrap();
    let id = on_site(&mut store, "i-1");
    let t = template();
    let count = |s: &Store| -> i64 {
        s.connection()
            .query_row("SELECT count(*) FROM doc_changes", [], |r| r.get(0))
            .unwrap()
    };
    let before = count(&store);
    let err = store
        .apply(
            &id,
            &Command::Transition {
                to: InspectionStatus::Approved,
                comment: String::new(),
            },
            &cx(&user("u-wang"), &t, 20),
        )
        .unwrap_err();
    assert!(err.is_user_error(), "{err}");
    assert_eq!(count(&store), before);
    assert!(store.apply_remote(&id, b"garbage", Timestamp(T0)).is_err());
    assert_eq!(count(&store), before);
    let missing = store.apply(
        &InspectionId::from("nope"),
        &Command::SetSummary { text: "x".into() },
        &cx(&user("u-wang"), &t, 21),
    );
    assert!(matches!(missing, Err(StoreError::NotFound(_))));
    let dup = store.create_inspection(
        &new_record("i-1", InspectionKind::Routine),
        &t,
        Timestamp(T0),
    );
    assert!(matches!(dup, Err(StoreError::Exists(_))));
    drop(store);
    let mut reopened = Store::open(&path).unwrap();
    assert_eq!(
        reopened.inspection(&id).unwrap().status,
        InspectionStatus::OnSite
    );
}

#[test]
fn compaction_folds_changes_into_a_snapshot_and_keeps_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tablet.db");
    let t = template();
    let w = user("u-wang");
    let items: Vec<ItemCode> = t.items().map(|i| i.code.clone()).collect();
    let expected = {
        let mut store = Store::open(&path).unwrap();
        let id = on_site(&mut store, "i-1");
        for (n, item) in items.iter().cycle().take(150).enumerate() {
            store
                .apply(
                    &id,
                    &Command::SetNote {
                        item: item.clone(),
                        text: format!("第{n}次记录"),
                    },
                    &cx(&w, &t, 30 + n as i64),
                )
                .unwrap();
        }
        let pending = |s: &Store| -> i64 {
            s.connection()
                .query_row("SELECT count(*) FROM doc_changes", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(pending(&store), 153, "every save is one stored change");
        assert_eq!(store.compact_due().unwrap(), 1);
        assert_eq!(pending(&store), 0);
        assert_eq!(store.compact_due().unwrap(), 0, "nothing left to compact");
        // More edits after compaction land as changes on top of the new snapshot.
        store
            .apply(
                &id,
                &Command::SetSummary {
                    text: "压实后的修改".into(),
                },
                &cx(&w, &t, 500),
            )
            .unwrap();
        assert_eq!(pending(&store), 1);
        store.inspection(&id).unwrap()
    };
    let mut store = Store::open(&path).unwrap();
    let id = InspectionId::from("i-1");
    assert_eq!(store.inspection(&id).unwrap(), expected);
    store.compact(&id).unwrap();
    let pending: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM doc_changes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pending, 0);
    drop(store);
    assert_eq!(
        Store::open(&path).unwrap().inspection(&id).unwrap(),
        expected
    );
}

#[test]
fn reference_data_is_kept_for_offline_work_and_searchable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tablet.db");
    {
        let mut store = Store::open(&path).unwrap();
        store.replace_reference(&enterprises()).unwrap();
        store.replace_reference(&users()).unwrap();
        store.replace_reference(&[template()]).unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.reference::<Enterprise>().unwrap().len(),
        enterprises().len()
    );
    assert_eq!(store.reference::<User>().unwrap().len(), users().len());
    assert!(store.template(&template().reference()).unwrap().is_some());
    let by_name = store.search_enterprises("铝业", 10).unwrap();
    assert_eq!(by_name.len(), 1);
    assert_eq!(by_name[0].name, "南京钟山铝业制品有限公司");
    let uscc = enterprises()[3].uscc.to_string();
    let by_uscc = store.search_enterprises(&uscc[4..12], 10).unwrap();
    assert_eq!(by_uscc[0].id, enterprises()[3].id);
    let by_address = store.search_enterprises("秦淮区", 10).unwrap();
    assert_eq!(by_address.len(), 2);
    assert!(
        store.search_enterprises("%", 10).unwrap().is_empty(),
        "wildcards are literal"
    );
    // A new sync replaces the whole kind.
    let mut store = store;
    store.replace_reference(&enterprises()[..2]).unwrap();
    assert_eq!(store.reference::<Enterprise>().unwrap().len(), 2);
}

/// A pulled page is stored whole or not at all, with the cursor after it: a record that
/// fails to load leaves neither the page's other records nor a moved cursor.
#[test]
fn a_pulled_page_is_stored_with_its_cursor_in_one_transaction() {
    use app_core::wire::DocChanges;
    let dir = tempfile::tempdir().unwrap();
    let mut colleague = Store::open(&dir.path().join("colleague.db")).unwrap();
    let id = on_site(&mut colleague, "i-page");
    let pushed = colleague.pending_pushes(10).unwrap();
    let good = DocChanges {
        id: id.to_string(),
        bytes: pushed[0].bytes.clone(),
        receipt: None,
    };
    let bad = DocChanges {
        id: "i-bad".into(),
        bytes: b"garbage".to_vec(),
        receipt: None,
    };
    let path = dir.path().join("tablet.db");
    let mut store = Store::open(&path).unwrap();
    let me = user("u-li").id;
    let page = [good.clone(), bad];
    assert!(store.apply_pull(&page, &me, 42, Timestamp(T0)).is_err());
    assert!(
        store.inspection(&id).is_err(),
        "nothing of the page is kept"
    );
    assert_eq!(
        store.sync_cursor(&me).unwrap(),
        0,
        "the cursor did not move"
    );
    store.apply_pull(&[good], &me, 42, Timestamp(T0)).unwrap();
    drop(store);
    let mut reopened = Store::open(&path).unwrap();
    assert_eq!(
        reopened.inspection(&id).unwrap().status,
        InspectionStatus::OnSite
    );
    assert_eq!(reopened.sync_cursor(&me).unwrap(), 42);
}
