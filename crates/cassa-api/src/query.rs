//! Query parameters of the integration API, read the way GPD reads them,
//! with errors that name the parameter.

use std::collections::HashMap;

use axum::http::StatusCode;
use cassa_core::debt::PositionStatus;
use cassa_pagopa::gpd::titles;
use cassa_store::{ListFilter, ListOrder, SortKey};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::errors::ApiError;

/// GPD's longest date range in a list query, in days.
pub const MAX_DAYS_INTERVAL: i64 = 30;
pub const MAX_LIMIT: u32 = 50;

pub struct QueryParams(HashMap<String, String>);

fn invalid(value: &str, name: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid value {value} for property {name}"))
}

impl QueryParams {
    pub fn parse(raw: Option<&str>) -> Self {
        QueryParams(
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name).map(str::to_ascii_lowercase).as_deref() {
            None | Some("") | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => Err(invalid(other, name)),
        }
    }

    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Required request parameter '{name}' is not present"
                ))
            })
    }

    pub fn number(&self, name: &str, default: u32, min: u32, max: u32) -> Result<u32, ApiError> {
        let Some(text) = self.get(name) else {
            return Ok(default);
        };
        let n: i64 = text.trim().parse().map_err(|_| invalid(text, name))?;
        if n < i64::from(min) || n > i64::from(max) {
            return Err(ApiError::bad_request(format!(
                "{name}: must be between {min} and {max}, got {n}"
            )));
        }
        Ok(n as u32)
    }

    fn date(&self, name: &str) -> Result<Option<Date>, ApiError> {
        match self.get(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(text) => text
                .parse::<Date>()
                .map(Some)
                .map_err(|_| invalid(text, name)),
        }
    }

    /// An inclusive day range: from 00:00 of `from` to the end of `to` (UTC).
    /// A missing end is the other one moved by the largest interval.
    fn day_range(
        &self,
        from_name: &str,
        to_name: &str,
    ) -> Result<Option<(Timestamp, Timestamp)>, ApiError> {
        let span = jiff::Span::new().days(MAX_DAYS_INTERVAL);
        let (from, to) = match (self.date(from_name)?, self.date(to_name)?) {
            (None, None) => return Ok(None),
            (Some(f), Some(t)) => (f, t),
            (Some(f), None) => (f, f.checked_add(span).unwrap_or(f)),
            (None, Some(t)) => (t.checked_sub(span).unwrap_or(t), t),
        };
        if from > to || i64::from((to - from).get_days()) > MAX_DAYS_INTERVAL {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                titles::NOT_RECOVERABLE,
                format!(
                    "Debt positions cannot be recovered. Verify that {to_name} >= {from_name} and that the \
                     interval between the two dates not exceed the maximum number of days allowed \
                     [{from_name}= {from}, {to_name}= {to}, max_days_interval= {MAX_DAYS_INTERVAL}]"
                ),
            ));
        }
        let start = from
            .to_zoned(TimeZone::UTC)
            .map_err(ApiError::internal)?
            .timestamp();
        let end = to
            .to_zoned(TimeZone::UTC)
            .map_err(ApiError::internal)?
            .timestamp()
            + SignedDuration::from_hours(24)
            - SignedDuration::from_micros(1);
        Ok(Some((start, end)))
    }

    /// The list endpoint's filters, paging and order.
    pub fn list_filter(&self) -> Result<ListFilter, ApiError> {
        let due = ["due_date_from", "due_date_to"];
        let paid = ["payment_date_from", "payment_date_to"];
        if due.iter().any(|p| self.has(p)) && paid.iter().any(|p| self.has(p)) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                titles::EXCLUSIVE_PARAMETERS,
                "Parameters due_date_to, due_date_from and payment_date_from, payment_date_to are mutual exclusive",
            ));
        }
        let status = match self.get("status") {
            None => None,
            Some(s) => Some(PositionStatus::parse(s).ok_or_else(|| invalid(s, "status"))?),
        };
        let key = match self.get("orderby") {
            None | Some("INSERTED_DATE") => SortKey::InsertedDate,
            Some("IUPD") => SortKey::Iupd,
            Some("STATUS") => SortKey::Status,
            Some("COMPANY_NAME") => SortKey::CompanyName,
            Some(other) => return Err(invalid(other, "orderby")),
        };
        let descending = match self.get("ordering") {
            None | Some("DESC") => true,
            Some("ASC") => false,
            Some(other) => return Err(invalid(other, "ordering")),
        };
        Ok(ListFilter {
            status,
            due_date: self.day_range(due[0], due[1])?,
            payment_date: self.day_range(paid[0], paid[1])?,
            order: ListOrder { key, descending },
            page: self.number("page", 0, 0, i32::MAX as u32)?,
            limit: self.number("limit", 10, 1, MAX_LIMIT)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(q: &str) -> Result<ListFilter, ApiError> {
        QueryParams::parse(Some(q)).list_filter()
    }

    fn detail(e: ApiError) -> String {
        match e {
            ApiError::Problem { detail, .. } => detail,
            ApiError::Forbidden(m) => m,
        }
    }

    #[test]
    fn reads_defaults_and_values() {
        let f = filter("").unwrap();
        assert_eq!((f.page, f.limit), (0, 10));
        assert!(f.order.descending);
        let f = filter("limit=50&page=3&status=PAID&orderby=IUPD&ordering=ASC").unwrap();
        assert_eq!((f.page, f.limit), (3, 50));
        assert_eq!(f.status, Some(PositionStatus::Paid));
        assert_eq!(f.order.key, SortKey::Iupd);
        assert!(!f.order.descending);
    }

    #[test]
    fn day_ranges_are_inclusive_and_completed() {
        let f = filter("due_date_from=2026-01-01&due_date_to=2026-01-31").unwrap();
        let (from, to) = f.due_date.unwrap();
        assert_eq!(from.to_string(), "2026-01-01T00:00:00Z");
        assert_eq!(to.to_string(), "2026-01-31T23:59:59.999999Z");
        let f = filter("payment_date_from=2026-01-01").unwrap();
        assert_eq!(
            f.payment_date.unwrap().1.to_string(),
            "2026-01-31T23:59:59.999999Z"
        );
    }

    #[test]
    fn explains_bad_parameters() {
        assert_eq!(
            detail(filter("limit=51").unwrap_err()),
            "limit: must be between 1 and 50, got 51"
        );
        assert_eq!(
            detail(filter("page=x").unwrap_err()),
            "Invalid value x for property page"
        );
        assert_eq!(
            detail(filter("status=FOO").unwrap_err()),
            "Invalid value FOO for property status"
        );
        assert!(
            detail(filter("due_date_from=2026-01-01&payment_date_to=2026-01-02").unwrap_err())
                .contains("mutual exclusive")
        );
        assert!(
            detail(filter("due_date_from=2026-03-01&due_date_to=2026-01-01").unwrap_err())
                .starts_with("Debt positions cannot be recovered")
        );
        assert!(
            detail(filter("due_date_from=2026-01-01&due_date_to=2026-03-01").unwrap_err())
                .starts_with("Debt positions cannot be recovered")
        );
        assert_eq!(
            detail(filter("due_date_from=01/01/2026").unwrap_err()),
            "Invalid value 01/01/2026 for property due_date_from"
        );
    }
}
