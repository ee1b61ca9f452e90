//! The PDFs of a debt position over the API: its payment notice, and its
//! receipt once paid. Same API key and scoping as the GPD operations.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use cassa_pagopa::gpd::titles;
use jiff::Timestamp;

use super::auth::EnteAccess;
use super::debt_positions::stored_position;
use super::errors::ApiError;
use crate::ApiState;
use cassa_jobs::printouts::{notice_of, receipts_of};

fn pdf(bytes: Vec<u8>, file_name: &str) -> Response {
    cassa_http::pdf_response(bytes, file_name, false)
}

fn conflict(detail: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, titles::NO_DOCUMENT, detail)
}

/// Rendering is CPU work: it runs off the async workers.
async fn render<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, cassa_documents::DocumentError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(cassa_documents::DocumentError::Invalid(why))) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            titles::NOT_PRINTABLE,
            format!("the notice cannot be printed: {why}"),
        )),
        Ok(Err(e)) => Err(ApiError::internal(e)),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// `GET .../debtpositions/{iupd}/notice`: the avviso di pagamento.
pub async fn notice(
    State(state): State<ApiState>,
    access: EnteAccess,
    Path((organization, iupd)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let position = stored_position(&state, &access, &organization, &iupd).await?;
    let printing = state.store.ente_printing(access.ente.id).await?;
    let notice = notice_of(&position, &access.ente, &printing, Timestamp::now())
        .map_err(|why| conflict(why.reason()))?;
    let bytes = render(move || cassa_documents::render_notice(&notice)).await?;
    Ok(pdf(bytes, &format!("avviso-{iupd}.pdf")))
}

/// `GET .../debtpositions/{iupd}/receipt`: the receipts of its paid options.
pub async fn receipt(
    State(state): State<ApiState>,
    access: EnteAccess,
    Path((organization, iupd)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let position = stored_position(&state, &access, &organization, &iupd).await?;
    let stored = state
        .store
        .receipts_of_position(access.ente.id, position.id)
        .await?;
    let printing = state.store.ente_printing(access.ente.id).await?;
    let receipts = receipts_of(&position, &access.ente, &printing, &stored);
    if receipts.is_empty() {
        return Err(conflict(
            "the debt position has no payment receipt yet".to_owned(),
        ));
    }
    let bytes = render(move || cassa_documents::render_receipts(&receipts)).await?;
    Ok(pdf(bytes, &format!("ricevuta-{iupd}.pdf")))
}
