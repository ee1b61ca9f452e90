//! "I numeri del Portale Pagamenti": payments and amounts this year and in
//! total, enti aderenti and attivi, tipi dovuto configured, and a chart of
//! the year's payments per month (an SVG drawn here, with the same numbers
//! in a table). Operators see their enti; platform admins all, or one.

use std::collections::HashMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use cassa_core::access::{Action, EnteScope, TipoScope};
use cassa_core::italy;
use cassa_store::{Ente, Statistics};
use jiff::Timestamp;
use jiff::civil::Date;

use super::{Office, internal_error, render};
use crate::BackofficeState;

pub struct Bar {
    pub month: String,
    pub payments: i64,
    pub amount: String,
    /// Geometry in the SVG's coordinates.
    pub x: i64,
    pub y: i64,
    pub height: i64,
}

#[derive(Template)]
#[template(path = "backoffice/statistics.html")]
struct StatisticsPage {
    office: Office,
    enti: Vec<Ente>,
    chosen: String,
    year: i16,
    years: Vec<i16>,
    stats: Statistics,
    bars: Vec<Bar>,
}

const MONTHS_IT: [&str; 12] = [
    "gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic",
];
const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const CHART_HEIGHT: i64 = 200;

/// The twelve Italian months of `year`, as instants.
fn months(year: i16) -> Vec<(Timestamp, Timestamp)> {
    let start = |y: i16, m: i8| {
        Date::new(y, m, 1)
            .ok()
            .and_then(italy::start_of)
            .unwrap_or(Timestamp::UNIX_EPOCH)
    };
    (1..=12)
        .map(|m| {
            let end = if m == 12 {
                start(year + 1, 1)
            } else {
                start(year, m + 1)
            };
            (start(year, m), end)
        })
        .collect()
}

pub async fn show(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let visible: Vec<Ente> = match state.store.list_enti().await {
        Ok(enti) => match office.access.enti() {
            EnteScope::All => enti,
            EnteScope::Only(ids) => enti.into_iter().filter(|e| ids.contains(&e.id)).collect(),
        },
        Err(e) => return internal_error(&office, e),
    };
    let this_year = italy::date_of(Timestamp::now()).year();
    let year = q
        .get("anno")
        .and_then(|y| y.parse::<i16>().ok())
        .filter(|y| (2000..=this_year).contains(y))
        .unwrap_or(this_year);
    let chosen = q
        .get("ente")
        .and_then(|cf| visible.iter().find(|e| &e.fiscal_code == cf));
    // Each ente as far as the operator may read it: an operator of one
    // tipo dovuto sees that tipo's payments, not the ente's.
    let scoped = |e: &Ente| (e.id, office.access.tipi(e.id, Action::Read));
    let scope: Option<Vec<(i64, TipoScope)>> = match (chosen, office.access.enti()) {
        (Some(e), _) => Some(vec![scoped(e)]),
        (None, EnteScope::All) => None,
        (None, EnteScope::Only(_)) => Some(visible.iter().map(scoped).collect()),
    };
    let stats = match state
        .store
        .statistics(scope.as_deref(), &months(year))
        .await
    {
        Ok(stats) => stats,
        Err(e) => return internal_error(&office, e),
    };
    let names = if office.is_en() { MONTHS_EN } else { MONTHS_IT };
    let top = stats
        .per_bucket
        .iter()
        .map(|b| b.0)
        .max()
        .unwrap_or(0)
        .max(1);
    let bars = stats
        .per_bucket
        .iter()
        .enumerate()
        .map(|(i, (payments, amount))| {
            let height = payments * CHART_HEIGHT / top;
            Bar {
                month: names[i].to_owned(),
                payments: *payments,
                amount: amount.to_italian(),
                x: 40 + i as i64 * 50,
                y: 20 + CHART_HEIGHT - height,
                height,
            }
        })
        .collect();
    render(&StatisticsPage {
        chosen: chosen.map(|e| e.fiscal_code.clone()).unwrap_or_default(),
        years: (2020.min(year)..=this_year).rev().collect(),
        enti: visible,
        year,
        stats,
        bars,
        office,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_italian_and_back_to_back() {
        let m = months(2026);
        assert_eq!(m.len(), 12);
        assert_eq!(
            m[0].0.to_string(),
            "2025-12-31T23:00:00Z",
            "midnight in Rome, winter"
        );
        assert_eq!(
            m[6].0.to_string(),
            "2026-06-30T22:00:00Z",
            "midnight in Rome, summer"
        );
        for pair in m.windows(2) {
            assert_eq!(pair[0].1, pair[1].0);
        }
    }
}
