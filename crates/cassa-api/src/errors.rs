//! Errors of the integration API, written as GPD writes them: a
//! `ProblemJson` body (`title`, `status`, `detail`) with GPD's titles.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cassa_core::debt::{Refusal, Violation, ViolationKind};
use cassa_pagopa::gpd::{ProblemJson, titles};
use cassa_store::{CreateError, PositionChangeError, StoreError};

#[derive(Debug)]
pub enum ApiError {
    Problem {
        status: StatusCode,
        title: &'static str,
        detail: String,
    },
    /// The key is valid but not for this ente: GPD's gateway answers with
    /// its own body shape, `{statusCode, message}`.
    Forbidden(String),
}

impl ApiError {
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Problem {
            status,
            title,
            detail: detail.into(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, titles::BAD_REQUEST, detail)
    }

    pub fn not_found(ente: &str, iupd: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            titles::NOT_FOUND,
            format!(
                "Not found a debt position for Organization Fiscal Code {ente} and IUPD {iupd}"
            ),
        )
    }

    /// Broken rules: all of them, each as `field: reason`.
    pub fn violations(violations: &[Violation]) -> Self {
        let title = if violations
            .iter()
            .any(|v| v.kind == ViolationKind::Congruence)
        {
            titles::REQUEST_DATA_ERROR
        } else {
            titles::BAD_REQUEST
        };
        let detail = violations
            .iter()
            .map(|v| format!("{}: {}", v.field, v.message))
            .collect::<Vec<_>>()
            .join(", ");
        Self::new(StatusCode::BAD_REQUEST, title, detail)
    }

    /// A store failure: busy or unreachable is 503 (retry), anything else 500.
    pub fn store(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(why) => {
                tracing::warn!(why, "store unavailable: answered 503");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    titles::INTERNAL_SERVER_ERROR,
                    "The service is busy or its database unreachable; retry shortly",
                )
            }
            other => Self::internal(other),
        }
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            titles::INTERNAL_SERVER_ERROR,
            "An unexpected error occurred; it has been logged",
        )
    }

    pub fn refused(refusal: Refusal, ente: &str, iupd: &str) -> Self {
        let subject =
            format!("the debt position with Organization Fiscal Code {ente} and IUPD {iupd}");
        let (title, detail) = match refusal {
            Refusal::NotUpdatable => (
                titles::NOT_UPDATABLE,
                format!(
                    "A payment transaction has already been carried out or, {subject}, is not in updatable state"
                ),
            ),
            Refusal::PaymentFound => (
                titles::PAYMENT_FOUND,
                format!("A payment transaction has already been carried out on {subject}"),
            ),
            Refusal::NotPublishable => (
                titles::NOT_PUBLISHABLE,
                format!(
                    "A payment transaction has already been carried out or, {subject}, is not in publishable state"
                ),
            ),
            Refusal::NotInvalidable => (
                titles::NOT_INVALIDABLE,
                format!(
                    "A payment transaction has already been carried out or, {subject}, is not in invalidable state"
                ),
            ),
            Refusal::ValidityDateStarted => (
                titles::PUBLISH_VALIDITY_DATE_MISMATCH,
                format!(
                    "A publish request has been made after the validity date began for {subject}"
                ),
            ),
            Refusal::DueDateExpired => (
                titles::PUBLISH_DUE_DATE_MISMATCH,
                format!(
                    "A publish request occurred after the due date of a payment options has expired for {subject}"
                ),
            ),
            Refusal::PaymentInProgress => (
                titles::PAYMENT_IN_PROGRESS,
                format!("A payment of {subject} is in progress; retry when it has ended"),
            ),
            Refusal::DueDateBeforeValidity => (
                titles::PUBLISH_DUE_DATE_BEFORE_VALIDITY_DATE,
                format!(
                    "Invalid publish request: the payment option due date cannot be before the validity date for {subject}"
                ),
            ),
        };
        Self::new(StatusCode::CONFLICT, title, detail)
    }

    fn duplicate(ente: &str, what: String) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            titles::UNIQUE_VIOLATION,
            format!(
                "Already exists a debt position for the Organization Fiscal Code {ente} or one of its payment \
                 options is not unique: {what}"
            ),
        )
    }

    pub fn from_create(e: CreateError, ente: &str) -> Self {
        match e {
            CreateError::Invalid(v) => Self::violations(&v),
            CreateError::DuplicateIupd(iupd) => {
                Self::duplicate(ente, format!("the IUPD {iupd} is already used"))
            }
            CreateError::DuplicateIuv(iuv) => {
                Self::duplicate(ente, format!("the IUV {iuv} is already used"))
            }
            CreateError::Store(e) => Self::store(e),
        }
    }

    pub fn from_change(e: PositionChangeError, ente: &str, iupd: &str) -> Self {
        match e {
            PositionChangeError::NotFound(_) => Self::not_found(ente, iupd),
            PositionChangeError::Refused(r) => Self::refused(r, ente, iupd),
            PositionChangeError::Invalid(v) => Self::violations(&v),
            PositionChangeError::DuplicateIuv(iuv) => {
                Self::duplicate(ente, format!("the IUV {iuv} is already used"))
            }
            PositionChangeError::PaymentInProgress(notice) => Self::new(
                StatusCode::CONFLICT,
                titles::PAYMENT_IN_PROGRESS,
                format!(
                    "A payment of notice {notice} of the debt position with Organization Fiscal Code \
                     {ente} and IUPD {iupd} is in progress; retry when it has ended"
                ),
            ),
            PositionChangeError::Store(e) => Self::store(e),
            e @ PositionChangeError::OutOfIuvs(_) => Self::internal(e),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::store(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Problem {
                status,
                title,
                detail,
            } => (
                status,
                Json(ProblemJson {
                    title: title.to_owned(),
                    status: status.as_u16(),
                    detail,
                }),
            )
                .into_response(),
            ApiError::Forbidden(message) => (
                StatusCode::FORBIDDEN,
                Json(serde_json::json!({ "statusCode": 403, "message": message })),
            )
                .into_response(),
        }
    }
}
