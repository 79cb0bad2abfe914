//! The figures the rules ask for, for a unit (with its subtree) and a period:
//! inspections by kind, the share of unannounced checks (四不两直 / 暗查暗访) among routine
//! checks (rule: ≥ 1/5), the share of random-draw checks (双随机) among routine checks
//! (rule: ≥ 1/3), and hazards open, overdue, major and closed.
//!
//! Counted: visits that took place (status completed or later) whose visit date (the start
//! of the on-site check, in Asia/Shanghai; the creation date if it never started) lies in the
//! period. Routine checks are all kinds except complaint follow-ups and re-inspections
//! ([`InspectionKind::is_routine_check`]). Shares are compared as exact fractions.

use crate::geo::Day;
use crate::hazard::{HazardLevel, HazardStage};
use crate::ids::UnitId;
use crate::inspection::{Inspection, InspectionStatus};
use crate::kind::InspectionKind;
use crate::unit::UnitTree;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An inclusive range of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: Day,
    pub to: Day,
}

impl Period {
    pub fn contains(&self, day: Day) -> bool {
        self.from <= day && day <= self.to
    }
}

/// An exact fraction with the rule's threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub count: u32,
    pub of: u32,
    /// The rule's minimum as `min_num / min_den`.
    pub min_num: u32,
    pub min_den: u32,
}

impl Share {
    /// Whether `count / of ≥ min_num / min_den`, compared exactly. With no routine checks at
    /// all there is nothing to fall short of.
    pub fn meets_rule(&self) -> bool {
        u64::from(self.count) * u64::from(self.min_den)
            >= u64::from(self.of) * u64::from(self.min_num)
    }

    pub fn percent(&self) -> Option<f64> {
        (self.of > 0).then(|| f64::from(self.count) * 100.0 / f64::from(self.of))
    }
}

/// What the figures need to know of one hazard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HazardFacts {
    pub level: HazardLevel,
    pub stage: HazardStage,
    pub overdue: bool,
    pub supervised: bool,
}

/// What the figures need to know of one record (the server keeps this in its index).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordFacts {
    pub unit: UnitId,
    pub kind: InspectionKind,
    pub status: InspectionStatus,
    pub visit_day: Day,
    pub hazards: Vec<HazardFacts>,
}

impl RecordFacts {
    /// The facts of `record`, with overdue judged as of `today`.
    pub fn of(record: &Inspection, today: Day) -> Self {
        let visit_day = record
            .started_at
            .unwrap_or(record.created_at)
            .shanghai_date();
        Self {
            unit: record.unit.clone(),
            kind: record.kind,
            status: record.status,
            visit_day,
            hazards: record
                .hazards
                .values()
                .map(|h| HazardFacts {
                    level: h.level,
                    stage: h.stage,
                    overdue: h.is_overdue(today),
                    supervised: h.supervision.is_some(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub by_kind: BTreeMap<InspectionKind, u32>,
    pub routine_checks: u32,
    /// 四不两直 among routine checks, rule ≥ 1/5.
    pub unannounced: Share,
    /// 双随机 among routine checks, rule ≥ 1/3.
    pub random_draw: Share,
    pub hazards_open: u32,
    pub hazards_overdue: u32,
    pub hazards_major_open: u32,
    /// Open major hazards not listed for supervision (挂牌督办): should be zero.
    pub hazards_major_unsupervised: u32,
    pub hazards_closed: u32,
}

/// Facts standing for `records` records alike (the same unit, kind and status, visit days in
/// the same month), with the hazards of them all: how a server's index tallies a city's years
/// of records so that its figures are counted without reading every record. `facts.visit_day`
/// is one of their visit days (all lie in the period asked for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TalliedFacts {
    pub facts: RecordFacts,
    pub records: u32,
}

pub fn compute<'a>(
    unit: &UnitId,
    units: &UnitTree,
    period: Period,
    records: impl IntoIterator<Item = &'a RecordFacts>,
) -> Figures {
    compute_weighted(unit, units, period, records.into_iter().map(|r| (r, 1)))
}

/// [`compute`] over tallies: the same counts as over the records they stand for.
pub fn compute_tallied<'a>(
    unit: &UnitId,
    units: &UnitTree,
    period: Period,
    tallies: impl IntoIterator<Item = &'a TalliedFacts>,
) -> Figures {
    compute_weighted(
        unit,
        units,
        period,
        tallies.into_iter().map(|t| (&t.facts, t.records)),
    )
}

/// The counting of [`compute`], each fact standing for `weight` records (its hazards are those
/// of them all, each counted once).
fn compute_weighted<'a>(
    unit: &UnitId,
    units: &UnitTree,
    period: Period,
    records: impl IntoIterator<Item = (&'a RecordFacts, u32)>,
) -> Figures {
    let mut by_kind: BTreeMap<InspectionKind, u32> =
        InspectionKind::ALL.iter().map(|k| (*k, 0)).collect();
    let mut f = Figures {
        by_kind: BTreeMap::new(),
        routine_checks: 0,
        unannounced: Share {
            count: 0,
            of: 0,
            min_num: 1,
            min_den: 5,
        },
        random_draw: Share {
            count: 0,
            of: 0,
            min_num: 1,
            min_den: 3,
        },
        hazards_open: 0,
        hazards_overdue: 0,
        hazards_major_open: 0,
        hazards_major_unsupervised: 0,
        hazards_closed: 0,
    };
    for (r, weight) in records {
        if !r.status.visit_done()
            || !period.contains(r.visit_day)
            || !units.is_in_subtree(&r.unit, unit)
        {
            continue;
        }
        *by_kind.entry(r.kind).or_default() += weight;
        if r.kind.is_routine_check() {
            f.routine_checks += weight;
        }
        for h in &r.hazards {
            if h.stage.is_open() {
                f.hazards_open += 1;
                if h.level == HazardLevel::Major {
                    f.hazards_major_open += 1;
                    if !h.supervised {
                        f.hazards_major_unsupervised += 1;
                    }
                }
            } else {
                f.hazards_closed += 1;
            }
            if h.overdue {
                f.hazards_overdue += 1;
            }
        }
    }
    f.unannounced.count = by_kind[&InspectionKind::Unannounced];
    f.unannounced.of = f.routine_checks;
    f.random_draw.count = by_kind[&InspectionKind::RandomDraw];
    f.random_draw.of = f.routine_checks;
    f.by_kind = by_kind;
    f
}

/// Visits per calendar month of `period` (every month listed, empty ones as 0), counted as
/// [`compute`] counts them: done, in the period, in `unit`'s subtree. Keys are (year, month).
pub fn monthly<'a>(
    unit: &UnitId,
    units: &UnitTree,
    period: Period,
    records: impl IntoIterator<Item = &'a RecordFacts>,
) -> Vec<((i32, u8), u32)> {
    monthly_weighted(unit, units, period, records.into_iter().map(|r| (r, 1)))
}

/// [`monthly`] over tallies: the same counts as over the records they stand for.
pub fn monthly_tallied<'a>(
    unit: &UnitId,
    units: &UnitTree,
    period: Period,
    tallies: impl IntoIterator<Item = &'a TalliedFacts>,
) -> Vec<((i32, u8), u32)> {
    monthly_weighted(
        unit,
        units,
        period,
        tallies.into_iter().map(|t| (&t.facts, t.records)),
    )
}

fn monthly_weighted<'a>(
    unit: &UnitId,
    units: &UnitTree,
    period: Period,
    records: impl IntoIterator<Item = (&'a RecordFacts, u32)>,
) -> Vec<((i32, u8), u32)> {
    let mut months: BTreeMap<(i32, u8), u32> = BTreeMap::new();
    let (mut y, mut m) = (period.from.0.year(), u8::from(period.from.0.month()));
    let end = (period.to.0.year(), u8::from(period.to.0.month()));
    while (y, m) <= end && months.len() < 1200 {
        months.insert((y, m), 0);
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    for (r, weight) in records {
        if r.status.visit_done()
            && period.contains(r.visit_day)
            && units.is_in_subtree(&r.unit, unit)
        {
            *months
                .entry((r.visit_day.0.year(), u8::from(r.visit_day.0.month())))
                .or_default() += weight;
        }
    }
    months.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit::tests::nanjing;

    fn facts(unit: &str, kind: InspectionKind, status: InspectionStatus, day: Day) -> RecordFacts {
        RecordFacts {
            unit: UnitId::from(unit),
            kind,
            status,
            visit_day: day,
            hazards: vec![],
        }
    }

    fn november() -> Period {
        Period {
            from: Day::ymd(2026, 11, 1),
            to: Day::ymd(2026, 11, 30),
        }
    }

    #[test]
    fn shares_are_exact_at_the_thresholds() {
        let share = |count, of, n, d| Share {
            count,
            of,
            min_num: n,
            min_den: d,
        };
        assert!(
            share(1, 5, 1, 5).meets_rule(),
            "exactly one fifth meets the rule"
        );
        assert!(!share(1, 6, 1, 5).meets_rule());
        assert!(share(1, 3, 1, 3).meets_rule());
        assert!(!share(33, 100, 1, 3).meets_rule(), "33% is below one third");
        assert!(share(0, 0, 1, 5).meets_rule());
    }

    #[test]
    fn counts_done_visits_of_the_subtree_in_the_period() {
        use InspectionKind::*;
        use InspectionStatus::*;
        let units = nanjing();
        let d = Day::ymd(2026, 11, 10);
        let mut records = vec![
            facts("xw", Unannounced, Approved, d),
            facts("xw-xjq", RandomDraw, Submitted, d),
            facts("xw", Routine, Completed, d),
            facts("xw", Routine, Returned, d),
            facts("xw", Routine, Completed, d),
            facts("xw", Complaint, Completed, d),
            facts("xw", Reinspection, Approved, d),
            // Not counted: a draft, a sibling county, outside the period.
            facts("xw", Unannounced, Draft, d),
            facts("xw", Unannounced, OnSite, d),
            facts("qh", Unannounced, Approved, d),
            facts("xw", Unannounced, Approved, Day::ymd(2026, 12, 1)),
        ];
        records[2].hazards = vec![
            HazardFacts {
                level: HazardLevel::Major,
                stage: HazardStage::Ordered,
                overdue: true,
                supervised: false,
            },
            HazardFacts {
                level: HazardLevel::General,
                stage: HazardStage::Closed,
                overdue: false,
                supervised: false,
            },
        ];
        let f = compute(&UnitId::from("xw"), &units, november(), &records);
        assert_eq!(f.by_kind[&Unannounced], 1);
        assert_eq!(f.by_kind[&Routine], 3);
        assert_eq!(f.by_kind[&Complaint], 1);
        assert_eq!(
            f.routine_checks, 5,
            "complaints and re-inspections are not routine checks"
        );
        assert_eq!((f.unannounced.count, f.unannounced.of), (1, 5));
        assert!(f.unannounced.meets_rule());
        assert_eq!((f.random_draw.count, f.random_draw.of), (1, 5));
        assert!(!f.random_draw.meets_rule(), "1/5 < 1/3");
        assert_eq!(
            (
                f.hazards_open,
                f.hazards_overdue,
                f.hazards_major_open,
                f.hazards_major_unsupervised,
                f.hazards_closed
            ),
            (1, 1, 1, 1, 1)
        );
        // The city sees the county's figures plus its sibling's.
        let city = compute(&UnitId::from("nj"), &units, november(), &records);
        assert_eq!(city.by_kind[&Unannounced], 2);
        assert_eq!(city.routine_checks, 6);
    }

    #[test]
    fn visits_per_month_list_every_month_and_count_only_done_visits_below_the_unit() {
        use InspectionKind::*;
        use InspectionStatus::*;
        let units = nanjing();
        let period = Period {
            from: Day::ymd(2026, 10, 15),
            to: Day::ymd(2026, 12, 31),
        };
        let records = vec![
            facts("xw", Unannounced, Approved, Day::ymd(2026, 10, 20)),
            facts("xw-xjq", Routine, Submitted, Day::ymd(2026, 12, 1)),
            facts("xw", Routine, Draft, Day::ymd(2026, 12, 2)),
            facts("qh", Routine, Approved, Day::ymd(2026, 12, 3)),
            facts("xw", Routine, Approved, Day::ymd(2026, 10, 1)),
        ];
        let m = monthly(&UnitId::from("xw"), &units, period, &records);
        assert_eq!(m, vec![((2026, 10), 1), ((2026, 11), 0), ((2026, 12), 1)]);
        let city = monthly(&UnitId::from("nj"), &units, period, &records);
        assert_eq!(city[2], ((2026, 12), 2));
    }

    #[test]
    fn tallies_count_as_the_records_they_stand_for() {
        use InspectionKind::*;
        use InspectionStatus::*;
        let units = nanjing();
        let hazard = |stage, overdue| HazardFacts {
            level: HazardLevel::Major,
            stage,
            overdue,
            supervised: false,
        };
        let mut records = Vec::new();
        // 18 records, 12 kinds of them: records i and i + 12 are alike.
        for i in 0..18u8 {
            let mut r = facts(
                ["xw", "qh", "xw-xjq"][usize::from(i % 3)],
                [Unannounced, Complaint][usize::from((i / 3) % 2)],
                [Approved, Draft][usize::from((i / 6) % 2)],
                Day::ymd(2026, 11, 1 + i),
            );
            if i % 2 == 0 {
                r.hazards.push(hazard(HazardStage::Ordered, i % 4 == 0));
                r.hazards.push(hazard(HazardStage::Closed, false));
            }
            records.push(r);
        }
        // Grouped by unit, kind and status, as the server's tally groups them.
        let mut tallies: Vec<TalliedFacts> = Vec::new();
        for r in &records {
            match tallies.iter_mut().find(|t| {
                (&t.facts.unit, t.facts.kind, t.facts.status) == (&r.unit, r.kind, r.status)
            }) {
                Some(t) => {
                    t.records += 1;
                    t.facts.hazards.extend(r.hazards.iter().cloned());
                }
                None => tallies.push(TalliedFacts {
                    facts: r.clone(),
                    records: 1,
                }),
            }
        }
        assert!(tallies.len() < records.len());
        for unit in ["nj", "xw", "qh"] {
            let unit = UnitId::from(unit);
            assert_eq!(
                compute_tallied(&unit, &units, november(), &tallies),
                compute(&unit, &units, november(), &records)
            );
            assert_eq!(
                monthly_tallied(&unit, &units, november(), &tallies),
                monthly(&unit, &units, november(), &records)
            );
        }
    }
}
