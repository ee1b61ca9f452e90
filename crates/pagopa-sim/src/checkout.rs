//! pagoPA Checkout's carts API (Modello 1), simulated: an EC posts a cart
//! (`POST /checkout/ec/v2/carts`, checkout_v2.json; v1 too) and gets a
//! redirect to a page where the citizen picks a PSP and an outcome. Then
//! the simulator does what the node does for each notice (verify,
//! paGetPaymentV2, and paSendRTV2 when paid) and sends the browser back to
//! the cart's return URLs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Router, routing::get, routing::post};
use serde::Deserialize;
use serde_json::json;

use crate::flow::{activate, deliver_receipt, new_receipt_id, receipt_for};
use crate::{NodeClient, Psp, RetryPolicy};

/// One notice of a cart, as checkout_v2.json's `PaymentNotice`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentNotice {
    pub notice_number: String,
    pub fiscal_code: String,
    pub amount: i64,
    pub company_name: String,
    pub description: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnUrls {
    pub return_ok_url: String,
    pub return_cancel_url: String,
    pub return_error_url: String,
    /// v2 only: where to go when the outcome is not known yet.
    pub return_waiting_url: Option<String>,
}

/// `CartRequestV2` (and v1's `CartRequest`, which lacks returnWaitingUrl).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartRequest {
    pub email_notice: Option<String>,
    pub payment_notices: Vec<PaymentNotice>,
    pub return_urls: ReturnUrls,
    pub id_cart: Option<String>,
    #[serde(default, rename = "allCCP")]
    pub all_ccp: Option<bool>,
}

/// What the schema says a cart must be; every broken rule, by field.
pub fn violations(cart: &CartRequest) -> Vec<String> {
    let mut out = Vec::new();
    let n = cart.payment_notices.len();
    if !(1..=5).contains(&n) {
        out.push(format!("paymentNotices: {n} items, 1 to 5 allowed"));
    }
    for (i, p) in cart.payment_notices.iter().enumerate() {
        if p.notice_number.len() != 18 || !p.notice_number.bytes().all(|b| b.is_ascii_digit()) {
            out.push(format!("paymentNotices[{i}].noticeNumber: not 18 digits"));
        }
        if p.fiscal_code.len() != 11 {
            out.push(format!("paymentNotices[{i}].fiscalCode: not 11 characters"));
        }
        if p.amount < 1 {
            out.push(format!("paymentNotices[{i}].amount: below 1"));
        }
        if p.company_name.chars().count() > 140 {
            out.push(format!(
                "paymentNotices[{i}].companyName: over 140 characters"
            ));
        }
        if p.description.chars().count() > 140 {
            out.push(format!(
                "paymentNotices[{i}].description: over 140 characters"
            ));
        }
    }
    if let Some(email) = &cart.email_notice
        && !email.contains('@')
    {
        out.push("emailNotice: not an e-mail address".into());
    }
    let urls = &cart.return_urls;
    for (name, url) in [
        ("returnOkUrl", Some(&urls.return_ok_url)),
        ("returnCancelUrl", Some(&urls.return_cancel_url)),
        ("returnErrorUrl", Some(&urls.return_error_url)),
        ("returnWaitingUrl", urls.return_waiting_url.as_ref()),
    ] {
        if let Some(url) = url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            out.push(format!("returnUrls.{name}: not an absolute URL"));
        }
    }
    out
}

/// The PSPs the citizen can choose from.
pub fn psps() -> Vec<Psp> {
    vec![
        Psp::default(),
        Psp {
            id: "SIMBANKIT".into(),
            fiscal_code: "00000000001".into(),
            company_name: "Banca Simulata".into(),
            channel_id: "00000000001_01".into(),
            payment_method: "BBT".into(),
        },
        Psp {
            id: "SIMPAYIT".into(),
            fiscal_code: "00000000002".into(),
            company_name: "Pay Simulato".into(),
            channel_id: "00000000002_01".into(),
            payment_method: "PPAL".into(),
        },
    ]
}

/// The carts posted so far, by the id in their checkout URL.
pub struct Checkouts {
    carts: Mutex<HashMap<String, Stored>>,
    /// How the browser reaches this simulator, for the redirect.
    pub public_url: String,
    /// How long a "left pending" payment waits before its receipts go.
    pub pending_delay: Duration,
}

struct Stored {
    cart: CartRequest,
    done: bool,
}

impl Checkouts {
    pub fn new(public_url: impl Into<String>, pending_delay: Duration) -> Self {
        Checkouts {
            carts: Mutex::default(),
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            pending_delay,
        }
    }
}

#[derive(Clone)]
pub struct CheckoutState {
    pub client: NodeClient,
    pub retry: RetryPolicy,
    pub checkouts: Arc<Checkouts>,
}

pub fn routes(state: CheckoutState) -> Router {
    Router::new()
        .route("/checkout/ec/v1/carts", post(post_cart))
        .route("/checkout/ec/v2/carts", post(post_cart))
        .route("/c/{id}", get(page).post(pay))
        .with_state(state)
}

fn problem(status: StatusCode, detail: String) -> Response {
    let mut response = (
        status,
        Json(
            json!({"type": "about:blank", "title": status.canonical_reason(),
                    "status": status.as_u16(), "detail": detail}),
        ),
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

async fn post_cart(State(state): State<CheckoutState>, body: axum::body::Bytes) -> Response {
    let cart: CartRequest = match serde_json::from_slice(&body) {
        Ok(cart) => cart,
        Err(e) => return problem(StatusCode::BAD_REQUEST, format!("not a CartRequest: {e}")),
    };
    let broken = violations(&cart);
    if !broken.is_empty() {
        return problem(StatusCode::BAD_REQUEST, broken.join("; "));
    }
    let id = new_receipt_id();
    let location = format!("{}/c/{id}", state.checkouts.public_url);
    state
        .checkouts
        .carts
        .lock()
        .expect("carts lock")
        .insert(id, Stored { cart, done: false });
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn euros(cents: i64) -> String {
    format!("{},{:02} €", cents / 100, cents % 100)
}

fn html_page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"it\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · pagoPA Checkout (simulatore)</title><style>\
         body{{font-family:sans-serif;margin:0;color:#1a1a1a;background:#f5f5f5}}\
         header{{background:#0066cc;color:#fff;padding:1rem 2rem}}\
         main{{max-width:44rem;margin:2rem auto;background:#fff;padding:2rem}}\
         table{{width:100%;border-collapse:collapse}}td,th{{text-align:left;padding:.4rem;border-bottom:1px solid #ccc}}td:last-child{{white-space:nowrap}}\
         fieldset{{margin:1.5rem 0;border:1px solid #999}}label{{display:block;padding:.3rem 0}}\
         button{{background:#0066cc;color:#fff;border:0;padding:.8rem 2rem;font-size:1rem}}\
         button:focus,input:focus{{outline:3px solid #ff9900}}</style></head><body>\
         <header><p><strong>pagoPA</strong> Checkout · simulatore</p></header>\
         <main><h1>{title}</h1>{body}</main></body></html>"
    ))
}

async fn page(State(state): State<CheckoutState>, Path(id): Path<String>) -> Response {
    let carts = state.checkouts.carts.lock().expect("carts lock");
    let Some(stored) = carts.get(&id) else {
        return (
            StatusCode::NOT_FOUND,
            html_page("Carrello non trovato", "<p>Questo carrello non esiste.</p>"),
        )
            .into_response();
    };
    if stored.done {
        return html_page(
            "Carrello già elaborato",
            "<p>Il pagamento di questo carrello è già stato eseguito.</p>",
        )
        .into_response();
    }
    let cart = &stored.cart;
    let rows: String = cart
        .payment_notices
        .iter()
        .map(|p| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&p.company_name),
                escape(&p.description),
                escape(&p.notice_number),
                euros(p.amount)
            )
        })
        .collect();
    let total: i64 = cart.payment_notices.iter().map(|p| p.amount).sum();
    let psp_choices: String = psps()
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "<label><input type=\"radio\" name=\"psp\" value=\"{}\"{}> {} (commissione 1,00 €)</label>",
                escape(&p.id),
                if i == 0 { " checked" } else { "" },
                escape(&p.company_name)
            )
        })
        .collect();
    let body = format!(
        "<table><caption>Avvisi nel carrello</caption><thead><tr><th scope=\"col\">Ente</th>\
         <th scope=\"col\">Oggetto</th><th scope=\"col\">Codice avviso</th><th scope=\"col\">Importo</th></tr></thead>\
         <tbody>{rows}</tbody><tfoot><tr><th scope=\"row\" colspan=\"3\">Totale</th><td>{}</td></tr></tfoot></table>\
         <p>Ricevuta a: {}</p>\
         <form method=\"post\"><fieldset><legend>Con chi vuoi pagare?</legend>{psp_choices}</fieldset>\
         <fieldset><legend>Esito da simulare</legend>\
         <label><input type=\"radio\" name=\"outcome\" value=\"paid\" checked> Pagamento riuscito</label>\
         <label><input type=\"radio\" name=\"outcome\" value=\"refused\"> Pagamento rifiutato</label>\
         <label><input type=\"radio\" name=\"outcome\" value=\"cancelled\"> Annullato dall'utente</label>\
         <label><input type=\"radio\" name=\"outcome\" value=\"pending\"> Esito in attesa</label>\
         </fieldset><button type=\"submit\">Paga {}</button></form>",
        euros(total),
        escape(cart.email_notice.as_deref().unwrap_or("-")),
        euros(total),
    );
    html_page("Paga il carrello", &body).into_response()
}

#[derive(Deserialize)]
struct Choice {
    psp: String,
    outcome: String,
}

async fn pay(
    State(state): State<CheckoutState>,
    Path(id): Path<String>,
    Form(choice): Form<Choice>,
) -> Response {
    // Taken once: a second submit (a double click) pays nothing twice.
    let cart = {
        let mut carts = state.checkouts.carts.lock().expect("carts lock");
        match carts.get_mut(&id) {
            Some(stored) if !stored.done => {
                stored.done = true;
                stored.cart.clone()
            }
            Some(_) => return Redirect::to(&format!("/c/{id}")).into_response(),
            None => return StatusCode::NOT_FOUND.into_response(),
        }
    };
    let Some(psp) = psps().into_iter().find(|p| p.id == choice.psp) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let urls = &cart.return_urls;
    if choice.outcome == "cancelled" {
        return Redirect::to(&urls.return_cancel_url).into_response();
    }
    let mut receipts = Vec::new();
    for notice in &cart.payment_notices {
        let note = cart.id_cart.as_deref();
        match activate(
            &state.client,
            &notice.fiscal_code,
            &notice.notice_number,
            note,
        )
        .await
        {
            Ok(activated) => {
                let mut request = receipt_for(
                    &state.client.station,
                    &psp,
                    &notice.fiscal_code,
                    &notice.notice_number,
                    &activated.data,
                    &new_receipt_id(),
                );
                if let Some(payer) = request.receipt.payer.as_mut() {
                    payer.email = cart.email_notice.clone();
                }
                // The node repeats the activation's paymentNote (idCart).
                request.receipt.payment_note = cart.id_cart.clone();
                receipts.push(request);
            }
            Err(e) => {
                eprintln!("pagopa-sim checkout {id}: {e}");
                return Redirect::to(&urls.return_error_url).into_response();
            }
        }
    }
    let send_all = {
        let client = state.client.clone();
        let retry = state.retry.clone();
        async move {
            for request in &receipts {
                if let Err(e) = deliver_receipt(&client, request, &retry).await {
                    eprintln!("pagopa-sim: receipt {}: {e}", request.receipt.receipt_id);
                }
            }
        }
    };
    match choice.outcome.as_str() {
        "paid" => {
            send_all.await;
            Redirect::to(&urls.return_ok_url).into_response()
        }
        "pending" => {
            let delay = state.checkouts.pending_delay;
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                send_all.await;
            });
            Redirect::to(
                urls.return_waiting_url
                    .as_ref()
                    .unwrap_or(&urls.return_ok_url),
            )
            .into_response()
        }
        // Refused by the PSP after activation: no receipt, as on the node.
        _ => Redirect::to(&urls.return_error_url).into_response(),
    }
}
