//! What every response carries so that a browser keeps our pages to
//! themselves, and the deadline every request is held to.
//!
//! - `Content-Security-Policy`: our pages load only our own scripts, styles
//!   and images, and no one may frame them (`frame-ancestors 'none'`: a
//!   payment page inside someone else's frame is a clickjacking page);
//! - `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`
//!   (our URLs carry capabilities: a cart to resume, a receipt to fetch);
//! - `Strict-Transport-Security` when the site is served over HTTPS.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Site;

/// Styles may be inline (progress bars size themselves with `style=`);
/// scripts may not.
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'";
/// What is not a page (JSON, PDFs, files) is only kept out of frames.
const OTHER_POLICY: &str = "frame-ancestors 'none'";
const ONE_YEAR_HSTS: &str = "max-age=31536000";

pub async fn security_headers(State(site): State<Site>, request: Request, next: Next) -> Response {
    let https = request
        .extensions()
        .get::<crate::client_addr::Client>()
        .is_some_and(|c| c.https)
        || site.is_https();
    let mut response = next.run(request).await;
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = response.headers_mut();
    let policy = if is_page { PAGE_POLICY } else { OTHER_POLICY };
    let mut set = |name: HeaderName, value: &'static str| {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, policy);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::X_FRAME_OPTIONS, "DENY");
    if https {
        set(header::STRICT_TRANSPORT_SECURITY, ONE_YEAR_HSTS);
    }
    response
}

/// How long a handler may take to answer (the body may stream after).
pub const HANDLER_DEADLINE: Duration = Duration::from_secs(60);
/// Bodies larger than this are uploads: bounded by the idle time between
/// their chunks (the server's body timeout), not by the deadline.
const UPLOAD_THRESHOLD: u64 = 1024 * 1024;

/// Answers 503 when a handler runs past [`HANDLER_DEADLINE`]; dropping it
/// rolls back its transaction.
pub async fn deadline(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let chunked = request.headers().contains_key(header::TRANSFER_ENCODING);
    if chunked || declared.is_some_and(|n| n > UPLOAD_THRESHOLD) {
        return next.run(request).await;
    }
    let route = request.uri().path().to_owned();
    match tokio::time::timeout(HANDLER_DEADLINE, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::error!(%route, "a request ran past its deadline and was stopped");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "5")],
                "The request took too long and was stopped; nothing it started was kept.\n",
            )
                .into_response()
        }
    }
}
