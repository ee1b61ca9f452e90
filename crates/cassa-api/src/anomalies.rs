//! `GET /organizations/{cf}/anomalies`: the ente's receipts that were kept
//! but not applied (a cassa extension), so an ente's own software sees the
//! money that arrived without paying a debt, and what was done about it.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cassa_pagopa::gpd::titles;
use cassa_store::{AnomalyFilter, StoredReceipt};
use serde::{Deserialize, Serialize};

use super::auth::EnteAccess;
use super::errors::ApiError;
use crate::ApiState;

#[derive(Deserialize)]
pub struct ListQuery {
    /// `true`: only handled ones; `false`: only those still to handle.
    handled: Option<bool>,
    #[serde(default = "default_limit")]
    limit: u32,
}

fn default_limit() -> u32 {
    100
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AnomalyModel {
    id: i64,
    receipt_id: String,
    notice_number: String,
    /// What kind of anomaly: double_payment, unknown_notice,
    /// amount_mismatch, superseded, cancelled_debt.
    status: &'static str,
    amount: String,
    fee: Option<String>,
    psp_id: String,
    psp_company_name: String,
    payer_fiscal_code: Option<String>,
    payer_name: Option<String>,
    payment_date_time: Option<String>,
    received_at: String,
    handled_at: Option<String>,
    handled_by: Option<String>,
    handled_note: Option<String>,
    /// The receipt as the node sent it (one anomaly only).
    #[serde(skip_serializing_if = "Option::is_none")]
    raw_xml: Option<String>,
}

fn model(r: StoredReceipt, with_xml: bool) -> AnomalyModel {
    AnomalyModel {
        id: r.id,
        receipt_id: r.receipt_id,
        notice_number: r.notice_number,
        status: r.status.code(),
        amount: r.amount.to_decimal(),
        fee: r.fee.map(|f| f.to_decimal()),
        psp_id: r.psp_id,
        psp_company_name: r.psp_company_name,
        payer_fiscal_code: r.payer_fiscal_code,
        payer_name: r.payer_name,
        payment_date_time: r.payment_date_time.map(|t| t.to_string()),
        received_at: r.received_at.to_string(),
        handled_at: r.handled_at.map(|t| t.to_string()),
        handled_by: r.handled_by,
        handled_note: r.handled_note,
        raw_xml: with_xml.then_some(r.raw_xml),
    }
}

pub async fn list(
    State(state): State<ApiState>,
    access: EnteAccess,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let anomalies = state
        .store
        .anomalies(&AnomalyFilter {
            ente_ids: Some(vec![access.ente.id]),
            handled: query.handled,
            limit: query.limit.clamp(1, 1000),
        })
        .await?;
    let models: Vec<AnomalyModel> = anomalies.into_iter().map(|r| model(r, false)).collect();
    Ok(Json(models).into_response())
}

pub async fn get_one(
    State(state): State<ApiState>,
    access: EnteAccess,
    Path((organization, id)): Path<(String, i64)>,
) -> Result<Response, ApiError> {
    match state.store.anomaly(access.ente.id, id).await? {
        Some(r) => Ok(Json(model(r, true)).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            titles::NOT_FOUND,
            format!("Not found an anomaly {id} for Organization Fiscal Code {organization}"),
        )),
    }
}
