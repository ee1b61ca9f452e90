//! The JSON bodies of GPD's debt-position API (gpd.json), field for field.
//!
//! Requests are read leniently (every field optional, unknown fields
//! ignored, numbers accepted where GPD wants digit strings) so that a
//! missing or wrong field gets a message naming it instead of a parse
//! failure; [`super::to_domain`] then checks them. Responses leave out
//! absent values rather than writing `null`, as the schemas have no
//! nullable fields.

use serde::{Deserialize, Deserializer, Serialize};

/// A string that clients sometimes send as a number (`"idTransfer": 1`).
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lenient {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(Option::<Lenient>::deserialize(d)?.map(|v| match v {
        Lenient::Text(s) => s,
        Lenient::Number(n) => n.to_string(),
    }))
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct MetadataModel {
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StampModel {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_document: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stamp_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provincial_residence: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferRequest {
    #[serde(default, deserialize_with = "string_or_number")]
    pub id_transfer: Option<String>,
    pub amount: Option<i64>,
    pub organization_fiscal_code: Option<String>,
    pub remittance_information: Option<String>,
    pub category: Option<String>,
    pub iban: Option<String>,
    pub postal_iban: Option<String>,
    pub stamp: Option<StampModel>,
    pub company_name: Option<String>,
    pub transfer_metadata: Option<Vec<MetadataModel>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentOptionRequest {
    #[serde(default, deserialize_with = "string_or_number")]
    pub nav: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub iuv: Option<String>,
    pub amount: Option<i64>,
    pub description: Option<String>,
    pub is_partial_payment: Option<bool>,
    pub due_date: Option<String>,
    pub retention_date: Option<String>,
    /// cassa extension: an installment's window opens here.
    pub valid_from: Option<String>,
    pub fee: Option<i64>,
    pub transfer: Option<Vec<TransferRequest>>,
    pub payment_option_metadata: Option<Vec<MetadataModel>>,
}

/// `PaymentPositionModel` as sent by a client (create, update).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPositionRequest {
    pub iupd: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub pay_stand_in: Option<bool>,
    pub fiscal_code: Option<String>,
    pub full_name: Option<String>,
    pub street_name: Option<String>,
    pub civic_number: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub switch_to_expired: Option<bool>,
    pub company_name: Option<String>,
    pub office_name: Option<String>,
    pub validity_date: Option<String>,
    pub payment_option: Option<Vec<PaymentOptionRequest>>,
}

/// Reads a request body, naming the field at fault when it does not parse.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() || inner.is_syntax() || inner.is_eof() {
            format!("JSON parse error: {inner}")
        } else {
            format!("{path}: {inner}")
        }
    })?;
    de.end().map_err(|e| format!("JSON parse error: {e}"))?;
    Ok(value)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferModel {
    pub id_transfer: String,
    pub amount: i64,
    pub organization_fiscal_code: String,
    pub remittance_information: String,
    pub category: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_iban: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stamp: Option<StampModel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    pub transfer_metadata: Vec<MetadataModel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentOptionModel {
    pub nav: String,
    pub iuv: String,
    pub amount: i64,
    pub description: String,
    pub is_partial_payment: bool,
    pub due_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_date: Option<String>,
    /// cassa extension, only when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    pub fee: i64,
    pub notification_fee: i64,
    pub transfer: Vec<TransferModel>,
    pub payment_option_metadata: Vec<MetadataModel>,
}

/// `PaymentPositionModel` as returned by create, update, publish, invalidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPositionModel {
    pub iupd: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub pay_stand_in: bool,
    pub fiscal_code: String,
    pub full_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub civic_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub switch_to_expired: bool,
    pub company_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub office_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_date: Option<String>,
    pub status: String,
    pub payment_option: Vec<PaymentOptionModel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferModelResponse {
    pub organization_fiscal_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    pub id_transfer: String,
    pub amount: i64,
    pub remittance_information: String,
    pub category: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_iban: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stamp: Option<StampModel>,
    pub inserted_date: String,
    pub status: String,
    pub last_updated_date: String,
    pub transfer_metadata: Vec<MetadataModel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentOptionModelResponse {
    pub nav: String,
    pub iuv: String,
    pub organization_fiscal_code: String,
    pub amount: i64,
    pub description: String,
    pub is_partial_payment: bool,
    pub due_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_date: Option<String>,
    /// cassa extension, only when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporting_date: Option<String>,
    pub inserted_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    pub fee: i64,
    pub notification_fee: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psp_company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_receipt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_flow_reporting: Option<String>,
    pub status: String,
    pub last_updated_date: String,
    pub payment_option_metadata: Vec<MetadataModel>,
    pub transfer: Vec<TransferModelResponse>,
}

/// `PaymentPositionModelBaseResponse`: what GET returns (no debtor data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPositionModelBaseResponse {
    pub iupd: String,
    pub organization_fiscal_code: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub company_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub office_name: Option<String>,
    pub inserted_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publish_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_date: Option<String>,
    pub status: String,
    pub last_updated_date: String,
    pub payment_option: Vec<PaymentOptionModelResponse>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageInfo {
    pub page: u32,
    pub limit: u32,
    /// Items on this page, as GPD counts them.
    pub items_found: u32,
    pub total_pages: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentPositionsInfo {
    pub payment_position_list: Vec<PaymentPositionModelBaseResponse>,
    pub page_info: PageInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTransferIbanMassiveModel {
    pub new_iban: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTransferIbanMassiveResponse {
    pub description: String,
    pub updated_transfers: u32,
}

/// RFC 7807-style error body, as GPD writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemJson {
    pub title: String,
    pub status: u16,
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_field_that_does_not_parse() {
        let err = parse_body::<PaymentPositionRequest>(
            br#"{"iupd":"x","paymentOption":[{"amount":"ten"}]}"#,
        )
        .unwrap_err();
        assert!(
            err.starts_with("paymentOption[0].amount: invalid type"),
            "{err}"
        );
        let err = parse_body::<PaymentPositionRequest>(b"{\"iupd\":").unwrap_err();
        assert!(err.starts_with("JSON parse error"), "{err}");
        let err = parse_body::<PaymentPositionRequest>(b"{} trailing").unwrap_err();
        assert!(err.starts_with("JSON parse error"), "{err}");
    }

    #[test]
    fn accepts_numbers_for_digit_strings_and_ignores_unknown_fields() {
        let req: PaymentPositionRequest = parse_body(
            br#"{"iupd":"x","extra":1,"paymentOption":[{"iuv":2000,"transfer":[{"idTransfer":1}]}]}"#,
        )
        .unwrap();
        let option = &req.payment_option.unwrap()[0];
        assert_eq!(option.iuv.as_deref(), Some("2000"));
        assert_eq!(
            option.transfer.as_ref().unwrap()[0].id_transfer.as_deref(),
            Some("1")
        );
    }
}
