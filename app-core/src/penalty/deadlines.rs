//! The deadlines of a penalty case and the console's figures.
//!
//! Every period is a setting of the unit ([`PenaltySettings`]), counted in calendar days or
//! in working days of the unit's [`WorkCalendar`]. Where the defaults come from:
//!
//! | setting | default | source |
//! |---|---|---|
//! | decision | 90 calendar days from 立案 | 《行政处罚法》(2021) 第六十条 ("自行政处罚案件立案之日起九十日内作出行政处罚决定。法律、法规、规章另有规定的，从其规定") |
//! | hearing request | 5 days after the notice | 第六十四条(一) ("应当在行政机关告知后五日内提出"); counted as working days here: 依据待核 |
//! | statement and defence | 3 working days after the notice | 依据待核 (no text read; the unit sets it) |
//! | publication | 7 working days after the decision | 国办发〔2018〕118号 as domain.md records it (依据待核; a unit setting) |
//! | payment | 15 calendar days after service | 第六十七条 as domain.md records it (依据待核) |
//! | evidence preservation decided | 7 calendar days | 第五十六条 as domain.md records it (依据待核) |
//! | hearing notice | 7 calendar days before the hearing | 第六十四条(二) ("行政机关应当在举行听证的七日前，通知当事人及有关人员听证的时间、地点"); calendar days here: 依据待核 |
//! | hearing threshold | 50,000 yuan | a placeholder: 较大数额 is set by each province; the unit must set it |

use super::calendar::{Period, WorkCalendar};
use super::case::{CaseStage, PenaltyCase};
use super::evidence::MeasureKind;
use crate::geo::Day;
use serde::{Deserialize, Serialize};

/// A unit's settings for penalty cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PenaltySettings {
    pub decision_period: Period,
    pub statement_period: Period,
    pub hearing_request_period: Period,
    pub publication_period: Period,
    pub payment_period: Period,
    pub preservation_period: Period,
    /// The party is told of a hearing at least this long before it (七日前).
    #[serde(default = "hearing_notice_default")]
    pub hearing_notice_period: Period,
    /// A fine from this amount (较大数额罚款) gives the right to a hearing.
    pub hearing_fine_threshold: u64,
    /// A fine from this amount makes the decision major (法制审核 first); none: only the
    /// reasons marked on the case and a held hearing do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major_fine_threshold: Option<u64>,
    /// A deadline this many calendar days away or fewer is "due soon".
    pub warn_days: u32,
}

fn hearing_notice_default() -> Period {
    Period::calendar(7)
}

impl Default for PenaltySettings {
    fn default() -> Self {
        Self {
            decision_period: Period::calendar(90),
            statement_period: Period::working(3),
            hearing_request_period: Period::working(5),
            publication_period: Period::working(7),
            payment_period: Period::calendar(15),
            preservation_period: Period::calendar(7),
            hearing_notice_period: hearing_notice_default(),
            hearing_fine_threshold: 50_000,
            major_fine_threshold: None,
            warn_days: 3,
        }
    }
}

/// Which deadline.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "deadline", content = "of", rename_all = "snake_case")]
pub enum DeadlineKind {
    /// 作出处罚决定 (from 立案).
    Decision,
    /// 陈述申辩 period of the current notice (the party's; the decision waits for it).
    Statement,
    /// 听证申请 period of the current notice.
    HearingRequest,
    /// 先行登记保存 decided (the measure's id).
    Preservation(String),
    /// 公示 of the decision.
    Publication,
    /// 缴纳罚款.
    Payment,
}

/// Where a deadline stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    /// Open, more than `warn_days` away.
    Open,
    /// Open, due within `warn_days` (or today).
    DueSoon,
    /// Open, past due.
    Overdue,
    /// Met on or before the day.
    Met,
    /// Met, but after the day.
    MetLate,
    /// A period the party has (statement, hearing) that has run out or was used: nothing
    /// for the unit to do.
    Ended,
}

impl DeadlineState {
    /// Whether the console shows it as a warning.
    pub fn is_warning(self) -> bool {
        matches!(
            self,
            DeadlineState::DueSoon | DeadlineState::Overdue | DeadlineState::MetLate
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseDeadline {
    pub kind: DeadlineKind,
    /// The last day.
    pub due: Day,
    /// When it was met, if it was.
    pub met_on: Option<Day>,
    pub state: DeadlineState,
}

fn state(due: Day, met_on: Option<Day>, today: Day, warn_days: u32) -> DeadlineState {
    match met_on {
        Some(m) if m <= due => DeadlineState::Met,
        Some(_) => DeadlineState::MetLate,
        None if today > due => DeadlineState::Overdue,
        None if today.plus_days(i64::from(warn_days)) >= due => DeadlineState::DueSoon,
        None => DeadlineState::Open,
    }
}

/// Every deadline of `case` known on `today`, in a fixed order, each with its state.
pub fn case_deadlines(
    case: &PenaltyCase,
    settings: &PenaltySettings,
    calendar: &WorkCalendar,
    today: Day,
) -> Vec<CaseDeadline> {
    let mut out = Vec::new();
    let warn = settings.warn_days;
    let mut push = |kind, due, met_on: Option<Day>| {
        out.push(CaseDeadline {
            kind,
            due,
            met_on,
            state: state(due, met_on, today, warn),
        });
    };
    if let Some(opened) = case.opened_on() {
        let decided = case.decision.as_ref().map(|d| d.at.shanghai_date());
        push(
            DeadlineKind::Decision,
            settings.decision_period.end(opened, calendar),
            decided,
        );
    }
    for m in case.measures.values() {
        if m.kind == MeasureKind::EvidencePreservation {
            let from = m.at.shanghai_date();
            push(
                DeadlineKind::Preservation(m.id.clone()),
                settings.preservation_period.end(from, calendar),
                m.outcome.as_ref().map(|o| o.on),
            );
        }
    }
    if let Some(n) = case.notice().filter(|_| !case.stage.is_decided()) {
        let party = |due: Day, used: bool| CaseDeadline {
            kind: DeadlineKind::Statement,
            due,
            met_on: None,
            state: if used || today > due {
                DeadlineState::Ended
            } else {
                DeadlineState::Open
            },
        };
        if let Some(due) = n.statement_ends {
            let used = n.waiver.as_ref().is_some_and(|w| w.statement);
            out.push(party(due, used));
        }
        if let Some(due) = n.hearing_ends {
            let used = n.hearing.is_some() || n.waiver.as_ref().is_some_and(|w| w.hearing);
            out.push(CaseDeadline {
                kind: DeadlineKind::HearingRequest,
                ..party(due, used)
            });
        }
    }
    if let Some(d) = &case.decision {
        let decided = d.at.shanghai_date();
        let due = settings.publication_period.end(decided, calendar);
        let published = case.publication.as_ref().map(|p| p.on);
        out.push(CaseDeadline {
            kind: DeadlineKind::Publication,
            due,
            met_on: published,
            state: state(due, published, today, warn),
        });
        if let Some(due) = d.payment_due {
            let paid_on = (case.paid() >= d.penalty.fine_yuan)
                .then(|| case.payments.iter().map(|p| p.on).max())
                .flatten();
            out.push(CaseDeadline {
                kind: DeadlineKind::Payment,
                due,
                met_on: paid_on,
                state: state(due, paid_on, today, warn),
            });
        }
    }
    out
}

/// The console's figures over a unit's cases on `today`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFigures {
    /// Cases whose filing was approved (立案).
    pub opened: usize,
    pub closed: usize,
    /// Open cases with at least one overdue deadline.
    pub overdue: usize,
    /// Cases with a deadline due soon (and none overdue).
    pub due_soon: usize,
    /// Decisions published after the publication deadline, or not published and overdue.
    pub published_late: usize,
}

pub fn figures<'a>(
    cases: impl IntoIterator<Item = &'a PenaltyCase>,
    settings: &PenaltySettings,
    calendar: &WorkCalendar,
    today: Day,
) -> CaseFigures {
    let mut f = CaseFigures::default();
    for case in cases {
        if case.opened_on().is_none() {
            continue;
        }
        f.opened += 1;
        if case.stage == CaseStage::Closed {
            f.closed += 1;
        }
        let deadlines = case_deadlines(case, settings, calendar, today);
        let overdue = deadlines.iter().any(|d| d.state == DeadlineState::Overdue);
        if overdue {
            f.overdue += 1;
        } else if deadlines.iter().any(|d| d.state == DeadlineState::DueSoon) {
            f.due_soon += 1;
        }
        if deadlines.iter().any(|d| {
            d.kind == DeadlineKind::Publication
                && matches!(d.state, DeadlineState::MetLate | DeadlineState::Overdue)
        }) {
            f.published_late += 1;
        }
    }
    f
}
