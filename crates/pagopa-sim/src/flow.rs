//! A payment at a PSP, Modello 3: verify, activate (paGetPaymentV2), then
//! the receipt (paSendRTV2), retried as the node retries it.

use std::time::Duration;

use cassa_pagopa::node::model::{
    FaultBean, PaymentPa, Receipt, ReceiptTransfer, ReceiptTransferList, SendRtRequest, Subject,
    UniqueIdentifier,
};
use serde::Serialize;

use crate::client::{CallError, NodeClient, Station};

/// The PSP that takes the money.
#[derive(Clone, Debug)]
pub struct Psp {
    pub id: String,
    pub fiscal_code: String,
    pub company_name: String,
    pub channel_id: String,
    pub payment_method: String,
}

impl Default for Psp {
    fn default() -> Self {
        Psp {
            id: "SIMPSPIT".into(),
            fiscal_code: "00000000000".into(),
            company_name: "PSP Simulato S.p.A.".into(),
            channel_id: "00000000000_01".into(),
            payment_method: "creditCard".into(),
        }
    }
}

/// How a payment attempt ended.
#[derive(Clone, Debug, Serialize)]
pub struct Paid {
    pub notice_number: String,
    pub receipt_id: String,
    pub amount: String,
    pub description: String,
    pub company_name: String,
    /// paSendRT attempts until the EC said OK.
    pub receipt_attempts: u32,
    pub verify_ms: f64,
    pub activate_ms: f64,
    pub receipt_ms: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum PayError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("{operation} refused: {} {} ({})", fault.fault_code, fault.fault_string, fault.description.as_deref().unwrap_or(""))]
    Refused {
        operation: &'static str,
        fault: FaultBean,
    },
    #[error("paSendRTV2 still failing after {attempts} attempts: {last}")]
    ReceiptNotTaken { attempts: u32, last: String },
}

/// Retries of paSendRT, as the node does when the EC answers an error.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub pause: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            pause: Duration::from_millis(200),
        }
    }
}

/// The receipt the node sends once the PSP has taken the money.
pub fn receipt_for(
    station: &Station,
    psp: &Psp,
    fiscal_code: &str,
    notice: &str,
    data: &PaymentPa,
    receipt_id: &str,
) -> SendRtRequest {
    let now = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC);
    SendRtRequest {
        id_pa: fiscal_code.into(),
        id_broker_pa: station.broker_id.clone(),
        id_station: station.station_id.clone(),
        receipt: Receipt {
            receipt_id: receipt_id.into(),
            notice_number: notice.into(),
            fiscal_code: fiscal_code.into(),
            outcome: "OK".into(),
            creditor_reference_id: data.creditor_reference_id.clone(),
            payment_amount: data.payment_amount.clone(),
            description: data.description.clone(),
            company_name: data.company_name.clone().unwrap_or_else(|| "-".into()),
            office_name: data.office_name.clone(),
            debtor: data.debtor.clone(),
            transfer_list: ReceiptTransferList {
                transfer: data
                    .transfer_list
                    .transfer
                    .iter()
                    .map(|t| ReceiptTransfer {
                        id_transfer: t.id_transfer,
                        transfer_amount: t.transfer_amount.clone(),
                        fiscal_code_pa: t.fiscal_code_pa.clone(),
                        company_name: t.company_name.clone(),
                        iban: t.iban.clone(),
                        // A bought revenue stamp comes back as its document.
                        mbd_attachment: t.stamp.as_ref().map(|_| "UElEIHNpbXVsYXRv".into()),
                        remittance_information: t.remittance_information.clone(),
                        transfer_category: t.transfer_category.clone(),
                        metadata: t.metadata.clone(),
                    })
                    .collect(),
            },
            id_psp: psp.id.clone(),
            psp_fiscal_code: Some(psp.fiscal_code.clone()),
            psp_partita_iva: None,
            psp_company_name: psp.company_name.clone(),
            id_channel: psp.channel_id.clone(),
            channel_description: "app".into(),
            payer: Some(Subject {
                unique_identifier: UniqueIdentifier {
                    kind: data.debtor.unique_identifier.kind.clone(),
                    value: data.debtor.unique_identifier.value.clone(),
                },
                ..data.debtor.clone()
            }),
            payment_method: Some(psp.payment_method.clone()),
            payment_note: None,
            fee: Some("1.00".into()),
            primary_ci_incurred_fee: None,
            id_bundle: None,
            id_ci_bundle: None,
            payment_date_time: Some(now.strftime("%Y-%m-%dT%H:%M:%S").to_string()),
            application_date: Some(now.date().to_string()),
            transfer_date: Some(now.date().to_string()),
            metadata: None,
            stand_in: Some(false),
        },
    }
}

pub fn new_receipt_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// A notice activated at the EC: what it said to pay, and how long the
/// verify and activate calls took.
pub struct Activated {
    pub data: PaymentPa,
    pub verify_ms: f64,
    pub activate_ms: f64,
}

/// Verify, then activate (paGetPaymentV2), as the node does before the
/// PSP takes the money. `payment_note`: what Checkout passes on (the EC's
/// idCart).
pub async fn activate(
    client: &NodeClient,
    fiscal_code: &str,
    notice: &str,
    payment_note: Option<&str>,
) -> Result<Activated, PayError> {
    let verified = client.verify(fiscal_code, notice).await?;
    if let Some(fault) = verified.answer.fault {
        return Err(PayError::Refused {
            operation: "paVerifyPaymentNotice",
            fault,
        });
    }
    let amount = verified.answer.payment_list.map(|l| l.option.amount);
    let activated = client
        .get_payment(
            true,
            fiscal_code,
            notice,
            amount,
            payment_note.map(str::to_owned),
        )
        .await?;
    match (activated.answer.fault, activated.answer.data) {
        (Some(fault), _) => Err(PayError::Refused {
            operation: "paGetPaymentV2",
            fault,
        }),
        (None, Some(data)) => Ok(Activated {
            data,
            verify_ms: verified.elapsed.as_secs_f64() * 1000.0,
            activate_ms: activated.elapsed.as_secs_f64() * 1000.0,
        }),
        (None, None) => unreachable!("the rules check data is present on OK"),
    }
}

/// Sends the receipt until the EC takes it (paSendRTV2), as the node
/// retries it. Answers the attempts made and the last call's time.
pub async fn deliver_receipt(
    client: &NodeClient,
    request: &SendRtRequest,
    retry: &RetryPolicy,
) -> Result<(u32, f64), PayError> {
    let mut last = String::new();
    for attempt in 1..=retry.attempts.max(1) {
        match client.send_rt(true, request).await {
            Ok(sent) if sent.answer.outcome == "OK" => {
                return Ok((attempt, sent.elapsed.as_secs_f64() * 1000.0));
            }
            Ok(sent) => {
                let fault = sent.answer.fault.expect("KO carries a fault");
                last = format!(
                    "{} {}",
                    fault.fault_code,
                    fault.description.unwrap_or_default()
                );
            }
            // An EC that is down or answers garbage is retried too; one that
            // breaks the spec is a bug to report at once.
            Err(e @ CallError::Spec { .. }) => return Err(e.into()),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(retry.pause).await;
    }
    Err(PayError::ReceiptNotTaken {
        attempts: retry.attempts,
        last,
    })
}

/// Pays a notice end to end.
pub async fn pay_notice(
    client: &NodeClient,
    psp: &Psp,
    fiscal_code: &str,
    notice: &str,
    retry: &RetryPolicy,
) -> Result<Paid, PayError> {
    let activated = activate(client, fiscal_code, notice, None).await?;
    let data = activated.data;
    let receipt_id = new_receipt_id();
    let request = receipt_for(
        &client.station,
        psp,
        fiscal_code,
        notice,
        &data,
        &receipt_id,
    );
    let (receipt_attempts, receipt_ms) = deliver_receipt(client, &request, retry).await?;
    Ok(Paid {
        notice_number: notice.into(),
        receipt_id,
        amount: data.payment_amount,
        description: data.description,
        company_name: data.company_name.unwrap_or_default(),
        receipt_attempts,
        verify_ms: activated.verify_ms,
        activate_ms: activated.activate_ms,
        receipt_ms,
    })
}
