//! Italian time: times are UTC in storage and Europe/Rome on screen, in
//! documents and on the wire where pagoPA wants calendar days.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Europe/Rome (from jiff's bundled database, so always there).
pub fn time_zone() -> TimeZone {
    TimeZone::get("Europe/Rome").unwrap_or(TimeZone::UTC)
}

/// The Italian calendar day of an instant.
pub fn date_of(t: Timestamp) -> Date {
    t.to_zoned(time_zone()).date()
}

/// The first instant of an Italian calendar day (`None` only at the ends
/// of the calendar).
pub fn start_of(day: Date) -> Option<Timestamp> {
    day.to_zoned(time_zone()).ok().map(|z| z.timestamp())
}

/// The Italian days `from` to `to`, both included, as `[start, end)`.
pub fn days(from: Date, to: Date) -> Option<(Timestamp, Timestamp)> {
    Some((start_of(from)?, start_of(to.tomorrow().ok()?)?))
}

/// The last second of an Italian calendar day: where a due date falls.
pub fn last_second_of(day: Date) -> Option<Timestamp> {
    Some(start_of(day.tomorrow().ok()?)? - jiff::SignedDuration::from_secs(1))
}

#[cfg(test)]
mod tests {
    #[test]
    fn italian_days_begin_at_midnight_in_rome_summer_or_winter() {
        use jiff::civil::Date;
        let winter = Date::constant(2026, 1, 15);
        let summer = Date::constant(2026, 7, 15);
        assert_eq!(
            super::start_of(winter).unwrap().to_string(),
            "2026-01-14T23:00:00Z"
        );
        assert_eq!(
            super::start_of(summer).unwrap().to_string(),
            "2026-07-14T22:00:00Z"
        );
        assert_eq!(
            super::last_second_of(summer).unwrap().to_string(),
            "2026-07-15T21:59:59Z"
        );
        let (start, end) = super::days(winter, summer).unwrap();
        assert_eq!(
            (start, end),
            (
                super::start_of(winter).unwrap(),
                super::start_of(Date::constant(2026, 7, 16)).unwrap()
            )
        );
    }

    #[test]
    fn late_evening_utc_is_the_next_day_in_rome() {
        let t: jiff::Timestamp = "2026-12-31T23:30:00Z".parse().unwrap();
        assert_eq!(super::date_of(t), jiff::civil::Date::constant(2027, 1, 1));
    }
}
