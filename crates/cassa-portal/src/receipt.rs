//! Ricevuta Telematica: a citizen finds the receipt of a payment by the
//! notice number (or IUV) and the debtor's codice fiscale, and downloads
//! it as a PDF. The same guards as Paga Avviso: form token, rate limit per
//! client, and one neutral answer whether the notice, the codice fiscale
//! or the payment was missing.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::notice::{NoticeForm, Purpose, form_page, posted_notice};
use super::{PageContext, pages};
use crate::PortalState;

pub async fn form(page: PageContext) -> Response {
    let form = NoticeForm {
        for_receipt: true,
        ..NoticeForm::default()
    };
    form_page(StatusCode::OK, &page, form)
}

/// `POST /ricevuta`: the receipt's PDF, or the form with the neutral message.
pub async fn download(
    State(state): State<PortalState>,
    page: PageContext,
    request: Request,
) -> Response {
    let (posted, notice, position) =
        match posted_notice(&state, &page, request, Purpose::Receipt).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    match cassa_jobs::printouts::receipt_pdf_of_notice(&state.store, position.ente_id, &notice)
        .await
    {
        Ok(Some(bytes)) => pdf(bytes, &notice),
        Ok(None) => {
            let form = NoticeForm {
                notice: posted.notice().to_owned(),
                fiscal_code: posted.fiscal_code().to_owned(),
                error: Some(page.t.receipt_not_found),
                for_receipt: true,
                ..NoticeForm::default()
            };
            form_page(StatusCode::OK, &page, form)
        }
        Err(e) => super::internal_error(&page, e),
    }
}

fn pdf(bytes: Vec<u8>, notice: &str) -> Response {
    cassa_http::pdf_response(bytes, &format!("ricevuta-{notice}.pdf"), true)
}

/// The receipt PDF of a notice already known to be the asker's (an
/// outcome page's), or a page saying it has not arrived yet.
pub(super) async fn receipt_pdf(
    state: &PortalState,
    page: &PageContext,
    ente_id: i64,
    notice: &str,
) -> Response {
    match cassa_jobs::printouts::receipt_pdf_of_notice(&state.store, ente_id, notice).await {
        Ok(Some(bytes)) => pdf(bytes, notice),
        Ok(None) => {
            let view = pages::Message {
                page: page.clone(),
                heading: page.t.receipt_title,
                text: page.t.receipt_not_yet,
            };
            super::render_with_status(StatusCode::NOT_FOUND, page, &view)
        }
        Err(e) => super::internal_error(page, e),
    }
}
