//! The console's index with 10,000 records: filtered pages (keyset paging) return exactly what
//! a brute-force filter of the records returns, in order. Prints how long each query took
//! (`cargo test -p sync-server --test console_index -- --nocapture`); speed is reported, not
//! asserted, since a shared CI machine makes wall-clock limits flaky.

use app_core::geo::{Day, Timestamp};
use app_core::hazard::{Hazard, HazardLevel, HazardStage};
use app_core::ids::{HazardId, InspectionId, UnitId};
use app_core::inspection::{Inspection, InspectionStatus, InspectorRef};
use app_core::kind::InspectionKind;
use app_core::legal::LegalBasis;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;
use sync_server::ReferenceData;
use sync_server::console::query::{self, Cursor, HazardFilter, RecordFilter};

const RECORDS: usize = 10_000;
/// 2026-11-23 00:00 Asia/Shanghai.
const T0: i64 = 1_795_363_200_000;
const HOUR: i64 = 3_600_000;

fn reference() -> ReferenceData {
    ReferenceData::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")).unwrap()
}

fn records(reference: &ReferenceData) -> Vec<Inspection> {
    let template = reference.templates.templates()[0].reference();
    let units = ["xw", "xw-xjk", "xw-hpm", "qh", "jy"];
    let inspectors: Vec<_> = reference
        .users
        .iter()
        .filter(|u| u.is_inspector())
        .collect();
    (0..RECORDS)
        .map(|i| {
            let e = &reference.enterprises[i % reference.enterprises.len()];
            let mut r = Inspection::new_draft(
                InspectionId::new(format!("r{i:05}")),
                InspectionKind::ALL[i % 6],
                UnitId::from(units[i % units.len()]),
                e.into(),
                template.clone(),
                inspectors[0].id.clone(),
                Timestamp(T0 - (i as i64) * HOUR),
            );
            r.status = InspectionStatus::ALL[(i / 7) % 6];
            if r.status != InspectionStatus::Draft {
                r.started_at = Some(Timestamp(r.created_at.0 + HOUR / 2));
            }
            for u in [
                inspectors[i % inspectors.len()],
                inspectors[(i + 1) % inspectors.len()],
            ] {
                r.inspectors.insert(
                    u.id.clone(),
                    InspectorRef {
                        user: u.id.clone(),
                        name: u.name.clone(),
                        certificate: u.certificate().unwrap().clone(),
                    },
                );
            }
            if i % 3 == 0 {
                let h = HazardId::new(format!("h{i}"));
                r.hazards.insert(
                    h.clone(),
                    Hazard {
                        id: h,
                        item: None,
                        level: if i % 9 == 0 {
                            HazardLevel::Major
                        } else {
                            HazardLevel::General
                        },
                        description: "消防通道堵塞".into(),
                        place: "车间".into(),
                        basis: vec![LegalBasis::new("安全生产法", "第四十二条")],
                        penalty: Vec::new(),
                        photos: BTreeMap::new(),
                        measures: "清理".into(),
                        deadline: Some(Timestamp(r.created_at.0).shanghai_date().plus_days(30)),
                        stage: [
                            HazardStage::Ordered,
                            HazardStage::Rectified,
                            HazardStage::Closed,
                        ][(i / 3) % 3],
                        supervision: None,
                        registered_on: Timestamp(r.created_at.0).shanghai_date(),
                        reported_on: None,
                        reinspections: BTreeMap::new(),
                        closed_on: None,
                    },
                );
            }
            r
        })
        .collect()
}

fn timed<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    println!("{label}: {:.2} ms", took.as_secs_f64() * 1000.0);
    out
}

#[test]
fn filtered_pages_over_10000_records_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    drop(sync_server::db::Db::open(&path).unwrap());
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    let reference = reference();
    let all = records(&reference);
    let tx = conn.transaction().unwrap();
    for r in &all {
        tx.execute(
            "INSERT INTO docs (id, unit, plan, status, snapshot, heads) VALUES (?1, ?2, NULL, ?3, x'', '[]')",
            rusqlite::params![r.id.as_str(), r.unit.as_str(), r.status.as_str()],
        )
        .unwrap();
        for u in r.inspectors.keys() {
            tx.execute(
                "INSERT INTO doc_inspectors (doc_id, user_id) VALUES (?1, ?2)",
                rusqlite::params![r.id.as_str(), u.as_str()],
            )
            .unwrap();
        }
        sync_server::index::index_record(&tx, r, false).unwrap();
    }
    tx.commit().unwrap();
    conn.execute("DELETE FROM console_backfill", []).unwrap(); // nothing to backfill here

    let xw: Vec<String> = ["xw", "xw-xjk", "xw-hpm"].map(String::from).to_vec();
    let brute = |f: &dyn Fn(&Inspection) -> bool| -> Vec<String> {
        let mut v: Vec<&Inspection> = all.iter().filter(|r| f(r)).collect();
        v.sort_by_key(|r| std::cmp::Reverse((sync_server::index::visit_at(r), r.id.clone())));
        v.into_iter().map(|r| r.id.to_string()).collect()
    };
    let in_xw = |r: &Inspection| xw.contains(&r.unit.to_string());

    // 1. A county's submitted records in a period, page after page.
    let from = Day::ymd(2026, 6, 1);
    let to = Day::ymd(2026, 10, 31);
    let f = RecordFilter {
        units: xw.clone(),
        from: Some(from),
        to: Some(to),
        status: Some("submitted".into()),
        ..RecordFilter::default()
    };
    let expected = brute(&|r| {
        let day = Timestamp(sync_server::index::visit_at(r)).shanghai_date();
        in_xw(r) && r.status == InspectionStatus::Submitted && from <= day && day <= to
    });
    assert!(expected.len() > 100, "the filter must select several pages");
    let mut got = Vec::new();
    let mut cursor: Option<Cursor> = None;
    let mut pages = 0;
    loop {
        let (rows, next) = timed(&format!("status+period page {}", pages + 1), || {
            query::list_records(&conn, &f, cursor.as_ref(), 50).unwrap()
        });
        got.extend(rows.into_iter().map(|r| r.id));
        pages += 1;
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(
        got, expected,
        "keyset pages cover the filter exactly, in order"
    );
    let count = timed("count", || query::count_records(&conn, &f).unwrap());
    assert_eq!(count as usize, expected.len());

    // 2. The whole subtree, no other filter: first page and a deep page.
    let f = RecordFilter {
        units: xw.clone(),
        ..RecordFilter::default()
    };
    let expected = brute(&|r| in_xw(r));
    let (first, _) = timed("subtree first page", || {
        query::list_records(&conn, &f, None, 50).unwrap()
    });
    assert_eq!(
        first.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        expected[..50]
    );
    let deep = Cursor {
        visit_at: all
            .iter()
            .find(|r| r.id.as_str() == expected[4999])
            .map(sync_server::index::visit_at)
            .unwrap(),
        id: expected[4999].clone(),
    };
    let (page, _) = timed("subtree page 101 (keyset)", || {
        query::list_records(&conn, &f, Some(&deep), 50).unwrap()
    });
    assert_eq!(
        page.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        expected[5000..5050]
    );

    // 3. One inspector, one kind, one enterprise.
    let f = RecordFilter {
        units: xw.clone(),
        inspector: Some("u-li".into()),
        kind: Some("random_draw".into()),
        enterprise: Some("e-002".into()),
        ..RecordFilter::default()
    };
    let expected = brute(&|r| {
        in_xw(r)
            && r.inspectors.contains_key("u-li")
            && r.kind == InspectionKind::RandomDraw
            && r.enterprise.id.as_str() == "e-002"
    });
    let (rows, _) = timed("inspector+kind+enterprise page", || {
        query::list_records(&conn, &f, None, 50).unwrap()
    });
    assert_eq!(
        rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        expected[..expected.len().min(50)]
    );

    // 4. The ledger's overdue hazards and the figures' facts for a year.
    let today = Day::ymd(2026, 11, 23);
    let hazards = timed("ledger: overdue hazards", || {
        query::list_hazards(
            &conn,
            &HazardFilter {
                units: xw.clone(),
                overdue: true,
                ..HazardFilter::default()
            },
            today,
        )
        .unwrap()
    });
    let expected: usize = all
        .iter()
        .filter(|r| in_xw(r))
        .flat_map(|r| r.hazards.values())
        .filter(|h| h.is_overdue(today))
        .count();
    assert_eq!(hazards.len(), expected);
    assert!(expected > 0);
    let facts = timed("figures facts for a year", || {
        query::record_facts(&conn, &xw, Day::ymd(2026, 1, 1), today, today).unwrap()
    });
    assert!(facts.len() > 1000);
}

#[test]
fn records_stored_before_the_index_existed_are_backfilled_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    drop(sync_server::db::Db::open(&path).unwrap());
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    let reference = reference();
    let template = &reference.templates.templates()[0];
    let record = &records(&reference)[3];
    let mut draft = Inspection::new_draft(
        record.id.clone(),
        record.kind,
        record.unit.clone(),
        record.enterprise.clone(),
        template.reference(),
        record.created_by.clone(),
        record.created_at,
    );
    draft.plan = None;
    let mut doc = app_core::document::InspectionDoc::create(
        &draft,
        template,
        &app_core::ids::DeviceId::from("tablet-1"),
        record.created_at,
    )
    .unwrap();
    // As a server before the console stored it: a `docs` row and no index rows.
    conn.execute(
        "INSERT INTO docs (id, unit, plan, status, snapshot, heads) VALUES (?1, ?2, NULL, 'draft', ?3, '[]')",
        rusqlite::params![draft.id.as_str(), draft.unit.as_str(), doc.save()],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO docs (id, unit, plan, status, snapshot, heads) VALUES ('broken', 'xw', NULL, 'draft', x'00', '[]')",
        [],
    )
    .unwrap();
    let listed = |conn: &rusqlite::Connection| {
        query::list_records(
            conn,
            &RecordFilter {
                units: vec![draft.unit.to_string()],
                ..RecordFilter::default()
            },
            None,
            50,
        )
        .unwrap()
        .0
    };
    assert!(listed(&conn).is_empty());
    assert_eq!(
        sync_server::service::index::backfill(&mut conn).unwrap(),
        1,
        "the broken row is skipped"
    );
    let rows = listed(&conn);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, draft.id.as_str());
    assert_eq!(rows[0].enterprise_name, draft.enterprise.name);
    let kept: i64 = conn
        .query_row("SELECT count(*) FROM docs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        kept, 2,
        "a document that does not read is kept, never deleted"
    );
    assert_eq!(
        sync_server::service::index::backfill(&mut conn).unwrap(),
        0,
        "runs once"
    );
}
