//! The pagoPA node endpoint: `POST /pagopa/paForNode` (paForNode.wsdl).
//! Faults the spec defines travel as `outcome` KO with a fault bean (HTTP
//! 200); a request too broken to name an operation gets a SOAP Fault (500).

mod answers;
pub mod fence;

pub use fence::NodeFence;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use cassa_core::Cents;
use cassa_core::debt::{InstallmentRefusal, NotPayable};
use cassa_pagopa::node::model::{
    GetPaymentRequest, GetPaymentResponse, SendRtRequest, SendRtResponse, VerifyRequest,
    VerifyResponse,
};
use cassa_pagopa::node::soap::{
    MAX_MESSAGE_BYTES, body_element, decode, write_message, write_soap_fault,
};
use cassa_pagopa::node::{FaultCode, Operation, SoapError, check};
use cassa_store::{ActivationRequest, NewReceipt, PayRefusal, ReceiptOutcome, ReceiptStatus};
use jiff::{SignedDuration, Timestamp};

use cassa_store::Store;

/// Our identity towards the node: the broker (intermediario) and station.
#[derive(Clone, Debug)]
pub struct NodeSettings {
    pub broker_id: String,
    pub station_id: String,
    /// How long an activation blocks other activations of the same notice.
    pub activation_validity: SignedDuration,
    /// Serve `POST /pagopa/echo`, a SOAP route that does nothing (benchmarks).
    pub echo_route: bool,
    /// Who may call the endpoint.
    pub fence: NodeFence,
}

impl Default for NodeSettings {
    fn default() -> Self {
        NodeSettings {
            broker_id: "80050050154".into(),
            station_id: "80050050154_01".into(),
            activation_validity: SignedDuration::from_mins(30),
            echo_route: false,
            fence: NodeFence::default(),
        }
    }
}

/// What the node endpoint reaches.
#[derive(Clone)]
pub struct NodeState {
    pub store: Store,
    pub node: std::sync::Arc<NodeSettings>,
}

/// `/pagopa/*`, every route behind the fence.
pub fn routes(state: NodeState) -> Router {
    let mut routes = Router::new().route("/pagopa/paForNode", post(pa_for_node));
    if state.node.echo_route {
        routes = routes.route("/pagopa/echo", post(echo));
    }
    routes
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            fence::guard,
        ))
        .with_state(state)
}

/// The floor for benchmarks: reads the body, answers a fixed OK, nothing else.
async fn echo(body: axum::body::Bytes) -> Response {
    let _ = body;
    xml(
        StatusCode::OK,
        write_message(
            Operation::SendRtV2.response_element(),
            &SendRtResponse {
                outcome: "OK".into(),
                fault: None,
            },
        ),
    )
}

fn xml(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

fn soap_fault(code: &str, message: &str) -> Response {
    tracing::warn!(message, "SOAP fault");
    xml(
        StatusCode::INTERNAL_SERVER_ERROR,
        write_soap_fault(code, message),
    )
}

/// An answer of the operation, `outcome` KO.
fn ko(operation: Operation, code: FaultCode, id: &str, description: &str) -> Response {
    tracing::info!(
        operation = operation.soap_action(),
        fault = code.code(),
        description,
        "KO to the node"
    );
    let fault = Some(code.bean(id, description));
    let element = operation.response_element();
    let body = match operation {
        Operation::VerifyPaymentNotice => write_message(
            element,
            &VerifyResponse {
                outcome: "KO".into(),
                fault,
                payment_list: None,
                payment_description: None,
                fiscal_code_pa: None,
                company_name: None,
                office_name: None,
            },
        ),
        Operation::GetPayment | Operation::GetPaymentV2 => write_message(
            element,
            &GetPaymentResponse {
                outcome: "KO".into(),
                fault,
                data: None,
            },
        ),
        Operation::SendRt | Operation::SendRtV2 => write_message(
            element,
            &SendRtResponse {
                outcome: "KO".into(),
                fault,
            },
        ),
    };
    xml(StatusCode::OK, body)
}

fn ok(operation: Operation, body: &impl serde::Serialize) -> Response {
    xml(
        StatusCode::OK,
        write_message(operation.response_element(), body),
    )
}

/// A KO answer, already written.
struct Ko(Response);

async fn pa_for_node(State(state): State<NodeState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(Body::new(body), MAX_MESSAGE_BYTES + 1).await {
        Ok(b) if b.len() <= MAX_MESSAGE_BYTES => b,
        Ok(_) | Err(_) => return soap_fault("Client", &SoapError::TooLarge.to_string()),
    };
    let element = match body_element(&bytes) {
        Ok(e) => e,
        Err(e) => return soap_fault("Client", &e.to_string()),
    };
    let Some(operation) = Operation::from_request_element(&element.name) else {
        return soap_fault(
            "Client",
            &SoapError::UnknownOperation(element.name.clone()).to_string(),
        );
    };
    if let Some(action) = soap_action(&parts.headers)
        && Operation::from_soap_action(&action) != Some(operation)
    {
        return soap_fault(
            "Client",
            &SoapError::ActionMismatch {
                action,
                element: element.name,
            }
            .to_string(),
        );
    }
    let station = &state.node;
    let syntax = |e: String| {
        Ko(ko(
            operation,
            FaultCode::SintassiExtraxsd,
            &station.broker_id,
            &e,
        ))
    };
    let result = match operation {
        Operation::VerifyPaymentNotice => match decode::<VerifyRequest>(&element) {
            Ok(r) => verify(&state, r).await,
            Err(e) => Err(syntax(e.to_string())),
        },
        Operation::GetPayment | Operation::GetPaymentV2 => {
            match decode::<GetPaymentRequest>(&element) {
                Ok(r) => get_payment(&state, operation, r).await,
                Err(e) => Err(syntax(e.to_string())),
            }
        }
        Operation::SendRt | Operation::SendRtV2 => match decode::<SendRtRequest>(&element) {
            Ok(r) => send_rt(&state, operation, r, &bytes).await,
            Err(e) => Err(syntax(e.to_string())),
        },
    };
    result.unwrap_or_else(|Ko(response)| response)
}

fn soap_action(headers: &HeaderMap) -> Option<String> {
    headers
        .get("soapaction")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
}

/// The checks every request shares: schema rules, our broker and station,
/// an ente we serve. Returns the ente.
async fn accept(
    state: &NodeState,
    operation: Operation,
    rules: Result<(), Vec<String>>,
    id_pa: &str,
    id_broker_pa: &str,
    id_station: &str,
    notice_fiscal_code: &str,
) -> Result<cassa_store::Ente, Ko> {
    let station = &state.node;
    if let Err(problems) = rules {
        return Err(Ko(ko(
            operation,
            FaultCode::SintassiExtraxsd,
            &station.broker_id,
            &problems.join("; "),
        )));
    }
    if id_broker_pa != station.broker_id {
        let why = format!(
            "idBrokerPA {id_broker_pa} is not this intermediary ({})",
            station.broker_id
        );
        return Err(Ko(ko(
            operation,
            FaultCode::IdIntermediarioErrato,
            id_pa,
            &why,
        )));
    }
    // A suspended ente takes no new payment, but a receipt is money
    // already taken: it is kept whatever the ente's state.
    let receipt = matches!(operation, Operation::SendRt | Operation::SendRtV2);
    let ente = match state.store.ente_by_fiscal_code(id_pa).await {
        Ok(Some(ente)) if ente.active || receipt => ente,
        Ok(_) => {
            let why = format!("idPA {id_pa} is not an ente of this station");
            return Err(Ko(ko(operation, FaultCode::IdDominioErrato, id_pa, &why)));
        }
        Err(e) => return Err(system_error(operation, id_pa, e)),
    };
    // The platform's station, or one the node knew the ente by before.
    if id_station != station.station_id && !ente.station_ids.iter().any(|s| s == id_station) {
        let why = format!(
            "idStation {id_station} is not this station ({}) nor one of the ente's",
            station.station_id
        );
        return Err(Ko(ko(operation, FaultCode::StazioneIntErrata, id_pa, &why)));
    }
    if notice_fiscal_code != id_pa {
        let why = format!("the notice's fiscal code {notice_fiscal_code} is not idPA {id_pa}");
        return Err(Ko(ko(operation, FaultCode::IdDominioErrato, id_pa, &why)));
    }
    Ok(ente)
}

fn system_error(operation: Operation, id_pa: &str, error: impl std::fmt::Display) -> Ko {
    tracing::error!(operation = operation.soap_action(), error = %error, "node request failed");
    Ko(ko(
        operation,
        FaultCode::SystemError,
        id_pa,
        "internal error; it has been logged, please retry",
    ))
}

fn refusal(operation: Operation, id_pa: &str, notice: &str, refusal: PayRefusal) -> Ko {
    let (code, why) = match refusal {
        PayRefusal::UnknownNotice => (
            FaultCode::PagamentoSconosciuto,
            "no payment has this notice number",
        ),
        PayRefusal::NotPayable(NotPayable::Unknown) => (
            FaultCode::PagamentoSconosciuto,
            "the payment is not payable yet",
        ),
        PayRefusal::NotPayable(NotPayable::AlreadyPaid) => (
            FaultCode::PagamentoDuplicato,
            "the payment has already been made",
        ),
        PayRefusal::NotPayable(NotPayable::Expired) => (
            FaultCode::PagamentoScaduto,
            "the payment is past its due date",
        ),
        PayRefusal::NotPayable(NotPayable::Cancelled) => (
            FaultCode::PagamentoAnnullato,
            "the payment was cancelled or replaced by another option",
        ),
        PayRefusal::NotPayable(NotPayable::InProgress) => (
            FaultCode::PagamentoInCorso,
            "a payment of this notice is in progress",
        ),
        PayRefusal::NotPayable(NotPayable::Installment(InstallmentRefusal::PastValidity(_))) => (
            FaultCode::PagamentoScaduto,
            "the installment plan is past its end of validity",
        ),
        PayRefusal::NotPayable(NotPayable::Installment(_)) => (
            FaultCode::PagamentoSconosciuto,
            "this installment cannot be paid yet: an earlier one is unpaid or its period has not started",
        ),
        PayRefusal::StampNeedsV2 => (
            FaultCode::Semantica,
            "the payment includes a revenue stamp: use paGetPaymentV2",
        ),
    };
    Ko(ko(
        operation,
        code,
        id_pa,
        &format!("notice {notice}: {why}"),
    ))
}

async fn verify(state: &NodeState, r: VerifyRequest) -> Result<Response, Ko> {
    let op = Operation::VerifyPaymentNotice;
    let ente = accept(
        state,
        op,
        check::verify_request(&r),
        &r.id_pa,
        &r.id_broker_pa,
        &r.id_station,
        &r.qr_code.fiscal_code,
    )
    .await?;
    let notice = &r.qr_code.notice_number;
    let found = state
        .store
        .verify_notice(ente.id, notice, Timestamp::now())
        .await
        .map_err(|e| system_error(op, &r.id_pa, e))?
        .map_err(|e| refusal(op, &r.id_pa, notice, e))?;
    Ok(ok(op, &answers::verify_ok(&found, &ente.fiscal_code)))
}

async fn get_payment(
    state: &NodeState,
    op: Operation,
    r: GetPaymentRequest,
) -> Result<Response, Ko> {
    let ente = accept(
        state,
        op,
        check::get_payment_request(&r),
        &r.id_pa,
        &r.id_broker_pa,
        &r.id_station,
        &r.qr_code.fiscal_code,
    )
    .await?;
    let notice = &r.qr_code.notice_number;
    let request = ActivationRequest {
        ente_id: ente.id,
        notice_number: notice,
        operation: op.soap_action(),
        transfer_type: r.transfer_type.as_deref(),
        payment_note: r.payment_note.as_deref(),
        stamps_allowed: op == Operation::GetPaymentV2,
        validity: state.node.activation_validity,
        now: Timestamp::now(),
    };
    let found = state
        .store
        .activate_notice(&request)
        .await
        .map_err(|e| system_error(op, &r.id_pa, e))?
        .map_err(|e| refusal(op, &r.id_pa, notice, e))?;
    let postal = r.transfer_type.as_deref() == Some("POSTAL");
    let data = answers::payment_data(&found, op == Operation::GetPaymentV2, postal);
    Ok(ok(
        op,
        &GetPaymentResponse {
            outcome: "OK".into(),
            fault: None,
            data: Some(data),
        },
    ))
}

async fn send_rt(
    state: &NodeState,
    op: Operation,
    r: SendRtRequest,
    raw: &[u8],
) -> Result<Response, Ko> {
    let receipt = &r.receipt;
    let ente = accept(
        state,
        op,
        check::send_rt_request(&r),
        &r.id_pa,
        &r.id_broker_pa,
        &r.id_station,
        &receipt.fiscal_code,
    )
    .await?;
    let amount = Cents::parse_decimal(&receipt.payment_amount).map_err(|e| {
        Ko(ko(
            op,
            FaultCode::SintassiExtraxsd,
            &r.id_pa,
            &format!("receipt.paymentAmount: {e}"),
        ))
    })?;
    // A field we cannot read is refused, never dropped: the fee and the
    // payment time go into the ente's accounts and exports.
    let fee = receipt
        .fee
        .as_deref()
        .map(Cents::parse_decimal)
        .transpose()
        .map_err(|e| {
            Ko(ko(
                op,
                FaultCode::SintassiExtraxsd,
                &r.id_pa,
                &format!("receipt.fee: {e}"),
            ))
        })?;
    let paid_at = receipt
        .payment_date_time
        .as_deref()
        .map(cassa_pagopa::time::parse_datetime)
        .transpose()
        .map_err(|e| {
            Ko(ko(
                op,
                FaultCode::SintassiExtraxsd,
                &r.id_pa,
                &format!("receipt.paymentDateTime: {e}"),
            ))
        })?;
    let payer = receipt.payer.as_ref();
    let new = NewReceipt {
        ente_id: ente.id,
        receipt_id: &receipt.receipt_id,
        notice_number: &receipt.notice_number,
        ok: receipt.outcome == "OK",
        amount,
        fee,
        psp_id: &receipt.id_psp,
        psp_company_name: &receipt.psp_company_name,
        channel_id: &receipt.id_channel,
        payment_method: receipt.payment_method.as_deref(),
        payer_fiscal_code: payer.map(|p| p.unique_identifier.value.as_str()),
        payer_name: payer.map(|p| p.full_name.as_str()),
        payer_email: payer.and_then(|p| p.email.as_deref()),
        debtor_email: receipt.debtor.email.as_deref(),
        payment_note: receipt.payment_note.as_deref(),
        payment_date_time: paid_at,
        application_date: receipt.application_date.as_deref(),
        transfer_date: receipt.transfer_date.as_deref(),
        operation: op.soap_action(),
        raw_xml: &String::from_utf8_lossy(raw),
        now: Timestamp::now(),
    };
    let outcome = state
        .store
        .record_receipt(&new)
        .await
        .map_err(|e| system_error(op, &r.id_pa, e))?;
    if let ReceiptOutcome::Stored(status) = outcome
        && status.is_anomaly()
    {
        metrics::counter!("cassa_receipt_anomalies_total", "status" => status.code()).increment(1);
        tracing::warn!(
            ente = %ente.fiscal_code,
            notice = %receipt.notice_number,
            receipt = %receipt.receipt_id,
            status = status.code(),
            "receipt kept as an anomaly: an operator must handle it"
        );
    }
    // The same receipt always gets the same answer, however often it comes.
    let status = match outcome {
        ReceiptOutcome::Stored(s) | ReceiptOutcome::AlreadyStored(s) => s,
    };
    let (code, why) = match status {
        ReceiptStatus::Applied | ReceiptStatus::Ko => {
            let acknowledged = SendRtResponse {
                outcome: "OK".into(),
                fault: None,
            };
            return Ok(ok(op, &acknowledged));
        }
        ReceiptStatus::DoublePayment => (
            FaultCode::ReceiptDuplicata,
            "was already paid with another receipt",
        ),
        ReceiptStatus::UnknownNotice => (FaultCode::PagamentoSconosciuto, "is unknown"),
        ReceiptStatus::AmountMismatch => {
            (FaultCode::Semantica, "has another amount than this receipt")
        }
        ReceiptStatus::Superseded => (
            FaultCode::Semantica,
            "was replaced: the debt was paid another way (single payment or installments)",
        ),
        ReceiptStatus::CancelledDebt => (FaultCode::Semantica, "was cancelled by the ente"),
    };
    let notice = &receipt.notice_number;
    let description = format!("notice {notice} {why}; the receipt is kept for the operators");
    Err(Ko(ko(op, code, &r.id_pa, &description)))
}
