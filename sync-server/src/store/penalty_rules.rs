//! Each unit's rules for penalty cases (issue 19): its [`PenaltySettings`] (periods and
//! thresholds), its working-day calendar ([`WorkCalendar`]: the holidays and make-up working
//! days it enters), its discretion table (裁量基准, kept as the TOML text the unit
//! uploaded, which `app_core::penalty::DiscretionTable::parse_toml` reads) and its blacklist
//! rules (失信名单, TOML `[[rule]]` of `app_core::penalty::BlacklistRule`). One row per unit
//! in `unit_penalty_rules`; each of the four may be absent, and then the unit follows its
//! parent's (see `crate::service::case_rules`). Settings and calendar are stored as JSON of
//! app-core's types.

use super::{Sqlite, StoreError, StoreResult};
use app_core::penalty::{PenaltySettings, WorkCalendar};
use rusqlite::{OptionalExtension, params};

/// Migration (issue 19): the units' penalty settings, calendars and discretion tables.
pub(crate) const MIGRATION_PENALTY_RULES: &str = "
    CREATE TABLE unit_penalty_rules (
        unit TEXT PRIMARY KEY,
        settings TEXT,
        calendar TEXT,
        discretion TEXT,
        blacklist TEXT,
        updated_at INTEGER NOT NULL,
        updated_by TEXT NOT NULL
    ) WITHOUT ROWID;
";

/// What one unit has set itself (absent: it follows its parent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitPenaltyRules {
    pub settings: Option<PenaltySettings>,
    pub calendar: Option<WorkCalendar>,
    /// The discretion table's TOML text, as uploaded (validated before it is stored).
    pub discretion: Option<String>,
    /// The blacklist rules' TOML text (`[[rule]]`, `app_core::penalty::BlacklistRule`).
    pub blacklist: Option<String>,
    /// When (ms) and by whom the row was last written.
    pub updated_at: i64,
    pub updated_by: String,
}

/// The row as stored: JSON texts.
pub(crate) struct RawRules {
    pub settings: Option<String>,
    pub calendar: Option<String>,
    pub discretion: Option<String>,
    pub blacklist: Option<String>,
    pub updated_at: i64,
    pub updated_by: String,
}

impl RawRules {
    pub(crate) fn of(rules: &UnitPenaltyRules) -> Self {
        RawRules {
            settings: rules
                .settings
                .as_ref()
                .map(|s| serde_json::to_string(s).expect("settings serialise")),
            calendar: rules
                .calendar
                .as_ref()
                .map(|c| serde_json::to_string(c).expect("calendar serialises")),
            discretion: rules.discretion.clone(),
            blacklist: rules.blacklist.clone(),
            updated_at: rules.updated_at,
            updated_by: rules.updated_by.clone(),
        }
    }

    pub(crate) fn read(self, unit: &str) -> StoreResult<UnitPenaltyRules> {
        let corrupt = |what: &str, e: serde_json::Error| {
            StoreError::Corrupt(format!("penalty {what} of unit {unit}: {e}"))
        };
        Ok(UnitPenaltyRules {
            settings: self
                .settings
                .map(|s| serde_json::from_str(&s).map_err(|e| corrupt("settings", e)))
                .transpose()?,
            calendar: self
                .calendar
                .map(|s| serde_json::from_str(&s).map_err(|e| corrupt("calendar", e)))
                .transpose()?,
            discretion: self.discretion,
            blacklist: self.blacklist,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
        })
    }
}

/// Storage of the units' penalty rules.
pub trait PenaltyRulesStore {
    /// What `unit` has set itself, if anything.
    fn penalty_rules(&self, unit: &str) -> StoreResult<Option<UnitPenaltyRules>>;
    /// Replaces what `unit` has set (the whole row).
    fn put_penalty_rules(&self, unit: &str, rules: &UnitPenaltyRules) -> StoreResult<()>;
}

impl<C: Sqlite> PenaltyRulesStore for C {
    fn penalty_rules(&self, unit: &str) -> StoreResult<Option<UnitPenaltyRules>> {
        self.sqlite()
            .prepare_cached(
                "SELECT settings, calendar, discretion, blacklist, updated_at, updated_by
                 FROM unit_penalty_rules WHERE unit = ?1",
            )?
            .query_row([unit], |r| {
                Ok(RawRules {
                    settings: r.get(0)?,
                    calendar: r.get(1)?,
                    discretion: r.get(2)?,
                    blacklist: r.get(3)?,
                    updated_at: r.get(4)?,
                    updated_by: r.get(5)?,
                })
            })
            .optional()?
            .map(|raw| raw.read(unit))
            .transpose()
    }

    fn put_penalty_rules(&self, unit: &str, rules: &UnitPenaltyRules) -> StoreResult<()> {
        let raw = RawRules::of(rules);
        self.sqlite()
            .prepare_cached(
                "INSERT INTO unit_penalty_rules
                     (unit, settings, calendar, discretion, blacklist, updated_at, updated_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (unit) DO UPDATE SET settings = ?2, calendar = ?3,
                     discretion = ?4, blacklist = ?5, updated_at = ?6, updated_by = ?7",
            )?
            .execute(params![
                unit,
                raw.settings,
                raw.calendar,
                raw.discretion,
                raw.blacklist,
                raw.updated_at,
                raw.updated_by
            ])?;
        Ok(())
    }
}
