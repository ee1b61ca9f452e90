//! The integration REST API, compatible with pagoPA's GPD (gpd.json), for
//! the enti's software: debt positions, jobs (bulk notices, imports,
//! exports), anomalies; its OpenAPI document and reference page.

mod anomalies;
pub mod api_key;
mod auth;
mod debt_positions;
mod docs;
pub mod errors;
mod jobs;
mod printouts;
mod query;
mod responses;

use std::any::Any;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use cassa_pagopa::gpd::titles;

pub use auth::KEY_HEADER;
use errors::ApiError;

pub use docs::openapi_document;

/// What the API reaches.
#[derive(Clone)]
pub struct ApiState {
    pub store: cassa_store::Store,
    /// Where uploads wait and jobs leave their files.
    pub files: cassa_jobs::FileStore,
    /// The OpenAPI document we serve, built once.
    pub openapi: std::sync::Arc<serde_json::Value>,
}

const BASE: &str = "/organizations/{organizationfiscalcode}/debtpositions";
const JOBS: &str = "/organizations/{organizationfiscalcode}/jobs";
const ANOMALIES: &str = "/organizations/{organizationfiscalcode}/anomalies";

/// The API and its documentation.
pub fn routes(state: ApiState) -> Router {
    api_routes().merge(docs::routes()).with_state(state)
}

fn api_routes() -> Router<ApiState> {
    use debt_positions as dp;
    Router::new()
        .route(BASE, get(dp::list).post(dp::create))
        .route(&format!("{BASE}/transfers"), patch(dp::replace_iban))
        .route(
            &format!("{BASE}/{{iupd}}"),
            get(dp::get_one).put(dp::update).delete(dp::delete),
        )
        .route(&format!("{BASE}/{{iupd}}/publish"), post(dp::publish))
        .route(&format!("{BASE}/{{iupd}}/invalidate"), post(dp::invalidate))
        .route(&format!("{BASE}/{{iupd}}/notice"), get(printouts::notice))
        .route(&format!("{BASE}/{{iupd}}/receipt"), get(printouts::receipt))
        .route(
            &format!("{JOBS}/bulk-notices"),
            post(jobs::start_bulk_notices),
        )
        .route(
            &format!("{JOBS}/imports"),
            post(jobs::start_import).layer(axum::extract::DefaultBodyLimit::max(
                cassa_http::uploads::MAX_UPLOAD_BODY,
            )),
        )
        .route(&format!("{JOBS}/exports"), post(jobs::start_export))
        .route(
            &format!("{JOBS}/{{id}}/files/{{name}}"),
            get(jobs::named_file),
        )
        .route(ANOMALIES, get(anomalies::list))
        .route(&format!("{ANOMALIES}/{{id}}"), get(anomalies::get_one))
        .route(JOBS, get(jobs::list))
        .route(&format!("{JOBS}/{{id}}"), get(jobs::get_one))
        .route(&format!("{JOBS}/{{id}}/file"), get(jobs::file))
}

/// Unknown paths get a JSON 404 too.
pub async fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "Not Found", "No such resource").into_response()
}

/// A panic in a handler answers 500 with a ProblemJson body, never a reset.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = message, "handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        titles::INTERNAL_SERVER_ERROR,
        "An unexpected error occurred; it has been logged",
    )
    .into_response()
}
