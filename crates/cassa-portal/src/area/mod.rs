//! The citizen's personal area: every open debt addressed to their codice
//! fiscale across all enti (the "archivio unico delle posizioni
//! debitorie"), a debt's details with the choice between paying at once
//! and by installments, its notice, the cart, and what they paid with each
//! receipt. Every read is scoped to the logged-in citizen in the store's
//! query: another person's debt, or a guessed id, is simply not found.

pub mod texts;

use cassa_store::CartStatus;
use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::response::{Redirect, Response};
use cassa_core::debt::{OptionStatus, PositionStatus};
use cassa_jobs::printouts::printed_due_date;
use cassa_store::{CitizenPayment, CitizenSession, StoredOption, StoredPosition};
use jiff::Timestamp;
use serde::Deserialize;

use super::cart::{printed_notice, put_in_cart};
use super::{PageContext, render};
use crate::PortalState;
use texts::{AreaTexts, area_texts};

/// A page of the area: its context and the logged-in citizen. Without a
/// session the request goes to the login page instead.
pub struct SignedIn {
    pub page: PageContext,
    pub citizen: Arc<CitizenSession>,
}

impl FromRequestParts<PortalState> for SignedIn {
    type Rejection = Redirect;

    async fn from_request_parts(parts: &mut Parts, state: &PortalState) -> Result<Self, Redirect> {
        let Ok(page) = PageContext::from_request_parts(parts, state).await;
        match page.citizen.clone() {
            Some(citizen) => Ok(SignedIn { page, citizen }),
            None => Err(Redirect::to("/accedi")),
        }
    }
}

/// A debt as a card of the archive.
pub struct DebtCard {
    pub position_id: i64,
    pub ente_id: i64,
    pub ente: String,
    pub tipo: String,
    pub subject: String,
    pub amount: String,
    pub due_date: String,
    pub status: &'static str,
    pub notice: String,
    pub notice_number: String,
    pub debtor: String,
    /// The cart item holding this notice, if it is in the cart.
    pub in_cart: Option<i64>,
    /// It has an installment plan and nothing is paid yet: "Rate".
    pub installable: bool,
    pub due: Timestamp,
}

/// The notices of the browser's cart: (ente, notice) → cart item.
async fn cart_items(state: &PortalState, page: &PageContext) -> HashMap<(i64, String), i64> {
    let Some(id) = &page.cart else {
        return HashMap::new();
    };
    match state.store.cart(id).await {
        Ok(Some(cart)) if cart.status == CartStatus::Open => cart
            .items
            .iter()
            .map(|i| ((i.ente_id, i.notice_number.clone()), i.id))
            .collect(),
        _ => HashMap::new(),
    }
}

fn date(due: Timestamp, a: &AreaTexts) -> String {
    printed_due_date(due)
        .map(|d| d.strftime("%d/%m/%Y").to_string())
        .unwrap_or_else(|| a.no_due_date.to_owned())
}

/// The plan's installments, by due date.
fn plan(position: &StoredPosition) -> Vec<&StoredOption> {
    let mut plan: Vec<&StoredOption> = position
        .options
        .iter()
        .filter(|o| o.is_partial_payment)
        .collect();
    plan.sort_by_key(|o| (o.due_date, o.seq));
    plan
}

fn single(position: &StoredPosition) -> Option<&StoredOption> {
    position
        .options
        .iter()
        .find(|o| !o.is_partial_payment && o.status == OptionStatus::Unpaid)
}

/// The notice a card shows: the single payment while nothing is paid,
/// else the next installment.
fn shown_option(position: &StoredPosition) -> Option<&StoredOption> {
    let started = position
        .options
        .iter()
        .any(|o| o.status != OptionStatus::Unpaid);
    match (started, single(position)) {
        (false, Some(option)) => Some(option),
        _ => plan(position)
            .into_iter()
            .find(|o| o.status == OptionStatus::Unpaid),
    }
}

fn card(
    position: &StoredPosition,
    ente: &str,
    tipo: &str,
    cart: &HashMap<(i64, String), i64>,
    a: &AreaTexts,
) -> Option<DebtCard> {
    let option = shown_option(position)?;
    let in_cart = position.options.iter().find_map(|o| {
        cart.get(&(position.ente_id, o.notice_number.clone()))
            .copied()
    });
    let started = position.status == PositionStatus::PartiallyPaid;
    let status = match (in_cart, started) {
        (Some(_), _) => a.status_in_cart,
        (None, true) => a.status_partially_paid,
        (None, false) => a.status_to_pay,
    };
    Some(DebtCard {
        position_id: position.id,
        ente_id: position.ente_id,
        due: option.due_date,
        ente: ente.to_owned(),
        tipo: tipo.to_owned(),
        subject: option.description.clone(),
        amount: option.amount.to_italian(),
        due_date: date(option.due_date, a),
        status,
        notice: printed_notice(&option.notice_number),
        notice_number: option.notice_number.clone(),
        debtor: format!("{} - {}", position.debtor_name, position.debtor_fiscal_code),
        in_cart: cart
            .get(&(position.ente_id, option.notice_number.clone()))
            .copied(),
        installable: !started && !plan(position).is_empty() && single(position).is_some(),
    })
}

#[derive(Template)]
#[template(path = "portal/area.html")]
struct AreaPage {
    page: PageContext,
    a: &'static AreaTexts,
    name: String,
    eidas: bool,
    q: String,
    /// The enti of the citizen's debts, for the filter: (id, name, chosen).
    enti: Vec<(i64, String, bool)>,
    until: String,
    until_error: bool,
    cards: Vec<DebtCard>,
}

#[derive(Deserialize, Default)]
pub struct AreaQuery {
    #[serde(default)]
    q: String,
    /// Only this ente's debts (its id); empty: all.
    #[serde(default)]
    ente: String,
    /// Only debts due on or before this day (`aaaa-mm-gg`).
    #[serde(default)]
    entro: String,
}

/// Ente and tipo names for a list of positions.
async fn names(
    state: &PortalState,
    positions: &[StoredPosition],
) -> Result<(HashMap<i64, String>, HashMap<i64, String>), cassa_store::StoreError> {
    let mut enti = HashMap::new();
    for position in positions {
        if let std::collections::hash_map::Entry::Vacant(slot) = enti.entry(position.ente_id)
            && let Some(ente) = state.store.ente_by_id(position.ente_id).await?
        {
            slot.insert(ente.name);
        }
    }
    let mut tipi: Vec<i64> = positions.iter().filter_map(|p| p.tipo_dovuto_id).collect();
    tipi.sort_unstable();
    tipi.dedup();
    Ok((enti, state.store.tipo_dovuto_names(&tipi).await?))
}

/// `GET /area-personale`: Posizioni aperte, across every ente.
pub async fn open_debts(
    State(state): State<PortalState>,
    SignedIn { page, citizen }: SignedIn,
    Query(query): Query<AreaQuery>,
) -> Response {
    let a = area_texts(page.lang);
    let positions = match citizen.citizen.fiscal_code() {
        Some(cf) => match state
            .store
            .open_positions_of_debtor(cf, Timestamp::now())
            .await
        {
            Ok(p) => p,
            Err(e) => return super::internal_error(&page, e),
        },
        None => Vec::new(),
    };
    let (enti, tipi) = match names(&state, &positions).await {
        Ok(n) => n,
        Err(e) => return super::internal_error(&page, e),
    };
    let cart = cart_items(&state, &page).await;
    let q = query.q.trim().to_lowercase();
    let ente_filter: Option<i64> = query.ente.trim().parse().ok();
    let until_text = query.entro.trim();
    let until = until_text
        .parse::<jiff::civil::Date>()
        .ok()
        .and_then(cassa_core::italy::last_second_of);
    let until_error = !until_text.is_empty() && until.is_none();
    let cards = positions
        .iter()
        .filter_map(|p| {
            let ente = enti.get(&p.ente_id).map(String::as_str).unwrap_or("");
            let tipo = p.tipo_dovuto_id.and_then(|t| tipi.get(&t));
            card(p, ente, tipo.map(String::as_str).unwrap_or(""), &cart, a)
        })
        .filter(|c| {
            q.is_empty()
                || [&c.ente, &c.tipo, &c.subject, &c.notice_number]
                    .iter()
                    .any(|field| field.to_lowercase().contains(&q))
        })
        .filter(|c| ente_filter.is_none_or(|e| c.ente_id == e))
        .filter(|c| until.is_none_or(|u| c.due <= u))
        .collect();
    let mut enti: Vec<(i64, String, bool)> = enti
        .into_iter()
        .map(|(id, name)| (id, name, ente_filter == Some(id)))
        .collect();
    enti.sort_by(|a, b| a.1.cmp(&b.1));
    let view = AreaPage {
        a,
        name: citizen.full_name(),
        eidas: citizen.citizen.fiscal_code().is_none(),
        q: query.q.trim().to_owned(),
        enti,
        until: until_text.to_owned(),
        until_error,
        cards,
        page,
    };
    render(&view.page, &view)
}

/// A row of the detail's table: the single payment or one installment.
pub struct OptionRow {
    pub label: String,
    pub notice: String,
    pub notice_number: String,
    pub amount: String,
    pub due_date: String,
    /// When its window opens, for an installment that has one.
    pub opens: Option<String>,
    pub status: &'static str,
    pub in_cart: Option<i64>,
    pub payable: bool,
}

#[derive(Template)]
#[template(path = "portal/area_position.html")]
struct PositionPage {
    page: PageContext,
    a: &'static AreaTexts,
    position_id: i64,
    ente: String,
    tipo: String,
    debtor: String,
    status: &'static str,
    single: Option<OptionRow>,
    plan: Vec<OptionRow>,
    /// Nothing paid, both ways open: the "Rate" choice.
    choose: bool,
    /// Some installment has a window: the table shows when each opens.
    windows: bool,
    /// Something is left to pay: the notice can be printed.
    printable: bool,
}

async fn own_position(
    state: &PortalState,
    page: &PageContext,
    citizen: &CitizenSession,
    id: i64,
) -> Result<StoredPosition, Response> {
    let Some(cf) = citizen.citizen.fiscal_code() else {
        return Err(super::pages::not_found(page.clone()));
    };
    match state.store.position_of_debtor(id, cf).await {
        Ok(Some(position)) => Ok(position),
        Ok(None) => Err(super::pages::not_found(page.clone())),
        Err(e) => Err(super::internal_error(page, e)),
    }
}

/// `GET /area-personale/posizioni/{id}`: Dettagli, with the plan.
pub async fn position(
    State(state): State<PortalState>,
    SignedIn { page, citizen }: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    let position = match own_position(&state, &page, &citizen, id).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let a = area_texts(page.lang);
    let (enti, tipi) = match names(&state, std::slice::from_ref(&position)).await {
        Ok(n) => n,
        Err(e) => return super::internal_error(&page, e),
    };
    let cart = cart_items(&state, &page).await;
    let now = Timestamp::now();
    let paid_single = position
        .options
        .iter()
        .any(|o| !o.is_partial_payment && o.status != OptionStatus::Unpaid);
    let paid_installment = position
        .options
        .iter()
        .any(|o| o.is_partial_payment && o.status != OptionStatus::Unpaid);
    let mut rows = Vec::new();
    let plan = plan(&position);
    for option in position.options.iter().filter(|o| !o.is_partial_payment) {
        rows.push((option, a.single_payment.to_owned(), paid_installment));
    }
    for (i, option) in plan.iter().enumerate() {
        let label = a
            .installment_of
            .replace("{n}", &(i + 1).to_string())
            .replace("{of}", &plan.len().to_string());
        rows.push((option, label, paid_single));
    }
    let payability = match state.store.payability(&position, now).await {
        Ok(p) => p,
        Err(e) => return super::internal_error(&page, e),
    };
    // What the cart holds of this debt rules out what it excludes: the
    // page never offers both ways of paying it.
    let in_cart_of = |o: &cassa_store::StoredOption| {
        cart.get(&(position.ente_id, o.notice_number.clone()))
            .copied()
    };
    let chosen: Vec<&cassa_store::StoredOption> = position
        .options
        .iter()
        .filter(|o| in_cart_of(o).is_some())
        .collect();
    let mut single = None;
    let mut installments = Vec::new();
    for (option, label, other_way_paid) in rows {
        let excluded = chosen.iter().any(|c| {
            c.id != option.id
                && cassa_core::debt::excludes(c.is_partial_payment, option.is_partial_payment)
        });
        let payable_now = position
            .options
            .iter()
            .position(|o| o.id == option.id)
            .is_some_and(|i| payability[i].is_ok());
        let in_cart = in_cart_of(option);
        let status = match (option.status, other_way_paid, in_cart, payable_now) {
            (OptionStatus::Unpaid, true, _, _) => a.status_cancelled,
            (OptionStatus::Unpaid, false, Some(_), _) => a.status_in_cart,
            (OptionStatus::Unpaid, false, None, true) => a.status_to_pay,
            (OptionStatus::Unpaid, false, None, false) => a.status_not_yet,
            _ => a.status_paid,
        };
        let row = OptionRow {
            label,
            notice: printed_notice(&option.notice_number),
            notice_number: option.notice_number.clone(),
            amount: option.amount.to_italian(),
            due_date: date(option.due_date, a),
            opens: option.valid_from.map(|t| {
                cassa_core::italy::date_of(t)
                    .strftime("%d/%m/%Y")
                    .to_string()
            }),
            status,
            in_cart,
            payable: payable_now && !excluded,
        };
        if option.is_partial_payment {
            installments.push(row);
        } else if single.is_none() {
            single = Some(row);
        }
    }
    let status = match position.status {
        PositionStatus::Paid | PositionStatus::Reported => a.status_paid,
        PositionStatus::PartiallyPaid => a.status_partially_paid,
        _ => a.status_to_pay,
    };
    let view = PositionPage {
        a,
        position_id: position.id,
        ente: enti.get(&position.ente_id).cloned().unwrap_or_default(),
        tipo: position
            .tipo_dovuto_id
            .and_then(|t| tipi.get(&t).cloned())
            .unwrap_or_default(),
        debtor: format!("{} - {}", position.debtor_name, position.debtor_fiscal_code),
        status,
        windows: installments.iter().any(|i| i.opens.is_some()),
        printable: matches!(
            position.status,
            PositionStatus::Published | PositionStatus::Valid | PositionStatus::PartiallyPaid
        ),
        choose: !paid_single
            && !paid_installment
            && chosen.is_empty()
            && single.as_ref().is_some_and(|s| s.payable)
            && installments.first().is_some_and(|i| i.payable),
        single,
        plan: installments,
        page,
    };
    render(&view.page, &view)
}

/// `GET /area-personale/posizioni/{id}/avviso`: Stampa Avviso.
pub async fn notice_pdf(
    State(state): State<PortalState>,
    SignedIn { page, citizen }: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    let position = match own_position(&state, &page, &citizen, id).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let ente = match state.store.ente_by_id(position.ente_id).await {
        Ok(Some(ente)) => ente,
        Ok(None) => return super::pages::not_found(page),
        Err(e) => return super::internal_error(&page, e),
    };
    match cassa_jobs::printouts::notice_pdf(&state.store, &ente, &position).await {
        Ok(Some(bytes)) => {
            cassa_http::pdf_response(bytes, &format!("avviso-{}.pdf", position.iupd), true)
        }
        Ok(None) => super::pages::not_found(page),
        Err(e) => super::internal_error(&page, e),
    }
}

#[derive(Deserialize, Default)]
pub struct CartForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    position: i64,
    #[serde(default)]
    notice: String,
}

/// `POST /area-personale/carrello`: one of the citizen's notices goes in
/// the cart; the store decides whether it may be paid now.
pub async fn add_to_cart(
    State(state): State<PortalState>,
    SignedIn { page, citizen }: SignedIn,
    Form(form): Form<CartForm>,
) -> Response {
    if !page.csrf.accepts(&form.csrf) {
        return super::notice::expired(&page);
    }
    let position = match own_position(&state, &page, &citizen, form.position).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    if !position
        .options
        .iter()
        .any(|o| o.notice_number == form.notice)
    {
        return super::pages::not_found(page);
    }
    put_in_cart(&state, &page, position.ente_id, &form.notice, None).await
}

/// A payment of the Storico, as the page shows it.
pub struct PaymentRow {
    pub receipt_row: i64,
    pub paid_on: String,
    pub ente: String,
    pub subject: String,
    pub notice: String,
    pub amount: String,
    pub psp: String,
}

#[derive(Template)]
#[template(path = "portal/area_history.html")]
struct HistoryPage {
    page: PageContext,
    a: &'static AreaTexts,
    eidas: bool,
    rows: Vec<PaymentRow>,
}

fn payment_row(payment: &CitizenPayment, a: &AreaTexts) -> PaymentRow {
    let mut subject = payment.description.clone().unwrap_or_default();
    if let Some((n, of)) = payment.installment {
        let label = a
            .installment_of
            .replace("{n}", &n.to_string())
            .replace("{of}", &of.to_string());
        subject = format!("{subject} ({label})");
    }
    PaymentRow {
        receipt_row: payment.receipt_row,
        paid_on: cassa_core::italy::date_of(payment.paid_at)
            .strftime("%d/%m/%Y")
            .to_string(),
        ente: payment.ente_name.clone(),
        subject,
        notice: printed_notice(&payment.notice_number),
        amount: payment.amount.to_italian(),
        psp: payment.psp_company_name.clone(),
    }
}

/// `GET /area-personale/storico`: Storico transazioni.
pub async fn history(
    State(state): State<PortalState>,
    SignedIn { page, citizen }: SignedIn,
) -> Response {
    let a = area_texts(page.lang);
    let payments = match state.store.payments_of_citizen(&citizen.citizen).await {
        Ok(p) => p,
        Err(e) => return super::internal_error(&page, e),
    };
    let view = HistoryPage {
        a,
        eidas: citizen.citizen.fiscal_code().is_none(),
        rows: payments.iter().map(|p| payment_row(p, a)).collect(),
        page,
    };
    render(&view.page, &view)
}

/// `GET /area-personale/ricevute/{id}`: the receipt PDF of one of the
/// citizen's payments.
pub async fn receipt(
    State(state): State<PortalState>,
    SignedIn { page, citizen }: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    let payment = match state.store.payment_of_citizen(&citizen.citizen, id).await {
        Ok(Some(p)) => p,
        Ok(None) => return super::pages::not_found(page),
        Err(e) => return super::internal_error(&page, e),
    };
    super::receipt::receipt_pdf(&state, &page, payment.ente_id, &payment.notice_number).await
}
