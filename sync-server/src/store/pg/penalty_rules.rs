//! [`PenaltyRulesStore`] on PostgreSQL: one row per unit in `unit_penalty_rules`, as on
//! SQLite (`crate::store::penalty_rules`).

use super::{Pg, Query};
use crate::store::StoreResult;
use crate::store::penalty_rules::{PenaltyRulesStore, RawRules, UnitPenaltyRules};
use postgres::GenericClient;

impl<C: GenericClient> PenaltyRulesStore for Pg<C> {
    fn penalty_rules(&self, unit: &str) -> StoreResult<Option<UnitPenaltyRules>> {
        self.c()
            .query_opt(
                "SELECT settings, calendar, discretion, blacklist, updated_at, updated_by
                 FROM unit_penalty_rules WHERE unit = $1",
                &[&unit],
            )?
            .map(|r| {
                RawRules {
                    settings: r.get(0),
                    calendar: r.get(1),
                    discretion: r.get(2),
                    blacklist: r.get(3),
                    updated_at: r.get(4),
                    updated_by: r.get(5),
                }
                .read(unit)
            })
            .transpose()
    }

    fn put_penalty_rules(&self, unit: &str, rules: &UnitPenaltyRules) -> StoreResult<()> {
        let raw = RawRules::of(rules);
        self.c().execute(
            "INSERT INTO unit_penalty_rules
                 (unit, settings, calendar, discretion, blacklist, updated_at, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (unit) DO UPDATE SET settings = $2, calendar = $3,
                 discretion = $4, blacklist = $5, updated_at = $6, updated_by = $7",
            &[
                &unit,
                &raw.settings,
                &raw.calendar,
                &raw.discretion,
                &raw.blacklist,
                &raw.updated_at,
                &raw.updated_by,
            ],
        )?;
        Ok(())
    }
}
