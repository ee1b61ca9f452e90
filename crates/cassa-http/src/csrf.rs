//! Form protection (double-submit token): the browser holds a random token
//! in a `SameSite=Strict`, HttpOnly cookie, each form carries it in a
//! hidden field, and a POST is accepted only when the two agree. Another
//! site can make a browser post, but can neither read nor send our cookie.

use axum::http::{HeaderMap, HeaderValue};

const COOKIE: &str = "cassa_csrf";

#[derive(Clone, Debug)]
pub struct Csrf {
    token: String,
    /// Made for this response: the cookie must be set.
    fresh: bool,
}

impl Csrf {
    pub fn from_headers(headers: &HeaderMap) -> Csrf {
        match super::cookie(headers, COOKIE).filter(|t| is_token(t)) {
            Some(token) => Csrf {
                token: token.to_owned(),
                fresh: false,
            },
            None => Csrf {
                token: crate::token::random_hex(32),
                fresh: true,
            },
        }
    }

    /// The value for the forms' hidden `csrf` field.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Whether a posted form carries the browser's token.
    pub fn accepts(&self, posted: &str) -> bool {
        !self.fresh && crate::token::same(posted, &self.token)
    }

    pub fn set_cookie(&self) -> Option<HeaderValue> {
        self.fresh.then(|| {
            HeaderValue::from_str(&format!(
                "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
                self.token
            ))
            .expect("hex is a valid header value")
        })
    }
}

fn is_token(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_cookies_token_is_accepted() {
        let fresh = Csrf::from_headers(&HeaderMap::new());
        assert!(fresh.set_cookie().is_some());
        assert!(!fresh.accepts(fresh.token()), "no cookie, no trust");
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_str(&format!("a=b; {COOKIE}={}", fresh.token())).unwrap(),
        );
        let known = Csrf::from_headers(&headers);
        assert!(known.set_cookie().is_none());
        assert!(known.accepts(fresh.token()));
        assert!(!known.accepts(&"0".repeat(64)));
        assert!(!known.accepts(""));
    }
}
