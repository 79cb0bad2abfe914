//! Dates and times as Chinese forms print them, in Asia/Shanghai (app-core's, which the
//! documents' content uses).

#[cfg(test)]
mod tests {
    use app_core::geo::{Day, Timestamp};
    use app_core::paper::{date_of, day, minute};

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
