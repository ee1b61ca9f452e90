//! Paga Avviso: a citizen finds a notice by its number (or IUV) and the
//! debtor's codice fiscale, sees what it asks, and downloads it. A wrong
//! pair gets one neutral message, whichever half was wrong, and lookups
//! are rate-limited per client: together they make guessing useless.

use askama::Template;
use axum::Form;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use cassa_core::debt::OptionStatus;
use cassa_core::spontaneous::plausible_email;
use cassa_core::{DebtorId, NoticeNumber};
use cassa_jobs::printouts::{notice_of, printed_due_date};
use cassa_store::StoredPosition;
use jiff::Timestamp;
use serde::Deserialize;

use super::{PageContext, RateLimit, render, render_with_status};
use crate::PortalState;

/// What the form holds, and what was wrong with it, field by field.
#[derive(Clone, Debug, Default)]
pub struct NoticeForm {
    pub notice: String,
    pub fiscal_code: String,
    pub email: String,
    pub error: Option<&'static str>,
    pub notice_error: Option<&'static str>,
    pub fiscal_code_error: Option<&'static str>,
    pub email_error: Option<&'static str>,
    /// The form looks for a receipt (Ricevuta Telematica), not a notice.
    pub for_receipt: bool,
}

/// What a posted notice form is for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
    /// Paga Avviso's lookup: the e-mail is required.
    Lookup,
    /// An action on the notice found (cart, PDF).
    Action,
    /// Ricevuta Telematica.
    Receipt,
}

#[derive(Deserialize, Default)]
pub(super) struct Posted {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    notice: String,
    #[serde(default)]
    fiscal_code: String,
    #[serde(default)]
    email: String,
}

impl Posted {
    pub(super) fn email(&self) -> Option<&str> {
        Some(self.email.trim())
    }

    pub(super) fn notice(&self) -> &str {
        self.notice.trim()
    }

    pub(super) fn fiscal_code(&self) -> &str {
        self.fiscal_code.trim()
    }
}

/// A notice found, as the page shows it.
pub struct Found {
    pub ente_name: String,
    pub subject: String,
    pub debtor: String,
    pub notice_printed: String,
    pub amount: String,
    pub due_date: String,
    pub status: &'static str,
    pub printable: bool,
    /// It can go in the cart and be paid now.
    pub payable: bool,
}

#[derive(Template)]
#[template(path = "portal/notice.html")]
struct NoticePage {
    page: PageContext,
    form: NoticeForm,
    found: Option<Found>,
}

pub async fn form(page: PageContext) -> Response {
    let view = NoticePage {
        page,
        form: NoticeForm::default(),
        found: None,
    };
    render(&view.page, &view)
}

/// The 18-digit notice number from what was typed: a notice number or an
/// IUV (aux digit 3), spaces allowed.
fn notice_number(typed: &str) -> Option<String> {
    let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = match digits.len() {
        18 => digits,
        17 => format!("3{digits}"),
        _ => return None,
    };
    NoticeNumber::parse(&number).ok().map(|_| number)
}

/// Checks the fields; the valid notice number and debtor id, or the form
/// with its errors.
fn check(
    page: &PageContext,
    posted: &Posted,
    purpose: Purpose,
) -> Result<(String, String), Box<NoticeForm>> {
    let t = page.t;
    let mut form = NoticeForm {
        notice: posted.notice.trim().to_owned(),
        fiscal_code: posted.fiscal_code.trim().to_owned(),
        email: posted.email.trim().to_owned(),
        for_receipt: purpose == Purpose::Receipt,
        ..NoticeForm::default()
    };
    let notice = notice_number(&form.notice);
    if form.notice.is_empty() {
        form.notice_error = Some(t.field_required);
    } else if notice.is_none() {
        form.notice_error = Some(t.field_notice_invalid);
    }
    let debtor = DebtorId::parse(&form.fiscal_code.to_uppercase())
        .ok()
        .filter(|d| !matches!(d, DebtorId::Anonymous));
    if form.fiscal_code.is_empty() {
        form.fiscal_code_error = Some(t.field_required);
    } else if debtor.is_none() {
        form.fiscal_code_error = Some(t.field_fiscal_code_invalid);
    }
    if purpose == Purpose::Lookup {
        if form.email.is_empty() {
            form.email_error = Some(t.field_required);
        } else if !plausible_email(&form.email) {
            form.email_error = Some(t.field_email_invalid);
        }
    }
    match (notice, debtor) {
        (Some(notice), Some(debtor)) if form.email_error.is_none() => {
            Ok((notice, debtor.to_string()))
        }
        _ => {
            form.error = Some(t.form_errors);
            Err(Box::new(form))
        }
    }
}

/// Reads the form after the checks every post shares: the token and the
/// rate limit. `Err` is the page to answer with.
async fn read_post(
    state: &PortalState,
    page: &PageContext,
    request: Request,
    purpose: Purpose,
) -> Result<Posted, Response> {
    let for_receipt = purpose == Purpose::Receipt;
    let client = cassa_http::client_addr::Client::of(&request);
    let posted = match Form::<Posted>::from_request(request, state).await {
        Ok(Form(posted)) => posted,
        Err(_) => Posted::default(),
    };
    if !page.csrf.accepts(&posted.csrf) {
        let form = NoticeForm {
            error: Some(page.t.session_expired),
            notice: posted.notice,
            fiscal_code: posted.fiscal_code,
            email: posted.email,
            for_receipt,
            ..NoticeForm::default()
        };
        return Err(form_page(StatusCode::FORBIDDEN, page, form));
    }
    if !RateLimit::LOOKUPS
        .allow(&state.store, &client.limit_key())
        .await
    {
        let form = NoticeForm {
            error: Some(page.t.too_many_attempts),
            for_receipt,
            ..NoticeForm::default()
        };
        return Err(form_page(StatusCode::TOO_MANY_REQUESTS, page, form));
    }
    Ok(posted)
}

/// The answer to a form whose token does not match the browser's.
pub(super) fn expired(page: &PageContext) -> Response {
    let form = NoticeForm {
        error: Some(page.t.session_expired),
        ..NoticeForm::default()
    };
    form_page(StatusCode::FORBIDDEN, page, form)
}

pub(super) fn form_page(status: StatusCode, page: &PageContext, form: NoticeForm) -> Response {
    let view = NoticePage {
        page: page.clone(),
        form,
        found: None,
    };
    render_with_status(status, &view.page, &view)
}

/// The posted form's notice and its position: after the token and the
/// rate limit, the fields are checked and the pair looked up. `Err` is the
/// page to answer with: the form with its errors, or the neutral "not
/// found" that does not say which half was wrong.
pub(super) async fn posted_notice(
    state: &PortalState,
    page: &PageContext,
    request: Request,
    purpose: Purpose,
) -> Result<(Posted, String, StoredPosition), Response> {
    let posted = read_post(state, page, request, purpose).await?;
    let (notice, debtor) = check(page, &posted, purpose)
        .map_err(|form| form_page(StatusCode::UNPROCESSABLE_ENTITY, page, *form))?;
    let found = state
        .store
        .positions_by_notice_and_debtor(&notice, &debtor)
        .await
        .map_err(|e| super::internal_error(page, e))?
        .into_iter()
        .next();
    match found {
        Some(position) => Ok((posted, notice, position)),
        None => {
            let form = NoticeForm {
                notice: posted.notice.trim().to_owned(),
                fiscal_code: posted.fiscal_code.trim().to_owned(),
                email: posted.email.trim().to_owned(),
                error: Some(if purpose == Purpose::Receipt {
                    page.t.receipt_not_found
                } else {
                    page.t.notice_not_found
                }),
                for_receipt: purpose == Purpose::Receipt,
                ..NoticeForm::default()
            };
            Err(form_page(StatusCode::OK, page, form))
        }
    }
}

pub async fn lookup(
    State(state): State<PortalState>,
    page: PageContext,
    request: Request,
) -> Response {
    let (posted, notice, position) =
        match posted_notice(&state, &page, request, Purpose::Lookup).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    let ente = match state.store.ente_by_id(position.ente_id).await {
        Ok(Some(ente)) => ente,
        Ok(None) => return super::internal_error(&page, "a position without its ente"),
        Err(e) => return super::internal_error(&page, e),
    };
    let now = Timestamp::now();
    let option = position
        .options
        .iter()
        .find(|o| o.notice_number == notice)
        .expect("the position was found by this notice number");
    let printable = notice_of(&position, &ente, &Default::default(), now).is_ok();
    let paid = option.status == OptionStatus::Paid;
    // The node's own rule (a payment in progress may end either way: the
    // cart says so if it is still going on).
    let index = position
        .options
        .iter()
        .position(|o| o.notice_number == notice)
        .expect("the position was found by this notice number");
    let payable = match state.store.payability(&position, now).await {
        Ok(verdicts) => matches!(
            verdicts[index],
            Ok(()) | Err(cassa_core::debt::NotPayable::InProgress)
        ),
        Err(e) => return super::internal_error(&page, e),
    };
    let status = match (paid, payable) {
        (true, _) => page.t.notice_paid,
        (false, true) => page.t.notice_payable,
        (false, false) => page.t.notice_closed,
    };
    let found = Found {
        ente_name: ente.name,
        subject: option.description.clone(),
        debtor: position.debtor_name.clone(),
        notice_printed: NoticeNumber::parse(&notice)
            .map(|n| n.notice.printed())
            .unwrap_or(notice.clone()),
        amount: option.amount.to_italian(),
        due_date: printed_due_date(option.due_date).map_or_else(
            || page.t.no_due_date.to_owned(),
            cassa_documents::text::date,
        ),
        status,
        printable,
        payable,
    };
    let view = NoticePage {
        form: NoticeForm {
            notice,
            fiscal_code: position.debtor_fiscal_code.clone(),
            email: posted.email.trim().to_owned(),
            ..NoticeForm::default()
        },
        found: Some(found),
        page,
    };
    render(&view.page, &view)
}

/// The notice's PDF, for the same two codes.
pub async fn pdf(
    State(state): State<PortalState>,
    page: PageContext,
    request: Request,
) -> Response {
    let (_, notice, position) = match posted_notice(&state, &page, request, Purpose::Action).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let ente = match state.store.ente_by_id(position.ente_id).await {
        Ok(Some(ente)) => ente,
        Ok(None) => return super::internal_error(&page, "a position without its ente"),
        Err(e) => return super::internal_error(&page, e),
    };
    match cassa_jobs::printouts::notice_pdf(&state.store, &ente, &position).await {
        Ok(Some(bytes)) => cassa_http::pdf_response(bytes, &format!("avviso-{notice}.pdf"), true),
        Ok(None) => {
            let form = NoticeForm {
                error: Some(page.t.notice_closed),
                ..NoticeForm::default()
            };
            form_page(StatusCode::CONFLICT, &page, form)
        }
        Err(e) => super::internal_error(&page, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_numbers_and_iuvs_are_both_accepted() {
        assert_eq!(
            notice_number("3020 0000 0000 0001 84").as_deref(),
            Some("302000000000000184")
        );
        assert_eq!(
            notice_number("02000000000000184").as_deref(),
            Some("302000000000000184")
        );
        assert_eq!(notice_number("12345"), None);
        assert_eq!(notice_number("30200000000000018x"), None);
    }
}
