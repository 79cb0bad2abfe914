//! The enterprise's record: decided cases become entries of its violation history
//! (违法信息库); the unit's blacklist rules (失信名单) turn the history into listings, each
//! with its reason, its rule, the cases behind it and its end date; the 双随机 draw can
//! weight an enterprise by its listings and history ([`draw_weight`]).
//!
//! Listings are computed from the history, never stored by hand, so they can always be
//! explained and re-derived; an expired listing stays in the list (its history).

use super::case::PenaltyCase;
use super::{CaseId, OtherPenalty, Penalty};
use crate::geo::Day;
use crate::ids::EnterpriseId;
use crate::legal::LegalBasis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One decided case in an enterprise's violation history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationEntry {
    pub enterprise: EnterpriseId,
    pub enterprise_name: String,
    pub case: CaseId,
    pub decision: String,
    pub decided_on: Day,
    pub violated: Vec<LegalBasis>,
    pub basis: LegalBasis,
    pub penalty: Penalty,
    /// Whether the case came from a 重大事故隐患 (the unit marks it on the rule side by
    /// provision; here: the case was marked major).
    pub major: bool,
}

/// The history entry of a decided case (none before the decision).
pub fn violation_entry(case: &PenaltyCase) -> Option<ViolationEntry> {
    let d = case.decision.as_ref()?;
    Some(ViolationEntry {
        enterprise: case.enterprise.id.clone(),
        enterprise_name: case.enterprise.name.clone(),
        case: case.id.clone(),
        decision: d.number.clone(),
        decided_on: d.at.shanghai_date(),
        violated: case.violated.clone(),
        basis: d.basis.clone(),
        penalty: d.penalty.clone(),
        major: !case.major.is_empty(),
    })
}

/// Every enterprise's history, oldest first.
pub fn violation_history<'a>(
    cases: impl IntoIterator<Item = &'a PenaltyCase>,
) -> BTreeMap<EnterpriseId, Vec<ViolationEntry>> {
    let mut out: BTreeMap<EnterpriseId, Vec<ViolationEntry>> = BTreeMap::new();
    for e in cases.into_iter().filter_map(violation_entry) {
        out.entry(e.enterprise.clone()).or_default().push(e);
    }
    for entries in out.values_mut() {
        entries.sort_by(|a, b| (a.decided_on, &a.case).cmp(&(b.decided_on, &b.case)));
    }
    out
}

/// What puts an enterprise on the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "when", rename_all = "snake_case")]
pub enum BlacklistCondition {
    /// At least `count` decisions within `within_days` calendar days (counted back from the
    /// latest of them).
    Repeated { count: usize, within_days: u32 },
    /// A single fine of at least this amount.
    FineAtLeast { yuan: u64 },
    /// A decision with this kind of penalty (e.g. 责令停产停业).
    Penalty { kind: OtherPenalty },
    /// A decision in a case marked major (重大).
    Major,
}

/// A rule the unit sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlacklistRule {
    pub id: String,
    /// The reason the listing states, e.g. `一年内因同类违法行为受到两次以上行政处罚`.
    pub reason: String,
    pub condition: BlacklistCondition,
    /// How long a listing lasts, in calendar days from the decision that triggered it.
    pub listed_days: u32,
}

/// A listing: which rule, why, from when to when, and the cases behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlacklistEntry {
    pub enterprise: EnterpriseId,
    pub enterprise_name: String,
    pub rule: String,
    pub reason: String,
    pub listed_on: Day,
    /// The last day on the list.
    pub ends_on: Day,
    pub cases: Vec<CaseId>,
}

impl BlacklistEntry {
    pub fn is_active(&self, today: Day) -> bool {
        self.listed_on <= today && today <= self.ends_on
    }
}

/// The listings `rules` give for one enterprise's `history` (oldest first), up to `today`:
/// active and expired, in the order they began. A rule triggered again while its listing
/// runs extends it (the later decision starts a new period) rather than listing twice.
pub fn evaluate_blacklist(
    history: &[ViolationEntry],
    rules: &[BlacklistRule],
    today: Day,
) -> Vec<BlacklistEntry> {
    let mut out: Vec<BlacklistEntry> = Vec::new();
    for rule in rules {
        let mut current: Option<BlacklistEntry> = None;
        for (i, e) in history.iter().enumerate() {
            if e.decided_on > today {
                break;
            }
            let cases: Option<Vec<CaseId>> = match &rule.condition {
                BlacklistCondition::Repeated { count, within_days } => {
                    let from = e.decided_on.plus_days(-i64::from(*within_days));
                    let within: Vec<CaseId> = history[..=i]
                        .iter()
                        .filter(|x| x.decided_on > from)
                        .map(|x| x.case.clone())
                        .collect();
                    (*count > 0 && within.len() >= *count).then_some(within)
                }
                BlacklistCondition::FineAtLeast { yuan } => {
                    (e.penalty.fine_yuan >= *yuan).then(|| vec![e.case.clone()])
                }
                BlacklistCondition::Penalty { kind } => {
                    e.penalty.other.contains(kind).then(|| vec![e.case.clone()])
                }
                BlacklistCondition::Major => e.major.then(|| vec![e.case.clone()]),
            };
            let Some(cases) = cases else { continue };
            let ends_on = e.decided_on.plus_days(i64::from(rule.listed_days));
            match current.as_mut() {
                Some(c) if c.ends_on >= e.decided_on => {
                    c.ends_on = c.ends_on.max(ends_on);
                    for case in cases {
                        if !c.cases.contains(&case) {
                            c.cases.push(case);
                        }
                    }
                }
                _ => {
                    if let Some(done) = current.take() {
                        out.push(done);
                    }
                    current = Some(BlacklistEntry {
                        enterprise: e.enterprise.clone(),
                        enterprise_name: e.enterprise_name.clone(),
                        rule: rule.id.clone(),
                        reason: rule.reason.clone(),
                        listed_on: e.decided_on,
                        ends_on,
                        cases,
                    });
                }
            }
        }
        out.extend(current);
    }
    out.sort_by(|a, b| (a.listed_on, &a.rule).cmp(&(b.listed_on, &b.rule)));
    out
}

/// How the draw weights enterprises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawWeights {
    /// An enterprise with nothing against it.
    pub base: u32,
    /// Added while it is on the list.
    pub blacklisted: u32,
    /// Added per decision within `recent_days`.
    pub per_recent_violation: u32,
    pub recent_days: u32,
}

impl Default for DrawWeights {
    fn default() -> Self {
        Self {
            base: 1,
            blacklisted: 2,
            per_recent_violation: 1,
            recent_days: 365,
        }
    }
}

/// The weight of an enterprise in a weighted 双随机 draw on `today`: `base`, plus
/// `blacklisted` while any listing is active, plus `per_recent_violation` for each decision
/// in the last `recent_days`. Deterministic, so a published draw stays repeatable.
pub fn draw_weight(
    history: &[ViolationEntry],
    listings: &[BlacklistEntry],
    weights: &DrawWeights,
    today: Day,
) -> u32 {
    let recent_from = today.plus_days(-i64::from(weights.recent_days));
    let recent = history
        .iter()
        .filter(|e| e.decided_on > recent_from && e.decided_on <= today)
        .count() as u32;
    let listed = listings.iter().any(|l| l.is_active(today));
    weights
        .base
        .saturating_add(if listed { weights.blacklisted } else { 0 })
        .saturating_add(recent.saturating_mul(weights.per_recent_violation))
}
