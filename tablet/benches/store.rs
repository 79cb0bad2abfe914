//! Store benchmarks, each beside its anchor measured in the same run:
//!
//! 1. Saving one checklist answer (Automerge change + index rows + commit, WAL with
//!    synchronous = FULL) against a bare SQLite one-row insert commit with the same settings.
//! 2. The inspection list (first page, filtered by status) over 10,000 stored inspections
//!    against the bare SQL query on the same table.
//!
//! Run with `cargo bench -p inspection-tablet --bench store` (or `cargo xtask bench`).

use app_core::checklist::ChecklistTemplate;
use app_core::enterprise::Enterprise;
use app_core::geo::Timestamp;
use app_core::ids::{InspectionId, ItemCode};
use app_core::inspection::{Answer, Command, Context, Inspection, InspectionStatus, InspectorRef};
use app_core::kind::InspectionKind;
use app_core::user::User;
use std::path::Path;
use std::time::{Duration, Instant};
use tablet::store::{ListFilter, Store};

const T0: i64 = 1_795_420_800_000;

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures"))
}

fn load<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join(name)).unwrap()).unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct Fixture {
    template: ChecklistTemplate,
    inspector: User,
    colleague: User,
    enterprise: Enterprise,
}

impl Fixture {
    fn new() -> Self {
        let text = std::fs::read_to_string(fixtures().join("checklists/gongmao.toml")).unwrap();
        let users: Vec<User> = load("demo/users.json");
        let find = |id: &str| users.iter().find(|u| u.id.as_str() == id).unwrap().clone();
        Self {
            template: ChecklistTemplate::parse_toml(&text).unwrap(),
            inspector: find("u-wang"),
            colleague: find("u-li"),
            enterprise: load::<Vec<Enterprise>>("demo/enterprises.json").remove(0),
        }
    }

    fn cx(&self, ms: i64) -> Context<'_> {
        Context {
            actor: &self.inspector,
            now: Timestamp(T0 + ms),
            template: &self.template,
        }
    }

    /// Creates a record and takes it on site (two inspectors + transition).
    fn on_site(&self, store: &mut Store, id: &str, ms: i64) -> InspectionId {
        let record = Inspection::new_draft(
            InspectionId::new(id),
            InspectionKind::Routine,
            self.enterprise.unit.clone(),
            (&self.enterprise).into(),
            self.template.reference(),
            self.inspector.id.clone(),
            Timestamp(T0 + ms),
        );
        store
            .create_inspection(&record, &self.template, Timestamp(T0 + ms))
            .unwrap();
        for u in [&self.inspector, &self.colleague] {
            let r = InspectorRef {
                user: u.id.clone(),
                name: u.name.clone(),
                certificate: u.certificate().unwrap().clone(),
            };
            store
                .apply(&record.id, &Command::AddInspector(r), &self.cx(ms))
                .unwrap();
        }
        store
            .apply(
                &record.id,
                &Command::Transition {
                    to: InspectionStatus::OnSite,
                    comment: String::new(),
                },
                &self.cx(ms),
            )
            .unwrap();
        record.id
    }
}

fn bench_saves(fx: &Fixture, dir: &Path) {
    const N: usize = 3000;
    let mut store = Store::open(&dir.join("saves.db")).unwrap();
    let id = fx.on_site(&mut store, "bench-saves", 0);
    let items: Vec<ItemCode> = fx.template.items().map(|i| i.code.clone()).collect();
    let answers = [Answer::Complies, Answer::Fails, Answer::NotApplicable];
    let mut lat = Vec::with_capacity(N);
    let started = Instant::now();
    for i in 0..N {
        let command = Command::Answer {
            item: items[i % items.len()].clone(),
            answer: Some(answers[(i / items.len()) % 3]),
        };
        let t = Instant::now();
        store.apply(&id, &command, &fx.cx(i as i64)).unwrap();
        lat.push(t.elapsed());
    }
    let total = started.elapsed();
    lat.sort();

    // Anchor: bare one-row insert commits with the same journal and synchronous settings.
    let conn = rusqlite::Connection::open(dir.join("bare.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)", [])
        .unwrap();
    let mut bare = Vec::with_capacity(N);
    let payload = vec![7u8; 200];
    let bare_started = Instant::now();
    for i in 0..N {
        let t = Instant::now();
        conn.execute(
            "INSERT INTO t (id, v) VALUES (?1, ?2)",
            rusqlite::params![i as i64, payload],
        )
        .unwrap();
        bare.push(t.elapsed());
    }
    let bare_total = bare_started.elapsed();
    bare.sort();

    let rate = N as f64 / total.as_secs_f64();
    let bare_rate = N as f64 / bare_total.as_secs_f64();
    println!("save one checklist answer ({N} saves, WAL + synchronous=FULL)");
    println!(
        "  store:  {rate:>9.0} saves/s   p50 {:>7.3} ms   p99 {:>7.3} ms",
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "  bare:   {bare_rate:>9.0} commits/s p50 {:>7.3} ms   p99 {:>7.3} ms   (one-row insert)",
        percentile(&bare, 0.5).as_secs_f64() * 1e3,
        percentile(&bare, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "  ratio:  store rate is {:.2}× the bare commit rate; goal ≥ 1000 saves/s and p99 ≤ 5 ms: {}",
        rate / bare_rate,
        if rate >= 1000.0 && percentile(&lat, 0.99) <= Duration::from_millis(5) {
            "met"
        } else {
            "NOT met"
        }
    );
}

/// A list row as raw columns: id, kind, status, enterprise, created, updated, hazards, conflicts.
type RawRow = (String, String, String, String, i64, i64, i64, i64);

fn bench_list(fx: &Fixture, dir: &Path) {
    const RECORDS: usize = 10_000;
    const RUNS: usize = 2000;
    let mut store = Store::open(&dir.join("list.db")).unwrap();
    let fill = Instant::now();
    for i in 0..RECORDS {
        let id = format!("rec-{i:05}");
        if i % 3 == 0 {
            fx.on_site(&mut store, &id, i as i64 * 1000);
        } else {
            let record = Inspection::new_draft(
                InspectionId::new(id),
                InspectionKind::Routine,
                fx.enterprise.unit.clone(),
                (&fx.enterprise).into(),
                fx.template.reference(),
                fx.inspector.id.clone(),
                Timestamp(T0 + i as i64 * 1000),
            );
            store
                .create_inspection(&record, &fx.template, Timestamp(T0 + i as i64 * 1000))
                .unwrap();
        }
    }
    let fill = fill.elapsed();
    let filter = ListFilter {
        status: Some(InspectionStatus::OnSite),
        limit: 50,
        ..ListFilter::default()
    };
    let first = store.list(&filter).unwrap();
    assert_eq!(first.len(), 50);
    let mut ours = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        std::hint::black_box(store.list(&filter).unwrap());
        ours.push(t.elapsed());
    }
    // Anchor: the bare SQL query on the same table, rows read as raw columns.
    let conn = store.connection();
    let mut stmt = conn
        .prepare(
            "SELECT id, kind, status, enterprise_name, created_at, updated_at, open_hazards, conflicts
             FROM inspections WHERE status = ?1 ORDER BY updated_at DESC, id LIMIT 50",
        )
        .unwrap();
    let mut bare = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        let rows: Vec<RawRow> = stmt
            .query_map(["on_site"], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        std::hint::black_box(rows);
        bare.push(t.elapsed());
    }
    ours.sort();
    bare.sort();
    let (o, b) = (percentile(&ours, 0.5), percentile(&bare, 0.5));
    println!(
        "inspection list, first page of 50 filtered by status, {RECORDS} stored inspections (filled in {fill:.1?})"
    );
    println!(
        "  store:  median {:>8.1} µs   p99 {:>8.1} µs",
        o.as_secs_f64() * 1e6,
        percentile(&ours, 0.99).as_secs_f64() * 1e6
    );
    println!(
        "  bare:   median {:>8.1} µs   p99 {:>8.1} µs",
        b.as_secs_f64() * 1e6,
        percentile(&bare, 0.99).as_secs_f64() * 1e6
    );
    println!(
        "  ratio:  {:.2}× the bare query; goal ≤ 2×: {}",
        o.as_secs_f64() / b.as_secs_f64(),
        if o.as_secs_f64() <= 2.0 * b.as_secs_f64() {
            "met"
        } else {
            "NOT met"
        }
    );
}

fn main() {
    // `cargo test --benches` passes --test style flags; only run the work under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let fx = Fixture::new();
    let dir = tempfile::tempdir_in("/var/tmp").unwrap();
    // STORE_BENCH=saves or =list runs one part only.
    let only = std::env::var("STORE_BENCH").unwrap_or_default();
    if only != "list" {
        bench_saves(&fx, dir.path());
    }
    if only != "saves" {
        bench_list(&fx, dir.path());
    }
}
