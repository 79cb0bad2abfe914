//! The unit's working-day calendar (工作日历): Monday to Friday are working days, except the
//! public holidays the unit enters (法定节假日), and a weekend day the unit enters as a
//! make-up working day (调休上班) is one. The official holiday calendar changes every year,
//! so it is data the unit edits (like the checklists), never a constant in code.

use crate::geo::Day;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The days that differ from "Monday to Friday work, weekends rest".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkCalendar {
    /// 法定节假日 and the rest days added around them (放假调休): no work, whatever weekday.
    #[serde(default)]
    pub holidays: BTreeSet<Day>,
    /// 调休上班: weekend days that are working days.
    #[serde(default)]
    pub workdays: BTreeSet<Day>,
}

/// What is wrong with a calendar the unit entered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{0} is entered both as a holiday and as a make-up working day")]
    BothHolidayAndWorkday(Day),
    #[error("{0} is entered as a make-up working day but is not a Saturday or Sunday")]
    WorkdayNotWeekend(Day),
}

impl WorkCalendar {
    /// Whether `day` is a working day.
    pub fn is_working(&self, day: Day) -> bool {
        if self.holidays.contains(&day) {
            return false;
        }
        !day.is_weekend() || self.workdays.contains(&day)
    }

    /// The `n`th working day after `from` (`from` itself never counts, as a period starts the
    /// next day); `n == 0` gives `from`.
    pub fn add_working_days(&self, from: Day, n: u32) -> Day {
        let mut day = from;
        let mut left = n;
        while left > 0 {
            day = day.plus_days(1);
            if self.is_working(day) {
                left -= 1;
            }
        }
        day
    }

    /// How many working days lie after `from` up to and including `to` (0 when `to <= from`).
    pub fn working_days_between(&self, from: Day, to: Day) -> u32 {
        let mut n = 0;
        let mut day = from;
        while day < to {
            day = day.plus_days(1);
            if self.is_working(day) {
                n += 1;
            }
        }
        n
    }

    /// Every problem with the entered days, in date order.
    pub fn validate(&self) -> Vec<CalendarError> {
        let mut out = Vec::new();
        for d in &self.workdays {
            if self.holidays.contains(d) {
                out.push(CalendarError::BothHolidayAndWorkday(*d));
            } else if !d.is_weekend() {
                out.push(CalendarError::WorkdayNotWeekend(*d));
            }
        }
        out
    }
}

/// How a period of days is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counting {
    Calendar,
    /// Working days of the unit's [`WorkCalendar`].
    Working,
}

/// A period: `days` counted one way, from the day after the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub days: u32,
    pub counting: Counting,
}

impl Period {
    pub const fn calendar(days: u32) -> Self {
        Self {
            days,
            counting: Counting::Calendar,
        }
    }

    pub const fn working(days: u32) -> Self {
        Self {
            days,
            counting: Counting::Working,
        }
    }

    /// The last day of the period starting after `from`.
    pub fn end(self, from: Day, calendar: &WorkCalendar) -> Day {
        match self.counting {
            Counting::Calendar => from.plus_days(i64::from(self.days)),
            Counting::Working => calendar.add_working_days(from, self.days),
        }
    }
}
