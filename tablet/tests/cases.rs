//! The tablet's store of penalty cases (`tablet/src/store/cases.rs`): a case opened under the
//! rules, changed by commands as different users, listed from its index rows and read back
//! after reopening the database; a refused command writes nothing; what the server lacks is
//! pushed (the whole case at first, then only the changes) and a pulled page merges with
//! its cursor in one transaction (a bad page keeps nothing); a numbered command takes its
//! number from the device's pool in the same transaction (none left, or refused: nothing
//! spent). Real SQLite files; the sync itself is tested against the real server in
//! `sync-server/tests/tablet_cases.rs`.

use app_core::docnumber::{Block, DocumentKind, NumberError, Series};
use app_core::enterprise::Enterprise;
use app_core::geo::Timestamp;
use app_core::ids::{InspectionId, UnitId};
use app_core::inspection::{EnterpriseSnapshot, InspectorRef};
use app_core::legal::LegalBasis;
use app_core::penalty::{
    CaseCommand, CaseContext, CaseDoc, CaseDocKind, CaseError, CaseId, CaseSource, CaseStage,
    IssuedNumber, MeasureKind, OnSiteMeasure, OpenCase,
};
use app_core::user::User;
use app_core::wire::DocChanges;
use std::path::Path;
use tablet::store::{CaseNumbering, CaseRules, Store, StoreError};

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures"))
}

fn load<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join(name)).unwrap()).unwrap()
}

fn user(id: &str) -> User {
    load::<Vec<User>>("demo/users.json")
        .into_iter()
        .find(|u| u.id.as_str() == id)
        .unwrap()
}

/// November 2026.
const T0: i64 = 1_795_420_800_000;

fn at(minute: i64) -> Timestamp {
    Timestamp(T0 + minute * 60_000)
}

fn cx(actor: &User, minute: i64) -> CaseContext<'_> {
    // app-core's defaults: these stores hold no rules sent by a server.
    static RULES: std::sync::LazyLock<CaseRules> = std::sync::LazyLock::new(CaseRules::default);
    let rules = &*RULES;
    CaseContext {
        actor,
        now: at(minute),
        settings: &rules.settings,
        calendar: &rules.calendar,
        discretion: None,
    }
}

fn inspector_ref(u: &User) -> InspectorRef {
    InspectorRef {
        user: u.id.clone(),
        name: u.name.clone(),
        certificate: u.certificate().unwrap().clone(),
    }
}

const RECORD: &str = "insp-00000000-0000-4000-8000-000000000001";

/// Case `n` (a UUID) of 王强 and 李娜 against the first demo enterprise, from [`RECORD`].
fn opening(n: u32) -> OpenCase {
    let wang = user("u-wang");
    let enterprise = &load::<Vec<Enterprise>>("demo/enterprises.json")[0];
    let basis = LegalBasis::new("安全生产法", "第九十七条").pending();
    OpenCase {
        id: CaseId::new(format!("00000000-0000-4000-8000-{n:012}")),
        unit: wang.unit.clone(),
        enterprise: EnterpriseSnapshot::from(enterprise),
        source: CaseSource::Inspection {
            inspection: InspectionId::from(RECORD),
            item: None,
            hazard: None,
        },
        facts: "3名新员工未经安全培训上岗".into(),
        violated: vec![basis.clone()],
        penalty_basis: vec![basis],
        inspectors: vec![inspector_ref(&wang), inspector_ref(&user("u-li"))],
    }
}

fn approve(store: &Store, seq: u32) -> CaseCommand {
    CaseCommand::ApproveFiling {
        number: IssuedNumber::new(
            "玄武",
            CaseDocKind::FilingApproval,
            2026,
            seq,
            store.device().clone(),
        ),
        comment: "同意立案".into(),
    }
}

#[test]
fn a_case_is_opened_changed_listed_and_read_back_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tablet.db");
    let (wang, li, zhao) = (user("u-wang"), user("u-li"), user("u-zhao"));
    let mut store = Store::open(&path).unwrap();
    let open = opening(1);
    let id = open.id.clone();
    let case = store.open_case(open.clone(), &cx(&wang, 0)).unwrap();
    assert_eq!(case.stage, CaseStage::Opened);
    assert!(matches!(
        store.open_case(open, &cx(&wang, 1)),
        Err(StoreError::CaseExists(_))
    ));
    let rows = store.list_cases(None).unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.id, id);
    assert_eq!(row.stage, CaseStage::Opened);
    assert_eq!(row.enterprise_name, case.enterprise.name);
    assert_eq!(row.source_inspection, Some(InspectionId::from(RECORD)));
    assert_eq!((row.filed_on, row.deadline), (None, None));
    assert_eq!(row.opened_at, at(0));
    assert!(
        store
            .list_cases(Some(&InspectionId::from("insp-other")))
            .unwrap()
            .is_empty()
    );

    // The rules refuse: nothing is written.
    let before = store.list_cases(None).unwrap();
    let refused = store.apply_case(&id, &approve(&store, 1), &cx(&wang, 5));
    assert!(
        matches!(
            refused,
            Err(StoreError::CaseRefused(CaseError::NotSupervisor))
        ),
        "{refused:?}"
    );
    assert_eq!(store.list_cases(None).unwrap(), before);
    assert_eq!(store.penalty_case(&id).unwrap(), case);

    // The supervisor approves the filing; the decision's deadline (90 days) is listed.
    let approved = store
        .apply_case(&id, &approve(&store, 1), &cx(&zhao, 10))
        .unwrap();
    assert_eq!(approved.stage, CaseStage::Investigating);
    let filed = at(10).shanghai_date();
    let row = store.list_cases(None).unwrap().remove(0);
    assert_eq!(row.stage, CaseStage::Investigating);
    assert_eq!(row.filed_on, Some(filed));
    assert_eq!(row.deadline, Some(filed.plus_days(90)));
    assert_eq!(row.updated_at, at(10));
    // The other inspector completes the facts.
    let facts = CaseCommand::SetFacts {
        facts: "3名新员工未经安全培训上岗，企业未建立培训档案".into(),
    };
    let changed = store.apply_case(&id, &facts, &cx(&li, 20)).unwrap();
    assert!(store.case_unsynced(&id).unwrap());
    drop(store);

    // Reopened: the same case, the same list, the same history.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.penalty_case(&id).unwrap(), changed);
    let rows = store.list_cases(None).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].updated_at, at(20));
    let mut doc = store.case_doc(&id).unwrap();
    let commands: Vec<String> = doc
        .history()
        .into_iter()
        .filter_map(|c| c.note.map(|n| n.command))
        .collect();
    assert_eq!(commands, ["create", "approve_filing", "set_facts"]);
    assert!(doc.conflicts().is_empty());
    assert!(matches!(
        store.penalty_case(&CaseId::new("nope")),
        Err(StoreError::CaseNotFound(_))
    ));
}

#[test]
fn pushes_carry_what_the_server_lacks_and_pulled_pages_merge_with_their_cursor() {
    let (wang, li, zhao) = (user("u-wang"), user("u-li"), user("u-zhao"));
    let mut a = Store::open_in_memory().unwrap();
    let mut b = Store::open_in_memory().unwrap();
    let id = opening(2).id;
    a.open_case(opening(2), &cx(&wang, 0)).unwrap();

    // Never pushed: the whole case.
    let first = a.pending_case_pushes(10).unwrap();
    assert_eq!(first.len(), 1);
    let whole = CaseDoc::load(&first[0].bytes, b.device()).unwrap();
    assert_eq!(whole.case(), &a.penalty_case(&id).unwrap());
    a.mark_cases_pushed(&[&first[0]]).unwrap();
    assert_eq!(a.pending_cases().unwrap(), 0);
    assert!(a.pending_case_pushes(10).unwrap().is_empty());

    // Then only the changes after what the server holds.
    a.apply_case(&id, &approve(&a, 3), &cx(&zhao, 5)).unwrap();
    let second = a.pending_case_pushes(10).unwrap();
    assert_eq!(second.len(), 1);
    let mut merged = CaseDoc::load(&first[0].bytes, b.device()).unwrap();
    merged.load_incremental(&second[0].bytes).unwrap();
    assert_eq!(merged.case(), &a.penalty_case(&id).unwrap());
    assert!(
        CaseDoc::load(&second[0].bytes, b.device()).is_err(),
        "only the changes"
    );
    // Changed again before the server answered: still pending after the mark.
    a.apply_case(
        &id,
        &CaseCommand::SetFacts {
            facts: "新员工未经培训".into(),
        },
        &cx(&li, 6),
    )
    .unwrap();
    a.mark_cases_pushed(&[&second[0]]).unwrap();
    assert_eq!(a.pending_cases().unwrap(), 1);

    // Another tablet pulls both pages; what it pulled is not pending there.
    let page = |bytes: &[u8]| DocChanges {
        id: id.to_string(),
        bytes: bytes.to_vec(),
        receipt: None,
    };
    b.apply_case_pull(&[page(&first[0].bytes)], &li.id, 7, at(8))
        .unwrap();
    b.apply_case_pull(&[page(&second[0].bytes)], &li.id, 9, at(9))
        .unwrap();
    assert_eq!(b.case_cursor(&li.id).unwrap(), 9);
    assert_eq!(b.pending_cases().unwrap(), 0);
    assert_eq!(b.penalty_case(&id).unwrap().stage, CaseStage::Investigating);
    assert_eq!(
        b.list_cases(None).unwrap()[0].stage,
        CaseStage::Investigating
    );
    // The same page again changes nothing.
    b.apply_case_pull(&[page(&second[0].bytes)], &li.id, 9, at(10))
        .unwrap();
    assert_eq!(b.list_cases(None).unwrap()[0].updated_at, at(9));

    // A page with a case that does not read keeps nothing of the page, nor its cursor.
    let bad = DocChanges {
        id: opening(3).id.to_string(),
        bytes: b"not a case".to_vec(),
        receipt: None,
    };
    let third = a.pending_case_pushes(10).unwrap();
    let err = b.apply_case_pull(&[page(&third[0].bytes), bad], &li.id, 12, at(12));
    assert!(err.is_err());
    assert_eq!(b.case_cursor(&li.id).unwrap(), 9);
    assert_eq!(b.list_cases(None).unwrap().len(), 1);
    assert_ne!(b.penalty_case(&id).unwrap(), a.penalty_case(&id).unwrap());
    b.apply_case_pull(&[page(&third[0].bytes)], &li.id, 12, at(12))
        .unwrap();
    assert_eq!(b.penalty_case(&id).unwrap(), a.penalty_case(&id).unwrap());

    // A restored server: every case is pushed whole again and the pull starts over.
    b.forget_case_server_state().unwrap();
    assert_eq!(b.case_cursor(&li.id).unwrap(), 0);
    let again = b.pending_case_pushes(10).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        CaseDoc::load(&again[0].bytes, a.device()).unwrap().case(),
        &a.penalty_case(&id).unwrap()
    );
}

#[test]
fn a_numbered_command_takes_its_number_from_the_pool_in_the_same_transaction() {
    let (wang, zhao) = (user("u-wang"), user("u-zhao"));
    let mut store = Store::open_in_memory().unwrap();
    let id = opening(4).id;
    store.open_case(opening(4), &cx(&wang, 0)).unwrap();
    store
        .apply_case(&id, &approve(&store, 1), &cx(&zhao, 1))
        .unwrap();
    let unit = UnitId::new("xw");
    let numbering = CaseNumbering {
        kind: CaseDocKind::OnSiteMeasures,
        pool_kind: DocumentKind::OnSiteMeasures,
        unit: unit.clone(),
        unit_short_name: "玄武".into(),
    };
    let measure = |items: Vec<String>| {
        move |number: IssuedNumber| CaseCommand::AddMeasure {
            measure: OnSiteMeasure {
                id: "m-1".into(),
                kind: MeasureKind::OnSiteMeasures,
                number: number.text.clone(),
                at: at(2),
                items,
                basis: Vec::new(),
                outcome: None,
            },
            number,
        }
    };
    let items = || vec!["责令暂停使用未经检验的叉车".to_owned()];
    // No number in the pool: nothing changes.
    let before = store.penalty_case(&id).unwrap();
    let none = store.apply_case_numbered(&id, &numbering, measure(items()), &cx(&wang, 2));
    assert!(
        matches!(none, Err(StoreError::Number(NumberError::Exhausted { .. }))),
        "{none:?}"
    );
    assert_eq!(store.penalty_case(&id).unwrap(), before);

    let series = Series {
        unit,
        kind: DocumentKind::OnSiteMeasures,
        year: 2026,
    };
    store
        .add_number_blocks(&[Block {
            series: series.clone(),
            device: store.device().clone(),
            first: 5,
            last: 6,
        }])
        .unwrap();
    // Refused by the rules (nothing listed): nothing spent.
    let refused = store.apply_case_numbered(&id, &numbering, measure(vec![]), &cx(&wang, 2));
    assert!(
        matches!(
            refused,
            Err(StoreError::CaseRefused(CaseError::NoMeasureItems))
        ),
        "{refused:?}"
    );
    assert_eq!(store.numbers_remaining(&series).unwrap(), 2);
    // Issued and used in one go.
    let (case, number) = store
        .apply_case_numbered(&id, &numbering, measure(items()), &cx(&wang, 2))
        .unwrap();
    assert_eq!(number.text, "（玄武）应急现决〔2026〕5号");
    assert_eq!(case.measures["m-1"].number, number.text);
    assert!(case.documents.contains_key(&number.text));
    assert_eq!(store.numbers_remaining(&series).unwrap(), 1);
    assert_eq!(store.penalty_case(&id).unwrap(), case);
}

/// Every numbered case document has its own series in the pool (`app::cases::pool_kind`,
/// app-core's `DocumentKind::from`):
/// the supervisor's 立案审批表 takes 立审 numbers, and an empty 立审 series is not helped by
/// numbers of another kind.
#[test]
fn every_case_document_is_numbered_from_its_own_series() {
    let pool_kind = DocumentKind::from;
    for kind in CaseDocKind::ALL {
        assert_eq!(pool_kind(kind).case_doc(), Some(kind), "{kind:?}");
    }
    let (wang, zhao) = (user("u-wang"), user("u-zhao"));
    let mut store = Store::open_in_memory().unwrap();
    let id = opening(5).id;
    store.open_case(opening(5), &cx(&wang, 0)).unwrap();
    let unit = UnitId::new("xw");
    let numbering = CaseNumbering {
        kind: CaseDocKind::FilingApproval,
        pool_kind: pool_kind(CaseDocKind::FilingApproval),
        unit: unit.clone(),
        unit_short_name: "玄武".into(),
    };
    let approve = |number: IssuedNumber| CaseCommand::ApproveFiling {
        number,
        comment: "同意立案".into(),
    };
    let block = |kind| Block {
        series: Series {
            unit: unit.clone(),
            kind,
            year: 2026,
        },
        device: store.device().clone(),
        first: 1,
        last: 3,
    };
    let other = block(DocumentKind::OnSiteMeasures);
    let own = block(DocumentKind::FilingApproval);
    store.add_number_blocks(&[other]).unwrap();
    let none = store.apply_case_numbered(&id, &numbering, approve, &cx(&zhao, 1));
    assert!(
        matches!(none, Err(StoreError::Number(NumberError::Exhausted { .. }))),
        "{none:?}"
    );
    store.add_number_blocks(std::slice::from_ref(&own)).unwrap();
    let (case, number) = store
        .apply_case_numbered(&id, &numbering, approve, &cx(&zhao, 1))
        .unwrap();
    assert_eq!(number.text, "（玄武）应急立审〔2026〕1号");
    assert_eq!(case.stage, CaseStage::Investigating);
    assert!(case.documents.contains_key(&number.text));
    assert_eq!(store.numbers_remaining(&own.series).unwrap(), 2);
}

/// Set: this test process is the crash test's writer, on the database at this path.
const WRITER_ENV: &str = "TABLET_CASES_CRASH_WRITER";

/// The crash test's writer (does nothing unless [`WRITER_ENV`] is set): opens case 9 if the
/// store lacks it, then changes its facts to `第n次` at minute `n` as fast as it can, printing
/// `ACK n` once each change is committed.
#[test]
fn crash_writer() {
    let Ok(db) = std::env::var(WRITER_ENV) else {
        return;
    };
    let (wang, li) = (user("u-wang"), user("u-li"));
    let mut store = Store::open(Path::new(&db)).unwrap();
    let id = opening(9).id;
    if !store.has_case(&id).unwrap() {
        store.open_case(opening(9), &cx(&wang, 0)).unwrap();
        println!("ACK 0");
    }
    let mut n = facts_number(&store.penalty_case(&id).unwrap().facts);
    loop {
        n += 1;
        let facts = CaseCommand::SetFacts {
            facts: format!("第{n}次"),
        };
        store.apply_case(&id, &facts, &cx(&li, n as i64)).unwrap();
        println!("ACK {n}");
    }
}

fn facts_number(facts: &str) -> u64 {
    facts
        .strip_prefix("第")
        .and_then(|f| f.strip_suffix("次"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Crash safety: the writer is killed with SIGKILL at moments that vary, twelve times; after
/// each kill the reopened store holds every change the writer had acknowledged, its index row
/// agrees with the case, and SQLite's integrity check passes (compaction, past 64 changes,
/// runs inside some of the killed writes).
#[test]
fn a_killed_writer_loses_no_acknowledged_case_change() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command as Process, Stdio};
    if std::env::var(WRITER_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tablet.db");
    let id = opening(9).id;
    let mut acked = None;
    for round in 0..12u64 {
        let mut child = Process::new(std::env::current_exe().unwrap())
            .args(["crash_writer", "--exact", "--nocapture", "--test-threads=1"])
            .env(WRITER_ENV, &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let target = 3 + (round * 7919) % 23;
        let mut seen = 0;
        for line in lines {
            let line = line.unwrap();
            if let Some(n) = line.strip_prefix("ACK ") {
                acked = Some(n.parse::<u64>().unwrap());
                seen += 1;
                if seen == target {
                    break;
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_micros((round * 613) % 3000));
        child.kill().unwrap();
        child.wait().unwrap();
        let acked = acked.expect("the writer acknowledged a change");

        let store = Store::open(&db).unwrap();
        let case = store.penalty_case(&id).unwrap();
        let n = facts_number(&case.facts);
        assert!(
            n >= acked,
            "round {round}: acknowledged {acked}, stored {n}"
        );
        let rows = store.list_cases(None).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].updated_at, at(n as i64), "round {round}: index");
        let check: String = store
            .connection()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }
}
