//! The units' penalty rules on the tablet (issue 19): stored with the reference bundle the
//! server sends (one transaction with it), read back for a case's unit after reopening the
//! database, and app-core's defaults with no discretion table for a unit the server sent no
//! rules for (an older server's bundle has none). Real SQLite files; the rules' way from the
//! server is tested in `sync-server/tests/reference.rs` and `tablet_cases.rs`.

use app_core::geo::Day;
use app_core::ids::UnitId;
use app_core::penalty::{DiscretionTable, PenaltySettings, Period, WorkCalendar};
use app_core::unit::Unit;
use app_core::wire::http::{ReferenceBundle, UnitCaseRules};
use std::path::Path;
use tablet::store::{CaseRules, Store};

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures"))
}

fn demo_table() -> DiscretionTable {
    let text = std::fs::read_to_string(fixtures().join("demo/discretion/nj.toml")).unwrap();
    DiscretionTable::parse_toml(&text).unwrap()
}

fn bundle(penalty_rules: Vec<UnitCaseRules>) -> ReferenceBundle {
    let units: Vec<Unit> =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("demo/units.json")).unwrap())
            .unwrap();
    ReferenceBundle {
        units,
        users: Vec::new(),
        enterprises: Vec::new(),
        templates: Vec::new(),
        plans: Vec::new(),
        penalty_rules,
    }
}

fn county_rules() -> UnitCaseRules {
    let day = |s| Day::parse(s).unwrap();
    UnitCaseRules {
        unit: UnitId::from("xw"),
        settings: PenaltySettings {
            decision_period: Period::calendar(60),
            hearing_fine_threshold: 30_000,
            ..PenaltySettings::default()
        },
        calendar: WorkCalendar {
            holidays: [day("2026-12-31")].into(),
            workdays: Default::default(),
        },
        discretion: Some(demo_table()),
    }
}

#[test]
fn the_rules_sent_with_the_reference_are_stored_and_read_back_for_the_unit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tablet.db");
    let xw = UnitId::from("xw");
    {
        let mut store = Store::open(&path).unwrap();
        // Nothing sent yet: the defaults, no table.
        assert_eq!(store.case_rules(&xw).unwrap(), CaseRules::default());
        let without_table = UnitCaseRules {
            unit: UnitId::from("qh"),
            discretion: None,
            ..county_rules()
        };
        store
            .replace_reference_bundle(&bundle(vec![county_rules(), without_table]))
            .unwrap();
        // The units of the same bundle, in the same transaction.
        assert_eq!(
            store.reference::<Unit>().unwrap().len(),
            bundle(Vec::new()).units.len()
        );
    }
    // Reopened: the unit's own rules, as sent.
    let mut store = Store::open(&path).unwrap();
    let sent = county_rules();
    let rules = store.case_rules(&xw).unwrap();
    assert_eq!(
        rules,
        CaseRules {
            settings: sent.settings.clone(),
            calendar: sent.calendar.clone(),
            discretion: sent.discretion.clone(),
        }
    );
    assert_eq!(rules.discretion.unwrap().rows[0].code, "97-1");
    let qh = store.case_rules(&UnitId::from("qh")).unwrap();
    assert_eq!(qh.settings, sent.settings);
    assert_eq!(qh.discretion, None, "sent without a table: none");
    // A unit the server sent nothing for: the defaults.
    assert_eq!(
        store.case_rules(&UnitId::from("jy")).unwrap(),
        CaseRules::default()
    );
    assert!(!store.reference::<UnitCaseRules>().unwrap().is_empty());

    // An older server's bundle carries no rules: replaced whole, the defaults again.
    let old: ReferenceBundle = serde_json::from_str(
        r#"{"units":[],"users":[],"enterprises":[],"templates":[],"plans":[]}"#,
    )
    .unwrap();
    store.replace_reference_bundle(&old).unwrap();
    assert_eq!(store.case_rules(&xw).unwrap(), CaseRules::default());
    assert!(store.reference::<UnitCaseRules>().unwrap().is_empty());
    assert!(store.reference::<Unit>().unwrap().is_empty());
}
