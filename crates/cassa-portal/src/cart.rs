//! The cart, step 1 of 4: the notices the citizen put in (up to five,
//! possibly of different enti), each removable, the total, and "abandon
//! and empty". Notices come in only through a lookup with their debtor's
//! codice fiscale; the store decides what may go in and at what amount.

use askama::Template;
use axum::Form;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use cassa_store::CartStatus;
use cassa_store::{Cart, CartError, Resumed};
use jiff::Timestamp;
use serde::Deserialize;

use cassa_core::spontaneous::plausible_email;

use super::notice::{Purpose, posted_notice};
use super::{PageContext, render};
use crate::PortalState;

pub const COOKIE: &str = "cassa_cart";

/// What the cart page says after an action (`?esito=`).
#[derive(Deserialize, Default)]
pub struct Outcome {
    #[serde(default)]
    esito: String,
}

pub struct Row {
    pub id: i64,
    pub ente: String,
    pub description: String,
    pub notice: String,
    pub amount: String,
}

#[derive(Template)]
#[template(path = "portal/cart.html")]
struct CartPage {
    page: PageContext,
    step: usize,
    /// Still open: it can go on to the next steps.
    open: bool,
    rows: Vec<Row>,
    total: String,
    message: Option<(&'static str, &'static str)>,
}

/// A notice number in groups of four, as printed on the notice.
pub(super) fn printed_notice(number: &str) -> String {
    cassa_core::NoticeNumber::parse(number)
        .map(|n| n.notice.printed())
        .unwrap_or_else(|_| number.to_owned())
}

fn rows(cart: &Cart) -> Vec<Row> {
    cart.items
        .iter()
        .map(|item| Row {
            id: item.id,
            ente: item.ente_name.clone(),
            description: item.description.clone(),
            notice: printed_notice(&item.notice_number),
            amount: item.amount.to_italian(),
        })
        .collect()
}

pub async fn page(
    State(state): State<PortalState>,
    page: PageContext,
    Query(outcome): Query<Outcome>,
) -> Response {
    let cart = match &page.cart {
        Some(id) => match state.store.cart(id).await {
            Ok(cart) => cart,
            Err(e) => return super::internal_error(&page, e),
        },
        None => None,
    };
    let t = page.t;
    let message = match outcome.esito.as_str() {
        "aggiunto" => Some(("success", t.cart_added)),
        "pieno" => Some(("danger", t.cart_full)),
        "presente" => Some(("info", t.cart_already_in)),
        "non-pagabile" => Some(("danger", t.cart_not_payable)),
        "alternativo" => Some(("danger", t.cart_excludes)),
        "svuotato" => Some(("info", t.cart_emptied)),
        "rimosso" => Some(("info", t.cart_removed)),
        "ripreso" => Some(("info", t.cart_resumed)),
        "gia-inviato" => Some(("info", t.cart_resume_closed)),
        _ => None,
    };
    let open = cart.as_ref().is_none_or(|c| c.status == CartStatus::Open);
    let message = if open {
        message
    } else {
        Some(("success", t.cart_closed))
    };
    let view = CartPage {
        step: 1,
        open,
        rows: cart.as_ref().map(rows).unwrap_or_default(),
        total: cart
            .as_ref()
            .map(|c| c.total().to_italian())
            .unwrap_or_default(),
        message,
        page,
    };
    render(&view.page, &view)
}

fn to_cart(outcome: &str, new_cart: Option<&str>) -> Response {
    let mut response = Redirect::to(&format!("/carrello?esito={outcome}")).into_response();
    if let Some(id) = new_cart
        && let Ok(cookie) = HeaderValue::from_str(&format!(
            "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000"
        ))
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Puts a notice in the browser's cart (a new cart if it has none) and
/// goes to the cart page, which says how it went.
pub(super) async fn put_in_cart(
    state: &PortalState,
    page: &PageContext,
    ente_id: i64,
    notice: &str,
    email: Option<&str>,
) -> Response {
    let (cart_id, new_cart) = match &page.cart {
        Some(id) => (id.clone(), None),
        None => {
            let id = cassa_http::token::public_id();
            (id.clone(), Some(id))
        }
    };
    let outcome = match state
        .store
        .add_to_cart(
            &cart_id,
            ente_id,
            notice,
            email,
            page.lang.code(),
            Timestamp::now(),
        )
        .await
    {
        Ok(_) => "aggiunto",
        Err(CartError::Full) => "pieno",
        Err(CartError::AlreadyIn) => "presente",
        Err(CartError::Excludes(_)) => "alternativo",
        Err(CartError::Store(e)) => return super::internal_error(page, e),
        Err(_) => "non-pagabile",
    };
    to_cart(outcome, new_cart.as_deref())
}

/// `POST /carrello/aggiungi`: the notice found by Paga Avviso goes in.
pub async fn add(
    State(state): State<PortalState>,
    page: PageContext,
    request: Request,
) -> Response {
    let (posted, notice, position) =
        match posted_notice(&state, &page, request, Purpose::Action).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    // The e-mail comes back from the lookup page; a changed one that is
    // not an address is dropped rather than kept for sending later.
    let email = posted.email().filter(|e| plausible_email(e));
    put_in_cart(&state, &page, position.ente_id, &notice, email).await
}

#[derive(Deserialize, Default)]
pub struct ItemForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    item: i64,
}

async fn item_form(
    page: &PageContext,
    request: Request,
    state: &PortalState,
) -> Result<ItemForm, Response> {
    let Ok(Form(form)) = Form::<ItemForm>::from_request(request, state).await else {
        return Err(StatusCode::BAD_REQUEST.into_response());
    };
    if !page.csrf.accepts(&form.csrf) {
        return Err(super::notice::expired(page));
    }
    Ok(form)
}

/// `POST /carrello/rimuovi`: one notice out.
pub async fn remove(
    State(state): State<PortalState>,
    page: PageContext,
    request: Request,
) -> Response {
    let form = match item_form(&page, request, &state).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let Some(cart) = &page.cart else {
        return to_cart("rimosso", None);
    };
    match state.store.remove_from_cart(cart, form.item).await {
        Ok(_) => to_cart("rimosso", None),
        Err(e) => super::internal_error(&page, e),
    }
}

/// `POST /carrello/svuota`: "Abbandona e svuota carrello".
pub async fn empty(
    State(state): State<PortalState>,
    page: PageContext,
    request: Request,
) -> Response {
    if let Err(response) = item_form(&page, request, &state).await {
        return response;
    }
    let Some(cart) = &page.cart else {
        return to_cart("svuotato", None);
    };
    match state.store.empty_cart(cart).await {
        Ok(_) => to_cart("svuotato", None),
        Err(e) => super::internal_error(&page, e),
    }
}

#[derive(Template)]
#[template(path = "portal/cart_resume.html")]
struct ResumePage {
    page: PageContext,
    cart: String,
    rows: Vec<Row>,
    total: String,
}

/// `GET /carrello/riprendi/{cart}`: the e-mailed link shows the cart's
/// notices and asks to take them; it changes nothing (a link scanner or a
/// prefetch creates no cart).
pub async fn resume_page(
    State(state): State<PortalState>,
    page: PageContext,
    axum::extract::Path(cart): axum::extract::Path<String>,
) -> Response {
    if !cassa_http::token::is_public_id(&cart) {
        return super::pages::not_found(page);
    }
    match state.store.cart(&cart).await {
        Ok(Some(found)) if found.status == CartStatus::Open => {
            let view = ResumePage {
                rows: rows(&found),
                total: found.total().to_italian(),
                cart,
                page,
            };
            render(&view.page, &view)
        }
        Ok(Some(_)) => to_cart("gia-inviato", None),
        Ok(None) => super::pages::not_found(page),
        Err(e) => super::internal_error(&page, e),
    }
}

/// `POST /carrello/riprendi/{cart}`: a copy of the cart's notices goes in
/// this browser, under a new id: a link cannot plant a cart that its
/// sender still watches.
pub async fn resume(
    State(state): State<PortalState>,
    page: PageContext,
    axum::extract::Path(cart): axum::extract::Path<String>,
    request: Request,
) -> Response {
    if let Err(response) = item_form(&page, request, &state).await {
        return response;
    }
    if !cassa_http::token::is_public_id(&cart) {
        return super::pages::not_found(page);
    }
    let copy = cassa_http::token::public_id();
    match state
        .store
        .resume_cart(&cart, &copy, Timestamp::now())
        .await
    {
        Ok(Resumed::Copied) => to_cart("ripreso", Some(&copy)),
        Ok(Resumed::Closed) => to_cart("gia-inviato", None),
        Ok(Resumed::NotFound) => super::pages::not_found(page),
        Err(e) => super::internal_error(&page, e),
    }
}
