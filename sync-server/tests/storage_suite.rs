//! One storage test suite, written once (each test a function generic over the backend) and
//! run against both implementations of the storage traits: SQLite (a database file in a
//! temporary folder) and PostgreSQL (a throwaway cluster started by `common::pg`, one fresh
//! database per test). `cargo test -p sync-server --test storage_suite`: the tests are
//! `on_sqlite::…` and `on_postgres::…`; without PostgreSQL the latter skip unless
//! `PG_TESTS_REQUIRED` is set.

mod common;

use app_core::docnumber::{DocumentKind, Series};
use app_core::draw::{DrawInput, PoolFilter, run_draw};
use app_core::evidence::{PhotoRef, Sha256Hex};
use app_core::geo::{Day, Timestamp};
use app_core::hazard::{Hazard, HazardLevel, HazardStage, Supervision};
use app_core::ids::{DeviceId, HazardId, InspectionId, PlanId, UnitId, UserId};
use app_core::inspection::{Inspection, InspectionStatus, InspectorRef};
use app_core::kind::InspectionKind;
use app_core::legal::LegalBasis;
use app_core::penalty::PenaltyCase;
use app_core::plan::Plan;
use common::pg::PgDb;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use sync_server::ReferenceData;
use sync_server::store::accounts::TokenOwner;
use sync_server::store::audit::{self, NewEntry};
use sync_server::store::blobs::Upload;
use sync_server::store::casefiles::{JobOutcome, JobState};
use sync_server::store::cases::{CasePullFilter, CaseWrite};
use sync_server::store::console_query::{HazardFilter, RecordFilter};
use sync_server::store::devices::DeviceRow;
use sync_server::store::engine::Engine;
use sync_server::store::pg::PgClient;
use sync_server::store::plans::DrawRecord;
use sync_server::store::records::{DocWrite, PullFilter};
use sync_server::store::reference::UnitTemplate;
use sync_server::store::{
    AccountStore, AuditStore, BlobStore, CaseFileStore, CaseStore, Commit, ConsoleIndex,
    DeviceStore, KeyHistoryStore, MetaStore, NumberStore, PenaltyRulesStore, PlanStore,
    RecordStore, ReferenceStore, ThrottleStore, Transactions,
};

/// Every storage trait.
trait Stores:
    RecordStore
    + CaseStore
    + ConsoleIndex
    + PlanStore
    + AccountStore
    + BlobStore
    + CaseFileStore
    + DeviceStore
    + ThrottleStore
    + NumberStore
    + ReferenceStore
    + KeyHistoryStore
    + MetaStore
    + AuditStore
    + PenaltyRulesStore
{
}

impl<T> Stores for T where
    T: RecordStore
        + CaseStore
        + ConsoleIndex
        + PlanStore
        + AccountStore
        + BlobStore
        + CaseFileStore
        + DeviceStore
        + ThrottleStore
        + NumberStore
        + ReferenceStore
        + KeyHistoryStore
        + MetaStore
        + AuditStore
        + PenaltyRulesStore
{
}

/// A fresh, migrated database of one engine, and connections to it.
trait Backend: Sync {
    type Conn: Transactions + Stores + Send;
    /// A fresh database, or `None` when the engine is not available (the test is skipped).
    fn fresh() -> Option<Self>
    where
        Self: Sized;
    /// A new connection to it.
    fn connect(&self) -> Self::Conn;
    /// Runs one SQL statement outside the traits (to show what the database refuses).
    fn raw(&self, sql: &str) -> Result<(), String>;
    /// The engine's migration step that counts the figures' tallies from the index rows.
    const TALLY_FILL: &'static str;
}

struct Sqlite {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Backend for Sqlite {
    type Conn = rusqlite::Connection;
    const TALLY_FILL: &'static str = sync_server::store::console_index::TALLY_FILL;
    fn fresh() -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        drop(rusqlite::Connection::open_writer(&path).unwrap());
        Some(Sqlite { _dir: dir, path })
    }
    fn connect(&self) -> Self::Conn {
        rusqlite::Connection::open_writer(&self.path).unwrap()
    }
    fn raw(&self, sql: &str) -> Result<(), String> {
        self.connect().execute_batch(sql).map_err(|e| e.to_string())
    }
}

struct Postgres {
    db: PgDb,
}

impl Backend for Postgres {
    type Conn = PgClient;
    const TALLY_FILL: &'static str = sync_server::store::pg::TALLY_FILL;
    fn fresh() -> Option<Self> {
        let db = PgDb::new()?;
        drop(PgClient::connect(&db.url()).unwrap());
        Some(Postgres { db })
    }
    fn connect(&self) -> Self::Conn {
        PgClient::connect(&self.db.url()).unwrap()
    }
    fn raw(&self, sql: &str) -> Result<(), String> {
        self.connect()
            .client()
            .batch_execute(sql)
            .map_err(|e| match e.as_db_error() {
                Some(db) => db.message().to_owned(),
                None => e.to_string(),
            })
    }
}

fn reference() -> &'static ReferenceData {
    static REF: std::sync::OnceLock<ReferenceData> = std::sync::OnceLock::new();
    REF.get_or_init(|| {
        ReferenceData::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")).unwrap()
    })
}

/// 2026-11-23 00:00 Asia/Shanghai.
const T0: i64 = 1_795_363_200_000;
const HOUR: i64 = 3_600_000;
const UNITS: [&str; 3] = ["xw", "xw-xjk", "qh"];

fn sha(i: usize) -> Sha256Hex {
    Sha256Hex::of(format!("photo {i}").as_bytes())
}

/// Record `i`: unit, kind, status and time vary with `i`; every third has a hazard (with a
/// photo), every sixth's hazard is listed for supervision.
fn record(i: usize) -> Inspection {
    let r = reference();
    let template = r.templates.templates()[0].reference();
    let inspectors: Vec<_> = r.users.iter().filter(|u| u.is_inspector()).collect();
    let e = &r.enterprises[i % r.enterprises.len()];
    let mut rec = Inspection::new_draft(
        InspectionId::new(format!("r{i:04}")),
        InspectionKind::ALL[i % 6],
        UnitId::from(UNITS[i % UNITS.len()]),
        e.into(),
        template,
        inspectors[0].id.clone(),
        Timestamp(T0 - (i as i64) * HOUR),
    );
    rec.status = InspectionStatus::ALL[(i / 7) % 6];
    if rec.status != InspectionStatus::Draft {
        rec.started_at = Some(Timestamp(rec.created_at.0 + HOUR / 2));
    }
    let u = inspectors[i % inspectors.len()];
    rec.inspectors.insert(
        u.id.clone(),
        InspectorRef {
            user: u.id.clone(),
            name: u.name.clone(),
            certificate: u.certificate().unwrap().clone(),
        },
    );
    if i.is_multiple_of(4) {
        rec.plan = Some(PlanId::new(format!("plan-{}", i % 8)));
    }
    if i.is_multiple_of(3) {
        let h = HazardId::new(format!("h{i}"));
        let registered = Timestamp(rec.created_at.0).shanghai_date();
        let photo = sha(i);
        rec.hazards.insert(
            h.clone(),
            Hazard {
                id: h,
                item: None,
                level: if i.is_multiple_of(9) {
                    HazardLevel::Major
                } else {
                    HazardLevel::General
                },
                description: "消防通道堵塞".into(),
                place: "车间".into(),
                basis: vec![LegalBasis::new("安全生产法", "第四十二条")],
                penalty: Vec::new(),
                photos: BTreeMap::from([(
                    photo.clone(),
                    PhotoRef {
                        sha256: photo,
                        added_at: rec.created_at,
                        added_by: u.id.clone(),
                    },
                )]),
                measures: "清理".into(),
                deadline: Some(registered.plus_days(3)),
                stage: [
                    HazardStage::Ordered,
                    HazardStage::Rectified,
                    HazardStage::Closed,
                ][(i / 3) % 3],
                supervision: i.is_multiple_of(6).then(|| Supervision {
                    level: "县级".into(),
                    responsible: "张三".into(),
                    listed_on: registered,
                }),
                registered_on: registered,
                reported_on: None,
                reinspections: BTreeMap::new(),
                closed_on: None,
            },
        );
    }
    rec
}

/// Writes `rec` (new: its change is the whole document) from `device`.
fn write(store: &impl RecordStore, rec: &Inspection, change: &[u8], device: &str, existed: bool) {
    let heads = vec![format!("{:064x}", change.len())];
    store
        .write(&DocWrite {
            id: rec.id.as_str(),
            record: rec,
            snapshot: existed.then_some(b"snapshot".as_slice()),
            change,
            heads: &heads,
            origin_device: device,
            existed,
        })
        .unwrap();
}

fn records_and_change_log<B: Backend>(b: &B)
where
    for<'a> <B::Conn as Transactions>::Tx<'a>: Stores,
{
    let mut conn = b.connect();
    assert_eq!(conn.latest_seq().unwrap(), 0);
    assert!(conn.snapshot("r0000").unwrap().is_none());
    let tx = conn.begin().unwrap();
    for i in 0..6 {
        write(
            &tx,
            &record(i),
            format!("change {i}").as_bytes(),
            "tab-a",
            false,
        );
    }
    tx.commit().unwrap();
    // A dropped transaction leaves nothing.
    let tx = conn.begin().unwrap();
    write(&tx, &record(99), b"lost", "tab-a", false);
    drop(tx);
    assert!(conn.heads("r0099").unwrap().is_none());
    assert_eq!(conn.latest_seq().unwrap(), 6);

    // A record pushed whole reads back as its change; an update as its snapshot.
    let (bytes, heads) = conn.snapshot("r0001").unwrap().unwrap();
    assert_eq!(bytes, b"change 1");
    assert_eq!(heads, vec![format!("{:064x}", 8)]);
    let mut r1 = record(1);
    r1.status = InspectionStatus::Submitted;
    r1.inspectors.clear();
    write(&conn, &r1, b"update 1", "tab-b", true);
    assert_eq!(conn.snapshot("r0001").unwrap().unwrap().0, b"snapshot");
    assert_eq!(conn.latest_seq().unwrap(), 7);

    let rows = conn.access_rows("r0000").unwrap().unwrap();
    assert_eq!(rows.unit.as_str(), "xw");
    assert_eq!(rows.plan.as_ref().map(|p| p.as_str()), Some("plan-0"));
    assert_eq!(rows.inspectors.len(), 1);
    assert!(
        conn.access_rows("r0001")
            .unwrap()
            .unwrap()
            .inspectors
            .is_empty()
    );
    assert!(conn.access_rows("nope").unwrap().is_none());

    // Photo references: r0000 and r0003 name their hazards' photos; rewriting adds none twice.
    assert_eq!(
        conn.records_naming_photo(sha(3).as_str()).unwrap(),
        vec!["r0003"]
    );
    write(&conn, &record(3), b"update 3", "tab-a", true);
    assert_eq!(
        conn.records_naming_photo(sha(3).as_str()).unwrap(),
        vec!["r0003"]
    );
    assert!(
        conn.records_naming_photo(sha(4).as_str())
            .unwrap()
            .is_empty()
    );

    // The change log: in order, without the device's own changes, filtered by unit.
    let all_units: Vec<String> = UNITS.iter().map(|u| u.to_string()).collect();
    let pull = |device: &str, units: &[String], cursor: i64, max_bytes: usize| {
        conn.changes_after(&PullFilter {
            cursor,
            device,
            units,
            person: None,
            max_bytes,
        })
        .unwrap()
    };
    let page = pull("tab-c", &all_units, 0, 1 << 20);
    let seqs: Vec<i64> = page.changes.iter().map(|c| c.0).collect();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>());
    assert!(!page.more);
    assert_eq!(page.changes[6].2, b"update 1");
    let page = pull("tab-a", &all_units, 0, 1 << 20);
    assert_eq!(
        page.changes
            .iter()
            .map(|c| c.1.as_str())
            .collect::<Vec<_>>(),
        vec!["r0001"],
        "tab-a's own changes are not sent back"
    );
    let qh = vec!["qh".to_owned()];
    let page = pull("tab-c", &qh, 0, 1 << 20);
    assert_eq!(
        page.changes
            .iter()
            .map(|c| c.1.as_str())
            .collect::<Vec<_>>(),
        vec!["r0002", "r0005"]
    );
    // Paged by bytes: at least one change, then stop before the limit.
    let page = pull("tab-c", &all_units, 2, 10);
    assert_eq!(page.changes.len(), 1);
    assert!(page.more);
    assert_eq!(page.changes[0].0, 3);
    let page = pull("tab-c", &all_units, 8, 10);
    assert!(page.changes.is_empty() && !page.more);

    // An inspector of another unit sees records of their plans and records naming them.
    let other = vec!["jy".to_owned()];
    let plans = vec!["plan-4".to_owned()];
    let named = rows.inspectors[0].as_str().to_owned();
    let page = conn
        .changes_after(&PullFilter {
            cursor: 0,
            device: "tab-c",
            units: &other,
            person: Some((&plans, "nobody")),
            max_bytes: 1 << 20,
        })
        .unwrap();
    assert_eq!(
        page.changes
            .iter()
            .map(|c| c.1.as_str())
            .collect::<Vec<_>>(),
        vec!["r0004"]
    );
    let page = conn
        .changes_after(&PullFilter {
            cursor: 0,
            device: "tab-c",
            units: &other,
            person: Some((&[], &named)),
            max_bytes: 1 << 20,
        })
        .unwrap();
    assert!(page.changes.iter().any(|c| c.1 == "r0000"));
    // r0001 names no inspector now, but `named` created it: its creator still receives it.
    assert_eq!(record(1).created_by.as_str(), named);
    assert!(page.changes.iter().any(|c| c.1 == "r0001"));
    let page = conn
        .changes_after(&PullFilter {
            cursor: 0,
            device: "tab-c",
            units: &other,
            person: Some((&[], "nobody")),
            max_bytes: 1 << 20,
        })
        .unwrap();
    assert!(page.changes.is_empty(), "nobody has a part in any record");
}

/// What an inspector's tablet pulls (issue 18, sync as deployed): records the inspector
/// created, is named on, re-inspected a hazard of, or a supervisor returned to them, and the
/// records of their plans; not a colleague's unrelated record of the same unit, until the
/// inspector fetched it (`follow`), and then its later changes too.
fn inspector_pull_scope<B: Backend>(b: &B)
where
    for<'a> <B::Conn as Transactions>::Tx<'a>: Stores,
{
    let conn = b.connect();
    let (me, colleague) = ("insp-me", "insp-colleague");
    let template = record(0).inspectors.into_values().next().unwrap();
    let on = |rec: &mut Inspection, user: &str| {
        let mut r = template.clone();
        r.user = UserId::from(user);
        rec.inspectors.insert(r.user.clone(), r);
    };
    // Every record below is of unit xw, made by `colleague` unless said otherwise.
    let base = |i: usize, name: &str| {
        let mut rec = record(i * 6); // unit xw, a hazard
        rec.id = InspectionId::new(name.to_owned());
        rec.unit = UnitId::from("xw");
        rec.plan = None;
        rec.created_by = UserId::from(colleague);
        rec.inspectors.clear();
        on(&mut rec, colleague);
        rec
    };
    let mut created = base(1, "mine-created");
    created.created_by = UserId::from(me);
    let mut named = base(2, "mine-named");
    on(&mut named, me);
    let mut planned = base(3, "mine-plan");
    planned.plan = Some(PlanId::new("plan-draw-1"));
    let mut rechecked = base(4, "mine-recheck");
    let hazard = rechecked.hazards.values_mut().next().unwrap();
    hazard.reinspections.insert(
        "ri-1".into(),
        app_core::hazard::Reinspection {
            on: hazard.registered_on.plus_days(2),
            by: UserId::from(me),
            passed: false,
            note: "未整改完成".into(),
            photos: BTreeMap::new(),
            new_deadline: Some(hazard.registered_on.plus_days(9)),
        },
    );
    let mut returned = base(5, "mine-returned");
    on(&mut returned, me);
    returned.status = InspectionStatus::Returned;
    let unrelated = base(6, "colleague-only");
    for (i, rec) in [
        &created, &named, &planned, &rechecked, &returned, &unrelated,
    ]
    .into_iter()
    .enumerate()
    {
        write(
            &conn,
            rec,
            format!("new {i}").as_bytes(),
            "tab-colleague",
            false,
        );
    }
    let plans = vec!["plan-draw-1".to_owned()];
    let pulled = |cursor: i64| -> Vec<String> {
        conn.changes_after(&PullFilter {
            cursor,
            device: "tab-me",
            units: &[],
            person: Some((&plans, me)),
            max_bytes: 1 << 20,
        })
        .unwrap()
        .changes
        .into_iter()
        .map(|c| c.1)
        .collect()
    };
    assert_eq!(
        pulled(0),
        vec![
            "mine-created",
            "mine-named",
            "mine-plan",
            "mine-recheck",
            "mine-returned"
        ],
        "not the colleague's unrelated record"
    );
    // A pull by units: every record of them (what a supervisor's tablet was sent before it
    // came to be sent what the supervisor has a part in; `service::sync::pull` no longer asks
    // for units).
    let xw = vec!["xw".to_owned()];
    let all = conn
        .changes_after(&PullFilter {
            cursor: 0,
            device: "tab-sup",
            units: &xw,
            person: None,
            max_bytes: 1 << 20,
        })
        .unwrap();
    assert_eq!(all.changes.len(), 6);

    // Fetched on demand: followed, its later changes pulled (the fetch itself sent it whole).
    let cursor = conn.latest_seq().unwrap();
    conn.follow(me, "colleague-only", 1).unwrap();
    conn.follow(me, "colleague-only", 2).unwrap(); // again: nothing changes
    assert!(pulled(cursor).is_empty());
    write(&conn, &unrelated, b"later", "tab-colleague", true);
    assert_eq!(pulled(cursor), vec!["colleague-only"]);
    assert_eq!(pulled(0).len(), 7);
    // Someone else's fetch is not mine.
    conn.follow("insp-other", "mine-created", 3).unwrap();
    assert_eq!(pulled(conn.latest_seq().unwrap()), Vec::<String>::new());

    // Removed from a record (and not its creator): no longer pulled.
    let mut named2 = named.clone();
    named2.inspectors.remove(&UserId::from(me));
    write(&conn, &named2, b"me removed", "tab-colleague", true);
    let cursor = conn.latest_seq().unwrap() - 1;
    assert!(pulled(cursor).is_empty());

    // The records of an enterprise (from the console index), newest visit first.
    let e = created.enterprise.id.to_string();
    let of = conn.records_of_enterprise(&e, 50).unwrap();
    assert!(of.contains(&"mine-created".to_owned()), "{of:?}");
    assert!(
        conn.records_of_enterprise("no-such", 50)
            .unwrap()
            .is_empty()
    );
    assert_eq!(conn.records_of_enterprise(&e, 1).unwrap().len(), 1);
}

/// Writers on several connections at once: every change is in the log once, and a reader
/// pulling with its cursor while they write never skips one (the log becomes visible in
/// order).
fn change_log_under_concurrent_writers<B: Backend>(b: &B)
where
    for<'a> <B::Conn as Transactions>::Tx<'a>: Stores,
{
    const WRITERS: usize = 4;
    const EACH: usize = 25;
    let all_units: Vec<String> = UNITS.iter().map(|u| u.to_string()).collect();
    let seen = std::thread::scope(|s| {
        for w in 0..WRITERS {
            s.spawn(move || {
                let mut conn = b.connect();
                for k in 0..EACH {
                    let i = w * EACH + k;
                    let tx = conn.begin().unwrap();
                    write(&tx, &record(i), format!("c{i}").as_bytes(), "tab-w", false);
                    tx.commit().unwrap();
                }
            });
        }
        let reader = s.spawn(|| {
            let conn = b.connect();
            let mut cursor = 0;
            let mut seen = Vec::new();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            while seen.len() < WRITERS * EACH {
                assert!(
                    std::time::Instant::now() < deadline,
                    "changes missing: {seen:?}"
                );
                let page = conn
                    .changes_after(&PullFilter {
                        cursor,
                        device: "reader",
                        units: &all_units,
                        person: None,
                        max_bytes: 1 << 20,
                    })
                    .unwrap();
                for (seq, doc, _) in page.changes {
                    cursor = seq;
                    seen.push(doc);
                }
            }
            seen
        });
        reader.join().unwrap()
    });
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), WRITERS * EACH, "every change once");
    assert_eq!(b.connect().latest_seq().unwrap(), (WRITERS * EACH) as i64);
}

fn console_index_lists_and_figures<B: Backend>(b: &B)
where
    for<'a> <B::Conn as Transactions>::Tx<'a>: Stores,
{
    const N: usize = 60;
    let mut conn = b.connect();
    // A fresh database waits for the backfill; with no records it is quickly done.
    assert!(conn.backfill_pending().unwrap());
    assert!(conn.unindexed_records().unwrap().is_empty());
    conn.backfill_done().unwrap();
    assert!(!conn.backfill_pending().unwrap());
    let records: Vec<Inspection> = (0..N).map(record).collect();
    let tx = conn.begin().unwrap();
    for r in &records {
        write(&tx, r, b"c", "tab", false);
    }
    tx.commit().unwrap();
    assert!(conn.unindexed_records().unwrap().is_empty());

    let units: Vec<String> = UNITS.iter().map(|u| u.to_string()).collect();
    // Pages of 7, newest visit first, equal to a brute-force sort.
    let filter = RecordFilter {
        units: vec!["xw".into(), "qh".into()],
        ..Default::default()
    };
    let mut expected: Vec<&Inspection> = records
        .iter()
        .filter(|r| filter.units.contains(&r.unit.as_str().to_owned()))
        .collect();
    expected.sort_by_key(|r| {
        (
            std::cmp::Reverse(r.started_at.unwrap_or(r.created_at).0),
            std::cmp::Reverse(r.id.as_str().to_owned()),
        )
    });
    let mut got = Vec::new();
    let mut after = None;
    loop {
        let (rows, next) = conn.list_records(&filter, after.as_ref(), 7).unwrap();
        assert!(rows.len() <= 7);
        got.extend(rows.into_iter().map(|r| r.id));
        match next {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    assert_eq!(
        got,
        expected
            .iter()
            .map(|r| r.id.as_str().to_owned())
            .collect::<Vec<_>>()
    );
    assert_eq!(conn.count_records(&filter).unwrap(), expected.len() as i64);

    // Filters: status, kind, period, inspector.
    let submitted = RecordFilter {
        units: units.clone(),
        status: Some("submitted".into()),
        ..Default::default()
    };
    let n = records
        .iter()
        .filter(|r| r.status == InspectionStatus::Submitted)
        .count();
    assert!(n > 0);
    assert_eq!(conn.count_records(&submitted).unwrap(), n as i64);
    let day = Timestamp(T0 - 30 * HOUR).shanghai_date();
    let one_day = RecordFilter {
        units: units.clone(),
        from: Some(day),
        to: Some(day),
        ..Default::default()
    };
    let on_day = records
        .iter()
        .filter(|r| Timestamp(r.started_at.unwrap_or(r.created_at).0).shanghai_date() == day)
        .count();
    assert_eq!(conn.count_records(&one_day).unwrap(), on_day as i64);
    let (rows, _) = conn.list_records(&one_day, None, 100).unwrap();
    assert_eq!(rows.len(), on_day);
    let inspector = records[0]
        .inspectors
        .keys()
        .next()
        .unwrap()
        .as_str()
        .to_owned();
    let by_inspector = RecordFilter {
        units: units.clone(),
        inspector: Some(inspector.clone()),
        ..Default::default()
    };
    let n = records
        .iter()
        .filter(|r| r.inspectors.keys().any(|u| u.as_str() == inspector))
        .count();
    assert_eq!(conn.count_records(&by_inspector).unwrap(), n as i64);
    let kind = serde_json::to_value(InspectionKind::ALL[0]).unwrap();
    let by_kind = RecordFilter {
        units: units.clone(),
        kind: Some(kind.as_str().unwrap().to_owned()),
        ..Default::default()
    };
    assert_eq!(conn.count_records(&by_kind).unwrap(), (N / 6) as i64);

    // The hazard ledger: all, supervised, overdue as of a late day.
    let all = HazardFilter {
        units: units.clone(),
        ..Default::default()
    };
    let today = Timestamp(T0).shanghai_date().plus_days(30);
    let hazards = conn.list_hazards(&all, today).unwrap();
    assert_eq!(hazards.len(), N / 3);
    assert!(
        hazards
            .windows(2)
            .all(|w| w[0].hazard.registered_on >= w[1].hazard.registered_on)
    );
    let supervised = conn
        .list_hazards(
            &HazardFilter {
                supervised: true,
                ..all.clone()
            },
            today,
        )
        .unwrap();
    assert_eq!(supervised.len(), N / 6);
    let overdue = conn
        .list_hazards(
            &HazardFilter {
                overdue: true,
                ..all.clone()
            },
            today,
        )
        .unwrap();
    let expected_overdue = records
        .iter()
        .flat_map(|r| r.hazards.values())
        .filter(|h| h.is_overdue(today))
        .count();
    assert!(expected_overdue > 0);
    assert_eq!(overdue.len(), expected_overdue);
    let major = conn
        .list_hazards(
            &HazardFilter {
                level: Some("major".into()),
                ..all.clone()
            },
            today,
        )
        .unwrap();
    assert_eq!(major.len(), N.div_ceil(9));

    // The figures' facts: every record of the period, each with its hazards.
    let from = Timestamp(T0 - (N as i64) * HOUR).shanghai_date();
    let to = Timestamp(T0).shanghai_date();
    let facts = conn.record_facts(&units, from, to, today).unwrap();
    // Records whose merged state breaks a rule are not counted.
    let clean: Vec<&Inspection> = records
        .iter()
        .filter(|r| r.violations().is_empty())
        .collect();
    assert!(!clean.is_empty() && clean.len() < N);
    assert_eq!(facts.len(), clean.len());
    let mut ids: Vec<String> = clean.iter().map(|r| r.id.as_str().to_owned()).collect();
    ids.sort();
    let units_of: Vec<String> = facts.iter().map(|f| f.unit.as_str().to_owned()).collect();
    assert_eq!(
        units_of,
        ids.iter()
            .map(|id| clean
                .iter()
                .find(|r| r.id.as_str() == id)
                .unwrap()
                .unit
                .as_str()
                .to_owned())
            .collect::<Vec<_>>(),
        "by record id"
    );
    assert_eq!(
        facts.iter().map(|f| f.hazards.len()).sum::<usize>(),
        clean.iter().map(|r| r.hazards.len()).sum::<usize>()
    );
    assert_eq!(
        facts
            .iter()
            .flat_map(|f| &f.hazards)
            .filter(|h| h.overdue)
            .count(),
        clean
            .iter()
            .flat_map(|r| r.hazards.values())
            .filter(|h| h.is_overdue(today))
            .count()
    );
    // The figures from the tally are those from every record's facts.
    tallied_figures_match(&conn, &units, from, to, today);
    let xw = conn
        .record_facts(&["xw".to_owned()], from, to, today)
        .unwrap();
    assert_eq!(
        xw.len(),
        clean.iter().filter(|r| r.unit.as_str() == "xw").count()
    );

    // Rewriting a record replaces its rows (a hazard removed is gone from the ledger).
    let mut r0 = records[0].clone();
    r0.hazards.clear();
    r0.status = InspectionStatus::Approved;
    write(&conn, &r0, b"u", "tab", true);
    assert_eq!(conn.list_hazards(&all, today).unwrap().len(), N / 3 - 1);
    let approved = RecordFilter {
        units: units.clone(),
        status: Some("approved".into()),
        ..Default::default()
    };
    let (rows, _) = conn.list_records(&approved, None, 100).unwrap();
    let row = rows.iter().find(|r| r.id == "r0000").unwrap();
    assert_eq!(row.hazards, 0);
    assert!(!r0.violations().is_empty(), "approved without a review");
    assert_eq!(row.violations, r0.violations().len() as i64);
    let day: Day = to;
    assert!(day >= from);
    // The tally followed the rewrite (r0 left the counted records: its review is missing),
    // and any period's tallies still count as the records do.
    tallied_figures_match(&conn, &units, from, to, today);
    let one = Timestamp(T0 - 20 * HOUR).shanghai_date();
    tallied_figures_match(&conn, &units, one, one, today);
    tallied_figures_match(&conn, &units, from, to, from);
    // Whole months (read from the monthly tally), with and without partial months beside.
    let first = Day::ymd(from.0.year(), u8::from(from.0.month()), 1);
    let month_end = |d: Day| {
        let mut e = d;
        while e.plus_days(1).0.month() == d.0.month() {
            e = e.plus_days(1);
        }
        e
    };
    tallied_figures_match(&conn, &units, first, month_end(to), today);
    tallied_figures_match(&conn, &units, first.plus_days(-45), to, today);
    tallied_figures_match(&conn, &units, from, month_end(to).plus_days(40), today);
    tallied_figures_match(&conn, &units, first, first.plus_days(3), today);
    // The migration's fill counts from the index rows what the writes counted one by one
    // (its dates computed in SQL, Asia/Shanghai).
    b.raw("DELETE FROM console_tally; DELETE FROM console_tally_month;")
        .unwrap();
    assert!(
        conn.figure_tallies(&units, first, month_end(to), today)
            .unwrap()
            .is_empty()
    );
    b.raw(B::TALLY_FILL).unwrap();
    tallied_figures_match(&conn, &units, from, to, today);
    tallied_figures_match(&conn, &units, first, month_end(to), today);
    tallied_figures_match(&conn, &units, from, month_end(to).plus_days(40), today);
}

/// Records written together (`RecordStore::write_many`, a sync's batch) leave what writing
/// them one by one leaves: the same change log, snapshots, heads, index rows, ledger and
/// figures, also when a batch rewrites records and moves them between tallies (two hazards
/// of one level and stage in a record, several records on one tally row).
fn records_written_together<B: Backend>(b: &B)
where
    for<'a> <B::Conn as Transactions>::Tx<'a>: Stores,
{
    const N: usize = 48;
    let first: Vec<Inspection> = (0..N)
        .map(|i| {
            let mut r = record(i);
            if let Some(h) = r.hazards.values().next().cloned() {
                let twin = HazardId::new(format!("{}-twin", h.id.as_str()));
                r.hazards.insert(twin.clone(), Hazard { id: twin, ..h });
            }
            r
        })
        .collect();
    // The second versions: another status, hazards moved on or removed.
    let second: Vec<Inspection> = first
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut r = r.clone();
            r.status = InspectionStatus::ALL[(i / 7 + 1) % 6];
            if i % 2 == 0 {
                r.hazards.clear();
            }
            for h in r.hazards.values_mut() {
                h.stage = HazardStage::Closed;
            }
            r
        })
        .collect();
    let heads = |v: usize, i: usize| vec![format!("{:064x}", v * 1000 + i)];
    let change = |v: usize, i: usize| format!("change {v} of {i}").into_bytes();
    let writes = |v: usize, records: &[Inspection]| -> Vec<(Vec<String>, Vec<u8>)> {
        (0..records.len())
            .map(|i| (heads(v, i), change(v, i)))
            .collect()
    };
    let (w1, w2) = (writes(1, &first), writes(2, &second));
    fn doc_writes<'a>(
        records: &'a [Inspection],
        w: &'a [(Vec<String>, Vec<u8>)],
        existed: bool,
    ) -> Vec<DocWrite<'a>> {
        records
            .iter()
            .zip(w)
            .map(|(r, (heads, change))| DocWrite {
                id: r.id.as_str(),
                record: r,
                snapshot: existed.then_some(change.as_slice()),
                change,
                heads,
                origin_device: "tab",
                existed,
            })
            .collect()
    }
    let together = b.connect();
    let apart_backend = B::fresh().unwrap();
    let apart = apart_backend.connect();
    for (records, w, existed) in [(&first, &w1, false), (&second, &w2, true)] {
        together
            .write_many(&doc_writes(records, w, existed))
            .unwrap();
        for dw in doc_writes(records, w, existed) {
            apart.write(&dw).unwrap();
        }
    }
    let units: Vec<String> = UNITS.iter().map(|u| u.to_string()).collect();
    let log = |c: &B::Conn| {
        c.changes_after(&PullFilter {
            cursor: 0,
            device: "other",
            units: &units,
            person: None,
            max_bytes: 1 << 24,
        })
        .unwrap()
        .changes
    };
    let log_together = log(&together);
    assert_eq!(log_together.len(), 2 * N);
    assert_eq!(log_together, log(&apart));
    let ids: Vec<&str> = first
        .iter()
        .map(|r| r.id.as_str())
        .chain(["absent"])
        .collect();
    assert_eq!(
        together.snapshots(&ids).unwrap(),
        apart.snapshots(&ids).unwrap()
    );
    assert_eq!(
        together.heads_many(&ids).unwrap(),
        ids.iter()
            .map(|id| apart.heads(id).unwrap())
            .collect::<Vec<_>>()
    );
    assert_eq!(together.heads_many(&ids).unwrap()[N], None);
    let sorted = |rows: Vec<Option<sync_server::store::records::AccessRows>>| {
        rows.into_iter()
            .map(|r| {
                r.map(|mut r| {
                    r.inspectors.sort();
                    r
                })
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        sorted(together.access_rows_many(&ids).unwrap()),
        sorted(
            ids.iter()
                .map(|id| apart.access_rows(id).unwrap())
                .collect()
        )
    );
    let filter = RecordFilter {
        units: units.clone(),
        ..Default::default()
    };
    assert_eq!(
        together.list_records(&filter, None, 100).unwrap(),
        apart.list_records(&filter, None, 100).unwrap()
    );
    let today = Timestamp(T0).shanghai_date();
    let ledger = HazardFilter {
        units: units.clone(),
        ..Default::default()
    };
    let hazards = together.list_hazards(&ledger, today).unwrap();
    assert_eq!(
        hazards.len(),
        second.iter().map(|r| r.hazards.len()).sum::<usize>()
    );
    assert_eq!(hazards, apart.list_hazards(&ledger, today).unwrap());
    let (from, to) = (today.plus_days(-60), today);
    tallied_figures_match(&together, &units, from, to, today);
    tallied_figures_match(&apart, &units, from, to, today);
}

/// `figure_tallies` gives the figures (and visits per month) that `record_facts` gives, for
/// every unit and the city.
fn tallied_figures_match(
    store: &impl ConsoleIndex,
    units: &[String],
    from: Day,
    to: Day,
    today: Day,
) {
    use app_core::figures::{Period, compute, compute_tallied, monthly, monthly_tallied};
    let facts = store.record_facts(units, from, to, today).unwrap();
    let tallies = store.figure_tallies(units, from, to, today).unwrap();
    assert!(tallies.len() <= facts.len().max(1));
    let tree = &reference().units;
    let period = Period { from, to };
    for root in units.iter().map(String::as_str).chain(["nj"]) {
        let root = UnitId::from(root);
        assert_eq!(
            compute_tallied(&root, tree, period, &tallies),
            compute(&root, tree, period, &facts),
            "figures of {root} from {from} to {to} as of {today}"
        );
        assert_eq!(
            monthly_tallied(&root, tree, period, &tallies),
            monthly(&root, tree, period, &facts),
        );
    }
}

fn accounts_and_tokens<B: Backend>(b: &B) {
    let conn = b.connect();
    assert!(!conn.has_account("zhang").unwrap());
    conn.create_account("zhang", "$argon2id$one").unwrap();
    assert!(
        conn.create_account("zhang", "$argon2id$two").is_err(),
        "an account is created once"
    );
    assert_eq!(
        conn.password_hash("zhang").unwrap().as_deref(),
        Some("$argon2id$one")
    );
    conn.set_password_hash("zhang", "$argon2id$three").unwrap();
    conn.set_password_hash("li", "$argon2id$li").unwrap();
    assert_eq!(
        conn.password_hash("zhang").unwrap().as_deref(),
        Some("$argon2id$three")
    );
    assert!(conn.has_account("li").unwrap());
    assert!(conn.password_hash("wang").unwrap().is_none());

    let token = [7u8; 32];
    conn.insert_token(&token, "zhang", 1_000).unwrap();
    assert!(
        conn.insert_token(&token, "li", 1_000).is_err(),
        "hashes are unique"
    );
    assert_eq!(
        conn.token_owner(&token, 999).unwrap(),
        Some(TokenOwner {
            user: "zhang".into(),
            device: None
        })
    );
    assert!(
        conn.token_owner(&token, 1_000).unwrap().is_none(),
        "expired"
    );
    conn.bind_token(&token, "tab-1").unwrap();
    assert_eq!(
        conn.token_owner(&token, 0)
            .unwrap()
            .unwrap()
            .device
            .as_deref(),
        Some("tab-1")
    );
    conn.revoke_token(&token).unwrap();
    assert!(conn.token_owner(&token, 0).unwrap().is_none(), "revoked");
    assert!(conn.token_owner(&[8u8; 32], 0).unwrap().is_none());
}

fn devices_and_revocation<B: Backend>(b: &B) {
    let conn = b.connect();
    let dev = |id: &str, user: &str| DeviceRow {
        id: id.into(),
        user: user.into(),
        public_key: vec![id.len() as u8; 32],
    };
    conn.insert_device(&dev("tab-2", "zhang"), 200).unwrap();
    conn.insert_device(&dev("tab-1", "zhang"), 100).unwrap();
    conn.insert_device(&dev("tab-9", "li"), 300).unwrap();
    assert!(conn.insert_device(&dev("tab-1", "li"), 400).is_err());
    assert_eq!(conn.registered_at("tab-1").unwrap(), Some(100));
    assert_eq!(conn.device("tab-9").unwrap(), Some(dev("tab-9", "li")));
    assert!(conn.device("nope").unwrap().is_none());
    assert!(conn.revoked_at("tab-1").unwrap().is_none());
    assert!(conn.revoke_device("tab-1", 500).unwrap());
    assert!(conn.revoke_device("tab-1", 600).unwrap());
    assert_eq!(
        conn.revoked_at("tab-1").unwrap(),
        Some(500),
        "the first revocation"
    );
    assert!(!conn.revoke_device("nope", 600).unwrap());
    conn.touch_device("tab-2", 1_000).unwrap();
    conn.touch_device("tab-2", 1_030).unwrap();
    let list = conn.list_devices().unwrap();
    assert_eq!(
        list.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        vec!["tab-9", "tab-1", "tab-2"],
        "by user, then registration"
    );
    assert_eq!(list[2].last_seen, Some(1_000), "a minute between notes");
    conn.touch_device("tab-2", 1_060).unwrap();
    assert_eq!(conn.list_devices().unwrap()[2].last_seen, Some(1_060));
    assert_eq!(list[1].revoked_at, Some(500));
    let keys = conn.device_keys().unwrap();
    assert_eq!(
        keys.iter().map(|k| k.0.as_str()).collect::<Vec<_>>(),
        vec!["tab-1", "tab-2", "tab-9"]
    );
}

fn blobs<B: Backend>(b: &B) {
    let conn = b.connect();
    let s1 = sha(1);
    let up = |device: &'static str, at| Upload {
        sha: s1.as_str(),
        size: 4_000_000,
        user: "zhang",
        device,
        at,
    };
    assert!(conn.held_size(s1.as_str()).unwrap().is_none());
    conn.record_upload(&up("tab-1", 10)).unwrap();
    conn.record_upload(&up("tab-1", 11)).unwrap();
    conn.record_upload(&up("tab-2", 12)).unwrap();
    assert_eq!(conn.held_size(s1.as_str()).unwrap(), Some(4_000_000));
    assert!(conn.is_uploader(s1.as_str(), "tab-2").unwrap());
    assert!(!conn.is_uploader(s1.as_str(), "tab-3").unwrap());
    let s2 = sha(2);
    let got = conn
        .uploaded_by("tab-1", &[s1.as_str(), s2.as_str()])
        .unwrap();
    assert_eq!(
        got.into_iter().collect::<Vec<_>>(),
        vec![s1.as_str().to_owned()]
    );
}

fn plans_and_draws<B: Backend>(b: &B)
where
    for<'a> <B::Conn as Transactions>::Tx<'a>: Stores,
{
    let r = reference();
    let unit = UnitId::from("xw");
    let pool: Vec<_> = r
        .enterprises
        .iter()
        .filter(|e| r.units.is_in_subtree(&e.unit, &unit))
        .map(|e| e.id.clone())
        .collect();
    let roster: Vec<UserId> = r
        .users
        .iter()
        .filter(|u| u.is_inspector() && u.unit == unit)
        .map(|u| u.id.clone())
        .collect();
    let draw = |seed: &str, at: i64| {
        let input = DrawInput {
            filter: PoolFilter::unit(unit.clone()),
            pool: pool.clone(),
            roster: roster.clone(),
            conflicts: Vec::new(),
            targets: 2,
            inspectors_per_target: 2,
            seed: seed.into(),
        };
        let result = run_draw(&input).unwrap();
        let plans: Vec<Plan> = result
            .assignments
            .iter()
            .enumerate()
            .map(|(k, a)| Plan {
                id: PlanId::new(format!("{}-{k}", result.draw_id())),
                unit: unit.clone(),
                kind: InspectionKind::ALL[0],
                enterprise: a.enterprise.clone(),
                assigned: a.inspectors.clone(),
                sealed: true,
                draw: Some(result.draw_id()),
                due: Some("2026-12-31".into()),
            })
            .collect();
        let record = DrawRecord {
            id: result.draw_id(),
            input,
            result,
            due: Some("2026-12-31".into()),
            drawn_by: UserId::new("chief"),
            drawn_at: at,
        };
        (record, plans)
    };
    let (d1, p1) = draw("seed one", 100);
    let (d2, p2) = draw("seed two", 200);
    // A draw is stored with its canonical input.
    let canonical = |d: &DrawRecord| DrawRecord {
        input: d.input.canonical(),
        ..d.clone()
    };
    let mut conn = b.connect();
    let tx = conn.begin().unwrap();
    tx.insert_draw(&d1, &p1).unwrap();
    tx.insert_draw(&d2, &p2).unwrap();
    tx.commit().unwrap();
    // The same input again is refused (its digest is unique), and leaves nothing.
    let (again, mut again_plans) = draw("seed one", 300);
    again_plans[0].id = PlanId::new("fresh");
    let again = DrawRecord {
        id: "draw-other".into(),
        ..again
    };
    assert!(conn.insert_draw(&again, &again_plans).is_err());
    assert!(conn.sealed_plan("fresh").unwrap().is_none());

    let (d1, d2) = (canonical(&d1), canonical(&d2));
    assert_eq!(conn.draw(&d1.id).unwrap().as_ref(), Some(&d1));
    assert_eq!(
        conn.draw_by_digest(&d2.result.input_digest)
            .unwrap()
            .as_ref(),
        Some(&d2)
    );
    assert!(conn.draw("nope").unwrap().is_none());
    let listed = conn.draws_of(&["xw".into(), "qh".into()]).unwrap();
    assert_eq!(listed, vec![d2.clone(), d1.clone()], "newest first");
    assert!(conn.draws_of(&["qh".into()]).unwrap().is_empty());
    assert_eq!(conn.plans_of_draw(&d1.id).unwrap(), p1, "in draw order");
    let mut all: Vec<Plan> = p1.iter().chain(&p2).cloned().collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(conn.sealed_plans().unwrap(), all);
    assert_eq!(
        conn.sealed_plan(p2[1].id.as_str()).unwrap().as_ref(),
        Some(&p2[1])
    );
    let user = &p1[0].assigned[0];
    let mine: Vec<Plan> = all
        .iter()
        .filter(|p| p.assigned.contains(user))
        .cloned()
        .collect();
    assert_eq!(conn.sealed_plans_assigned_to(user).unwrap(), mine);
}

/// Number blocks taken by several connections at once through the service's allocator:
/// no two overlap, none is lost.
fn number_blocks_never_overlap<B: Backend>(b: &B)
where
    for<'a> <B::Conn as Transactions>::Tx<'a>: Stores,
{
    const TAKERS: usize = 6;
    const EACH: usize = 8;
    let series = Series {
        unit: UnitId::from("xw"),
        kind: DocumentKind::RectificationOrder,
        year: 2026,
    };
    let other = Series {
        kind: DocumentKind::InspectionRecord,
        ..series.clone()
    };
    let blocks: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..TAKERS)
            .map(|t| {
                let (series, other) = (series.clone(), other.clone());
                s.spawn(move || {
                    let mut conn = b.connect();
                    let device = DeviceId::new(format!("tab-{t}"));
                    let mut out = Vec::new();
                    for _ in 0..EACH {
                        out.extend(
                            sync_server::service::numbers::reserve(
                                &mut conn,
                                &[series.clone(), other.clone()],
                                &device,
                                "zhang",
                                1_795_363_200,
                            )
                            .unwrap(),
                        );
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(blocks.len(), TAKERS * EACH * 2);
    for s in [&series, &other] {
        let mut mine: Vec<_> = blocks.iter().filter(|b| &b.series == s).collect();
        mine.sort_by_key(|b| b.first);
        assert_eq!(mine.len(), TAKERS * EACH);
        for w in mine.windows(2) {
            assert!(w[0].last < w[1].first, "overlap: {:?} {:?}", w[0], w[1]);
        }
        let stored = b.connect().blocks_of(s).unwrap();
        assert_eq!(stored.len(), TAKERS * EACH);
    }
    let conn = b.connect();
    assert_eq!(
        conn.highest_before(&series, 1_795_363_200).unwrap(),
        0,
        "none before their time"
    );
    assert_eq!(
        conn.highest_before(&series, 1_795_363_201).unwrap(),
        (TAKERS * EACH * 20) as u32
    );
    // The key refuses a second block starting at the same number.
    let first = blocks[0].clone();
    assert!(conn.insert_block(&first, "li", 1).is_err());
}

fn case_file_jobs<B: Backend>(b: &B) {
    let conn = b.connect();
    assert!(conn.server_secret().unwrap().is_none());
    conn.insert_server_secret(&[1; 32], 10).unwrap();
    conn.insert_server_secret(&[2; 32], 11).unwrap();
    assert_eq!(
        conn.server_secret().unwrap(),
        Some(vec![1; 32]),
        "first insert wins"
    );
    conn.replace_server_secret(&[3; 32], 12).unwrap();
    assert_eq!(conn.server_secret().unwrap(), Some(vec![3; 32]));

    for (k, id) in ["job-a", "job-b", "job-c"].iter().enumerate() {
        conn.insert_job(id, "r0001", "chief", 100 + k as i64)
            .unwrap();
    }
    assert!(conn.insert_job("job-a", "r0001", "chief", 200).is_err());
    let job = conn.job("job-a", 100).unwrap().unwrap();
    assert_eq!(job.state, JobState::Running);
    assert_eq!((job.bytes_done, job.bytes_total), (0, 0));
    conn.job_progress("job-a", 50, 100, "photo 3", 150).unwrap();
    let job = conn.job("job-a", 160).unwrap().unwrap();
    assert_eq!(
        (job.bytes_done, job.bytes_total, job.current.as_str()),
        (50, 100, "photo 3")
    );
    assert_eq!(
        conn.job("job-a", 150 + 121).unwrap().unwrap().state,
        JobState::Stalled
    );
    conn.finish_job(
        "job-a",
        JobOutcome::Done {
            signed_version: "v1",
            size: 12_345,
            manifest_sha256: "abc",
        },
        170,
    )
    .unwrap();
    // A finished job's progress stays.
    conn.job_progress("job-a", 1, 1, "late", 180).unwrap();
    let job = conn.job("job-a", 10_000).unwrap().unwrap();
    assert_eq!(job.state, JobState::Done);
    assert_eq!((job.bytes_done, job.size), (100, Some(12_345)));
    assert_eq!(job.signed_version.as_deref(), Some("v1"));
    conn.finish_job(
        "job-b",
        JobOutcome::Failed {
            error_zh: "失败",
            error_en: "failed",
        },
        171,
    )
    .unwrap();
    let job = conn.job("job-b", 10_000).unwrap().unwrap();
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(job.error_zh.as_deref(), Some("失败"));
    let recent = conn.recent_jobs("r0001", 200).unwrap();
    assert_eq!(
        recent.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        vec!["job-c", "job-b", "job-a"]
    );
    assert!(conn.job("nope", 0).unwrap().is_none());
}

fn sign_in_throttle<B: Backend>(b: &B) {
    let conn = b.connect();
    let (window, lock, limit) = (600, 900, 3);
    assert!(
        !conn
            .count_failure("zhang", 1_000, window, lock, limit)
            .unwrap()
    );
    assert!(
        !conn
            .count_failure("zhang", 1_001, window, lock, limit)
            .unwrap()
    );
    assert_eq!(conn.counter("zhang", 1_002, window).unwrap(), Some((2, 0)));
    assert!(conn.locked_until("zhang", 1_002).unwrap().is_none());
    assert!(
        conn.count_failure("zhang", 1_002, window, lock, limit)
            .unwrap()
    );
    assert_eq!(conn.locked_until("zhang", 1_003).unwrap(), Some(1_902));
    assert!(conn.locked_until("zhang", 1_902).unwrap().is_none());
    // A window older than `window` starts again.
    assert!(!conn.count_failure("ip:1", 0, window, lock, limit).unwrap());
    assert!(!conn.count_failure("ip:1", 1, window, lock, limit).unwrap());
    assert!(
        !conn
            .count_failure("ip:1", 700, window, lock, limit)
            .unwrap()
    );
    assert_eq!(conn.counter("ip:1", 700, window).unwrap(), Some((1, 0)));
    conn.forget_expired(700, 2_000).unwrap();
    assert!(conn.counter("ip:1", 700, window).unwrap().is_none());
    assert!(
        conn.counter("zhang", 1_500, window).unwrap().is_some(),
        "still locked"
    );
    assert!(conn.clear("zhang").unwrap());
    assert!(!conn.clear("zhang").unwrap());
    conn.record_unlock("zhang", "chief", 1_600).unwrap();
}

fn reference_data<B: Backend>(b: &B)
where
    for<'a> <B::Conn as Transactions>::Tx<'a>: Stores,
{
    let r = reference();
    let mut conn = b.connect();
    assert!(conn.reference_version().unwrap().is_none());
    let tx = conn.begin().unwrap();
    for u in r.units.units() {
        tx.insert_unit(u).unwrap();
    }
    for u in &r.users {
        tx.insert_user(u).unwrap();
    }
    for e in &r.enterprises {
        tx.insert_enterprise(e).unwrap();
    }
    assert_eq!(tx.bump_reference_version().unwrap(), 1);
    tx.commit().unwrap();
    assert_eq!(conn.bump_reference_version().unwrap(), 2);
    assert_eq!(conn.reference_version().unwrap(), Some(2));
    // Unique ids and credit codes.
    assert!(conn.insert_user(&r.users[0]).is_err());
    let mut twin = r.enterprises[0].clone();
    twin.id = app_core::ids::EnterpriseId::new("twin");
    assert!(
        conn.insert_enterprise(&twin).is_err(),
        "one enterprise per USCC"
    );

    assert!(
        conn.set_user_enabled(r.users[1].id.as_str(), false)
            .unwrap()
    );
    assert!(!conn.set_user_enabled("nobody", false).unwrap());
    assert!(conn.set_unit_enabled("qh", false).unwrap());
    let template = r.templates.templates()[0].clone();
    let uploaded = UnitTemplate {
        unit: UnitId::from("xw"),
        template: template.clone(),
        uploaded_by: "chief".into(),
        uploaded_at: 1_795_363_200_000,
    };
    conn.insert_template(&uploaded).unwrap();
    assert!(
        conn.insert_template(&uploaded).is_err(),
        "id and version are unique"
    );

    let stored = conn.stored_reference().unwrap();
    let units: Vec<_> = r.units.units().cloned().collect();
    assert_eq!(
        stored
            .units
            .iter()
            .map(|f| f.value.clone())
            .collect::<Vec<_>>(),
        units,
        "in the order added"
    );
    assert_eq!(
        stored
            .users
            .iter()
            .map(|f| f.value.clone())
            .collect::<Vec<_>>(),
        r.users
    );
    assert_eq!(stored.enterprises, r.enterprises);
    assert!(!stored.users[1].enabled && stored.users[0].enabled);
    assert!(
        !stored
            .units
            .iter()
            .find(|u| u.value.id.as_str() == "qh")
            .unwrap()
            .enabled
    );
    assert_eq!(stored.templates, vec![uploaded]);
}

fn key_history_and_meta<B: Backend>(b: &B) {
    use casefile::keys::KeyEntry;
    let conn = b.connect();
    // The epoch is made with the database: 16 random bytes in hex.
    let epoch = conn.epoch().unwrap();
    assert_eq!(epoch.len(), 32);
    assert!(epoch.bytes().all(|c| c.is_ascii_hexdigit()));
    assert!(conn.meta("number_restore").unwrap().is_none());
    conn.set_meta("number_restore", "100 200").unwrap();
    conn.set_meta("number_restore", "300 200").unwrap();
    assert_eq!(
        conn.meta("number_restore").unwrap().as_deref(),
        Some("300 200")
    );
    assert_eq!(
        sync_server::service::numbers::restore_gap(&conn).unwrap(),
        Some((300, 200))
    );

    assert!(conn.key_history().unwrap().keys.is_empty());
    conn.start_key_history("aa", 10).unwrap();
    conn.start_key_history("bb", 20).unwrap();
    let h = conn.key_history().unwrap();
    assert_eq!(h.keys.len(), 1, "the first key only once");
    let next = KeyEntry {
        public_key: "cc".into(),
        valid_from: 30,
        valid_until: None,
        endorsed_by_previous: Some("sig-old".into()),
        endorses_previous: Some("sig-new".into()),
    };
    conn.add_rotation(&next).unwrap();
    let h = conn.key_history().unwrap();
    assert_eq!(h.keys.len(), 2);
    assert_eq!(h.keys[0].valid_until, Some(30));
    assert_eq!(h.keys[1], next);
    assert!(
        conn.add_rotation(&next).is_err(),
        "a key is in the history once"
    );
    assert_eq!(
        conn.key_history().unwrap().keys.len(),
        2,
        "nothing half done"
    );
}

fn audit_chain<B: Backend>(b: &B)
where
    for<'a> <B::Conn as Transactions>::Tx<'a>: Stores,
{
    let entry = |i: i64, unit: &str| NewEntry {
        at: 1_800_000_000 + i,
        actor: format!("u-{i}"),
        unit: unit.into(),
        action: "signin".into(),
        target: String::new(),
        client: "127.0.0.1".into(),
    };
    // Appends from several connections at once, each in a transaction holding the write
    // lock from the start (the trait's contract), still make one chain.
    std::thread::scope(|s| {
        for t in 0..4 {
            s.spawn(move || {
                let mut conn = b.connect();
                for k in 0..10 {
                    let i = t * 10 + k;
                    let tx = conn.begin_immediate().unwrap();
                    tx.append_audit(&entry(i, if i % 2 == 0 { "xw" } else { "qh" }))
                        .unwrap();
                    tx.commit().unwrap();
                }
            });
        }
    });
    let conn = b.connect();
    let all = conn.all_audit().unwrap();
    let (n, head) = audit::verify_chain(&all).unwrap();
    assert_eq!((n, head), (40, all[39].hash.clone()));
    let xw = conn.audit_entries(Some(&["xw".to_owned()]), 5).unwrap();
    assert_eq!(xw.len(), 5);
    assert!(xw.windows(2).all(|w| w[0].seq > w[1].seq), "newest first");
    assert!(xw.iter().all(|e| e.entry.unit == "xw"));
    assert_eq!(conn.audit_entries(None, 100).unwrap().len(), 40);
    // Rows cannot be changed or removed.
    let e = b
        .raw("UPDATE audit_log SET actor = 'x' WHERE seq = 2")
        .unwrap_err();
    assert!(e.contains("append-only"), "{e}");
    let e = b.raw("DELETE FROM audit_log WHERE seq = 2").unwrap_err();
    assert!(e.contains("append-only"), "{e}");
    assert_eq!(conn.all_audit().unwrap(), all);
}

/// A penalty case of unit xw opened by `opener` with `partner`, from record `record`.
fn penalty_case(id: &str, opener: &str, partner: &str, record: &str) -> PenaltyCase {
    let r = reference();
    let user = |id: &str| {
        r.users
            .iter()
            .find(|u| u.id.as_str() == id)
            .unwrap()
            .clone()
    };
    let (opener, partner) = (user(opener), user(partner));
    let enterprise = r
        .enterprises
        .iter()
        .find(|e| e.unit == opener.unit)
        .unwrap();
    let open = common::cases::opening(id, &opener, &partner, enterprise, record);
    common::cases::opened(open, &opener, Timestamp(T0 + HOUR))
}

fn write_case(
    store: &impl CaseStore,
    case: &PenaltyCase,
    change: &[u8],
    device: &str,
    existed: bool,
) {
    let heads = vec![format!("{:064x}", change.len())];
    store
        .write_case(&CaseWrite {
            id: case.id.as_str(),
            case,
            snapshot: change,
            change,
            heads: &heads,
            origin_device: device,
            existed,
        })
        .unwrap();
}

fn case_filter<'a>(
    cursor: i64,
    device: &'a str,
    units: &'a [String],
    inspector: Option<&'a str>,
) -> CasePullFilter<'a> {
    CasePullFilter {
        cursor,
        device,
        units,
        inspector,
        max_bytes: 1 << 20,
    }
}

/// Cases: their bytes, heads and index row, and their changes numbered in the records' one
/// global sequence, pulled by unit (a supervisor) or by inspector.
fn cases_and_the_change_sequence<B: Backend>(b: &B)
where
    for<'a> <B::Conn as Transactions>::Tx<'a>: Stores,
{
    let mut conn = b.connect();
    assert!(conn.case_snapshot("c-1").unwrap().is_none());
    assert!(conn.case_row("c-1").unwrap().is_none());
    let tx = conn.begin().unwrap();
    write(&tx, &record(0), b"record 0", "tab-a", false);
    let mut case = penalty_case("c-1", "u-wang", "u-li", "r0000");
    write_case(&tx, &case, b"case 1", "tab-a", false);
    write(&tx, &record(1), b"record 1", "tab-a", false);
    tx.commit().unwrap();
    // One sequence: record, case, record.
    assert_eq!(conn.latest_seq().unwrap(), 3);
    let units = vec!["xw".to_owned()];
    let page = conn
        .case_changes_after(&case_filter(0, "tab-z", &units, None))
        .unwrap();
    assert_eq!(
        page.changes,
        vec![(2, "c-1".to_owned(), b"case 1".to_vec())]
    );
    // A dropped transaction leaves nothing.
    let tx = conn.begin().unwrap();
    write_case(
        &tx,
        &penalty_case("c-9", "u-wang", "u-li", "r0000"),
        b"lost",
        "tab-a",
        false,
    );
    drop(tx);
    assert!(conn.case_heads("c-9").unwrap().is_none());
    assert_eq!(conn.latest_seq().unwrap(), 3);

    let (bytes, heads) = conn.case_snapshot("c-1").unwrap().unwrap();
    assert_eq!(bytes, b"case 1");
    assert_eq!(heads, vec![format!("{:064x}", 6)]);
    let row = conn.case_row("c-1").unwrap().unwrap();
    assert_eq!(row.unit.as_str(), "xw");
    assert_eq!(row.enterprise, case.enterprise.id.as_str());
    assert_eq!(row.stage, "opened");
    assert_eq!(row.opened_at, T0 + HOUR);
    assert_eq!(row.inspection.as_deref(), Some("r0000"));
    let ids = |v: &[UserId]| v.iter().map(|u| u.as_str().to_owned()).collect::<Vec<_>>();
    assert_eq!(ids(&row.inspectors), ["u-li", "u-wang"]);

    // An update: the index row and the inspectors rewritten, the change after the records'.
    case.stage = app_core::penalty::CaseStage::Investigating;
    case.inspectors.remove(&UserId::new("u-li"));
    write_case(&conn, &case, b"case 1, filed", "tab-b", true);
    write(&conn, &record(2), b"record 2", "tab-a", false);
    assert_eq!(conn.latest_seq().unwrap(), 5);
    let row = conn.case_row("c-1").unwrap().unwrap();
    assert_eq!(row.stage, "investigating");
    assert_eq!(ids(&row.inspectors), ["u-wang"]);
    assert_eq!(
        conn.case_snapshot("c-1").unwrap().unwrap().0,
        b"case 1, filed"
    );
    // Records' pulls never carry a case's change, nor cases' a record's.
    let every_unit: Vec<String> = UNITS.iter().map(|u| (*u).to_owned()).collect();
    let records = conn
        .changes_after(&PullFilter {
            cursor: 0,
            device: "tab-z",
            units: &every_unit,
            person: None,
            max_bytes: 1 << 20,
        })
        .unwrap();
    let seqs: Vec<i64> = records.changes.iter().map(|c| c.0).collect();
    assert_eq!(seqs, [1, 3, 5]);

    // Who pulls: the unit (a supervisor's subtree), the inspectors on the case, never the
    // device a change came from.
    // (And whether anything waits, asked by a records' sync, agrees with every filter.)
    let seqs = |f: &CasePullFilter<'_>| -> Vec<i64> {
        let seqs: Vec<i64> = conn
            .case_changes_after(f)
            .unwrap()
            .changes
            .iter()
            .map(|c| c.0)
            .collect();
        assert_eq!(
            conn.case_changes_wait(f).unwrap(),
            !seqs.is_empty(),
            "{f:?}"
        );
        seqs
    };
    assert_eq!(seqs(&case_filter(0, "tab-z", &units, None)), [2, 4]);
    assert_eq!(seqs(&case_filter(2, "tab-z", &units, None)), [4]);
    assert!(seqs(&case_filter(4, "tab-z", &units, None)).is_empty());
    assert_eq!(seqs(&case_filter(0, "tab-b", &units, None)), [2]);
    assert_eq!(seqs(&case_filter(0, "tab-z", &[], Some("u-wang"))), [2, 4]);
    assert!(seqs(&case_filter(0, "tab-z", &[], Some("u-li"))).is_empty());
    assert!(seqs(&case_filter(0, "tab-z", &["qh".to_owned()], Some("u-chen"))).is_empty());
    // Paged by bytes: at least one change, then `more`.
    let page = conn
        .case_changes_after(&CasePullFilter {
            max_bytes: 1,
            ..case_filter(0, "tab-z", &units, None)
        })
        .unwrap();
    assert_eq!(page.changes.len(), 1);
    assert!(page.more);

    // The unit's cases, newest opened first.
    let newer = penalty_case("c-2", "u-li", "u-wang", "r0001");
    let mut newer = newer;
    newer.opened_at = Timestamp(T0 + 2 * HOUR);
    write_case(&conn, &newer, b"case 2", "tab-a", false);
    let listed: Vec<String> = conn
        .cases_of_units(&units, 10)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(listed, ["c-2", "c-1"]);
    assert!(
        conn.cases_of_units(&["qh".to_owned()], 10)
            .unwrap()
            .is_empty()
    );
}

const TABLE: &str = r#"
id = "xw-2026"
version = 1
published = "2026-12-01"

[[provision]]
basis = "《安全生产法》第九十七条"
fine_min = 0
fine_max = 100000

[[row]]
code = "97-1"
basis = "《安全生产法》第九十七条"
circumstance = "首次发现"
grade = "lighter"
fine_min = 10000
fine_max = 30000
"#;

fn unit_penalty_rules<B: Backend>(b: &B)
where
    for<'a> <B::Conn as Transactions>::Tx<'a>: Stores,
{
    use app_core::penalty::{PenaltySettings, Period, WorkCalendar};
    use sync_server::service::case_rules::{
        RulesEditError, RulesPart, clear_part, rules_for, set_calendar, set_discretion,
        set_settings,
    };
    let conn = b.connect();
    let units = &reference().units;
    let city = units
        .units()
        .find(|u| u.parent.is_none())
        .expect("a top unit")
        .id
        .clone();
    let child = units
        .units()
        .find(|u| u.parent.as_ref() == Some(&city))
        .expect("a unit under the top one")
        .id
        .clone();
    assert!(conn.penalty_rules(child.as_str()).unwrap().is_none());
    // Nothing stored: app-core's defaults, no table.
    let rules = rules_for(&conn, units, &child).unwrap();
    assert_eq!(rules.settings, PenaltySettings::default());
    assert!(rules.discretion.is_none() && rules.settings_from.is_none());
    // The city's table and calendar reach the county; the county's own settings win.
    set_discretion(&conn, &city, TABLE, "u-boss", 1_000).unwrap();
    let calendar = WorkCalendar {
        holidays: [Day::ymd(2026, 10, 1)].into(),
        workdays: [Day::ymd(2026, 9, 27)].into(),
    };
    set_calendar(&conn, &city, calendar.clone(), "u-boss", 2_000).unwrap();
    let settings = PenaltySettings {
        decision_period: Period::calendar(60),
        hearing_fine_threshold: 30_000,
        ..PenaltySettings::default()
    };
    set_settings(&conn, &child, settings.clone(), "u-chief", 3_000).unwrap();
    let rules = rules_for(&conn, units, &child).unwrap();
    assert_eq!(rules.settings, settings);
    assert_eq!(rules.settings_from.as_ref(), Some(&child));
    assert_eq!(rules.calendar, calendar);
    assert_eq!(rules.calendar_from.as_ref(), Some(&city));
    assert_eq!(rules.discretion.as_ref().unwrap().rows[0].code, "97-1");
    assert_eq!(rules.discretion_text.as_deref(), Some(TABLE));
    let own = conn.penalty_rules(child.as_str()).unwrap().unwrap();
    assert_eq!(
        (own.updated_at, own.updated_by.as_str()),
        (3_000, "u-chief")
    );
    assert!(own.calendar.is_none() && own.discretion.is_none());
    // Refused edits store nothing.
    let bad = TABLE.replace("fine_max = 30000", "fine_max = 300000");
    assert!(matches!(
        set_discretion(&conn, &child, &bad, "u-chief", 4_000),
        Err(RulesEditError::Table(p)) if !p.is_empty()
    ));
    let clash = WorkCalendar {
        holidays: [Day::ymd(2026, 9, 27)].into(),
        workdays: [Day::ymd(2026, 9, 27)].into(),
    };
    assert!(matches!(
        set_calendar(&conn, &child, clash, "u-chief", 4_000),
        Err(RulesEditError::Calendar(_))
    ));
    assert!(
        conn.penalty_rules(child.as_str())
            .unwrap()
            .unwrap()
            .discretion
            .is_none()
    );
    // Cleared, the county follows the city again; in a transaction rolled back, nothing.
    clear_part(&conn, &child, RulesPart::Settings, "u-chief", 5_000).unwrap();
    assert_eq!(
        rules_for(&conn, units, &child)
            .unwrap()
            .settings_from
            .as_ref(),
        None
    );
    let mut conn = conn;
    let tx = conn.begin().unwrap();
    set_settings(&tx, &city, settings, "u-boss", 6_000).unwrap();
    drop(tx);
    assert!(
        conn.penalty_rules(city.as_str())
            .unwrap()
            .unwrap()
            .settings
            .is_none()
    );
}

/// A case of xw decided `after_days` after T0 with `fine`.
fn decided_case(name: &str, after_days: i64, fine: u64) -> PenaltyCase {
    use app_core::penalty::{CaseStage, Decision, DiscretionRef, Penalty};
    let mut case = penalty_case(name, "u-wang", "u-li", "r0000");
    case.stage = CaseStage::Decided;
    case.decision = Some(Decision {
        number: format!("（玄武）应急罚决〔2026〕{}号", fine / 1000),
        at: Timestamp(T0 + HOUR + after_days * 24 * HOUR),
        by: UserId::new("u-zhao"),
        name: "赵".into(),
        penalty: Penalty {
            fine_yuan: fine,
            other: Default::default(),
        },
        basis: LegalBasis::new("安全生产法", "第九十七条").pending(),
        discretion: DiscretionRef {
            table: "t".into(),
            version: 1,
            row: "97-1".into(),
        },
        circumstance: "首次".into(),
        served_on: None,
        payment_due: None,
    });
    case
}

/// Stores `case` as a real case document made on tablet `tab-a`.
fn store_case(store: &impl CaseStore, case: &PenaltyCase) {
    let mut doc = app_core::penalty::CaseDoc::create(case, &DeviceId::from("tab-a")).unwrap();
    let snapshot = doc.save();
    let heads: Vec<String> = doc.heads().iter().map(ToString::to_string).collect();
    store
        .write_case(&CaseWrite {
            id: case.id.as_str(),
            case,
            snapshot: &snapshot,
            change: &snapshot,
            heads: &heads,
            origin_device: "tab-a",
            existed: false,
        })
        .unwrap();
}

fn store_decided(store: &impl CaseStore, name: &str, after_days: i64, fine: u64) {
    store_case(store, &decided_case(name, after_days, fine));
}

/// A supervisor's console action on a stored case (`service::case_pages::act`): applied by
/// the rules as the supervisor on the server's device, stored as a change tablets pull, its
/// number a block of one in the series the tablets' blocks come from; refused for a supervisor of another unit (not
/// found) and by the rules (wrong stage), storing nothing.
fn console_action_on_a_stored_case<B: Backend>(b: &B)
where
    for<'a> <B::Conn as Transactions>::Tx<'a>: Stores,
{
    use app_core::penalty::{CaseDoc, CaseDocKind, CaseStage, Payment};
    use sync_server::service::case_pages::{ActError, ConsoleAction, act, next_number};
    let mut conn = b.connect();
    let r = reference();
    let user = |id: &str| r.users.iter().find(|u| u.id.as_str() == id).unwrap();
    let mut case = decided_case("c-exec", 0, 10_000);
    case.stage = CaseStage::Executing;
    let paid_on = Timestamp(T0 + 2 * HOUR).shanghai_date();
    case.payments = vec![Payment {
        on: paid_on,
        amount_yuan: 10_000,
        receipt: "收据 1".into(),
        recorded_by: UserId::new("u-wang"),
    }];
    store_case(&conn, &case);
    let before = conn.latest_seq().unwrap();
    let now = Timestamp(T0 + 3 * HOUR);
    let year = now.shanghai_date().year();
    let close = |seq| ConsoleAction::Close {
        seq,
        comment: "同意结案".into(),
    };
    assert!(matches!(
        act(&mut conn, r, user("u-sun"), "c-exec", close(1), now),
        Err(ActError::NotFound)
    ));
    let number = act(&mut conn, r, user("u-zhao"), "c-exec", close(1), now).unwrap();
    assert_eq!(number, format!("（玄武）应急结审〔{year}〕1号"));
    assert_eq!(conn.case_row("c-exec").unwrap().unwrap().stage, "closed");
    let xw = UnitId::new("xw");
    assert_eq!(
        next_number(&conn, &xw, CaseDocKind::ClosingApproval, year).unwrap(),
        2
    );
    // One allocation for the console and the tablets: a tablet's block starts after the
    // console's number, and the console's next number after the tablet's block.
    let series = app_core::docnumber::Series {
        unit: xw.clone(),
        kind: app_core::docnumber::DocumentKind::ClosingApproval,
        year,
    };
    let blocks = sync_server::service::numbers::reserve(
        &mut conn,
        &[series],
        &DeviceId::from("tab-a"),
        "u-zhao",
        now.0 / 1000,
    )
    .unwrap();
    assert_eq!(blocks[0].first, 2);
    assert_eq!(
        next_number(&conn, &xw, CaseDocKind::ClosingApproval, year).unwrap(),
        blocks[0].last + 1
    );
    // The change is in the sequence, from the server's device: a tablet pulls it.
    let units = vec!["xw".to_owned()];
    let page = conn
        .case_changes_after(&case_filter(before, "tab-a", &units, None))
        .unwrap();
    assert_eq!(page.changes.len(), 1);
    let (bytes, _) = conn.case_snapshot("c-exec").unwrap().unwrap();
    let mut tablet = CaseDoc::load(&bytes, &DeviceId::from("tab-a")).unwrap();
    assert_eq!(tablet.case().stage, CaseStage::Closed);
    let last = tablet.history().pop().unwrap().note.unwrap();
    assert_eq!(
        (last.by.as_str(), last.command.as_str()),
        ("u-zhao", "close")
    );
    assert_eq!(
        last.device.as_str(),
        sync_server::store::records::SERVER_DEVICE
    );
    // Closing again: refused by the rules, nothing stored.
    let seq = conn.latest_seq().unwrap();
    assert!(matches!(
        act(&mut conn, r, user("u-zhao"), "c-exec", close(2), now),
        Err(ActError::Refused { .. })
    ));
    assert_eq!(conn.latest_seq().unwrap(), seq);
}

fn violation_history_and_blacklist<B: Backend>(b: &B)
where
    for<'a> <B::Conn as Transactions>::Tx<'a>: Stores,
{
    use sync_server::service::case_pages::enterprise_records;
    use sync_server::service::case_rules::{RulesEditError, set_blacklist};
    let conn = b.connect();
    let r = reference();
    let zhao = r.users.iter().find(|u| u.id.as_str() == "u-zhao").unwrap();
    let sun = r.users.iter().find(|u| u.id.as_str() == "u-sun").unwrap();
    let units: Vec<String> = r.units.units().map(|u| u.id.to_string()).collect();
    let first = Timestamp(T0 + HOUR).shanghai_date();
    store_decided(&conn, "c-d1", 0, 10_000);
    store_decided(&conn, "c-d2", 30, 20_000);
    let today = first.plus_days(40);
    // No rules: the history, no listing.
    let records = enterprise_records(&conn, r, zhao, &units, today).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].history.len(), 2);
    assert!(records[0].listings.is_empty() && !records[0].listed(today));
    // Bad rules are refused with the rule's place; good ones list the enterprise.
    let bad =
        "[[rule]]\nid = \"\"\nreason = \"x\"\nlisted_days = 0\ncondition = { when = \"major\" }\n";
    match set_blacklist(&conn, &UnitId::new("nj"), bad, "u-zhou", 1) {
        Err(RulesEditError::Blacklist(p)) => assert_eq!(p.len(), 2, "{p:?}"),
        other => panic!("{other:?}"),
    }
    let rules = "[[rule]]\nid = \"repeat\"\nreason = \"一年内两次以上受到行政处罚\"\nlisted_days = 365\ncondition = { when = \"repeated\", count = 2, within_days = 365 }\n";
    set_blacklist(&conn, &UnitId::new("nj"), rules, "u-zhou", 2).unwrap();
    let records = enterprise_records(&conn, r, zhao, &units, today).unwrap();
    let listing = &records[0].listings;
    assert_eq!(listing.len(), 1, "{listing:?}");
    assert_eq!(listing[0].listed_on, first.plus_days(30));
    assert_eq!(listing[0].cases.len(), 2);
    assert!(records[0].listed(today));
    assert_eq!(records[0].rules_from, Some(UnitId::new("nj")));
    // Another county's supervisor reads none of it.
    assert!(
        enterprise_records(&conn, r, sun, &units, today)
            .unwrap()
            .is_empty()
    );
}

/// Each test, instantiated for both backends.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[test]
                fn $name() {
                    let b = <super::Sqlite as super::Backend>::fresh().unwrap();
                    super::$name(&b);
                }
            )*
        }
        mod on_postgres {
            $(
                #[test]
                fn $name() {
                    let Some(b) = <super::Postgres as super::Backend>::fresh() else {
                        return;
                    };
                    super::$name(&b);
                }
            )*
        }
    };
}

suite!(
    records_and_change_log,
    cases_and_the_change_sequence,
    inspector_pull_scope,
    change_log_under_concurrent_writers,
    console_index_lists_and_figures,
    records_written_together,
    accounts_and_tokens,
    devices_and_revocation,
    blobs,
    plans_and_draws,
    number_blocks_never_overlap,
    case_file_jobs,
    sign_in_throttle,
    reference_data,
    key_history_and_meta,
    audit_chain,
    unit_penalty_rules,
    violation_history_and_blacklist,
    console_action_on_a_stored_case,
);

#[test]
fn the_test_cluster_gives_each_test_a_database_of_its_own() {
    let (Some(a), Some(b)) = (PgDb::new(), PgDb::new()) else {
        return;
    };
    eprintln!("PostgreSQL started in {:?}", a.cluster().started_in);
    let mut ca = postgres::Client::connect(&a.url(), postgres::NoTls).unwrap();
    let mut cb = postgres::Client::connect(&b.url(), postgres::NoTls).unwrap();
    ca.batch_execute("CREATE TABLE t (x bigint); INSERT INTO t VALUES (1)")
        .unwrap();
    // The other database does not see it.
    assert!(cb.query("SELECT x FROM t", &[]).is_err());
    let name = a.name.clone();
    drop(ca);
    drop(a);
    let gone: i64 = cb
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .unwrap()
        .get(0);
    assert_eq!(gone, 0, "the dropped test database is removed");
}

/// Two nodes starting at once on a fresh database migrate it once.
#[test]
fn concurrent_first_starts_migrate_once() {
    let Some(db) = PgDb::new() else {
        return;
    };
    let url = db.url();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| drop(PgClient::connect(&url).unwrap()));
        }
    });
    let mut c = PgClient::connect(&url).unwrap();
    let v: i64 = c
        .client()
        .query_one("SELECT version FROM schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(v, sync_server::store::pg::MIGRATIONS.len() as i64);
    let rows: i64 = c
        .client()
        .query_one("SELECT count(*) FROM schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 1);
}

/// An error PostgreSQL reports reads as the server's message and SQLSTATE, not as the
/// client's bare "db error" (what a node that stops at start prints).
#[test]
fn a_postgres_error_names_what_the_database_refused() {
    use sync_server::store::AccountStore;
    let Some(db) = PgDb::new() else {
        return;
    };
    let c = PgClient::connect(&db.url()).unwrap();
    c.create_account("u-wang", "hash").unwrap();
    let e = c.create_account("u-wang", "hash").unwrap_err().to_string();
    assert!(e.contains("duplicate key") && e.contains("23505"), "{e}");
}

/// PostgreSQL, where several nodes write: a record locked by one writer's transaction waits
/// for it, and then reads what it committed (the sync's read-check-write of a record never
/// interleaves with another node's, and two nodes storing one new record do not overwrite
/// each other).
#[test]
fn a_locked_record_waits_for_the_other_writer() {
    let Some(b) = Postgres::fresh() else {
        return;
    };
    let mut first = b.connect();
    let tx = first.begin().unwrap();
    tx.lock_record("r0001").unwrap();
    assert!(tx.heads("r0001").unwrap().is_none());
    write(&tx, &record(1), b"first", "node-1", false);
    let (locked, waited) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        let second = s.spawn(|| {
            let mut conn = b.connect();
            let tx = conn.begin().unwrap();
            tx.lock_record("r0001").unwrap();
            locked.send(()).unwrap();
            let heads = tx.heads("r0001").unwrap();
            write(&tx, &record(1), b"second", "node-2", heads.is_some());
            tx.commit().unwrap();
            heads
        });
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(waited.try_recv().is_err(), "the second writer waits");
        tx.commit().unwrap();
        let heads = second.join().unwrap();
        assert_eq!(
            heads,
            Some(vec![format!("{:064x}", 5)]),
            "and sees the first's write"
        );
    });
    waited.recv().unwrap();
    let conn = b.connect();
    let page = conn
        .changes_after(&PullFilter {
            cursor: 0,
            device: "reader",
            units: &["xw-xjk".to_owned()],
            person: None,
            max_bytes: 1 << 20,
        })
        .unwrap();
    assert_eq!(
        page.changes
            .iter()
            .map(|c| c.2.as_slice())
            .collect::<Vec<_>>(),
        vec![b"first".as_slice(), b"second".as_slice()]
    );
}
