//! Gestione Dovuti: search an ente's debts, see one whole (options,
//! transfers, receipts, history), cancel it with a reason, create one by
//! hand, print its notice. What an operator sees and touches is narrowed
//! to their tipi dovuto by the store (search) and by `EnteScope` (one debt).

use cassa_core::debt::MAX_TEXT;
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use cassa_core::access::Action;
use cassa_core::debt::PositionStatus;
use cassa_core::spontaneous::plausible_email;
use cassa_core::{Cents, DebtorId, italy};
use cassa_store::{
    Actor, AuditFilter, DovutiFilter, DovutiSort, Origin, PositionChangeError, PositionWrite,
    StoredPosition, StoredReceipt, TipoDovuto,
};
use jiff::Timestamp;
use jiff::civil::Date;

use super::scope::EnteScope;
use super::{Office, forbidden, internal_error, not_found, render, render_with_status};
use crate::BackofficeState;

const PER_PAGE: u32 = 20;

fn date(text: &str) -> Option<Date> {
    text.trim().parse().ok()
}

/// Italian days `from` to `to` (either open) as an inclusive range of
/// instants, for the store's `BETWEEN`.
fn day_range(from: Option<Date>, to: Option<Date>) -> Option<(Timestamp, Timestamp)> {
    if from.is_none() && to.is_none() {
        return None;
    }
    let start = from.and_then(italy::start_of).unwrap_or(Timestamp::MIN);
    let end = to
        .and_then(|d| d.tomorrow().ok())
        .and_then(italy::start_of)
        .map_or(Timestamp::MAX, |t| t - jiff::SignedDuration::from_micros(1));
    Some((start, end))
}

fn printed_date(t: Timestamp) -> String {
    italy::date_of(t).strftime("%d/%m/%Y").to_string()
}

fn printed_time(t: Timestamp) -> String {
    t.to_zoned(italy::time_zone())
        .strftime("%d/%m/%Y %H:%M")
        .to_string()
}

pub struct Row {
    pub iupd: String,
    pub debtor: String,
    pub fiscal_code: String,
    pub tipo: String,
    pub status: String,
    pub amount: String,
    pub due: String,
    pub paid: String,
}

pub struct SortLink {
    pub label: &'static str,
    pub href: String,
    /// `ascending`, `descending` or `none`, for aria-sort.
    pub aria: &'static str,
}

#[derive(Template)]
#[template(path = "backoffice/dovuti.html")]
struct SearchPage {
    office: Office,
    ente_name: String,
    fiscal_code: String,
    q: HashMap<String, String>,
    tipi: Vec<TipoDovuto>,
    statuses: Vec<&'static str>,
    rows: Vec<Row>,
    total: u64,
    page: u32,
    pages: u32,
    prev: Option<String>,
    next: Option<String>,
    sorts: Vec<SortLink>,
    can_create: bool,
}

impl SearchPage {
    fn value(&self, key: &str) -> &str {
        self.q.get(key).map_or("", String::as_str)
    }
}

fn query_string(q: &HashMap<String, String>, changes: &[(&str, String)]) -> String {
    let mut pairs: Vec<(String, String)> = q
        .iter()
        .filter(|(k, v)| !v.is_empty() && !changes.iter().any(|(c, _)| c == k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    pairs.extend(changes.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    pairs.sort();
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(&k, &v);
    }
    format!("?{}", s.finish())
}

/// The tipi dovuto of the ente the operator may use for `action`.
async fn tipi_for(
    state: &BackofficeState,
    office: &Office,
    scope: &EnteScope,
    action: Action,
) -> Result<Vec<TipoDovuto>, cassa_store::StoreError> {
    let allowed = scope.tipi(office, action);
    Ok(state
        .store
        .tipi_dovuto(scope.ente.id)
        .await?
        .into_iter()
        .filter(|t| allowed.includes(Some(t.id)))
        .collect())
}

/// `GET /backoffice/enti/{cf}/dovuti`
pub async fn search(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let tipi = match tipi_for(&state, &office, &scope, Action::Read).await {
        Ok(tipi) => tipi,
        Err(e) => return internal_error(&office, e),
    };
    let get = |k: &str| {
        q.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let sort = get("ordina")
        .and_then(|s| DovutiSort::parse(&s))
        .unwrap_or_default();
    let descending = get("desc").is_some_and(|d| d == "1");
    let page = get("pagina")
        .and_then(|p| p.parse::<u32>().ok())
        .unwrap_or(1)
        .max(1);
    let filter = DovutiFilter {
        notice: get("avviso"),
        iupd: get("iupd"),
        debtor_fiscal_code: get("cf"),
        debtor_name: get("nome"),
        tipo_dovuto_id: get("tipo")
            .and_then(|code| tipi.iter().find(|t| t.code == code).map(|t| t.id)),
        status: get("stato").and_then(|s| PositionStatus::parse(&s)),
        due: day_range(
            get("scad_da").and_then(|d| date(&d)),
            get("scad_a").and_then(|d| date(&d)),
        ),
        paid: day_range(
            get("pag_da").and_then(|d| date(&d)),
            get("pag_a").and_then(|d| date(&d)),
        ),
        sort,
        descending,
        page: page - 1,
        per_page: PER_PAGE,
    };
    let (found, total) = match state
        .store
        .search_dovuti(scope.ente.id, &scope.tipi(&office, Action::Read), &filter)
        .await
    {
        Ok(found) => found,
        Err(e) => return internal_error(&office, e),
    };
    let rows = found
        .into_iter()
        .map(|r| Row {
            iupd: r.iupd,
            debtor: r.debtor_name,
            fiscal_code: r.debtor_fiscal_code,
            tipo: r.tipo_dovuto_name.unwrap_or_default(),
            status: r.status,
            amount: Cents::new(r.amount).to_italian(),
            due: printed_date(r.first_due),
            paid: r.payment_date.map(printed_date).unwrap_or_default(),
        })
        .collect();
    let pages = (total as u32).div_ceil(PER_PAGE).max(1);
    let t = office.t;
    let sorts = [
        (t.inserted, DovutiSort::Inserted),
        (t.debtor, DovutiSort::Debtor),
        (t.amount, DovutiSort::Amount),
        (t.due_date, DovutiSort::DueDate),
        (t.status, DovutiSort::Status),
    ]
    .into_iter()
    .map(|(label, key)| {
        let current = key == sort;
        let flip = current && !descending;
        SortLink {
            label,
            href: query_string(
                &q,
                &[
                    ("ordina", key.code().to_owned()),
                    ("desc", if flip { "1" } else { "0" }.to_owned()),
                    ("pagina", "1".to_owned()),
                ],
            ),
            aria: match (current, descending) {
                (false, _) => "none",
                (true, false) => "ascending",
                (true, true) => "descending",
            },
        }
    })
    .collect();
    let view = SearchPage {
        ente_name: scope.ente.name.clone(),
        fiscal_code: scope.ente.fiscal_code.clone(),
        statuses: [
            "DRAFT",
            "PUBLISHED",
            "VALID",
            "PARTIALLY_PAID",
            "PAID",
            "EXPIRED",
            "INVALID",
        ]
        .into(),
        prev: (page > 1).then(|| query_string(&q, &[("pagina", (page - 1).to_string())])),
        next: (page < pages).then(|| query_string(&q, &[("pagina", (page + 1).to_string())])),
        can_create: scope.tipi(&office, Action::ManageDebts)
            != cassa_core::access::TipoScope::Only(vec![]),
        rows,
        total,
        page,
        pages,
        sorts,
        tipi,
        q,
        office,
    };
    render(&view)
}

pub struct OptionLine {
    pub notice: String,
    pub iuv: String,
    pub description: String,
    pub amount: String,
    pub due: String,
    pub status: String,
    pub kind: &'static str,
    pub transfers: Vec<(String, String, String, String)>,
}

pub struct ReceiptLine {
    pub notice: String,
    pub receipt_id: String,
    pub psp: String,
    pub amount: String,
    pub at: String,
    pub status: String,
}

pub struct HistoryLine {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "backoffice/dovuto.html")]
struct DetailPage {
    office: Office,
    ente_name: String,
    fiscal_code: String,
    position: StoredPosition,
    tipo: String,
    options: Vec<OptionLine>,
    receipts: Vec<ReceiptLine>,
    history: Vec<HistoryLine>,
    can_cancel: bool,
    printable: bool,
    message: Option<(&'static str, &'static str)>,
    reason: String,
    reason_error: Option<&'static str>,
}

#[derive(serde::Deserialize, Default)]
pub struct Outcome {
    #[serde(default)]
    esito: String,
}

fn option_lines(position: &StoredPosition) -> Vec<OptionLine> {
    position
        .options
        .iter()
        .map(|o| OptionLine {
            notice: cassa_core::NoticeNumber::parse(&o.notice_number)
                .map(|n| n.notice.printed())
                .unwrap_or_else(|_| o.notice_number.clone()),
            iuv: o.iuv.clone(),
            description: o.description.clone(),
            amount: o.amount.to_italian(),
            due: printed_date(o.due_date),
            status: o.status.code().to_owned(),
            kind: if o.is_partial_payment {
                "rata"
            } else {
                "unica"
            },
            transfers: o
                .transfers
                .iter()
                .map(|t| {
                    (
                        t.organization_fiscal_code.clone(),
                        t.iban
                            .clone()
                            .or_else(|| t.postal_iban.clone())
                            .unwrap_or_default(),
                        t.amount.to_italian(),
                        t.category.clone(),
                    )
                })
                .collect(),
        })
        .collect()
}

fn receipt_line(r: &StoredReceipt) -> ReceiptLine {
    ReceiptLine {
        notice: r.notice_number.clone(),
        receipt_id: r.receipt_id.clone(),
        psp: r.psp_company_name.clone(),
        amount: r.amount.to_italian(),
        at: printed_time(r.payment_date_time.unwrap_or(r.received_at)),
        status: r.status.code().to_owned(),
    }
}

async fn detail_page(
    state: &BackofficeState,
    office: Office,
    scope: &EnteScope,
    position: StoredPosition,
    message: Option<(&'static str, &'static str)>,
    reason: (String, Option<&'static str>),
    status: StatusCode,
) -> Response {
    let receipts = match state
        .store
        .receipts_of_position(scope.ente.id, position.id)
        .await
    {
        Ok(r) => r.iter().map(receipt_line).collect(),
        Err(e) => return internal_error(&office, e),
    };
    let events = match state
        .store
        .audit_events(&AuditFilter {
            ente_id: Some(scope.ente.id),
            entity: Some("debt_position".into()),
            entity_key: Some(position.iupd.clone()),
            actor: None,
            limit: Some(200),
        })
        .await
    {
        Ok(events) => events,
        Err(e) => return internal_error(&office, e),
    };
    let history = events
        .iter()
        .map(|e| HistoryLine {
            at: printed_time(e.at),
            actor: e.actor.clone(),
            action: e.action.clone(),
            detail: e
                .after
                .as_ref()
                .and_then(|a| a.get("reason").or_else(|| a.get("status")))
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .unwrap_or_default(),
        })
        .collect();
    let tipo = match position.tipo_dovuto_id {
        Some(id) => state
            .store
            .tipi_dovuto(scope.ente.id)
            .await
            .ok()
            .and_then(|tipi| tipi.into_iter().find(|t| t.id == id))
            .map(|t| format!("{} ({})", t.name, t.code))
            .unwrap_or_default(),
        None => String::new(),
    };
    let can_cancel = scope.can(&office, position.tipo_dovuto_id, Action::ManageDebts)
        && position.lifecycle().invalidate(Timestamp::now()).is_ok();
    let printable = cassa_jobs::printouts::notice_of(
        &position,
        &scope.ente,
        &Default::default(),
        Timestamp::now(),
    )
    .is_ok();
    let view = DetailPage {
        ente_name: scope.ente.name.clone(),
        fiscal_code: scope.ente.fiscal_code.clone(),
        options: option_lines(&position),
        tipo,
        receipts,
        history,
        can_cancel,
        printable,
        message,
        reason: reason.0,
        reason_error: reason.1,
        position,
        office,
    };
    render_with_status(status, &view)
}

/// `GET /backoffice/enti/{cf}/dovuti/{iupd}`
pub async fn detail(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    Path((_, iupd)): Path<(String, String)>,
    Query(outcome): Query<Outcome>,
) -> Response {
    let position = match scope.position(&state, &office, &iupd).await {
        Ok(Some(p)) => p,
        Ok(None) => return not_found(&office),
        Err(e) => return internal_error(&office, e),
    };
    let t = office.t;
    let message = match outcome.esito.as_str() {
        "annullato" => Some(("success", t.cancel_done)),
        "creato" => Some(("success", t.created)),
        _ => None,
    };
    detail_page(
        &state,
        office,
        &scope,
        position,
        message,
        (String::new(), None),
        StatusCode::OK,
    )
    .await
}

#[derive(serde::Deserialize, Default)]
pub struct CancelForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /backoffice/enti/{cf}/dovuti/{iupd}/annulla`
pub async fn cancel(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    Path((_, iupd)): Path<(String, String)>,
    Form(form): Form<CancelForm>,
) -> Response {
    if !office.accepts(&form.csrf) {
        return forbidden(&office);
    }
    let position = match scope.position(&state, &office, &iupd).await {
        Ok(Some(p)) => p,
        Ok(None) => return not_found(&office),
        Err(e) => return internal_error(&office, e),
    };
    if !scope.can(&office, position.tipo_dovuto_id, Action::ManageDebts) {
        return forbidden(&office);
    }
    let reason = form.reason.trim().to_owned();
    let t = office.t;
    let problem = if reason.is_empty() {
        Some(t.field_required)
    } else if reason.chars().count() > 255 {
        Some(t.reason_too_long)
    } else {
        None
    };
    if let Some(problem) = problem {
        let message = Some(("danger", t.form_errors));
        return detail_page(
            &state,
            office,
            &scope,
            position,
            message,
            (reason, Some(problem)),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let actor_name = format!("operator:{}", office.operator.username);
    let actor = Actor {
        name: &actor_name,
        request_id: None,
    };
    match state
        .store
        .cancel_position(scope.ente.id, &iupd, actor, &reason, Timestamp::now())
        .await
    {
        Ok(_) => Redirect::to(&format!(
            "/backoffice/enti/{}/dovuti/{}?esito=annullato",
            scope.ente.fiscal_code,
            urlencode(&iupd)
        ))
        .into_response(),
        Err(e @ (PositionChangeError::Refused(_) | PositionChangeError::PaymentInProgress(_))) => {
            let message = Some((
                "danger",
                if matches!(e, PositionChangeError::PaymentInProgress(_)) {
                    t.cancel_in_progress
                } else {
                    t.cancel_refused
                },
            ));
            detail_page(
                &state,
                office,
                &scope,
                position,
                message,
                (reason, None),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => internal_error(&office, format!("{e:?}")),
    }
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// `GET /backoffice/enti/{cf}/dovuti/{iupd}/avviso`: the notice PDF.
pub async fn notice(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    Path((_, iupd)): Path<(String, String)>,
) -> Response {
    let position = match scope.position(&state, &office, &iupd).await {
        Ok(Some(p)) => p,
        Ok(None) => return not_found(&office),
        Err(e) => return internal_error(&office, e),
    };
    match cassa_jobs::printouts::notice_pdf(&state.store, &scope.ente, &position).await {
        Ok(Some(bytes)) => {
            cassa_http::pdf_response(bytes, &format!("avviso-{}.pdf", urlencode(&iupd)), true)
        }
        Ok(None) => not_found(&office),
        Err(e) => internal_error(&office, e),
    }
}

#[derive(Default)]
pub struct NewDebtForm {
    pub tipo: String,
    pub fiscal_code: String,
    pub name: String,
    pub email: String,
    pub amount: String,
    pub due: String,
    pub description: String,
    pub errors: HashMap<&'static str, &'static str>,
}

impl NewDebtForm {
    fn error(&self, field: &str) -> Option<&'static str> {
        self.errors.get(field).copied()
    }
}

#[derive(Template)]
#[template(path = "backoffice/dovuto_nuovo.html")]
struct NewPage {
    office: Office,
    ente_name: String,
    fiscal_code: String,
    tipi: Vec<TipoDovuto>,
    form: NewDebtForm,
    error: Option<&'static str>,
}

async fn new_page(
    state: &BackofficeState,
    office: Office,
    scope: &EnteScope,
    form: NewDebtForm,
    error: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let tipi = match tipi_for(state, &office, scope, Action::ManageDebts).await {
        Ok(tipi) => tipi,
        Err(e) => return internal_error(&office, e),
    };
    if tipi.is_empty() {
        return forbidden(&office);
    }
    let view = NewPage {
        ente_name: scope.ente.name.clone(),
        fiscal_code: scope.ente.fiscal_code.clone(),
        tipi,
        form,
        error,
        office,
    };
    render_with_status(status, &view)
}

/// `GET /backoffice/enti/{cf}/dovuti/nuovo`
pub async fn new_form(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
) -> Response {
    new_page(
        &state,
        office,
        &scope,
        NewDebtForm::default(),
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(serde::Deserialize, Default)]
pub struct PostedDebt {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    tipo: String,
    #[serde(default)]
    fiscal_code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    description: String,
}

/// `POST /backoffice/enti/{cf}/dovuti/nuovo`: a published debt of one payment.
pub async fn create(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    Form(posted): Form<PostedDebt>,
) -> Response {
    if !office.accepts(&posted.csrf) {
        return forbidden(&office);
    }
    let t = office.t;
    let tipi = match tipi_for(&state, &office, &scope, Action::ManageDebts).await {
        Ok(tipi) => tipi,
        Err(e) => return internal_error(&office, e),
    };
    let mut form = NewDebtForm {
        tipo: posted.tipo.trim().to_owned(),
        fiscal_code: posted.fiscal_code.trim().to_uppercase(),
        name: posted.name.trim().to_owned(),
        email: posted.email.trim().to_owned(),
        amount: posted.amount.trim().to_owned(),
        due: posted.due.trim().to_owned(),
        description: posted.description.trim().to_owned(),
        errors: HashMap::new(),
    };
    let tipo = tipi.iter().find(|t| t.code == form.tipo);
    if tipo.is_none() {
        form.errors.insert("tipo", t.field_required);
    }
    let debtor = DebtorId::parse(&form.fiscal_code)
        .ok()
        .filter(|d| !matches!(d, DebtorId::Anonymous));
    if debtor.is_none() {
        form.errors.insert(
            "fiscal_code",
            if form.fiscal_code.is_empty() {
                t.field_required
            } else {
                t.field_fiscal_code
            },
        );
    }
    if form.name.is_empty() || form.name.chars().count() > MAX_TEXT {
        form.errors.insert("name", t.field_required);
    }
    if !form.email.is_empty() && !plausible_email(&form.email) {
        form.errors.insert("email", t.field_email);
    }
    let amount = Cents::parse_italian(&form.amount)
        .or_else(|_| Cents::parse_decimal(&form.amount))
        .ok()
        .filter(|c| c.get() > 0);
    if amount.is_none() {
        form.errors.insert("amount", t.field_amount);
    }
    let today = italy::date_of(Timestamp::now());
    let due = date(&form.due);
    match due {
        None => {
            form.errors.insert("due", t.field_date);
        }
        Some(d) if d < today => {
            form.errors.insert("due", t.field_past);
        }
        Some(_) => {}
    }
    if form.description.chars().count() > MAX_TEXT {
        form.errors.insert("description", t.reason_too_long);
    }
    let (Some(tipo), Some(debtor), Some(amount), Some(due), true) =
        (tipo, debtor, amount, due, form.errors.is_empty())
    else {
        return new_page(
            &state,
            office,
            &scope,
            form,
            Some(t.form_errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    // Due at the end of the Italian day.
    let due_at = italy::last_second_of(due).unwrap_or(Timestamp::MAX);
    let Some(draft) = cassa_core::debt::single_payment::draft(
        &tipo.beneficiary(&scope.ente),
        cassa_core::debt::single_payment::SinglePayment {
            origin: "BO",
            debtor,
            name: &form.name,
            email: (!form.email.is_empty()).then_some(form.email.as_str()),
            amount,
            description: &form.description,
            due_date: due_at,
            metadata: Vec::new(),
        },
        Timestamp::now(),
        rand::random(),
    ) else {
        return new_page(
            &state,
            office,
            &scope,
            form,
            Some(t.no_account),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let actor_name = format!("operator:{}", office.operator.username);
    match state
        .store
        .create_position(PositionWrite {
            ente: &scope.ente,
            tipo_dovuto_id: Some(tipo.id),
            draft: &draft,
            to_publish: true,
            origin: Origin::BackOffice,
            actor: Actor {
                name: &actor_name,
                request_id: None,
            },
            now: Timestamp::now(),
        })
        .await
    {
        Ok(position) => Redirect::to(&format!(
            "/backoffice/enti/{}/dovuti/{}?esito=creato",
            scope.ente.fiscal_code,
            urlencode(&position.iupd)
        ))
        .into_response(),
        Err(e) => internal_error(&office, format!("{e:?}")),
    }
}
