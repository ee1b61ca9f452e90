//! `X-Request-Id`: ours, made up for every request, answered in the
//! response and carried into logs and the audit trail. A caller's own id
//! is never taken for ours (it could forge audit entries); it is kept
//! apart, as [`ClientRequestId`], for logs.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

pub const HEADER: &str = "x-request-id";

#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The id the caller sent, when it is a plain token (letters, digits,
/// `-`, `_`, `.`, at most 64), for correlating with the caller's logs.
#[derive(Clone, Debug)]
pub struct ClientRequestId(pub String);

fn make() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn plain_token(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub async fn propagate(mut request: Request, next: Next) -> Response {
    let id = make();
    let theirs = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| plain_token(v))
        .map(str::to_owned);
    request.extensions_mut().insert(RequestId(id.clone()));
    if let Some(theirs) = theirs {
        request.extensions_mut().insert(ClientRequestId(theirs));
    }
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_plain_tokens_are_kept_from_callers() {
        assert!(super::plain_token("req-42_a.b"));
        assert!(!super::plain_token(""));
        assert!(!super::plain_token("x\ny"));
        assert!(!super::plain_token("admin did it"));
        assert!(!super::plain_token(&"a".repeat(65)));
    }
}
