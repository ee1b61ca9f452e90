//! The node's side of paForNode: SOAP calls to an EC, as the node makes
//! them (SOAPAction header, text/xml), with every answer checked.

use std::time::{Duration, Instant};

use cassa_pagopa::node::Operation;
use cassa_pagopa::node::model::{
    GetPaymentRequest, GetPaymentResponse, QrCode, SendRtRequest, SendRtResponse, VerifyRequest,
    VerifyResponse,
};
use cassa_pagopa::node::soap::{read_message, write_message};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::rules;

/// Something the EC did wrong, or could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{operation}: the EC could not be reached: {error}")]
    Transport {
        operation: &'static str,
        error: String,
    },
    #[error("{operation}: HTTP {status}: {body}")]
    Http {
        operation: &'static str,
        status: u16,
        body: String,
    },
    #[error("{operation}: the answer is not a valid message: {error}\n{body}")]
    Malformed {
        operation: &'static str,
        error: String,
        body: String,
    },
    #[error("{operation}: the answer breaks the spec:\n  {}", violations.join("\n  "))]
    Spec {
        operation: &'static str,
        violations: Vec<String>,
    },
}

/// Who the node says it is calling: the EC's broker and station, and the
/// secret the station's configuration has the node send (as pagoPA's API
/// gateway does with a subscription key).
#[derive(Clone, Debug)]
pub struct Station {
    pub endpoint: String,
    pub broker_id: String,
    pub station_id: String,
    pub auth: Option<NodeAuth>,
}

/// A header and the secret it carries on every call.
#[derive(Clone, Debug)]
pub struct NodeAuth {
    pub header: String,
    pub secret: String,
}

impl NodeAuth {
    /// The header cassa expects unless configured otherwise.
    pub fn subscription_key(secret: &str) -> NodeAuth {
        NodeAuth {
            header: "Ocp-Apim-Subscription-Key".into(),
            secret: secret.into(),
        }
    }
}

/// One call and how long it took.
pub struct Timed<T> {
    pub answer: T,
    pub elapsed: Duration,
}

#[derive(Clone)]
pub struct NodeClient {
    http: reqwest::Client,
    pub station: Station,
    /// When set, every answer is also validated against the official XSDs.
    xsd: Option<std::sync::Arc<crate::xsd::XsdValidator>>,
}

impl NodeClient {
    pub fn new(station: Station) -> Self {
        NodeClient::from_builder(station, cassa_net::http_client())
    }

    /// A client trusting and presenting what `tls` says (a private CA, a
    /// client certificate for a station that asks for one).
    pub fn with_tls(station: Station, tls: rustls::ClientConfig) -> Self {
        NodeClient::from_builder(
            station,
            cassa_net::http_client().tls_backend_preconfigured(tls),
        )
    }

    fn from_builder(station: Station, builder: reqwest::ClientBuilder) -> Self {
        let http = builder
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client with a built TLS configuration");
        NodeClient {
            http,
            station,
            xsd: None,
        }
    }

    /// Validates every answer against the official XSDs too (needs xmllint).
    pub fn with_xsd_check(mut self) -> Result<Self, String> {
        self.xsd = Some(std::sync::Arc::new(crate::xsd::XsdValidator::new()?));
        Ok(self)
    }

    async fn call<Req: Serialize, Res: DeserializeOwned>(
        &self,
        operation: Operation,
        request: &Req,
    ) -> Result<Timed<Res>, CallError> {
        let name = operation.soap_action();
        let body = write_message(operation.request_element(), request);
        let started = Instant::now();
        let mut request = self
            .http
            .post(&self.station.endpoint)
            .header("content-type", "text/xml; charset=utf-8")
            .header("SOAPAction", format!("\"{name}\""));
        if let Some(auth) = &self.station.auth {
            request = request.header(auth.header.as_str(), auth.secret.as_str());
        }
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| CallError::Transport {
                operation: name,
                error: e.to_string(),
            })?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| CallError::Transport {
            operation: name,
            error: e.to_string(),
        })?;
        let elapsed = started.elapsed();
        if status != 200 {
            return Err(CallError::Http {
                operation: name,
                status,
                body: text,
            });
        }
        if let Some(xsd) = &self.xsd
            && let Err(error) = xsd.check_answer(&text)
        {
            return Err(CallError::Spec {
                operation: name,
                violations: vec![format!("not valid against the XSD: {error}")],
            });
        }
        let answer = read_message(text.as_bytes(), operation.response_element()).map_err(|e| {
            CallError::Malformed {
                operation: name,
                error: e.to_string(),
                body: text.clone(),
            }
        })?;
        Ok(Timed { answer, elapsed })
    }

    fn spec(operation: Operation, violations: Vec<String>) -> Result<(), CallError> {
        if violations.is_empty() {
            Ok(())
        } else {
            Err(CallError::Spec {
                operation: operation.soap_action(),
                violations,
            })
        }
    }

    pub async fn verify(
        &self,
        fiscal_code: &str,
        notice: &str,
    ) -> Result<Timed<VerifyResponse>, CallError> {
        let request = VerifyRequest {
            id_pa: fiscal_code.into(),
            id_broker_pa: self.station.broker_id.clone(),
            id_station: self.station.station_id.clone(),
            qr_code: QrCode {
                fiscal_code: fiscal_code.into(),
                notice_number: notice.into(),
            },
        };
        let timed: Timed<VerifyResponse> =
            self.call(Operation::VerifyPaymentNotice, &request).await?;
        Self::spec(
            Operation::VerifyPaymentNotice,
            rules::verify(&timed.answer, fiscal_code),
        )?;
        Ok(timed)
    }

    pub async fn get_payment(
        &self,
        v2: bool,
        fiscal_code: &str,
        notice: &str,
        amount: Option<String>,
        payment_note: Option<String>,
    ) -> Result<Timed<GetPaymentResponse>, CallError> {
        let operation = if v2 {
            Operation::GetPaymentV2
        } else {
            Operation::GetPayment
        };
        let request = GetPaymentRequest {
            id_pa: fiscal_code.into(),
            id_broker_pa: self.station.broker_id.clone(),
            id_station: self.station.station_id.clone(),
            qr_code: QrCode {
                fiscal_code: fiscal_code.into(),
                notice_number: notice.into(),
            },
            amount,
            payment_note,
            transfer_type: None,
            due_date: None,
        };
        let timed: Timed<GetPaymentResponse> = self.call(operation, &request).await?;
        Self::spec(
            operation,
            rules::get_payment(&timed.answer, fiscal_code, v2),
        )?;
        Ok(timed)
    }

    pub async fn send_rt(
        &self,
        v2: bool,
        request: &SendRtRequest,
    ) -> Result<Timed<SendRtResponse>, CallError> {
        let operation = if v2 {
            Operation::SendRtV2
        } else {
            Operation::SendRt
        };
        let timed: Timed<SendRtResponse> = self.call(operation, request).await?;
        Self::spec(operation, rules::send_rt(&timed.answer, &request.id_pa))?;
        Ok(timed)
    }
}
