//! The administrative penalty case (行政处罚案件), general procedure, from an inspection's
//! finding (or a complaint, or a referral) to 结案.
//!
//! Like the inspection record, a [`PenaltyCase`] changes only through typed commands
//! ([`CaseCommand`]) applied by one function, [`PenaltyCase::apply`], which enforces every
//! rule and is deterministic given its [`CaseContext`] (actor, now, the unit's settings,
//! calendar and discretion table). A refused command leaves the case unchanged and says why
//! ([`CaseError`], Chinese text in [`crate::messages`]).
//!
//! Stages and moves (the whole table; anything else is refused):
//!
//! | from                     | command              | to         | who                 | requires |
//! |--------------------------|----------------------|------------|---------------------|----------|
//! | (none)                   | [`PenaltyCase::open`]| 立案        | inspector on the case | facts, 违法依据, 处罚依据, ≥ 2 inspectors with certificates |
//! | 立案                      | `ApproveFiling`      | 调查取证    | supervisor, not on the case | 立案审批表 number |
//! | 调查取证                   | `Notify`             | 告知        | inspector on the case | evidence, every 询问笔录 signed, a proposed penalty, every 先行登记保存 decided |
//! | 告知                      | `RecordStatement`, `RequestHearing` | 陈述申辩/听证 | inspector on the case | the notice served; within its period |
//! | 陈述申辩/听证               | `ScheduleHearing`, `RecordHearing` | 陈述申辩/听证 | inspector on the case | host not an investigator; the party told ≥ 7 days before; held at or after its time |
//! | 告知, 陈述申辩/听证          | `SubmitLegalReview`  | 法制审核    | inspector on the case | periods over or waived; a requested hearing held |
//! | 法制审核                   | `RecordLegalReview`  | 法制审核 (agreed) or 调查取证 | supervisor, not on the case | |
//! | 告知, 陈述申辩/听证 (not major), 法制审核 (agreed) | `Decide` | 决定 | supervisor | periods over or waived; a requested hearing held; not heavier than noticed |
//! | 决定                      | `RecordService` of the 决定书 | 送达 | inspector on the case | |
//! | 送达, 执行                 | `RecordPayment`, `RecordExecution` | 执行 | inspector on the case | |
//! | 执行                      | `Close`              | 结案        | supervisor          | the penalty carried out (fine paid in full) |
//!
//! A decision is major (重大, needs 法制审核 first) when a hearing was held, when the unit
//! marked a reason (重大公共利益, 疑难复杂), or when the fine reaches the unit's threshold.
//!
//! ## Citations and where they were read
//!
//! 《行政处罚法》(2021), article texts read in secondary sources quoting them (law-firm and
//! reference pages; the official text was not available here):
//! - 第五十八条 (法制审核 before a decision that involves 重大公共利益, that 经过听证程序,
//!   that is 疑难复杂, or that a law requires; no decision without it or when it fails);
//! - 第六十条 (decision within 90 days of 立案, unless a law, regulation or rule says
//!   otherwise: the unit's setting);
//! - 第六十三条 (the right to a hearing for 较大数额罚款, 没收较大数额违法所得, 降低资质等级、
//!   吊销许可证件, 责令停产停业、责令关闭、限制从业 and other heavy penalties);
//! - 第六十四条 (a hearing is asked for within 5 days of the notice; the party is told 7 days
//!   before it; its host is not an investigator of the case).
//!
//! From domain.md only (which asks to verify them), so marked 依据待核 where they appear:
//! 第四十五条 (no heavier penalty for a defence; applied here as "never heavier than the
//! notice"), 第五十六条 (先行登记保存 decided within 7 days), 第五十九条 (the decision's
//! contents), 第六十一条 (service), 第六十七条 (payment within 15 days), 国办发〔2018〕118号
//! (publication within 7 working days), the remedies (复议 60 days, 诉讼 6 months).
//! 第四十二条 (two officers) is cited as the existing inspection rules cite it. The 3-day
//! statement period and whether the law's short periods are working days: 依据待核 (both
//! settings of the unit).

mod calendar;
mod case;
mod deadlines;
mod discretion;
mod doc;
#[cfg(test)]
mod doc_tests;
mod documents;
mod evidence;
mod judge;
mod paper;
#[cfg(test)]
mod props;
mod record;
#[cfg(test)]
mod tests;

pub use calendar::{CalendarError, Counting, Period, WorkCalendar};
pub use case::*;
pub use deadlines::{
    CaseDeadline, CaseFigures, DeadlineKind, DeadlineState, PenaltySettings, case_deadlines,
    figures,
};
pub use discretion::{
    DiscretionRef, DiscretionRow, DiscretionTable, Grade, PlacedProblem, Proposal, ProposeError,
    ProvisionRange, TablePlace, TableProblem, proposals, propose,
};
pub use doc::{
    CASE_SCHEMA_VERSION, CREATE as CASE_CREATE, CaseDoc, CaseDocError, CaseNote, CaseViolation,
};
pub use documents::*;
pub use evidence::*;
pub use judge::{CaseVerdict, CaseWorld, judge_case};
pub use paper::{CasePaperError, IndexEntry, case_index, case_paper, index_entries, paper_kind};
pub use record::*;

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// A penalty case's id: chosen by the device that opens it (a UUID), never by the core.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseId(pub String);

impl CaseId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for CaseId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// Penalties besides a fine (行政处罚的种类).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtherPenalty {
    /// 警告
    Warning,
    /// 没收违法所得
    Confiscation,
    /// 暂扣许可证件
    SuspendLicence,
    /// 责令停产停业
    SuspendProduction,
    /// 吊销许可证件
    RevokeLicence,
    /// 责令关闭
    Closure,
    /// 限制从业
    RestrictPractice,
}

impl OtherPenalty {
    pub fn label_zh(self) -> &'static str {
        match self {
            OtherPenalty::Warning => "警告",
            OtherPenalty::Confiscation => "没收违法所得",
            OtherPenalty::SuspendLicence => "暂扣许可证件",
            OtherPenalty::SuspendProduction => "责令停产停业",
            OtherPenalty::RevokeLicence => "吊销许可证件",
            OtherPenalty::Closure => "责令关闭",
            OtherPenalty::RestrictPractice => "限制从业",
        }
    }

    /// Whether the penalty itself gives the party the right to a hearing (《行政处罚法》第六十三条
    /// lists 降低资质等级、吊销许可证件, 责令停产停业、责令关闭、限制从业 among others).
    /// 没收 gives it only for a 较大数额, which the case cannot tell: not counted.
    pub fn gives_hearing_right(self) -> bool {
        matches!(
            self,
            OtherPenalty::RevokeLicence
                | OtherPenalty::SuspendProduction
                | OtherPenalty::Closure
                | OtherPenalty::RestrictPractice
        )
    }
}

/// A penalty: a fine in yuan and any other penalties.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Penalty {
    pub fine_yuan: u64,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub other: BTreeSet<OtherPenalty>,
}

impl Penalty {
    /// Whether this penalty is heavier than `than` in any respect: a larger fine, or a kind
    /// of penalty `than` does not include.
    pub fn heavier_than(&self, than: &Penalty) -> bool {
        self.fine_yuan > than.fine_yuan || !self.other.is_subset(&than.other)
    }

    pub fn is_empty(&self) -> bool {
        self.fine_yuan == 0 && self.other.is_empty()
    }

    /// `罚款人民币30000元；警告`.
    pub fn zh(&self) -> String {
        let mut parts = Vec::new();
        if self.fine_yuan > 0 {
            parts.push(format!("罚款人民币{}元", self.fine_yuan));
        }
        parts.extend(self.other.iter().map(|o| o.label_zh().to_owned()));
        if parts.is_empty() {
            "不予处罚".into()
        } else {
            parts.join("；")
        }
    }
}
