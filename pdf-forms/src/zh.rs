//! Dates and times as Chinese forms print them, in Asia/Shanghai.

use app_core::geo::{Day, Timestamp};

/// `2026年11月23日`
pub(crate) fn day(d: Day) -> String {
    format!("{}年{}月{}日", d.0.year(), u8::from(d.0.month()), d.0.day())
}

/// `2026年11月23日`, the Shanghai calendar day of an instant.
pub(crate) fn date_of(t: Timestamp) -> String {
    day(t.shanghai_date())
}

/// `2026年11月23日08时05分` in Asia/Shanghai.
pub(crate) fn minute(t: Timestamp) -> String {
    let s = t.to_shanghai();
    format!(
        "{}年{}月{}日{:02}时{:02}分",
        s.year(),
        u8::from(s.month()),
        s.day(),
        s.hour(),
        s.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_print_in_shanghai_time() {
        // 2026-11-23T15:59:00Z is 23:59 in Shanghai; an hour later it is the next day there.
        assert_eq!(
            minute(Timestamp(1_795_449_540_000)),
            "2026年11月23日23时59分"
        );
        assert_eq!(date_of(Timestamp(1_795_453_140_000)), "2026年11月24日");
        assert_eq!(day(Day::ymd(2027, 1, 5)), "2027年1月5日");
    }
}
