//! The simple pages: home, information, log-in, cart, the language switch
//! and "not found".

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::i18n::Lang;
use super::{LANG_COOKIE, PageContext, render, render_with_status};

#[derive(Template)]
#[template(path = "portal/home.html")]
struct Home {
    page: PageContext,
}

/// A page with a heading and a paragraph.
#[derive(Template)]
#[template(path = "portal/message.html")]
pub struct Message {
    pub page: PageContext,
    pub heading: &'static str,
    pub text: &'static str,
}

pub async fn home(page: PageContext) -> Response {
    let home = Home { page };
    render(&home.page, &home)
}

fn message(page: PageContext, heading: &'static str, text: &'static str) -> Response {
    let message = Message {
        page,
        heading,
        text,
    };
    render(&message.page, &message)
}

pub async fn information(page: PageContext) -> Response {
    let t = page.t;
    message(page, t.info_title, t.info_text)
}

pub fn not_found(page: PageContext) -> Response {
    let t = page.t;
    let message = Message {
        page,
        heading: t.not_found_title,
        text: t.not_found_text,
    };
    render_with_status(StatusCode::NOT_FOUND, &message.page, &message)
}

#[derive(Deserialize)]
pub struct Back {
    back: Option<String>,
}

/// `/lingua/{it|en}?back=/path`: remembers the language for a year and
/// goes back to the page (only to a path of ours).
pub async fn switch_language(Path(code): Path<String>, Query(back): Query<Back>) -> Response {
    let lang = Lang::parse(&code).unwrap_or(Lang::It);
    let back = back
        .back
        .as_deref()
        .and_then(cassa_http::local_path::LocalPath::parse);
    let back = back.as_ref().map_or("/", |b| b.as_str());
    let mut response = Redirect::to(back).into_response();
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
