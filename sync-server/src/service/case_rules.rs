//! The rules a unit's penalty cases are judged by: its [`PenaltySettings`], its
//! [`WorkCalendar`] and its [`DiscretionTable`], each the unit's own if it set one, else its
//! nearest ancestor's, else app-core's default (settings and calendar; there is no default
//! table, so without one a penalty proposal is refused as the rules refuse it). Read from
//! [`PenaltyRulesStore`] for every judged case and every console action, so an edit applies
//! to the next change judged.
//!
//! Editing: [`set_settings`], [`set_calendar`], [`set_discretion`] validate with app-core's
//! own checks (`WorkCalendar::validate`, `DiscretionTable::parse_toml`) and replace only
//! that part of the unit's row; [`set_blacklist`] stores the blacklist rules (失信名单,
//! [`parse_blacklist`]); [`clear_part`] returns a part to inheritance.

use crate::store::penalty_rules::{PenaltyRulesStore, UnitPenaltyRules};
use crate::store::{StoreError, StoreResult};
use app_core::geo::Day;
use app_core::ids::UnitId;
use app_core::penalty::{
    BlacklistCondition, BlacklistRule, DiscretionTable, PenaltySettings, PlacedProblem,
    WorkCalendar,
};
use app_core::unit::UnitTree;
use std::collections::BTreeSet;

/// A unit's effective rules, and which unit each part comes from (None: the default).
#[derive(Debug, Clone, Default)]
pub struct CaseRules {
    pub settings: PenaltySettings,
    pub calendar: WorkCalendar,
    pub discretion: Option<DiscretionTable>,
    /// The table's text, as uploaded.
    pub discretion_text: Option<String>,
    pub settings_from: Option<UnitId>,
    pub calendar_from: Option<UnitId>,
    pub discretion_from: Option<UnitId>,
    /// The blacklist rules (失信名单), none when no unit set any.
    pub blacklist: Vec<BlacklistRule>,
    pub blacklist_text: Option<String>,
    pub blacklist_from: Option<UnitId>,
}

/// The rules of `unit` (see the module's documentation). A unit the tree does not know gets
/// only its own row, or the defaults.
pub fn rules_for<S: PenaltyRulesStore + ?Sized>(
    store: &S,
    units: &UnitTree,
    unit: &UnitId,
) -> StoreResult<CaseRules> {
    let mut chain: Vec<UnitId> = units
        .ancestors_or_self(unit)
        .map(|u| u.id.clone())
        .collect();
    if chain.is_empty() {
        chain.push(unit.clone());
    }
    let mut out = CaseRules::default();
    let (mut settings, mut calendar, mut table, mut listing) = (false, false, false, false);
    for id in chain {
        let Some(row) = store.penalty_rules(id.as_str())? else {
            continue;
        };
        if !settings && let Some(s) = row.settings {
            out.settings = s;
            out.settings_from = Some(id.clone());
            settings = true;
        }
        if !calendar && let Some(c) = row.calendar {
            out.calendar = c;
            out.calendar_from = Some(id.clone());
            calendar = true;
        }
        if !table && let Some(text) = row.discretion {
            match DiscretionTable::parse_toml(&text) {
                Ok(t) => out.discretion = Some(t),
                Err(problems) => {
                    // Validated when stored; a later, stricter app-core may refuse it: the
                    // unit has no usable table until it uploads one again.
                    tracing::error!(unit = %id, problems = problems.len(), "stored discretion table no longer validates");
                }
            }
            out.discretion_text = Some(text);
            out.discretion_from = Some(id.clone());
            table = true;
        }
        if !listing && let Some(text) = row.blacklist {
            match parse_blacklist(&text) {
                Ok(rules) => out.blacklist = rules,
                Err(problems) => {
                    tracing::error!(unit = %id, problems = problems.len(), "stored blacklist rules no longer validate");
                }
            }
            out.blacklist_text = Some(text);
            out.blacklist_from = Some(id.clone());
            listing = true;
        }
        if settings && calendar && table && listing {
            break;
        }
    }
    Ok(out)
}

/// Which part of a unit's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RulesPart {
    Settings,
    Calendar,
    Discretion,
    Blacklist,
}

/// Why an edit was not stored.
#[derive(Debug, thiserror::Error)]
pub enum RulesEditError {
    /// The calendar's problems, one per entered day.
    #[error("the calendar has {} problem(s)", .0.len())]
    Calendar(Vec<app_core::penalty::CalendarError>),
    /// A line of the calendar text that is not a date (line number from 1, the text).
    #[error("line {0}: {1:?} is not a date YYYY-MM-DD")]
    CalendarLine(usize, String),
    /// The table's problems, each with its place.
    #[error("the discretion table has {} problem(s)", .0.len())]
    Table(Vec<PlacedProblem>),
    /// The blacklist rules' problems, each with its rule.
    #[error("the blacklist rules have {} problem(s)", .0.len())]
    Blacklist(Vec<BlacklistProblem>),
    /// A setting out of range (its field name).
    #[error("setting {0} is out of range")]
    Setting(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn edit<S: PenaltyRulesStore + ?Sized>(
    store: &S,
    unit: &UnitId,
    by: &str,
    now_ms: i64,
    change: impl FnOnce(&mut UnitPenaltyRules),
) -> StoreResult<()> {
    let mut row = store.penalty_rules(unit.as_str())?.unwrap_or_default();
    change(&mut row);
    row.updated_at = now_ms;
    row.updated_by = by.to_owned();
    store.put_penalty_rules(unit.as_str(), &row)
}

/// Stores `settings` as `unit`'s own.
pub fn set_settings<S: PenaltyRulesStore + ?Sized>(
    store: &S,
    unit: &UnitId,
    settings: PenaltySettings,
    by: &str,
    now_ms: i64,
) -> Result<(), RulesEditError> {
    for (name, p) in [
        ("decision_period", settings.decision_period),
        ("statement_period", settings.statement_period),
        ("hearing_request_period", settings.hearing_request_period),
        ("publication_period", settings.publication_period),
        ("payment_period", settings.payment_period),
        ("preservation_period", settings.preservation_period),
        ("hearing_notice_period", settings.hearing_notice_period),
    ] {
        if p.days == 0 || p.days > 3650 {
            return Err(RulesEditError::Setting(name));
        }
    }
    if settings.warn_days > 365 {
        return Err(RulesEditError::Setting("warn_days"));
    }
    edit(store, unit, by, now_ms, |r| r.settings = Some(settings))?;
    Ok(())
}

/// Reads days written one a line (`YYYY-MM-DD`; blank lines and text after `#` ignored).
pub fn parse_days(text: &str) -> Result<BTreeSet<Day>, RulesEditError> {
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let day = Day::parse(line)
            .ok()
            .ok_or_else(|| RulesEditError::CalendarLine(i + 1, line.to_owned()))?;
        out.insert(day);
    }
    Ok(out)
}

/// Stores `calendar` as `unit`'s own, if it validates.
pub fn set_calendar<S: PenaltyRulesStore + ?Sized>(
    store: &S,
    unit: &UnitId,
    calendar: WorkCalendar,
    by: &str,
    now_ms: i64,
) -> Result<(), RulesEditError> {
    let problems = calendar.validate();
    if !problems.is_empty() {
        return Err(RulesEditError::Calendar(problems));
    }
    edit(store, unit, by, now_ms, |r| r.calendar = Some(calendar))?;
    Ok(())
}

/// Stores the discretion table `text` (TOML) as `unit`'s own, if it parses and validates.
pub fn set_discretion<S: PenaltyRulesStore + ?Sized>(
    store: &S,
    unit: &UnitId,
    text: &str,
    by: &str,
    now_ms: i64,
) -> Result<DiscretionTable, RulesEditError> {
    let table = DiscretionTable::parse_toml(text).map_err(RulesEditError::Table)?;
    edit(store, unit, by, now_ms, |r| {
        r.discretion = Some(text.to_owned())
    })?;
    Ok(table)
}

/// Removes `unit`'s own part: it follows its parent's (or the default) again.
pub fn clear_part<S: PenaltyRulesStore + ?Sized>(
    store: &S,
    unit: &UnitId,
    part: RulesPart,
    by: &str,
    now_ms: i64,
) -> StoreResult<()> {
    edit(store, unit, by, now_ms, |r| match part {
        RulesPart::Settings => r.settings = None,
        RulesPart::Calendar => r.calendar = None,
        RulesPart::Discretion => r.discretion = None,
        RulesPart::Blacklist => r.blacklist = None,
    })
}

/// The demonstration discretion tables: `<fixtures>/demo/discretion/<unit id>.toml`.
pub const DEMO_TABLES: &str = "demo/discretion";

/// Stores each demonstration table (see [`DEMO_TABLES`]) as its unit's, for a unit that has
/// no table of its own yet (a table a supervisor uploaded is never replaced); returns how
/// many were stored. A file naming no known unit, or a table that does not validate, stops
/// the start with the file's name and its problems. No folder: nothing to do.
pub fn seed_demo_tables<S: PenaltyRulesStore + ?Sized>(
    store: &S,
    fixtures: &std::path::Path,
    units: &UnitTree,
    now_ms: i64,
) -> Result<usize, String> {
    let dir = fixtures.join(DEMO_TABLES);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(0);
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut stored = 0;
    for path in paths {
        let shown = path.display();
        let unit = path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(UnitId::new)
            .filter(|u| units.get(u).is_some())
            .ok_or_else(|| format!("{shown}: the file name names no unit"))?;
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{shown}: {e}"))?;
        let own = store
            .penalty_rules(unit.as_str())
            .map_err(|e| e.to_string())?;
        if own.is_some_and(|r| r.discretion.is_some()) {
            continue;
        }
        match set_discretion(store, &unit, &text, "demo", now_ms) {
            Ok(_) => stored += 1,
            Err(RulesEditError::Table(problems)) => {
                let list: Vec<String> = problems
                    .iter()
                    .map(app_core::messages::Bilingual::en)
                    .collect();
                return Err(format!("{shown}: {}", list.join("; ")));
            }
            Err(e) => return Err(format!("{shown}: {e}")),
        }
    }
    Ok(stored)
}

/// What is wrong with a unit's blacklist rules (`rule` counted from 1 in the order written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlacklistProblem {
    Toml(String),
    NoId { rule: usize },
    DuplicateId { rule: usize, id: String },
    NoReason { rule: usize },
    NoDays { rule: usize },
    NoCount { rule: usize },
}

impl app_core::messages::Bilingual for BlacklistProblem {
    fn zh(&self) -> String {
        match self {
            BlacklistProblem::Toml(e) => format!("无法读取：{e}"),
            BlacklistProblem::NoId { rule } => format!("第 {rule} 条规则（[[rule]]）：编号为空"),
            BlacklistProblem::DuplicateId { rule, id } => {
                format!("第 {rule} 条规则（[[rule]]）：编号“{id}”重复")
            }
            BlacklistProblem::NoReason { rule } => {
                format!("第 {rule} 条规则（[[rule]]）：列入理由为空")
            }
            BlacklistProblem::NoDays { rule } => {
                format!("第 {rule} 条规则（[[rule]]）：列入天数须为 1 或以上")
            }
            BlacklistProblem::NoCount { rule } => {
                format!("第 {rule} 条规则（[[rule]]）：次数须为 1 或以上")
            }
        }
    }
    fn en(&self) -> String {
        match self {
            BlacklistProblem::Toml(e) => format!("cannot be read: {e}"),
            BlacklistProblem::NoId { rule } => format!("rule {rule}: the id is empty"),
            BlacklistProblem::DuplicateId { rule, id } => {
                format!("rule {rule}: id {id:?} is used twice")
            }
            BlacklistProblem::NoReason { rule } => format!("rule {rule}: the reason is empty"),
            BlacklistProblem::NoDays { rule } => {
                format!("rule {rule}: listed_days must be 1 or more")
            }
            BlacklistProblem::NoCount { rule } => format!("rule {rule}: count must be 1 or more"),
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BlacklistFile {
    #[serde(default)]
    rule: Vec<BlacklistRule>,
}

/// Reads a unit's blacklist rules from TOML:
///
/// ```toml
/// [[rule]]
/// id = "repeat"
/// reason = "一年内因同类违法行为受到两次以上行政处罚"
/// listed_days = 365
/// condition = { when = "repeated", count = 2, within_days = 365 }
/// ```
///
/// (`when`: `repeated`, `fine_at_least` with `yuan`, `penalty` with `kind`, `major`.)
pub fn parse_blacklist(text: &str) -> Result<Vec<BlacklistRule>, Vec<BlacklistProblem>> {
    let file: BlacklistFile = toml::from_str(text)
        .map_err(|e| vec![BlacklistProblem::Toml(e.to_string().trim().to_owned())])?;
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, r) in file.rule.iter().enumerate() {
        let rule = i + 1;
        if r.id.trim().is_empty() {
            problems.push(BlacklistProblem::NoId { rule });
        } else if !seen.insert(r.id.clone()) {
            problems.push(BlacklistProblem::DuplicateId {
                rule,
                id: r.id.clone(),
            });
        }
        if r.reason.trim().is_empty() {
            problems.push(BlacklistProblem::NoReason { rule });
        }
        if r.listed_days == 0 {
            problems.push(BlacklistProblem::NoDays { rule });
        }
        if let BlacklistCondition::Repeated { count, within_days } = r.condition
            && (count == 0 || within_days == 0)
        {
            problems.push(BlacklistProblem::NoCount { rule });
        }
    }
    if problems.is_empty() {
        Ok(file.rule)
    } else {
        Err(problems)
    }
}

/// Stores the blacklist rules `text` (TOML) as `unit`'s own, if they read and validate.
pub fn set_blacklist<S: PenaltyRulesStore + ?Sized>(
    store: &S,
    unit: &UnitId,
    text: &str,
    by: &str,
    now_ms: i64,
) -> Result<Vec<BlacklistRule>, RulesEditError> {
    let rules = parse_blacklist(text).map_err(RulesEditError::Blacklist)?;
    edit(store, unit, by, now_ms, |r| {
        r.blacklist = Some(text.to_owned())
    })?;
    Ok(rules)
}
