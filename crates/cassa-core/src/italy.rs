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

#[cfg(test)]
mod tests {
    #[test]
    fn late_evening_utc_is_the_next_day_in_rome() {
        let t: jiff::Timestamp = "2026-12-31T23:30:00Z".parse().unwrap();
        assert_eq!(super::date_of(t), jiff::civil::Date::constant(2027, 1, 1));
    }
}
