//! The debt-position operations of GPD's API, same paths, bodies and codes.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use cassa_core::Iban;
use cassa_core::debt::DebtPositionDraft;
use cassa_pagopa::gpd::{
    EnteContext, PageInfo, PaymentPositionRequest, PaymentPositionsInfo,
    UpdateTransferIbanMassiveModel, UpdateTransferIbanMassiveResponse, parse_body, titles,
    to_draft,
};
use cassa_store::{Actor, Origin, PositionWrite, StoredPosition};
use jiff::Timestamp;

use super::auth::EnteAccess;
use super::errors::ApiError;
use super::query::QueryParams;
use super::responses::{position_model, position_response};
use crate::ApiState;

fn draft_from(body: &[u8], access: &EnteAccess) -> Result<DebtPositionDraft, ApiError> {
    let request: PaymentPositionRequest = parse_body(body).map_err(ApiError::bad_request)?;
    to_draft(
        request,
        EnteContext {
            fiscal_code: &access.ente.fiscal_code,
            segregation_code: access.ente.segregation_code,
        },
    )
    .map_err(|v| ApiError::violations(&v))
}

fn actor(access: &EnteAccess) -> Actor<'_> {
    Actor {
        name: &access.actor,
        request_id: access.request_id.as_deref(),
    }
}

pub async fn create(
    State(state): State<ApiState>,
    access: EnteAccess,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let to_publish = QueryParams::parse(query.as_deref()).flag("toPublish")?;
    let draft = draft_from(&body, &access)?;
    let now = Timestamp::now();
    let position = state
        .store
        .create_position(PositionWrite {
            ente: &access.ente,
            tipo_dovuto_id: None,
            draft: &draft,
            to_publish,
            origin: Origin::Api,
            actor: actor(&access),
            now,
        })
        .await
        .map_err(|e| ApiError::from_create(e, &access.ente.fiscal_code))?;
    Ok((StatusCode::CREATED, Json(position_model(&position, now))).into_response())
}

/// The ente's position `iupd`, or GPD's 404.
pub(super) async fn stored_position(
    state: &ApiState,
    access: &EnteAccess,
    organization: &str,
    iupd: &str,
) -> Result<StoredPosition, ApiError> {
    state
        .store
        .position(access.ente.id, iupd)
        .await?
        .ok_or_else(|| ApiError::not_found(organization, iupd))
}

pub async fn get_one(
    State(state): State<ApiState>,
    access: EnteAccess,
    Path((organization, iupd)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let position = stored_position(&state, &access, &organization, &iupd).await?;
    Ok(Json(position_response(
        &position,
        &access.ente.fiscal_code,
        Timestamp::now(),
    ))
    .into_response())
}

pub async fn list(
    State(state): State<ApiState>,
    access: EnteAccess,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let filter = QueryParams::parse(query.as_deref()).list_filter()?;
    let page = state.store.list_positions(access.ente.id, &filter).await?;
    let now = Timestamp::now();
    let total_pages = page.total.div_ceil(u64::from(filter.limit));
    Ok(Json(PaymentPositionsInfo {
        page_info: PageInfo {
            page: filter.page,
            limit: filter.limit,
            items_found: page.positions.len() as u32,
            total_pages: u32::try_from(total_pages).unwrap_or(u32::MAX),
        },
        payment_position_list: page
            .positions
            .iter()
            .map(|p| position_response(p, &access.ente.fiscal_code, now))
            .collect(),
    })
    .into_response())
}

pub async fn update(
    State(state): State<ApiState>,
    access: EnteAccess,
    Path((organization, iupd)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let to_publish = QueryParams::parse(query.as_deref()).flag("toPublish")?;
    let draft = draft_from(&body, &access)?;
    if draft.iupd != iupd {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            titles::REQUEST_DATA_ERROR,
            format!(
                "IUPD mismatch error: path variable IUPD [{iupd}] and request body IUPD [{}] must be the same",
                draft.iupd
            ),
        ));
    }
    let now = Timestamp::now();
    let position = state
        .store
        .update_position(PositionWrite {
            ente: &access.ente,
            tipo_dovuto_id: None,
            draft: &draft,
            to_publish,
            origin: Origin::Api,
            actor: actor(&access),
            now,
        })
        .await
        .map_err(|e| ApiError::from_change(e, &organization, &iupd))?;
    Ok(Json(position_model(&position, now)).into_response())
}

pub async fn delete(
    State(state): State<ApiState>,
    access: EnteAccess,
    Path((organization, iupd)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    state
        .store
        .delete_position(access.ente.id, &iupd, actor(&access), Timestamp::now())
        .await
        .map_err(|e| ApiError::from_change(e, &organization, &iupd))?;
    Ok(Json("The debt position was successfully deleted").into_response())
}

pub async fn publish(
    State(state): State<ApiState>,
    access: EnteAccess,
    Path((organization, iupd)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let position = state
        .store
        .publish_position(access.ente.id, &iupd, actor(&access), now)
        .await
        .map_err(|e| ApiError::from_change(e, &organization, &iupd))?;
    Ok(Json(position_model(&position, now)).into_response())
}

pub async fn invalidate(
    State(state): State<ApiState>,
    access: EnteAccess,
    Path((organization, iupd)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let position = state
        .store
        .invalidate_position(access.ente.id, &iupd, actor(&access), now)
        .await
        .map_err(|e| ApiError::from_change(e, &organization, &iupd))?;
    Ok(Json(position_model(&position, now)).into_response())
}

/// Moves the unpaid transfers of open positions from one IBAN to another.
pub async fn replace_iban(
    State(state): State<ApiState>,
    access: EnteAccess,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = QueryParams::parse(query.as_deref());
    let old_iban = params.required("oldIban")?.trim().to_owned();
    let limit = params.number("limit", 1000, 1, 1000)?;
    let model: UpdateTransferIbanMassiveModel = parse_body(&body).map_err(ApiError::bad_request)?;
    let new_iban = model
        .new_iban
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("newIban: new IBAN is required"))?;
    let new_iban = Iban::parse(&new_iban).map_err(|e| {
        ApiError::bad_request(format!("newIban: {new_iban:?} is not a valid IBAN: {e}"))
    })?;
    let updated = state
        .store
        .replace_transfer_iban(
            access.ente.id,
            &old_iban,
            new_iban.as_str(),
            limit,
            actor(&access),
            Timestamp::now(),
        )
        .await?;
    Ok(Json(UpdateTransferIbanMassiveResponse {
        description: format!("Updated IBAN on {updated} Transfers"),
        updated_transfers: u32::try_from(updated).unwrap_or(u32::MAX),
    })
    .into_response())
}
