//! What cassa's front doors (the API, the node endpoint, the portal, the
//! back office) share, and nothing else: who the client is behind the
//! proxies, random tokens and sealed values, the headers and deadline every
//! response gets, request ids, form tokens, rate limits, receiving uploads,
//! the visitor's language, static assets and PDF downloads.

pub mod assets;
pub mod client_addr;
pub mod csrf;
pub mod hardening;
pub mod i18n;
pub mod local_path;
pub mod rate_limit;
pub mod request_id;
pub mod seal;
pub mod token;
pub mod uploads;

use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

pub use csrf::Csrf;
pub use rate_limit::RateLimit;
pub use request_id::RequestId;

/// What a `Debug` of settings shows in place of a secret.
pub const REDACTED: &str = "[redacted]";

/// Where the site is reached, as far as every front door cares: whether
/// it is HTTPS (HSTS, `Secure` cookies).
#[derive(Clone, Debug)]
pub struct Site {
    https: bool,
}

impl Site {
    /// `public_url` as the portal is configured, e.g. `https://pagamenti.example.it`.
    pub fn new(public_url: &str) -> Site {
        Site {
            https: public_url.starts_with("https://"),
        }
    }

    pub fn is_https(&self) -> bool {
        self.https
    }

    /// `; Secure` for cookies when the site is served over TLS.
    pub fn secure_cookie(&self) -> &'static str {
        if self.https { "; Secure" } else { "" }
    }
}

/// The value of the cookie `name`, if the browser sent one.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A PDF for the browser to save (`attachment`) or show (`inline`); never
/// cached, since it carries personal data.
pub fn pdf_response(bytes: Vec<u8>, file_name: &str, attachment: bool) -> Response {
    let disposition = if attachment { "attachment" } else { "inline" };
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("{disposition}; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}
