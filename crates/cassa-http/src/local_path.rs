//! Where a `back` or `next` parameter may send the browser: a path on this
//! site, never another. The one check every redirect taken from a request
//! goes through.
//!
//! Browsers strip ASCII tab and newlines from a URL and treat `\` as `/`,
//! so `/\t/evil.example` or `/\evil.example` become `//evil.example`, a
//! different site. A [`LocalPath`] has no control character, space or
//! backslash at all, starts with exactly one `/`, and has no scheme or
//! authority however a browser reads it.

use axum::http::uri::PathAndQuery;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalPath(String);

impl LocalPath {
    /// The path, if `raw` is one of ours.
    pub fn parse(raw: &str) -> Option<LocalPath> {
        if raw.len() > 2048
            || raw
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
        {
            return None;
        }
        // One leading slash, and no empty segment anywhere in the path.
        let path = raw.split('?').next().unwrap_or_default();
        if !path.starts_with('/') || path.contains("//") {
            return None;
        }
        // What http itself accepts as a path and query, re-emitted.
        let parsed: PathAndQuery = raw.parse().ok()?;
        if parsed.as_str() != raw {
            return None;
        }
        Some(LocalPath(raw.to_owned()))
    }

    /// The path, if it is `prefix` or below it (`/backoffice`, say).
    pub fn parse_within(raw: &str, prefix: &str) -> Option<LocalPath> {
        let path = LocalPath::parse(raw)?;
        let rest = path.0.strip_prefix(prefix)?;
        (rest.is_empty() || rest.starts_with(['/', '?'])).then_some(path)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::LocalPath;

    #[test]
    fn only_paths_of_ours() {
        for good in [
            "/",
            "/avviso",
            "/carrello?esito=aggiunto",
            "/a/b%2F/c?x=%09",
        ] {
            assert!(LocalPath::parse(good).is_some(), "{good}");
        }
        for bad in [
            "",
            "avviso",
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\\evil.example",
            "/a\\b",
            "/backoffice//evil.example",
            "https://evil.example/",
            "/ /evil.example",
            "/\u{0}x",
            "/\u{85}x",
        ] {
            assert!(LocalPath::parse(bad).is_none(), "{bad:?}");
        }
        assert!(LocalPath::parse_within("/backoffice/enti/1", "/backoffice").is_some());
        assert!(LocalPath::parse_within("/backoffice?x=1", "/backoffice").is_some());
        assert!(LocalPath::parse_within("/backofficeevil", "/backoffice").is_none());
        assert!(LocalPath::parse_within("/avviso", "/backoffice").is_none());
    }

    /// What a browser does to a redirect target before resolving it.
    fn as_a_browser_reads(path: &str) -> String {
        path.chars()
            .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
            .map(|c| if c == '\\' { '/' } else { c })
            .collect::<String>()
            .trim_matches(|c: char| c <= ' ')
            .to_owned()
    }

    proptest! {
        #[test]
        fn whatever_is_accepted_stays_on_this_site(raw in "[/\\\\\t\n a-z.:%?=&#@\u{0}-\u{1f}]{0,16}") {
            if let Some(path) = LocalPath::parse(&raw) {
                let read = as_a_browser_reads(path.as_str());
                prop_assert!(read.starts_with('/'));
                prop_assert!(!read.starts_with("//"));
                prop_assert_eq!(read, path.as_str());
            }
        }
    }
}
