//! What the console shows of penalty cases and what a supervisor does to one.
//!
//! - [`case_list`]: the cases of the viewer's units (newest opened first), each with its
//!   stage, the next open deadline of `app_core::penalty::case_deadlines` (with the unit's
//!   rules, `service::case_rules`) and whether the merged case breaks a rule.
//! - [`case_view`]: one case the viewer may read (`app_core::access::can_read_record` on the
//!   case's scope; otherwise not found, like a missing one), its trail, conflicts, deadlines
//!   and the next free number of each kind a supervisor issues.
//! - [`act`]: a supervisor's command (立案审批, 法制审核, 决定, 结案) applied exactly as a
//!   pushed change is: `CaseDoc::apply` with the unit's rules, as the supervisor, on the
//!   server's device (`SERVER_DEVICE`), then stored through `CaseStore::write_case` in one
//!   transaction holding the case's lock (the same lock a case sync takes), so tablets pull
//!   it like any other change.
//!
//! **Numbers.** The console's numbers and the tablets' offline blocks are one allocation:
//! every case document's series (`app_core::docnumber::DocumentKind`) hands out blocks from
//! the server (`service::numbers`), and a number the console issues is stored as a block of
//! one number of the server's device in the same transaction as the case's change. The form
//! shows the next number after every block; the supervisor may choose another, which is
//! refused if a block holds it (a tablet's, or one issued before).

use super::case_rules::{CaseRules, rules_for};
use super::cases::case_scope;
use super::numbers;
use crate::reference::ReferenceData;
use crate::store::cases::{CaseRow, CaseStore, CaseWrite, load_case};
use crate::store::numbers::NumberStore;
use crate::store::records::SERVER_DEVICE;
use crate::store::{
    Commit, MetaStore, PenaltyRulesStore, RecordStore, StoreError, StoreResult, Transactions,
};
use app_core::access::{RecordScope, can_read_record, can_review_record};
use app_core::docnumber::{Allocator, Block, DocumentKind, Series};
use app_core::document::{ChangeEntry, Conflict};
use app_core::geo::{Day, Timestamp};
use app_core::ids::{DeviceId, UnitId};
use app_core::messages::{Bilingual, ConsoleCaseRefusal};
use app_core::penalty::{
    CaseCommand, CaseContext, CaseDeadline, CaseDocError, CaseDocKind, DeadlineState, IssuedNumber,
    PenaltyCase, case_deadlines,
};
use app_core::user::User;
use std::collections::HashMap;

/// Cases a list shows at most.
pub const LIST_LIMIT: usize = 500;

/// One line of the case list.
#[derive(Debug, Clone)]
pub struct CaseLine {
    pub case: PenaltyCase,
    /// The open deadline due first (overdue ones first of all), if any.
    pub next: Option<CaseDeadline>,
    /// Whether any deadline warns (due soon, overdue, met late).
    pub warning: bool,
    /// Rules the merged case breaks.
    pub violations: usize,
}

fn is_open(d: &CaseDeadline) -> bool {
    matches!(
        d.state,
        DeadlineState::Open | DeadlineState::DueSoon | DeadlineState::Overdue
    )
}

/// The deadline to show first: the earliest open one.
pub fn next_deadline(deadlines: &[CaseDeadline]) -> Option<CaseDeadline> {
    deadlines
        .iter()
        .filter(|d| is_open(d))
        .min_by_key(|d| d.due)
        .cloned()
}

/// Each unit's rules read once for a page.
#[allow(missing_debug_implementations)]
pub struct RulesCache<'s, S: ?Sized> {
    store: &'s S,
    reference: &'s ReferenceData,
    seen: HashMap<UnitId, CaseRules>,
}

impl<'s, S: PenaltyRulesStore + ?Sized> RulesCache<'s, S> {
    pub fn new(store: &'s S, reference: &'s ReferenceData) -> Self {
        Self {
            store,
            reference,
            seen: HashMap::new(),
        }
    }

    pub fn get(&mut self, unit: &UnitId) -> StoreResult<&CaseRules> {
        if !self.seen.contains_key(unit) {
            let rules = rules_for(self.store, &self.reference.units, unit)?;
            self.seen.insert(unit.clone(), rules);
        }
        Ok(&self.seen[unit])
    }
}

/// The cases of `units` (newest opened first, at most `limit` rows) whose index row `keep`
/// lets through and that `viewer` may read, opened.
pub fn readable_cases<S: CaseStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    viewer: &User,
    units: &[String],
    limit: usize,
    keep: impl Fn(&CaseRow) -> bool,
) -> StoreResult<Vec<PenaltyCase>> {
    let device = DeviceId::from(SERVER_DEVICE);
    let mut out = Vec::new();
    for row in store.cases_of_units(units, limit)? {
        let scope = RecordScope {
            unit: row.unit.clone(),
            inspectors: row.inspectors.clone(),
            assigned: Vec::new(),
        };
        if !keep(&row) || !can_read_record(viewer, &scope, &reference.units) {
            continue;
        }
        if let Some((doc, _)) = load_case(store, &row.id, &device)? {
            out.push(doc.into_case());
        }
    }
    Ok(out)
}

/// The cases of `units` that `viewer` may read, newest opened first, with their deadlines
/// on `today`.
pub fn case_list<S: CaseStore + PenaltyRulesStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    viewer: &User,
    units: &[String],
    today: Day,
) -> StoreResult<Vec<CaseLine>> {
    let mut rules = RulesCache::new(store, reference);
    let mut out = Vec::new();
    for case in readable_cases(store, reference, viewer, units, LIST_LIMIT, |_| true)? {
        let r = rules.get(&case.unit)?;
        let deadlines = case_deadlines(&case, &r.settings, &r.calendar, today);
        out.push(CaseLine {
            next: next_deadline(&deadlines),
            warning: deadlines.iter().any(|d| d.state.is_warning()),
            violations: case.violations().len(),
            case,
        });
    }
    Ok(out)
}

/// One case as its page shows it.
#[derive(Debug)]
pub struct CaseView {
    pub case: PenaltyCase,
    pub history: Vec<ChangeEntry>,
    pub conflicts: Vec<Conflict>,
    pub deadlines: Vec<CaseDeadline>,
    pub rules: CaseRules,
    /// Whether the viewer may act on it as a supervisor.
    pub may_review: bool,
    /// The next number the console would issue, per kind it issues.
    pub next_numbers: Vec<(CaseDocKind, u32)>,
}

/// The kinds of document a supervisor's console action issues.
pub const CONSOLE_KINDS: [CaseDocKind; 4] = [
    CaseDocKind::FilingApproval,
    CaseDocKind::LegalReview,
    CaseDocKind::Decision,
    CaseDocKind::ClosingApproval,
];

/// Series `kind` of `unit` in `year`.
fn series(unit: &UnitId, kind: CaseDocKind, year: i32) -> Series {
    Series {
        unit: unit.clone(),
        kind: DocumentKind::from(kind),
        year,
    }
}

/// The next number the console issues for `kind` in `unit` in `year`: the first after every
/// block of the series (the tablets' and the console's own).
pub fn next_number<S: NumberStore + MetaStore + ?Sized>(
    store: &S,
    unit: &UnitId,
    kind: CaseDocKind,
    year: i32,
) -> StoreResult<u32> {
    let series = series(unit, kind, year);
    let blocks = numbers::taken_blocks(store, &series, numbers::restore_gap(store)?)?;
    Allocator::from_blocks(&blocks)
        .reserve(series, DeviceId::from(SERVER_DEVICE), 1)
        .map(|b| b.first)
        .map_err(|e| StoreError::Corrupt(format!("{unit} {} {year}: {e}", kind.code())))
}

/// Case `id` for `viewer` on `today`; `None` when it does not exist or the viewer may not
/// read it.
pub fn case_view<S: CaseStore + PenaltyRulesStore + MetaStore + NumberStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    viewer: &User,
    id: &str,
    today: Day,
) -> StoreResult<Option<CaseView>> {
    let Some((mut doc, _)) = load_case(store, id, &DeviceId::from(SERVER_DEVICE))? else {
        return Ok(None);
    };
    let scope = case_scope(doc.case());
    if !can_read_record(viewer, &scope, &reference.units) {
        return Ok(None);
    }
    let case = doc.case().clone();
    let rules = rules_for(store, &reference.units, &case.unit)?;
    let deadlines = case_deadlines(&case, &rules.settings, &rules.calendar, today);
    let next_numbers = CONSOLE_KINDS
        .iter()
        .map(|k| Ok((*k, next_number(store, &case.unit, *k, today.year())?)))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Some(CaseView {
        history: doc.history(),
        conflicts: doc.conflicts(),
        deadlines,
        may_review: can_review_record(viewer, &scope, &reference.units),
        next_numbers,
        rules,
        case,
    }))
}

/// A supervisor's command, as the console's forms give it; the number is issued from the
/// sequence `seq` of the command's document kind.
#[derive(Debug, Clone)]
pub enum ConsoleAction {
    ApproveFiling {
        seq: u32,
        comment: String,
    },
    RecordLegalReview {
        seq: u32,
        opinion: app_core::penalty::ReviewOpinion,
        text: String,
    },
    Decide {
        seq: u32,
        penalty: app_core::penalty::Penalty,
    },
    Close {
        seq: u32,
        comment: String,
    },
    /// 公示: the decision published on `on` through `channel` (no document, no number).
    Publish {
        on: app_core::geo::Day,
        channel: String,
    },
}

impl ConsoleAction {
    /// The document the action issues and the sequence number the supervisor gave it; none
    /// for the publication (公示), which issues no document.
    pub fn numbered(&self) -> Option<(CaseDocKind, u32)> {
        match self {
            ConsoleAction::ApproveFiling { seq, .. } => Some((CaseDocKind::FilingApproval, *seq)),
            ConsoleAction::RecordLegalReview { seq, .. } => Some((CaseDocKind::LegalReview, *seq)),
            ConsoleAction::Decide { seq, .. } => Some((CaseDocKind::Decision, *seq)),
            ConsoleAction::Close { seq, .. } => Some((CaseDocKind::ClosingApproval, *seq)),
            ConsoleAction::Publish { .. } => None,
        }
    }

    /// The audit log's name of the action.
    pub fn name(&self) -> &'static str {
        match self {
            ConsoleAction::ApproveFiling { .. } => "case_approve_filing",
            ConsoleAction::RecordLegalReview { .. } => "case_legal_review",
            ConsoleAction::Decide { .. } => "case_decide",
            ConsoleAction::Close { .. } => "case_close",
            ConsoleAction::Publish { .. } => "case_publish",
        }
    }

    /// The case command, with `number` (the one [`Self::numbered`] asks for).
    fn command(self, number: Option<IssuedNumber>) -> CaseCommand {
        let number = || number.clone().expect("a numbered action has its number");
        match self {
            ConsoleAction::ApproveFiling { comment, .. } => CaseCommand::ApproveFiling {
                number: number(),
                comment,
            },
            ConsoleAction::RecordLegalReview { opinion, text, .. } => {
                CaseCommand::RecordLegalReview {
                    opinion,
                    text,
                    number: number(),
                }
            }
            ConsoleAction::Decide { penalty, .. } => CaseCommand::Decide {
                penalty,
                number: number(),
            },
            ConsoleAction::Close { comment, .. } => CaseCommand::Close {
                number: number(),
                comment,
            },
            ConsoleAction::Publish { on, channel } => {
                CaseCommand::RecordPublication { on, channel }
            }
        }
    }
}

/// Why a console action was not stored.
#[derive(Debug, thiserror::Error)]
pub enum ActError {
    /// Not stored, or not readable by the supervisor (not told apart).
    #[error("not found")]
    NotFound,
    /// The supervisor may not act on it, or the rules refuse: why, in both languages.
    #[error("{en}")]
    Refused { zh: String, en: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ActError {
    fn refused(why: ConsoleCaseRefusal) -> Self {
        ActError::Refused {
            zh: why.zh(),
            en: why.en(),
        }
    }
}

/// Applies `action` to case `id` as `supervisor` at `now` and stores it (see the module's
/// documentation); returns the number issued (empty for the publication, which has none).
pub fn act<C>(
    conn: &mut C,
    reference: &ReferenceData,
    supervisor: &User,
    id: &str,
    action: ConsoleAction,
    now: Timestamp,
) -> Result<String, ActError>
where
    C: Transactions,
    for<'a> C::Tx<'a>: CaseStore + RecordStore + PenaltyRulesStore + MetaStore + NumberStore,
{
    let tx = conn.begin()?;
    // The lock a case sync takes before it writes (`service::cases::write_case_pushes`).
    tx.lock_record(id)?;
    let device = DeviceId::from(SERVER_DEVICE);
    let (mut doc, heads) = load_case(&tx, id, &device)?.ok_or(ActError::NotFound)?;
    let scope = case_scope(doc.case());
    if !can_read_record(supervisor, &scope, &reference.units) {
        return Err(ActError::NotFound);
    }
    if !can_review_record(supervisor, &scope, &reference.units) {
        return Err(ActError::refused(ConsoleCaseRefusal::MayNotApprove));
    }
    let unit = doc.case().unit.clone();
    let short = reference
        .units
        .get(&unit)
        .map(|u| u.short_name.clone())
        .ok_or_else(|| StoreError::Corrupt(format!("case {id}: unknown unit {unit}")))?;
    let year = now.shanghai_date().year();
    let numbered = action.numbered();
    if numbered.is_some_and(|(_, seq)| seq == 0) {
        return Err(ActError::refused(ConsoleCaseRefusal::NumberZero));
    }
    let number =
        numbered.map(|(kind, seq)| IssuedNumber::new(&short, kind, year, seq, device.clone()));
    let text = number.as_ref().map(|n| n.text.clone()).unwrap_or_default();
    let rules = rules_for(&tx, &reference.units, &unit)?;
    let cx = CaseContext {
        actor: supervisor,
        now,
        settings: &rules.settings,
        calendar: &rules.calendar,
        discretion: rules.discretion.as_ref(),
    };
    doc.apply(&action.command(number), &cx, &device)
        .map_err(|e| match e {
            CaseDocError::Case(c) => ActError::Refused {
                zh: c.zh(),
                en: c.to_string(),
            },
            CaseDocError::Doc(d) => ActError::Store(StoreError::Corrupt(format!(
                "case {id}: writing the change: {d}"
            ))),
        })?;
    let new_heads: Vec<String> = doc.heads().iter().map(ToString::to_string).collect();
    let change = doc.save_after(&crate::store::records::change_hashes(id, &heads)?);
    let snapshot = doc.save();
    let case = doc.into_case();
    tx.write_case(&CaseWrite {
        id,
        case: &case,
        snapshot: &snapshot,
        change: &change,
        heads: &new_heads,
        origin_device: SERVER_DEVICE,
        existed: true,
    })?;
    if let Some((kind, seq)) = numbered {
        let series = series(&unit, kind, year);
        let taken = numbers::taken_blocks(&tx, &series, numbers::restore_gap(&tx)?)?;
        if taken.iter().any(|b| (b.first..=b.last).contains(&seq)) {
            return Err(ActError::refused(ConsoleCaseRefusal::NumberTaken(text)));
        }
        tx.insert_block(
            &Block {
                series,
                device: device.clone(),
                first: seq,
                last: seq,
            },
            supervisor.id.as_str(),
            now.0.div_euclid(1000),
        )?;
    }
    tx.commit()?;
    Ok(text)
}

/// One enterprise's violation history (违法信息库) and blacklist listings (失信名单).
#[derive(Debug, Clone)]
pub struct EnterpriseRecord {
    pub enterprise: String,
    pub name: String,
    /// Decided cases, oldest first.
    pub history: Vec<app_core::penalty::ViolationEntry>,
    /// Active and expired listings, in the order they began.
    pub listings: Vec<app_core::penalty::BlacklistEntry>,
    /// Whose blacklist rules were applied (the enterprise's unit's, inherited).
    pub rules_from: Option<UnitId>,
}

impl EnterpriseRecord {
    pub fn listed(&self, today: Day) -> bool {
        self.listings.iter().any(|l| l.is_active(today))
    }
}

/// The violation history of every enterprise with a decided case among the cases of `units`
/// that `viewer` may read, and the listings the blacklist rules of the enterprise's unit
/// (`app_core::penalty::evaluate_blacklist`) give up to `today`: listed enterprises first,
/// then by name.
pub fn enterprise_records<S: CaseStore + PenaltyRulesStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    viewer: &User,
    units: &[String],
    today: Day,
) -> StoreResult<Vec<EnterpriseRecord>> {
    // Only a decided case enters the history: those still before 告知 are not opened.
    let cases = readable_cases(
        store,
        reference,
        viewer,
        units,
        super::figures::MAX_FIGURE_CASES,
        |row| row.stage != "opened" && row.stage != "investigating",
    )?;
    let mut rules = RulesCache::new(store, reference);
    let mut out = Vec::new();
    for (enterprise, history) in app_core::penalty::violation_history(&cases) {
        let unit = reference
            .enterprises
            .iter()
            .find(|e| e.id == enterprise)
            .map(|e| e.unit.clone())
            .or_else(|| {
                cases
                    .iter()
                    .find(|c| c.enterprise.id == enterprise)
                    .map(|c| c.unit.clone())
            })
            .unwrap_or_else(|| viewer.unit.clone());
        let r = rules.get(&unit)?;
        let listings = app_core::penalty::evaluate_blacklist(&history, &r.blacklist, today);
        out.push(EnterpriseRecord {
            enterprise: enterprise.to_string(),
            name: history
                .last()
                .map(|e| e.enterprise_name.clone())
                .unwrap_or_default(),
            rules_from: r.blacklist_from.clone(),
            history,
            listings,
        });
    }
    out.sort_by(|a, b| {
        (!a.listed(today), &a.name, &a.enterprise).cmp(&(!b.listed(today), &b.name, &b.enterprise))
    });
    Ok(out)
}
