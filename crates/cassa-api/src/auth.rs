//! Authentication of the integration API: a per-ente key in the
//! `Ocp-Apim-Subscription-Key` header, as GPD's gateway expects. The key
//! decides the ente; the ente in the path must be that one.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::StatusCode;
use axum::http::request::Parts;
use cassa_pagopa::gpd::titles;
use cassa_store::Ente;

use super::errors::ApiError;
use crate::{ApiState, api_key};
use cassa_http::RequestId;

pub const KEY_HEADER: &str = "ocp-apim-subscription-key";

/// The ente a request may act on, and who is acting.
pub struct EnteAccess {
    pub ente: Ente,
    /// `apikey:<id>`, for the audit log.
    pub actor: String,
    pub request_id: Option<String>,
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, titles::UNAUTHORIZED, detail)
}

impl FromRequestParts<ApiState> for EnteAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let secret = parts
            .headers
            .get(KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                unauthorized("Missing API key: send it in the Ocp-Apim-Subscription-Key header")
            })?;
        let owner = state
            .store
            .api_key_owner(&api_key::hash(secret))
            .await?
            .ok_or_else(|| unauthorized("The API key is not valid or has been revoked"))?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::internal(format!("path parameters: {e}")))?;
        let requested = params
            .iter()
            .find(|(name, _)| *name == "organizationfiscalcode")
            .map(|(_, value)| value.to_owned())
            .unwrap_or_default();
        if requested != owner.ente.fiscal_code {
            return Err(ApiError::Forbidden(format!(
                "You are not allowed to access this resource: the API key belongs to organization {}, not {requested}",
                owner.ente.fiscal_code
            )));
        }
        if !owner.ente.active {
            return Err(ApiError::Forbidden(format!(
                "You are not allowed to access this resource: organization {requested} is suspended"
            )));
        }
        Ok(EnteAccess {
            ente: owner.ente,
            actor: format!("apikey:{}", owner.key_id),
            request_id: parts.extensions.get::<RequestId>().map(|r| r.0.clone()),
        })
    }
}
