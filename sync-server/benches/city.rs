//! The console at city scale (issue 18): a city of 12 counties (each with two townships) holding
//! 1,000,000 inspections and 300,000 hazards over three years; the console's queries timed on
//! SQLite and on PostgreSQL with the same rows, through the functions the console's handlers
//! call (`service::reads::record_list_page`, `service::figures::{facts, compute}`,
//! `service::ledger::ledger`) on the server's own database handle (`db::Db`).
//!
//! Run with `cargo bench -p sync-server --bench city` (also part of `cargo xtask bench`).
//! PostgreSQL is Debian's, started in a temporary folder as the tests start it
//! (`tests/common/pg.rs`; skipped with a message when it is not installed). Knobs:
//! - `CITY_BENCH_INSPECTIONS=1000000`, `CITY_BENCH_HAZARDS=300000`: the size of the city;
//! - `CITY_BENCH_RUNS=20`: timed runs of each query (after one untimed run);
//! - `CITY_BENCH_BACKENDS=sqlite,pg`: which engines;
//! - `CITY_BENCH_KEEP=<dir>`: keep the filled SQLite database in `<dir>` (made if missing) and
//!   reuse it on the next run with the same size instead of generating it again (the
//!   generation takes minutes); the server's migrations still run on it when it is opened, so
//!   a new index is built on the kept rows;
//! - `CITY_BENCH_PG_URL=postgres://…`: time PostgreSQL on this (empty or kept) database rather
//!   than on a fresh one in a temporary cluster; it is filled only when its `console_records`
//!   does not hold the city's records already (with `CITY_BENCH_KEEP`, a second run neither
//!   generates nor copies anything), and analysed again after the server's migrations.
//!
//! How the index is filled: the records are made as `app_core::inspection::Inspection` values
//! (two inspectors, their and the enterprise's signatures, a review when reviewed, hazards with
//! their deadlines, 挂牌督办 for major ones, re-inspections for closed ones; statuses and hazard
//! stages by age) and written with the server's own `index_record` into a fresh server
//! database, in transactions of 20,000: the rows are what indexing real records produces, tally
//! included. No Automerge document is made (the index is what the console reads). PostgreSQL
//! then gets the same rows, table by table, through `COPY`, followed by `VACUUM ANALYZE`
//! (what autovacuum does to a table after a bulk load).
//!
//! Goal: every query at most 100 ms at the 95th percentile on both engines.

#[allow(dead_code)]
#[path = "../tests/common/pg.rs"]
mod pg;

use app_core::evidence::{PhotoRef, Sha256Hex};
use app_core::geo::{Day, Timestamp};
use app_core::hazard::{Hazard, HazardLevel, HazardStage, Reinspection, Supervision};
use app_core::ids::{HazardId, InspectionId, PlanId, UnitId, UserId};
use app_core::inspection::{
    Inspection, InspectionStatus, InspectorRef, Review, ReviewDecision, SignOutcome, Signature,
    Signer,
};
use app_core::kind::InspectionKind;
use app_core::legal::LegalBasis;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use sync_server::ReferenceData;
use sync_server::db::Db;
use sync_server::store::ConsoleIndex;
use sync_server::store::any::AnyConn;
use sync_server::store::console_query::{Cursor, HazardFilter, RecordFilter};

const DAY_MS: i64 = 86_400_000;
/// Page size of the console's record list (`console::records::PAGE_SIZE`).
const PAGE: usize = 50;
const GOAL_MS: f64 = 100.0;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The benchmark's today: 2026-11-30 (Asia/Shanghai); the records span the three years before.
fn today() -> Day {
    Day::ymd(2026, 11, 30)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A per-mille draw.
    fn permille(&mut self) -> u64 {
        self.below(1000)
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
}

/// The city's counties: the demo's three (xw, qh, jy) and nine more, each with two townships
/// of its own (xw keeps its demo ones).
fn counties() -> Vec<(String, [String; 2])> {
    let mut out = vec![
        ("xw".to_owned(), ["xw-xjk".to_owned(), "xw-hpm".to_owned()]),
        ("qh".to_owned(), ["qh-t1".to_owned(), "qh-t2".to_owned()]),
        ("jy".to_owned(), ["jy-t1".to_owned(), "jy-t2".to_owned()]),
    ];
    for c in 4..=12 {
        let id = format!("c{c:02}");
        out.push((id.clone(), [format!("{id}-t1"), format!("{id}-t2")]));
    }
    out
}

/// A fixtures folder for the city: the repository's checklists and demo data, with the
/// counties and townships above added to the units.
fn city_fixtures(dir: &Path) -> PathBuf {
    let src = repo_root().join("fixtures");
    let out = dir.join("fixtures");
    std::fs::create_dir_all(out.join("demo")).unwrap();
    std::os::unix::fs::symlink(src.join("checklists"), out.join("checklists")).unwrap();
    for f in ["users.json", "enterprises.json", "plans.json"] {
        std::fs::copy(src.join("demo").join(f), out.join("demo").join(f)).unwrap();
    }
    let mut units: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(src.join("demo/units.json")).unwrap())
            .unwrap();
    let known: Vec<String> = units
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    for (n, (county, towns)) in counties().into_iter().enumerate() {
        // Division codes nest: a township's begins with its county's.
        let county_code = units
            .iter()
            .find(|u| u["id"] == county.as_str())
            .map(|u| u["code"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| format!("3201{:02}", 20 + n));
        if !known.contains(&county) {
            units.push(serde_json::json!({
                "id": county, "name": format!("第{}区应急管理局", n + 1),
                "short_name": format!("{}区", n + 1), "level": "county",
                "code": format!("3201{:02}", 20 + n), "parent": "nj"
            }));
        }
        for (k, t) in towns.iter().enumerate() {
            if !known.contains(t) {
                units.push(serde_json::json!({
                    "id": t, "name": format!("第{}区第{}街道", n + 1, k + 1),
                    "short_name": format!("{}区{}街", n + 1, k + 1), "level": "township",
                    "code": format!("{county_code}{:03}", 101 + k), "parent": county
                }));
            }
        }
    }
    std::fs::write(
        out.join("demo/units.json"),
        serde_json::to_string_pretty(&units).unwrap(),
    )
    .unwrap();
    out
}

const KINDS: [(InspectionKind, u64); 6] = [
    (InspectionKind::Routine, 400),
    (InspectionKind::RandomDraw, 250),
    (InspectionKind::Unannounced, 200),
    (InspectionKind::Campaign, 80),
    (InspectionKind::Complaint, 40),
    (InspectionKind::Reinspection, 30),
];

fn pick<T: Copy>(table: &[(T, u64)], draw: u64) -> T {
    let mut acc = 0;
    for (v, w) in table {
        acc += w;
        if draw < acc {
            return *v;
        }
    }
    table[table.len() - 1].0
}

/// Statuses by the record's age: old records are reviewed, recent ones still moving.
fn status_for(age_days: i64, draw: u64) -> InspectionStatus {
    use InspectionStatus::*;
    if age_days > 30 {
        pick(
            &[
                (Approved, 930),
                (Returned, 20),
                (Submitted, 30),
                (Completed, 20),
            ],
            draw,
        )
    } else {
        pick(
            &[
                (Draft, 50),
                (OnSite, 50),
                (Completed, 200),
                (Submitted, 300),
                (Approved, 380),
                (Returned, 20),
            ],
            draw,
        )
    }
}

const DESCRIPTIONS: [&str; 5] = [
    "消防通道堵塞，安全出口锁闭",
    "配电箱未设置漏电保护装置，电线私拉乱接",
    "危险化学品仓库未按规定分类存放",
    "特种作业人员未持证上岗",
    "粉尘涉爆区域未按规定清扫，除尘系统未定期检测",
];

struct Maker {
    rng: Rng,
    inspectors: Vec<InspectorRef>,
    enterprises: Vec<app_core::inspection::EnterpriseSnapshot>,
    template: app_core::checklist::TemplateRef,
    units: Vec<String>,
    start_ms: i64,
    span_ms: i64,
    today: Day,
}

impl Maker {
    fn new(reference: &ReferenceData) -> Self {
        let inspectors: Vec<InspectorRef> = reference
            .users
            .iter()
            .filter(|u| u.is_inspector())
            .map(|u| InspectorRef {
                user: u.id.clone(),
                name: u.name.clone(),
                certificate: u.certificate().unwrap().clone(),
            })
            .collect();
        // 2,000 enterprises per county, from the demo ones with their own ids and names.
        let demo: Vec<app_core::inspection::EnterpriseSnapshot> =
            reference.enterprises.iter().map(|e| e.into()).collect();
        let enterprises = (0..24_000)
            .map(|i| {
                let mut e = demo[i % demo.len()].clone();
                e.id = app_core::ids::EnterpriseId::new(format!("e{i:05}"));
                e.name = format!("{}（第{}分厂）", e.name, i + 1);
                e
            })
            .collect();
        // Each county's records: 60 % in the county, 20 % in each township.
        let mut units = Vec::new();
        for (county, towns) in counties() {
            units.extend(std::iter::repeat_n(county, 3));
            units.extend(towns.iter().cloned());
        }
        let end = sync_server::store::console_query::day_start_ms(today().plus_days(1));
        let span_ms = 3 * 365 * DAY_MS;
        Self {
            rng: Rng(18),
            inspectors,
            enterprises,
            template: reference.templates.templates()[0].reference(),
            units,
            start_ms: end - span_ms,
            span_ms,
            today: today(),
        }
    }

    /// Record `i` of `n` (in time order), with `hazards` hazards.
    fn record(&mut self, i: usize, n: usize, hazards: usize) -> Inspection {
        let rng = &mut self.rng;
        let at = self.start_ms + (i as i64) * self.span_ms / n as i64 + rng.below(3_600_000) as i64;
        let created = Timestamp(at);
        let age_days = (self.today.0 - created.shanghai_date().0).whole_days();
        let slot = rng.below(self.units.len() as u64) as usize;
        let county_of_slot = slot / 5;
        let unit = self.units[slot].clone();
        let enterprise = self.enterprises[county_of_slot * 2000 + rng.below(2000) as usize].clone();
        let kind = pick(&KINDS, rng.permille());
        let a = rng.below(self.inspectors.len() as u64) as usize;
        let b =
            (a + 1 + rng.below(self.inspectors.len() as u64 - 1) as usize) % self.inspectors.len();
        let (first, second) = (self.inspectors[a].clone(), self.inspectors[b].clone());
        let mut r = Inspection::new_draft(
            InspectionId::new(rng.uuid()),
            kind,
            UnitId::new(unit),
            enterprise,
            self.template.clone(),
            first.user.clone(),
            created,
        );
        if kind == InspectionKind::RandomDraw {
            r.plan = Some(PlanId::new(format!("plan-{}", i / 400)));
        }
        for u in [&first, &second] {
            r.inspectors.insert(u.user.clone(), u.clone());
        }
        r.status = status_for(age_days, rng.permille());
        let started = Timestamp(at + 30 * 60_000);
        if r.status != InspectionStatus::Draft {
            r.started_at = Some(started);
        }
        let done = r.status.visit_done();
        let image = Sha256Hex::of(format!("signature {i}").as_bytes());
        if done {
            r.completed_at = Some(Timestamp(started.0 + 2 * 3_600_000));
            for u in [&first, &second] {
                let s = Signer::Inspector(u.user.clone());
                r.signatures.insert(
                    s.key(),
                    Signature {
                        signer: s,
                        name: u.name.clone(),
                        outcome: SignOutcome::Signed {
                            image: image.clone(),
                        },
                        at: r.completed_at.unwrap(),
                        read: Vec::new(),
                    },
                );
            }
            r.signatures.insert(
                Signer::Enterprise.key(),
                Signature {
                    signer: Signer::Enterprise,
                    name: "企业负责人".into(),
                    outcome: SignOutcome::Signed { image },
                    at: r.completed_at.unwrap(),
                    read: Vec::new(),
                },
            );
        }
        let decision = match r.status {
            InspectionStatus::Approved => Some(ReviewDecision::Approved),
            InspectionStatus::Returned => Some(ReviewDecision::Returned),
            _ => None,
        };
        if let Some(decision) = decision {
            r.review = Some(Review {
                by: UserId::new("u-zhao"),
                at: Timestamp(started.0 + 2 * DAY_MS),
                decision,
                comment: if decision == ReviewDecision::Returned {
                    "请补充现场照片".into()
                } else {
                    String::new()
                },
                items: BTreeMap::new(),
            });
        }
        let registered = started.shanghai_date();
        for k in 0..hazards {
            let id = HazardId::new(format!("{}-{k}", rng.uuid()));
            let level = if rng.permille() < 50 {
                HazardLevel::Major
            } else {
                HazardLevel::General
            };
            let age = age_days;
            let draw = rng.permille();
            let stage = if !done {
                HazardStage::Registered
            } else if age > 60 {
                pick(
                    &[
                        (HazardStage::Closed, 993),
                        (HazardStage::Ordered, 5),
                        (HazardStage::Rectified, 2),
                    ],
                    draw,
                )
            } else if age > 30 {
                pick(
                    &[
                        (HazardStage::Closed, 800),
                        (HazardStage::Ordered, 100),
                        (HazardStage::Rectified, 100),
                    ],
                    draw,
                )
            } else {
                pick(
                    &[
                        (HazardStage::Ordered, 700),
                        (HazardStage::Rectified, 200),
                        (HazardStage::Closed, 100),
                    ],
                    draw,
                )
            };
            let deadline = (stage != HazardStage::Registered).then(|| registered.plus_days(30));
            let photo = |n: u64, by: &UserId| {
                let sha = Sha256Hex::of(format!("photo {i} {k} {n}").as_bytes());
                (
                    sha.clone(),
                    PhotoRef {
                        sha256: sha,
                        added_at: started,
                        added_by: by.clone(),
                    },
                )
            };
            let closed = stage == HazardStage::Closed;
            let reported = matches!(stage, HazardStage::Rectified | HazardStage::Closed)
                .then(|| registered.plus_days(20));
            let mut reinspections = BTreeMap::new();
            if closed {
                reinspections.insert(
                    format!("re-{k}"),
                    Reinspection {
                        on: registered.plus_days(25),
                        by: first.user.clone(),
                        passed: true,
                        note: "已整改到位".into(),
                        photos: [photo(9, &first.user)].into_iter().collect(),
                        new_deadline: None,
                    },
                );
            }
            r.hazards.insert(
                id.clone(),
                Hazard {
                    id,
                    item: None,
                    level,
                    description: DESCRIPTIONS[(i + k) % DESCRIPTIONS.len()].into(),
                    place: "二号生产车间".into(),
                    basis: vec![LegalBasis::new("中华人民共和国安全生产法", "第四十一条")],
                    penalty: Vec::new(),
                    photos: [photo(1, &first.user), photo(2, &first.user)]
                        .into_iter()
                        .collect(),
                    measures: "立即整改，落实专人负责".into(),
                    deadline,
                    stage,
                    supervision: (level == HazardLevel::Major && stage != HazardStage::Registered)
                        .then(|| Supervision {
                            level: "县级".into(),
                            responsible: "区应急管理局".into(),
                            listed_on: registered.plus_days(1),
                        }),
                    registered_on: registered,
                    reported_on: reported,
                    reinspections,
                    closed_on: closed.then(|| registered.plus_days(25)),
                },
            );
        }
        r
    }
}

/// Fills the SQLite database at `path` (made by the server's migrations) with `n` records and
/// `hazards` hazards through `index_record`; returns how many records break a rule (none
/// expected) and how long it took.
fn fill_sqlite(
    path: &Path,
    reference: &ReferenceData,
    n: usize,
    hazards: usize,
) -> (usize, Duration) {
    let started = Instant::now();
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;",
    )
    .unwrap();
    let mut maker = Maker::new(reference);
    let mut broken = 0;
    let batch = 20_000;
    for first in (0..n).step_by(batch) {
        conn.execute_batch("BEGIN").unwrap();
        for i in first..(first + batch).min(n) {
            // Spread the hazards evenly: record i has ⌊(i+1)·H/N⌋ − ⌊i·H/N⌋ of them.
            let h = ((i + 1) * hazards / n) - (i * hazards / n);
            let r = maker.record(i, n, h);
            if !r.violations().is_empty() {
                if broken == 0 {
                    eprintln!("a generated record breaks a rule: {:?}", r.violations());
                }
                broken += 1;
            }
            sync_server::index::index_record(&conn, &r, false).unwrap();
        }
        conn.execute_batch("COMMIT").unwrap();
        if first % 200_000 == 0 && first > 0 {
            eprintln!(
                "  {first} records in {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        .unwrap();
    (broken, started.elapsed())
}

/// The index tables copied to PostgreSQL, in this order.
const TABLES: [&str; 4] = [
    "console_records",
    "console_hazards",
    "console_tally",
    "console_tally_month",
];

/// Copies the index tables from the SQLite database to PostgreSQL (`COPY … FROM STDIN`, text
/// format), then `VACUUM ANALYZE`.
fn copy_to_pg(sqlite: &Path, url: &str) -> Duration {
    let started = Instant::now();
    let src = rusqlite::Connection::open(sqlite).unwrap();
    let mut pg = postgres::Client::connect(url, postgres::NoTls).unwrap();
    for table in TABLES {
        let mut stmt = src.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let columns: Vec<String> = stmt.column_names().map(|c| c.to_string()).collect();
        let mut tx = pg.transaction().unwrap();
        tx.batch_execute(&format!("DELETE FROM {table}")).unwrap();
        let mut writer = tx
            .copy_in(&format!("COPY {table} ({}) FROM STDIN", columns.join(", ")))
            .unwrap();
        let mut rows = stmt.query([]).unwrap();
        let mut line = Vec::with_capacity(4096);
        while let Some(row) = rows.next().unwrap() {
            line.clear();
            for c in 0..columns.len() {
                if c > 0 {
                    line.push(b'\t');
                }
                match row.get_ref(c).unwrap() {
                    rusqlite::types::ValueRef::Null => line.extend_from_slice(b"\\N"),
                    rusqlite::types::ValueRef::Integer(i) => {
                        line.extend_from_slice(i.to_string().as_bytes())
                    }
                    rusqlite::types::ValueRef::Real(f) => {
                        line.extend_from_slice(f.to_string().as_bytes())
                    }
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        for &b in t {
                            match b {
                                b'\\' => line.extend_from_slice(b"\\\\"),
                                b'\t' => line.extend_from_slice(b"\\t"),
                                b'\n' => line.extend_from_slice(b"\\n"),
                                b'\r' => line.extend_from_slice(b"\\r"),
                                _ => line.push(b),
                            }
                        }
                    }
                }
            }
            line.push(b'\n');
            writer.write_all(&line).unwrap();
        }
        writer.finish().unwrap();
        tx.commit().unwrap();
    }
    drop(pg);
    // A fresh session, so that no snapshot of the copy holds the visibility map back.
    let mut pg = postgres::Client::connect(url, postgres::NoTls).unwrap();
    pg.batch_execute("VACUUM (FREEZE, ANALYZE)").unwrap();
    for table in TABLES {
        let (visible, pages): (i32, i32) = pg
            .query_one(
                "SELECT relallvisible, relpages FROM pg_class WHERE relname = $1",
                &[&table],
            )
            .map(|r| (r.get(0), r.get(1)))
            .unwrap();
        println!("  {table}: {visible} of {pages} pages all-visible after VACUUM");
    }
    started.elapsed()
}

/// p50 and p95 of `runs` timed calls of `f` (after one untimed call), in milliseconds.
fn time(runs: usize, mut f: impl FnMut() -> usize) -> (f64, f64, usize) {
    let rows = f();
    let mut ms: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[(((ms.len() as f64) * q).ceil() as usize).clamp(1, ms.len()) - 1];
    (at(0.5), at(0.95), rows)
}

struct Timing {
    query: String,
    p50: f64,
    p95: f64,
    rows: usize,
}

/// The cursor page `page` starts at (walking the pages before it), if there is such a page.
fn page_cursor(conn: &AnyConn, filter: &RecordFilter, page: usize) -> Option<Cursor> {
    let mut cursor = None;
    for _ in 1..page {
        let (_, next, _) =
            sync_server::service::reads::record_list_page(conn, filter, cursor.as_ref(), PAGE)
                .unwrap();
        cursor = Some(next?);
    }
    cursor
}

/// Times the console's queries on `db`.
fn run_queries(db: &Db, reference: &ReferenceData, runs: usize) -> Vec<Timing> {
    use sync_server::service::{access, figures, ledger, reads};
    let viewer = reference
        .users
        .iter()
        .find(|u| u.id.as_str() == "u-zhou")
        .expect("the city's supervisor")
        .clone();
    let today = today();
    let year_from = Day::ymd(2026, 1, 1);
    let mut out = Vec::new();
    let mut push = |query: &str, (p50, p95, rows): (f64, f64, usize)| {
        println!("  {query:<58} p50 {p50:>7.1} ms  p95 {p95:>7.1} ms  ({rows} rows)");
        out.push(Timing {
            query: query.to_owned(),
            p50,
            p95,
            rows,
        });
    };
    db.with_conn(|conn: &mut AnyConn| {
        // The record list of one county (its townships included, as the console searches
        // a unit's subtree), approved records of the three years, as the list handler asks.
        let (units, _) = access::searched_units(reference, &viewer, Some("qh"));
        let filter = RecordFilter {
            units,
            from: Some(today.plus_days(-3 * 365)),
            to: Some(today),
            status: Some("approved".into()),
            ..Default::default()
        };
        push(
            "list: county, approved, 3 years, page 1",
            time(runs, || {
                reads::record_list_page(&*conn, &filter, None, PAGE)
                    .unwrap()
                    .0
                    .len()
            }),
        );
        // Page 500: its cursor is where page 499 ended (walked once, untimed).
        let cursor = page_cursor(&*conn, &filter, 500);
        let total = conn.count_records(&filter).unwrap();
        match &cursor {
            Some(c) => push(
                &format!(
                    "list: same, page 500 (of {})",
                    (total as usize).div_ceil(PAGE)
                ),
                time(runs, || {
                    reads::record_list_page(&*conn, &filter, Some(c), PAGE)
                        .unwrap()
                        .0
                        .len()
                }),
            ),
            None => println!("  list: fewer than 500 pages ({total} records): page 500 not timed"),
        }
        // The city's list, everything of the last year, page 1 and 500.
        let (units, _) = access::searched_units(reference, &viewer, None);
        let city = RecordFilter {
            units,
            from: Some(today.plus_days(-365)),
            to: Some(today),
            ..Default::default()
        };
        push(
            "list: city, last year, page 1",
            time(runs, || {
                reads::record_list_page(&*conn, &city, None, PAGE)
                    .unwrap()
                    .0
                    .len()
            }),
        );
        let cursor = page_cursor(&*conn, &city, 500);
        if let Some(c) = &cursor {
            push(
                "list: city, last year, page 500",
                time(runs, || {
                    reads::record_list_page(&*conn, &city, Some(c), PAGE)
                        .unwrap()
                        .0
                        .len()
                }),
            );
        }
        // The figures of a county and of the city for a year, as the figures page counts
        // them (its handler also counts each district from the same facts).
        for (label, unit) in [("county qh", Some("qh")), ("city", None)] {
            let scope = figures::scope(
                reference,
                &viewer,
                unit,
                Some(year_from),
                Some(today),
                today,
            );
            push(
                &format!("figures: {label}, 2026-01-01 to today"),
                time(runs, || {
                    let facts = figures::facts(&*conn, &scope).unwrap();
                    let f = figures::compute(reference, &scope, &facts);
                    let months = app_core::figures::monthly_tallied(
                        &UnitId::new(scope.root.clone()),
                        &reference.units,
                        scope.period,
                        &facts,
                    );
                    std::hint::black_box((&f, &months));
                    f.by_kind.values().sum::<u32>() as usize
                }),
            );
        }
        // The overdue-hazard ledger of the city, and of a county.
        for (label, unit) in [("city", None), ("county qh", Some("qh"))] {
            let filter = HazardFilter {
                overdue: true,
                ..Default::default()
            };
            push(
                &format!("ledger: overdue hazards, {label}"),
                time(runs, || {
                    ledger::ledger(&*conn, reference, &viewer, unit, filter.clone(), today)
                        .unwrap()
                        .rows
                        .len()
                }),
            );
        }
    });
    out
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn main() {
    let n = env_usize("CITY_BENCH_INSPECTIONS", 1_000_000);
    let hazards = env_usize("CITY_BENCH_HAZARDS", 300_000);
    let runs = env_usize("CITY_BENCH_RUNS", 20).max(1);
    let backends = std::env::var("CITY_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,pg".into());
    let backends: Vec<&str> = backends.split(',').map(str::trim).collect();
    let work = tempfile::Builder::new()
        .prefix("city-bench-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let fixtures = city_fixtures(work.path());
    let reference = ReferenceData::load(&fixtures).unwrap();
    println!(
        "city benchmark: {n} inspections, {hazards} hazards, 12 counties (36 units), {runs} runs per query"
    );

    // SQLite: the server's database, made by its migrations, filled through index_record
    // (or kept from an earlier run of the same size, see CITY_BENCH_KEEP).
    let keep = std::env::var_os("CITY_BENCH_KEEP").map(PathBuf::from);
    let path = match &keep {
        Some(dir) => {
            std::fs::create_dir_all(dir).unwrap();
            dir.join(format!("city-{n}-{hazards}.db"))
        }
        None => work.path().join("server.db"),
    };
    // Written once the database is filled: a database without it is half made.
    let filled_mark = path.with_extension("filled");
    if filled_mark.exists() {
        println!("reusing the SQLite database {}", path.display());
        drop(Db::open(&path).unwrap());
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
            .unwrap();
    } else {
        for f in [path.clone(), path.with_extension("db-wal")] {
            let _ = std::fs::remove_file(f);
        }
        drop(Db::open(&path).unwrap());
        let (broken, filled) = fill_sqlite(&path, &reference, n, hazards);
        println!(
            "filled SQLite in {:.1} s ({broken} records breaking a rule)",
            filled.as_secs_f64()
        );
        if keep.is_some() {
            std::fs::write(&filled_mark, b"").unwrap();
        }
    }
    let sqlite_bytes = file_size(&path) + file_size(&path.with_extension("db-wal"));
    println!(
        "SQLite file {:.1} MB = {:.0} KB per 1,000 inspections",
        sqlite_bytes as f64 / 1e6,
        sqlite_bytes as f64 / 1e3 / (n as f64 / 1000.0)
    );
    let mut results: Vec<(&str, Vec<Timing>)> = Vec::new();
    if backends.contains(&"sqlite") {
        println!("SQLite:");
        let db = Db::open(&path).unwrap();
        results.push(("SQLite", run_queries(&db, &reference, runs)));
    }
    let mut pg_sizes = None;
    if backends.contains(&"pg") {
        let kept_url = std::env::var("CITY_BENCH_PG_URL").ok();
        let temp = match &kept_url {
            Some(_) => None,
            None => pg::PgDb::new(),
        };
        match kept_url.or_else(|| temp.as_ref().map(|t| t.url())) {
            None => println!("PostgreSQL: skipped (not installed)"),
            Some(url) => {
                drop(Db::open_postgres(&url).unwrap());
                let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                let held: i64 = c
                    .query_one("SELECT count(*) FROM console_records", &[])
                    .unwrap()
                    .get(0);
                if held == n as i64 {
                    println!("reusing the PostgreSQL database's {held} records");
                    c.batch_execute("VACUUM ANALYZE").unwrap();
                } else {
                    let copied = copy_to_pg(&path, &url);
                    println!("PostgreSQL: copied in {:.1} s", copied.as_secs_f64());
                }
                let tables: i64 = c
                    .query_one(
                        "SELECT sum(pg_total_relation_size(t))::bigint FROM unnest($1::text[]) t",
                        &[&TABLES.to_vec()],
                    )
                    .unwrap()
                    .get(0);
                let database: i64 = c
                    .query_one("SELECT pg_database_size(current_database())", &[])
                    .unwrap()
                    .get(0);
                let version: String = c.query_one("SHOW server_version", &[]).unwrap().get(0);
                drop(c);
                println!(
                    "PostgreSQL {version}: index tables {:.1} MB = {:.0} KB per 1,000 inspections; database {:.1} MB = {:.0} KB per 1,000",
                    tables as f64 / 1e6,
                    tables as f64 / 1e3 / (n as f64 / 1000.0),
                    database as f64 / 1e6,
                    database as f64 / 1e3 / (n as f64 / 1000.0),
                );
                pg_sizes = Some((tables, database));
                let db = Db::open_postgres(&url).unwrap();
                results.push(("PostgreSQL", run_queries(&db, &reference, runs)));
                drop(db);
                drop(temp);
            }
        }
    }

    // The table.
    println!();
    println!(
        "| query | {} | goal |",
        results
            .iter()
            .map(|(e, _)| format!("{e} p50 / p95 (ms)"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|{}---|", "---|".repeat(results.len()));
    if let Some((_, first)) = results.first() {
        for (i, t) in first.iter().enumerate() {
            let cells: Vec<String> = results
                .iter()
                .map(|(_, ts)| match ts.get(i) {
                    Some(t) => format!(
                        "{:.1} / {:.1}{}",
                        t.p50,
                        t.p95,
                        if t.p95 > GOAL_MS { " (missed)" } else { "" }
                    ),
                    None => "-".into(),
                })
                .collect();
            println!(
                "| {} ({} rows) | {} | ≤ {GOAL_MS:.0} |",
                t.query,
                t.rows,
                cells.join(" | ")
            );
        }
    }
    println!(
        "| database per 1,000 inspections | SQLite file {:.0} KB | {} |",
        sqlite_bytes as f64 / 1e3 / (n as f64 / 1000.0),
        match pg_sizes {
            Some((t, d)) => format!(
                "PostgreSQL index tables {:.0} KB, database {:.0} KB",
                t as f64 / 1e3 / (n as f64 / 1000.0),
                d as f64 / 1e3 / (n as f64 / 1000.0)
            ),
            None => "-".into(),
        }
    );
    let missed: Vec<String> = results
        .iter()
        .flat_map(|(e, ts)| {
            ts.iter()
                .filter(|t| t.p95 > GOAL_MS)
                .map(move |t| format!("{e}: {}", t.query))
        })
        .collect();
    if missed.is_empty() {
        println!("every query within {GOAL_MS:.0} ms at p95");
    } else {
        println!("over {GOAL_MS:.0} ms at p95: {}", missed.join("; "));
    }
}
