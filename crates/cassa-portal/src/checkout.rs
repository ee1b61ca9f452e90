//! The cart's steps 2 to 4 and the way back: Anagrafica (who the notices
//! are addressed to, the e-mail for the receipts, an optional versante),
//! Riepilogo, then Checkout (Modello 1): the store freezes the cart into a
//! checkout, refusing it whole if a notice was paid, cancelled or changed
//! meanwhile; we post it to pagoPA Checkout's carts API and send the
//! browser where Checkout says. Checkout sends it back to one of our
//! return URLs, and the outcome page shows what the receipts say.

use askama::Template;
use axum::Form;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use cassa_core::DebtorId;
use cassa_core::debt::{InstallmentRefusal, NotPayable, OptionStatus};
use cassa_core::spontaneous::plausible_email;
use cassa_core::text::cut;
use cassa_store::CartStatus;
use cassa_store::{Cart, Checkout, CheckoutRefusal, CheckoutState, ItemProblem};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use super::cart::printed_notice;
use super::{PageContext, render, render_with_status};
use crate::PortalState;

pub struct Row {
    pub id: i64,
    pub ente: String,
    pub description: String,
    pub notice: String,
    pub amount: String,
    pub debtor_name: String,
    pub debtor_fiscal_code: String,
    pub paid: bool,
}

fn cart_rows(cart: &Cart) -> Vec<Row> {
    cart.items
        .iter()
        .map(|item| Row {
            id: item.id,
            ente: item.ente_name.clone(),
            description: item.description.clone(),
            notice: printed_notice(&item.notice_number),
            amount: item.amount.to_italian(),
            debtor_name: item.debtor_name.clone(),
            debtor_fiscal_code: item.debtor_fiscal_code.clone(),
            paid: false,
        })
        .collect()
}

/// The browser's open cart with something in it, or the way back to step 1.
async fn open_cart(state: &PortalState, page: &PageContext) -> Result<Cart, Response> {
    let Some(id) = &page.cart else {
        return Err(Redirect::to("/carrello").into_response());
    };
    match state.store.cart(id).await {
        Ok(Some(cart)) if cart.status == CartStatus::Open && !cart.items.is_empty() => Ok(cart),
        Ok(_) => Err(Redirect::to("/carrello").into_response()),
        Err(e) => Err(super::internal_error(page, e)),
    }
}

#[derive(Default)]
pub struct ContactForm {
    pub email: String,
    pub payer_name: String,
    pub payer_fiscal_code: String,
    pub email_error: Option<&'static str>,
    pub payer_name_error: Option<&'static str>,
    pub payer_fiscal_code_error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "portal/anagrafica.html")]
struct AnagraficaPage {
    page: PageContext,
    step: usize,
    rows: Vec<Row>,
    form: ContactForm,
    error: Option<&'static str>,
}

fn anagrafica_page(
    status: StatusCode,
    page: PageContext,
    cart: &Cart,
    form: ContactForm,
    error: Option<&'static str>,
) -> Response {
    let view = AnagraficaPage {
        page,
        step: 2,
        rows: cart_rows(cart),
        form,
        error,
    };
    render_with_status(status, &view.page, &view)
}

/// `GET /carrello/anagrafica`: step 2, pre-filled from the cart.
pub async fn anagrafica(State(state): State<PortalState>, page: PageContext) -> Response {
    let cart = match open_cart(&state, &page).await {
        Ok(cart) => cart,
        Err(response) => return response,
    };
    let mut form = ContactForm {
        email: cart.email.clone().unwrap_or_default(),
        payer_name: cart.payer_name.clone().unwrap_or_default(),
        payer_fiscal_code: cart.payer_fiscal_code.clone().unwrap_or_default(),
        ..ContactForm::default()
    };
    // A logged-in citizen paying another person's notice is its versante.
    if let Some(citizen) = &page.citizen
        && let Some(cf) = citizen.citizen.fiscal_code()
        && form.payer_fiscal_code.is_empty()
        && cart.items.iter().any(|i| i.debtor_fiscal_code != cf)
    {
        form.payer_name = citizen.full_name();
        form.payer_fiscal_code = cf.to_owned();
    }
    anagrafica_page(StatusCode::OK, page, &cart, form, None)
}

#[derive(Deserialize, Default)]
pub struct PostedContact {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    payer_name: String,
    #[serde(default)]
    payer_fiscal_code: String,
}

/// Checks step 2's fields: the e-mail and, when given, the versante.
fn check_contact(page: &PageContext, posted: &PostedContact) -> Result<(), ContactForm> {
    let t = page.t;
    let mut form = ContactForm {
        email: posted.email.trim().to_owned(),
        payer_name: posted.payer_name.trim().to_owned(),
        payer_fiscal_code: posted.payer_fiscal_code.trim().to_uppercase(),
        ..ContactForm::default()
    };
    if form.email.is_empty() {
        form.email_error = Some(t.field_required);
    } else if !plausible_email(&form.email) {
        form.email_error = Some(t.field_email_invalid);
    }
    match (
        form.payer_name.is_empty(),
        form.payer_fiscal_code.is_empty(),
    ) {
        (true, true) => {}
        (false, true) => form.payer_fiscal_code_error = Some(t.field_payer_incomplete),
        (true, false) => form.payer_name_error = Some(t.field_payer_incomplete),
        (false, false) => {
            if form.payer_name.chars().count() > 70 {
                form.payer_name_error = Some(t.field_too_long);
            }
            let valid = DebtorId::parse(&form.payer_fiscal_code)
                .is_ok_and(|d| !matches!(d, DebtorId::Anonymous));
            if !valid {
                form.payer_fiscal_code_error = Some(t.field_fiscal_code_invalid);
            }
        }
    }
    if form.email_error.is_some()
        || form.payer_name_error.is_some()
        || form.payer_fiscal_code_error.is_some()
    {
        Err(form)
    } else {
        Ok(())
    }
}

/// `POST /carrello/anagrafica`: saved on the cart, then step 3.
pub async fn save_anagrafica(
    State(state): State<PortalState>,
    page: PageContext,
    request: Request,
) -> Response {
    let cart = match open_cart(&state, &page).await {
        Ok(cart) => cart,
        Err(response) => return response,
    };
    let posted = match Form::<PostedContact>::from_request(request, &state).await {
        Ok(Form(posted)) => posted,
        Err(_) => PostedContact::default(),
    };
    if !page.csrf.accepts(&posted.csrf) {
        let form = ContactForm {
            email: posted.email,
            payer_name: posted.payer_name,
            payer_fiscal_code: posted.payer_fiscal_code,
            ..ContactForm::default()
        };
        let error = Some(page.t.session_expired);
        return anagrafica_page(StatusCode::FORBIDDEN, page, &cart, form, error);
    }
    if let Err(form) = check_contact(&page, &posted) {
        let error = Some(page.t.form_errors);
        return anagrafica_page(StatusCode::UNPROCESSABLE_ENTITY, page, &cart, form, error);
    }
    let payer_fiscal_code = posted.payer_fiscal_code.trim().to_uppercase();
    let payer =
        (!payer_fiscal_code.is_empty()).then(|| (posted.payer_name.trim(), &*payer_fiscal_code));
    match state
        .store
        .set_cart_contact(
            &cart.public_id,
            posted.email.trim(),
            payer,
            Timestamp::now(),
        )
        .await
    {
        Ok(_) => Redirect::to("/carrello/riepilogo").into_response(),
        Err(e) => super::internal_error(&page, e),
    }
}

#[derive(Template)]
#[template(path = "portal/riepilogo.html")]
struct SummaryPage {
    page: PageContext,
    step: usize,
    rows: Vec<Row>,
    total: String,
    email: String,
    payer: Option<String>,
    error: Option<&'static str>,
    problems: Vec<(String, String)>,
}

fn summary_page(
    status: StatusCode,
    page: PageContext,
    cart: &Cart,
    error: Option<&'static str>,
    problems: Vec<(String, String)>,
) -> Response {
    let view = SummaryPage {
        step: 3,
        rows: cart_rows(cart),
        total: cart.total().to_italian(),
        email: cart.email.clone().unwrap_or_default(),
        payer: match (&cart.payer_name, &cart.payer_fiscal_code) {
            (Some(name), Some(code)) => Some(format!("{name} ({code})")),
            _ => None,
        },
        error,
        problems,
        page,
    };
    render_with_status(status, &view.page, &view)
}

/// `GET /carrello/riepilogo`: step 3.
pub async fn summary(State(state): State<PortalState>, page: PageContext) -> Response {
    let cart = match open_cart(&state, &page).await {
        Ok(cart) => cart,
        Err(response) => return response,
    };
    if cart.email.is_none() {
        return Redirect::to("/carrello/anagrafica").into_response();
    }
    summary_page(StatusCode::OK, page, &cart, None, Vec::new())
}

/// What is wrong with a notice, in the citizen's words.
fn problem_text(page: &PageContext, problem: &ItemProblem) -> String {
    let t = page.t;
    match problem {
        ItemProblem::Gone => t.problem_gone.to_owned(),
        ItemProblem::NotPayable(NotPayable::AlreadyPaid) => t.problem_paid.to_owned(),
        ItemProblem::NotPayable(NotPayable::Cancelled) => t.problem_cancelled.to_owned(),
        ItemProblem::NotPayable(NotPayable::Expired) => t.problem_expired.to_owned(),
        ItemProblem::NotPayable(NotPayable::InProgress) => t.problem_in_progress.to_owned(),
        ItemProblem::NotPayable(NotPayable::Unknown) => t.problem_unknown.to_owned(),
        ItemProblem::NotPayable(NotPayable::Installment(InstallmentRefusal::PastValidity(_))) => {
            t.problem_expired.to_owned()
        }
        ItemProblem::NotPayable(NotPayable::Installment(_)) => t.problem_installment.to_owned(),
        ItemProblem::Excludes(_) => t.problem_excludes.to_owned(),
        ItemProblem::AmountChanged { now, .. } => format!(
            "{} {}: {}",
            t.problem_amount,
            now.to_italian(),
            t.problem_amount_fix
        ),
    }
}

#[derive(Deserialize, Default)]
pub struct TokenOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /carrello/paga`: step 4. Freezes the cart into a checkout, posts
/// it to pagoPA Checkout and sends the browser there.
pub async fn pay(
    State(state): State<PortalState>,
    page: PageContext,
    request: Request,
) -> Response {
    let cart = match open_cart(&state, &page).await {
        Ok(cart) => cart,
        Err(response) => return response,
    };
    let token = match Form::<TokenOnly>::from_request(request, &state).await {
        Ok(Form(form)) => form.csrf,
        Err(_) => String::new(),
    };
    if !page.csrf.accepts(&token) {
        let error = Some(page.t.session_expired);
        return summary_page(StatusCode::FORBIDDEN, page, &cart, error, Vec::new());
    }
    let id = cassa_http::token::public_id();
    let citizen = page.citizen.as_ref().map(|c| c.citizen.key());
    let started = state
        .store
        .start_checkout(
            &cart.public_id,
            &id,
            page.lang.code(),
            citizen.as_deref(),
            Timestamp::now(),
        )
        .await;
    let checkout = match started {
        Ok(Ok(checkout)) => checkout,
        Ok(Err(CheckoutRefusal::Items(problems))) => {
            let problems = problems
                .iter()
                .map(|(notice, why)| (printed_notice(notice), problem_text(&page, why)))
                .collect();
            let error = Some(page.t.checkout_refused);
            return summary_page(StatusCode::CONFLICT, page, &cart, error, problems);
        }
        Ok(Err(CheckoutRefusal::NoEmail)) => {
            return Redirect::to("/carrello/anagrafica").into_response();
        }
        Ok(Err(_)) => return Redirect::to("/carrello").into_response(),
        Err(e) => return super::internal_error(&page, e),
    };
    match post_to_checkout(&state, &checkout).await {
        Ok(location) => {
            if let Err(e) = state
                .store
                .checkout_redirected(&checkout.public_id, &location, Timestamp::now())
                .await
            {
                return super::internal_error(&page, e);
            }
            Redirect::to(&location).into_response()
        }
        Err(why) => {
            tracing::warn!(checkout = %checkout.public_id, error = %why, "pagoPA Checkout refused the cart");
            if let Err(e) = state
                .store
                .checkout_failed(&checkout.public_id, &why, Timestamp::now())
                .await
            {
                return super::internal_error(&page, e);
            }
            let error = Some(page.t.checkout_unreachable);
            summary_page(StatusCode::BAD_GATEWAY, page, &cart, error, Vec::new())
        }
    }
}

/// Posts the cart (checkout_v2.json's `CartRequestV2`); the answer is a
/// 302 whose Location is where the citizen pays.
async fn post_to_checkout(state: &PortalState, checkout: &Checkout) -> Result<String, String> {
    let settings = &state.portal;
    let back = |outcome: &str| {
        format!(
            "{}/pagamento/{}/esito/{outcome}",
            settings.public_url, checkout.public_id
        )
    };
    let body = json!({
        "emailNotice": checkout.email,
        "paymentNotices": checkout.items.iter().map(|item| json!({
            "noticeNumber": item.notice_number,
            "fiscalCode": item.ente_fiscal_code,
            "amount": item.amount.get(),
            "companyName": cut(&item.ente_name, 140),
            "description": cut(&item.description, 140),
        })).collect::<Vec<_>>(),
        "returnUrls": {
            "returnOkUrl": back("ok"),
            "returnCancelUrl": back("annullato"),
            "returnErrorUrl": back("ko"),
            "returnWaitingUrl": back("attesa"),
        },
        "idCart": checkout.public_id,
        "allCCP": false,
    });
    let mut request = settings.http.post(&settings.checkout_carts_url).json(&body);
    if let Some(key) = &settings.checkout_key {
        request = request.header("Ocp-Apim-Subscription-Key", key);
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match (status.as_u16(), location) {
        (302 | 303, Some(location))
            if location.starts_with("https://") || location.starts_with("http://") =>
        {
            Ok(location)
        }
        _ => {
            let text = response.text().await.unwrap_or_default();
            Err(format!("HTTP {status}: {}", cut(&text, 500)))
        }
    }
}

#[derive(Template)]
#[template(path = "portal/esito.html")]
struct OutcomePage {
    page: PageContext,
    public_id: String,
    heading: &'static str,
    text: &'static str,
    kind: &'static str,
    /// Receipts are expected: show "on its way" for the unpaid.
    paid_expected: bool,
    rows: Vec<Row>,
    total: String,
}

/// `GET /pagamento/{id}/esito/{outcome}`: where Checkout sends the citizen
/// back. The first outcome is recorded; the page shows what the receipts
/// say now (a receipt may arrive before or after the browser does).
pub async fn outcome(
    State(state): State<PortalState>,
    page: PageContext,
    Path((id, outcome)): Path<(String, String)>,
) -> Response {
    let reported = match outcome.as_str() {
        "ok" => CheckoutState::Ok,
        "ko" => CheckoutState::Ko,
        "annullato" => CheckoutState::Cancelled,
        "attesa" => CheckoutState::Waiting,
        _ => return super::pages::not_found(page),
    };
    if !cassa_http::token::is_public_id(&id) {
        return super::pages::not_found(page);
    }
    // Read first: an unknown id (a guess) never reaches the writer.
    let mut checkout = match state.store.checkout(&id).await {
        Ok(Some(checkout)) => checkout,
        Ok(None) => return super::pages::not_found(page),
        Err(e) => return super::internal_error(&page, e),
    };
    if !checkout.state.is_outcome() {
        match state
            .store
            .checkout_returned(&id, reported, Timestamp::now())
            .await
        {
            Ok(true) => checkout.state = reported,
            // Another request recorded an outcome first: that one counts.
            Ok(false) => match state.store.checkout(&id).await {
                Ok(Some(now)) => checkout = now,
                Ok(None) => return super::pages::not_found(page),
                Err(e) => return super::internal_error(&page, e),
            },
            Err(e) => return super::internal_error(&page, e),
        }
    }
    let t = page.t;
    // What we recorded first wins over a URL typed later.
    let (heading, text, kind, paid_expected) = match checkout.state {
        CheckoutState::Ok => (t.esito_ok_title, t.esito_ok_text, "success", true),
        CheckoutState::Waiting => (t.esito_waiting_title, t.esito_waiting_text, "warning", true),
        CheckoutState::Cancelled => (
            t.esito_cancelled_title,
            t.esito_cancelled_text,
            "info",
            false,
        ),
        _ => (t.esito_ko_title, t.esito_ko_text, "danger", false),
    };
    let rows = checkout
        .items
        .iter()
        .map(|item| Row {
            id: item.id,
            ente: item.ente_name.clone(),
            description: item.description.clone(),
            notice: printed_notice(&item.notice_number),
            amount: item.amount.to_italian(),
            debtor_name: String::new(),
            debtor_fiscal_code: String::new(),
            paid: item.option_status == Some(OptionStatus::Paid),
        })
        .collect();
    // The banner was counted before this request closed the cart.
    let closed_here = paid_expected && page.cart.as_deref() == Some(&checkout.cart_public_id);
    let mut page = page;
    if closed_here {
        page.cart_count = 0;
    }
    let view = OutcomePage {
        public_id: checkout.public_id.clone(),
        heading,
        text,
        kind,
        paid_expected,
        rows,
        total: checkout.total().to_italian(),
        page,
    };
    let mut response = render(&view.page, &view);
    // A paid cart is done: the browser starts a new one next time.
    if closed_here {
        response.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_static("cassa_cart=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
        );
    }
    response
}

/// `GET /pagamento/{id}/ricevuta/{item}`: the receipt of one notice of
/// this checkout, for whoever holds the checkout's id.
pub async fn receipt(
    State(state): State<PortalState>,
    page: PageContext,
    Path((id, item)): Path<(String, i64)>,
) -> Response {
    if !cassa_http::token::is_public_id(&id) {
        return super::pages::not_found(page);
    }
    let checkout = match state.store.checkout(&id).await {
        Ok(Some(checkout)) => checkout,
        Ok(None) => return super::pages::not_found(page),
        Err(e) => return super::internal_error(&page, e),
    };
    let Some(item) = checkout.items.iter().find(|i| i.id == item) else {
        return super::pages::not_found(page);
    };
    super::receipt::receipt_pdf(&state, &page, item.ente_id, &item.notice_number).await
}
