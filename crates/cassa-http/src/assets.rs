//! Static files, built into the binary: Bootstrap Italia (BSD-3-Clause,
//! from its npm package, unchanged), Titillium Web (OFL), our own
//! stylesheet and the form challenge's script. Their paths carry a version, so browsers may keep them.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// (path under /static/, content type, bytes)
static FILES: &[(&str, &str, &[u8])] = &[
    (
        "cassa.css",
        "text/css; charset=utf-8",
        include_bytes!("../static/cassa.css"),
    ),
    (
        "challenge.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/challenge.js"),
    ),
    (
        "vendor/bootstrap-italia-2.18.3/bootstrap-italia.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../static/vendor/bootstrap-italia-2.18.3/bootstrap-italia.min.css"),
    ),
    (
        "vendor/bootstrap-italia-2.18.3/fonts/titillium-web-v10-latin-ext_latin-regular.woff2",
        "font/woff2",
        include_bytes!(
            "../static/vendor/bootstrap-italia-2.18.3/fonts/titillium-web-v10-latin-ext_latin-regular.woff2"
        ),
    ),
    (
        "vendor/bootstrap-italia-2.18.3/fonts/titillium-web-v10-latin-ext_latin-600.woff2",
        "font/woff2",
        include_bytes!(
            "../static/vendor/bootstrap-italia-2.18.3/fonts/titillium-web-v10-latin-ext_latin-600.woff2"
        ),
    ),
    (
        "vendor/bootstrap-italia-2.18.3/fonts/titillium-web-v10-latin-ext_latin-700.woff2",
        "font/woff2",
        include_bytes!(
            "../static/vendor/bootstrap-italia-2.18.3/fonts/titillium-web-v10-latin-ext_latin-700.woff2"
        ),
    ),
];

/// `/static/*`, for any state.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/static/{*path}", get(file))
}

async fn file(Path(path): Path<String>) -> Response {
    let Some((_, content_type, bytes)) = FILES.iter().find(|(name, _, _)| *name == path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Our own files change between releases: revalidate them daily.
    let cache = if path.starts_with("vendor/") {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=86400"
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        *bytes,
    )
        .into_response()
}
