//! Date-times as pagoPA's JSON APIs write them.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// Reads an ISO 8601 date-time. With an offset (`Z`, `+01:00`) it is taken
/// as written; without one it is UTC, as GPD treats its `LocalDateTime`s.
pub fn parse_datetime(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    text.parse::<DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| {
            format!(
                "{text:?} is not a date-time such as 2026-12-31T23:59:59Z or 2026-12-31T23:59:59"
            )
        })
}

/// Writes a date-time as RFC 3339 in UTC (`2026-12-31T23:59:59Z`): what the
/// OpenAPI `date-time` format requires, and what GPD clients parse.
pub fn format_datetime(ts: Timestamp) -> String {
    ts.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_gpd_clients_send() {
        let z = parse_datetime("2026-12-31T23:59:59Z").unwrap();
        assert_eq!(parse_datetime("2026-12-31T23:59:59").unwrap(), z);
        assert_eq!(parse_datetime("2027-01-01T00:59:59+01:00").unwrap(), z);
        assert_eq!(
            parse_datetime("2026-12-31T23:59:59.999").unwrap(),
            "2026-12-31T23:59:59.999Z".parse::<Timestamp>().unwrap()
        );
        assert!(parse_datetime("31/12/2026").is_err());
        assert_eq!(format_datetime(z), "2026-12-31T23:59:59Z");
    }
}
