//! The languages pages are shown in, and the cookie that remembers the
//! visitor's choice. Each front door keeps its own words.

pub const LANG_COOKIE: &str = "cassa_lang";

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Lang {
    It,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::It => "it",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "it" => Some(Lang::It),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The visitor's choice, Italian when they made none.
    pub fn of(headers: &axum::http::HeaderMap) -> Lang {
        crate::cookie(headers, LANG_COOKIE)
            .and_then(Lang::parse)
            .unwrap_or(Lang::It)
    }
}
