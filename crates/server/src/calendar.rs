//! Calendar days as a Polish university means them. "Valid until
//! 2027-09-30" means through the whole of that day in Poland: the ELS, the
//! card and every date the IT team types or reads are days in
//! Europe/Warsaw (CET/CEST), whatever the server's own time zone. A day is
//! stored as its last millisecond (an end) or its first (a start).

use jiff::civil::Date;
use jiff::tz::TimeZone;

fn poland() -> TimeZone {
    TimeZone::get("Europe/Warsaw").expect("the bundled time zone database has Europe/Warsaw")
}

fn parse(day: &str) -> Result<Date, String> {
    let day = day.trim();
    let strict = day.len() == 10 && day.as_bytes()[4] == b'-' && day.as_bytes()[7] == b'-';
    day.parse::<Date>()
        .ok()
        .filter(|_| strict)
        .ok_or_else(|| format!("expected a date as YYYY-MM-DD, got {day:?}"))
}

fn first_ms(date: Date) -> Result<i64, String> {
    date.to_zoned(poland())
        .map(|z| z.timestamp().as_millisecond())
        .map_err(|e| format!("{date}: {e}"))
}

/// The first moment of `day` (`YYYY-MM-DD`) in Poland, Unix ms.
pub fn day_start(day: &str) -> Result<i64, String> {
    first_ms(parse(day)?)
}

/// The last moment of `day` (`YYYY-MM-DD`) in Poland, Unix ms: a "valid
/// until" that includes the whole day.
pub fn day_end(day: &str) -> Result<i64, String> {
    let next = parse(day)?.tomorrow().map_err(|e| format!("{day}: {e}"))?;
    Ok(first_ms(next)? - 1)
}

/// The day (`YYYY-MM-DD`) in Poland that contains `ms`.
pub fn day_of(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(
        |_| ms.to_string(),
        |t| t.to_zoned(poland()).date().to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-31T22:59:59.999Z and the like, as Unix ms.
    fn utc(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn a_day_ends_at_its_last_moment_in_poland() {
        for (day, end) in [
            // Winter (CET, UTC+1): month and year ends.
            ("2026-12-31", "2026-12-31T22:59:59.999Z"),
            ("2027-01-31", "2027-01-31T22:59:59.999Z"),
            ("2028-02-29", "2028-02-29T22:59:59.999Z"),
            ("2027-02-28", "2027-02-28T22:59:59.999Z"),
            // Summer (CEST, UTC+2).
            ("2027-09-30", "2027-09-30T21:59:59.999Z"),
            ("2027-06-30", "2027-06-30T21:59:59.999Z"),
            // The days the clocks change (last Sundays of March and October).
            ("2027-03-28", "2027-03-28T21:59:59.999Z"),
            ("2027-10-31", "2027-10-31T22:59:59.999Z"),
            ("2027-03-31", "2027-03-31T21:59:59.999Z"),
        ] {
            assert_eq!(day_end(day), Ok(utc(end)), "{day}");
            assert_eq!(day_of(utc(end)), day, "{day}: its end is still that day");
            assert_eq!(
                day_of(utc(end) + 1),
                day_after(day),
                "{day}: a moment later"
            );
        }
        assert_eq!(day_start("2027-03-28"), Ok(utc("2027-03-27T23:00:00Z")));
        assert_eq!(day_start("2027-10-01"), Ok(utc("2027-09-30T22:00:00Z")));
    }

    fn day_after(day: &str) -> String {
        day.parse::<Date>().unwrap().tomorrow().unwrap().to_string()
    }

    #[test]
    fn every_day_of_three_years_round_trips() {
        let mut day: Date = "2026-01-01".parse().unwrap();
        while day.year() < 2029 {
            let s = day.to_string();
            let (start, end) = (day_start(&s).unwrap(), day_end(&s).unwrap());
            assert_eq!(day_of(start), s);
            assert_eq!(day_of(end), s);
            assert!(
                end - start + 1 == 23 * 3_600_000
                    || end - start + 1 == 24 * 3_600_000
                    || end - start + 1 == 25 * 3_600_000
            );
            day = day.tomorrow().unwrap();
        }
    }

    #[test]
    fn only_plain_dates_are_dates() {
        for bad in [
            "2027-9-30",
            "30.09.2027",
            "2027-02-30",
            "2027-13-01",
            "",
            "2027-09-30T00:00",
        ] {
            assert!(day_end(bad).is_err(), "{bad:?}");
        }
        assert!(day_end(" 2027-09-30 ").is_ok());
    }
}
