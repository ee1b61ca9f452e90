//! A small HTTP API so that tests and the demo can drive the simulator:
//! `POST /pay-notice {"ente": "...", "notice": "..."}` pays a notice as a
//! PSP would and answers what happened. Checkout's carts API is beside it
//! (see `checkout`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use std::sync::Arc;

use crate::checkout::{self, CheckoutState, Checkouts};
use crate::{NodeClient, PayError, Psp, RetryPolicy, pay_notice};

#[derive(Clone)]
pub struct SimState {
    pub client: NodeClient,
    pub psp: Psp,
    pub retry: RetryPolicy,
    pub checkouts: Arc<Checkouts>,
}

#[derive(Deserialize)]
struct PayNotice {
    ente: String,
    notice: String,
}

pub fn router(state: SimState) -> Router {
    let checkout = checkout::routes(CheckoutState {
        client: state.client.clone(),
        retry: state.retry.clone(),
        checkouts: state.checkouts.clone(),
    });
    Router::new()
        .route("/pay-notice", post(pay))
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .with_state(state)
        .merge(checkout)
}

async fn pay(State(state): State<SimState>, Json(request): Json<PayNotice>) -> Response {
    match pay_notice(
        &state.client,
        &state.psp,
        &request.ente,
        &request.notice,
        &state.retry,
    )
    .await
    {
        Ok(paid) => (
            StatusCode::OK,
            Json(json!({ "outcome": "OK", "payment": paid })),
        )
            .into_response(),
        Err(PayError::Refused { operation, fault }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(
                json!({ "outcome": "KO", "operation": operation, "faultCode": fault.fault_code,
                          "faultString": fault.fault_string, "description": fault.description }),
            ),
        )
            .into_response(),
        // The EC broke the spec or could not be reached: loud, as a 502.
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            Json(json!({ "outcome": "ERROR", "error": e.to_string() })),
        )
            .into_response(),
    }
}
