//! Time and place as the record keeps them: instants in UTC milliseconds (shown in
//! Asia/Shanghai, UTC+8, which has no daylight saving), calendar dates for deadlines, and
//! WGS-84 positions that say where they came from.
//!
//! The core never reads the clock: "now" and "today" are always arguments.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, UtcOffset};

/// An instant, as milliseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// China Standard Time. A fixed offset is exact: China has not used daylight saving since 1991.
pub const SHANGHAI: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("valid offset"),
};

impl Timestamp {
    pub fn to_shanghai(self) -> OffsetDateTime {
        let nanos = i128::from(self.0) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(SHANGHAI)
    }

    /// The calendar date in Asia/Shanghai: what a deadline or a period is compared with.
    pub fn shanghai_date(self) -> Day {
        Day(self.to_shanghai().date())
    }

    /// `2026-11-23 14:05` in Asia/Shanghai.
    pub fn display_shanghai(self) -> String {
        let t = self.to_shanghai();
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        )
    }
}

/// Where a position came from: the device's location service, or typed in by the inspector
/// (which the record must show as such).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionSource {
    Device,
    Manual,
    /// Taken from the entrance photo's EXIF GPS (offered when the device cannot locate).
    Photo,
}

/// A WGS-84 position.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub lat: f64,
    pub lon: f64,
    pub source: PositionSource,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("position ({lat}, {lon}) is not a valid WGS-84 latitude/longitude")]
pub struct PositionError {
    pub lat: f64,
    pub lon: f64,
}

impl Position {
    pub fn new(lat: f64, lon: f64, source: PositionSource) -> Result<Self, PositionError> {
        if lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0 {
            Ok(Self { lat, lon, source })
        } else {
            Err(PositionError { lat, lon })
        }
    }
}

/// A calendar day in Asia/Shanghai (deadlines, periods). Serialised as ISO `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub Date);

impl Day {
    pub fn parse(s: &str) -> Result<Self, time::error::Parse> {
        iso_date::parse(s).map(Day)
    }

    /// `Day::ymd(2026, 11, 23)`; panics on an impossible date, so use it for literals only.
    pub fn ymd(year: i32, month: u8, day: u8) -> Self {
        let month = time::Month::try_from(month).expect("month 1-12");
        Day(Date::from_calendar_date(year, month, day).expect("valid calendar date"))
    }

    pub fn plus_days(self, days: i64) -> Self {
        Day(self.0 + time::Duration::days(days))
    }

    pub fn is_weekend(self) -> bool {
        matches!(
            self.0.weekday(),
            time::Weekday::Saturday | time::Weekday::Sunday
        )
    }

    pub fn year(self) -> i32 {
        self.0.year()
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&iso_date::format(self.0))
    }
}

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Day::parse(&s).map_err(|e| serde::de::Error::custom(format!("date {s:?}: {e}")))
    }
}

/// Dates travel as ISO 8601 `YYYY-MM-DD` strings.
pub mod iso_date {
    use time::Date;
    use time::macros::format_description;

    const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
        format_description!("[year]-[month]-[day]");

    pub fn format(date: Date) -> String {
        date.format(FORMAT).expect("dates always format")
    }

    pub fn parse(s: &str) -> Result<Date, time::error::Parse> {
        Date::parse(s, FORMAT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_date_rolls_over_at_utc_16_00() {
        // 2026-11-23T15:59:59Z is 23:59:59 in Shanghai; one second later it is the 24th.
        let before = Timestamp(1_795_449_599_000);
        let after = Timestamp(1_795_449_600_000);
        assert_eq!(before.shanghai_date().to_string(), "2026-11-23");
        assert_eq!(after.shanghai_date(), Day::ymd(2026, 11, 24));
        assert_eq!(Day::parse("2026-11-24").unwrap(), after.shanghai_date());
        assert!(Day::ymd(2026, 11, 22).is_weekend());
        assert_eq!(after.display_shanghai(), "2026-11-24 00:00");
    }

    #[test]
    fn positions_are_range_checked() {
        assert!(Position::new(32.05, 118.78, PositionSource::Device).is_ok());
        assert!(Position::new(91.0, 0.0, PositionSource::Manual).is_err());
        assert!(Position::new(f64::NAN, 0.0, PositionSource::Manual).is_err());
    }
}
