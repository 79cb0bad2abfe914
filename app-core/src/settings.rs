//! A unit's settings for deadlines and periods. The rules leave these numbers to each unit
//! ("re-inspection is due promptly … the exact period is a setting"), so none of them is a
//! constant in code: every rule that needs one takes [`UnitSettings`] as an argument.

use crate::geo::Day;
use crate::hazard::HazardLevel;
use serde::{Deserialize, Serialize};

/// How a period of N days is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    Calendar,
    /// Monday to Friday. Public holidays and make-up working days (调休) are not modelled yet:
    /// a unit that needs them exactly should use calendar days meanwhile.
    Working,
}

impl DayCount {
    /// The day `n` days after `from`, counted this way.
    pub fn add(self, from: Day, n: u32) -> Day {
        match self {
            DayCount::Calendar => from.plus_days(i64::from(n)),
            DayCount::Working => {
                let mut day = from;
                let mut left = n;
                while left > 0 {
                    day = day.plus_days(1);
                    if !day.is_weekend() {
                        left -= 1;
                    }
                }
                day
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitSettings {
    /// Suggested rectification period for a general hazard (一般隐患).
    pub general_rectification_days: u32,
    /// Suggested rectification period for a major hazard (重大隐患).
    pub major_rectification_days: u32,
    pub rectification_count: DayCount,
    /// Re-inspection (复查) is due this many days after the enterprise reports completion.
    pub reinspection_days: u32,
    pub reinspection_count: DayCount,
    /// Size of a block of document numbers a tablet reserves at sync (see
    /// [`crate::docnumber`]).
    pub number_block_size: u32,
}

impl Default for UnitSettings {
    /// Defaults a unit starts from: 30 days for general hazards, 90 for major ones, and
    /// re-inspection within 5 working days of the completion report.
    fn default() -> Self {
        Self {
            general_rectification_days: 30,
            major_rectification_days: 90,
            rectification_count: DayCount::Calendar,
            reinspection_days: 5,
            reinspection_count: DayCount::Working,
            number_block_size: 20,
        }
    }
}

impl UnitSettings {
    pub fn suggested_deadline(&self, level: HazardLevel, found_on: Day) -> Day {
        let days = match level {
            HazardLevel::General => self.general_rectification_days,
            HazardLevel::Major => self.major_rectification_days,
        };
        self.rectification_count.add(found_on, days)
    }

    /// The deadlines a hazard found on `found_on` is prefilled with, one per level (the form
    /// switches between them when the level changes).
    pub fn suggested_deadlines(&self, found_on: Day) -> SuggestedDeadlines {
        SuggestedDeadlines {
            general: self.suggested_deadline(HazardLevel::General, found_on),
            major: self.suggested_deadline(HazardLevel::Major, found_on),
        }
    }

    pub fn reinspection_due(&self, reported_on: Day) -> Day {
        self.reinspection_count
            .add(reported_on, self.reinspection_days)
    }
}

/// The rectification deadline a new hazard is prefilled with, for each level
/// ([`UnitSettings::suggested_deadlines`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestedDeadlines {
    pub general: Day,
    pub major: Day,
}

impl SuggestedDeadlines {
    pub fn for_level(self, level: HazardLevel) -> Day {
        match level {
            HazardLevel::General => self.general,
            HazardLevel::Major => self.major,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_days_skip_weekends() {
        // 2026-11-20 is a Friday.
        let friday = Day::ymd(2026, 11, 20);
        assert_eq!(DayCount::Working.add(friday, 1), Day::ymd(2026, 11, 23));
        assert_eq!(DayCount::Working.add(friday, 5), Day::ymd(2026, 11, 27));
        assert_eq!(DayCount::Calendar.add(friday, 5), Day::ymd(2026, 11, 25));
        assert_eq!(DayCount::Working.add(friday, 0), friday);
    }

    #[test]
    fn deadlines_follow_the_settings_not_constants() {
        let found = Day::ymd(2026, 11, 23);
        let mut settings = UnitSettings::default();
        assert_eq!(
            settings.suggested_deadline(HazardLevel::General, found),
            Day::ymd(2026, 12, 23)
        );
        settings.general_rectification_days = 7;
        settings.major_rectification_days = 14;
        assert_eq!(
            settings.suggested_deadline(HazardLevel::General, found),
            Day::ymd(2026, 11, 30)
        );
        assert_eq!(
            settings.suggested_deadline(HazardLevel::Major, found),
            Day::ymd(2026, 12, 7)
        );
        let both = settings.suggested_deadlines(found);
        assert_eq!(both.for_level(HazardLevel::General), Day::ymd(2026, 11, 30));
        assert_eq!(both.for_level(HazardLevel::Major), Day::ymd(2026, 12, 7));
        let defaults = UnitSettings::default().suggested_deadlines(found);
        assert_eq!(
            (defaults.general, defaults.major),
            (Day::ymd(2026, 12, 23), Day::ymd(2027, 2, 21)),
            "30 and 90 calendar days"
        );
        settings.reinspection_days = 3;
        settings.reinspection_count = DayCount::Calendar;
        assert_eq!(settings.reinspection_due(found), Day::ymd(2026, 11, 26));
    }
}
