//! Operations endpoints: `/healthz` for load balancers, `/metrics` for
//! Prometheus, and the middleware that feeds the metrics.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use cassa_store::WriterState;

use crate::request_id::ClientRequestId;
use crate::{AppState, RequestId};

/// `/healthz`, and `/metrics` for a scraper with the bearer token
/// (`metrics_token`); without a token configured `/metrics` is not served
/// here, only on the metrics listener ([`metrics_routes`]).
pub fn routes() -> Router<AppState> {
    health_routes().route("/metrics", get(metrics_with_token))
}

/// `/metrics` and `/healthz` without a token, for a listener of their own
/// that only the monitoring network reaches (`metrics_listen`).
pub fn metrics_routes() -> Router<AppState> {
    health_routes().route("/metrics", get(metrics))
}

pub fn health_routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

/// Who may read `/metrics` on the public listener.
#[derive(Clone, Default)]
pub struct OpsSettings {
    /// `Authorization: Bearer <token>`; none: `/metrics` is not served
    /// there.
    pub metrics_token: Option<String>,
}

impl std::fmt::Debug for OpsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsSettings")
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The process-wide Prometheus recorder, installed on first use.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    ],
                )
                .expect("bucket list is not empty")
                .install_recorder()
                .expect("no other metrics recorder is installed")
        })
        .clone()
}

/// Healthy when the database answers and every writer task runs (a
/// writer stopped, or stuck in one batch, cannot take a payment).
async fn healthz(State(state): State<AppState>) -> Response {
    let database = state.store.backend().name();
    let writers: serde_json::Map<String, serde_json::Value> = state
        .store
        .writers()
        .into_iter()
        .map(|(name, writer)| {
            let said = match writer {
                WriterState::Running => "running".to_owned(),
                WriterState::Stuck(for_) => format!("stuck for {} s", for_.as_secs()),
                WriterState::Stopped => "stopped".to_owned(),
            };
            (name.to_owned(), serde_json::Value::String(said))
        })
        .collect();
    let writers_ok = writers.values().all(|v| v == "running");
    let database_ok = match state.store.ping().await {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, "health check: the database does not answer");
            false
        }
    };
    let healthy = writers_ok && database_ok;
    if !writers_ok {
        tracing::error!(?writers, "health check: a writer is down");
    }
    let body = serde_json::json!({
        "status": if healthy { "ok" } else { "unavailable" },
        "database": database,
        "writers": writers,
    });
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

async fn metrics_with_token(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = state.ops.metrics_token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !crate::token::same(presented, expected) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response();
    }
    metrics(State(state)).await
}

async fn metrics(State(state): State<AppState>) -> Response {
    // Receipts kept but not applied, still waiting for an operator.
    match state.store.open_anomalies().await {
        Ok(open) => metrics::gauge!("cassa_receipt_anomalies_open").set(open as f64),
        Err(e) => tracing::warn!(error = %e, "metrics: cannot count the open anomalies"),
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// Counts and times every request, and logs one line for it.
pub async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let request_id = request.extensions().get::<RequestId>().map(|r| r.0.clone());
    let client_request_id = request
        .extensions()
        .get::<ClientRequestId>()
        .map(|r| r.0.clone());
    // The route, not the path: paths carry capabilities (a cart to resume,
    // a payment's receipts) that logs must not keep.
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let ms = elapsed.as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(%method, %route, status, ms, request_id, client_request_id, "request failed");
    } else {
        tracing::info!(%method, %route, status, ms, request_id, client_request_id, "request");
    }
    let status = status.to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..2])
        .record(elapsed.as_secs_f64());
    response
}
