//! The paForNode messages (paForNode.xsd), field for field and in the
//! schema's order, so that serde writes them in a sequence the XSD accepts.
//! Elements are unqualified (the schema has no elementFormDefault); only the
//! wrapper element carries the `paf:` namespace prefix, which the envelope
//! declares. Amounts and dates stay text here, exactly as on the wire;
//! `convert` turns them into domain values.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrCode {
    #[serde(rename = "fiscalCode")]
    pub fiscal_code: String,
    #[serde(rename = "noticeNumber")]
    pub notice_number: String,
}

/// `paVerifyPaymentNoticeReq`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyRequest {
    #[serde(rename = "idPA")]
    pub id_pa: String,
    #[serde(rename = "idBrokerPA")]
    pub id_broker_pa: String,
    #[serde(rename = "idStation")]
    pub id_station: String,
    #[serde(rename = "qrCode")]
    pub qr_code: QrCode,
}

/// `paGetPaymentReq` and `paGetPaymentV2Request` (same fields).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetPaymentRequest {
    #[serde(rename = "idPA")]
    pub id_pa: String,
    #[serde(rename = "idBrokerPA")]
    pub id_broker_pa: String,
    #[serde(rename = "idStation")]
    pub id_station: String,
    #[serde(rename = "qrCode")]
    pub qr_code: QrCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    #[serde(rename = "paymentNote", skip_serializing_if = "Option::is_none")]
    pub payment_note: Option<String>,
    #[serde(rename = "transferType", skip_serializing_if = "Option::is_none")]
    pub transfer_type: Option<String>,
    #[serde(rename = "dueDate", skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
}

/// `ctFaultBean`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultBean {
    #[serde(rename = "faultCode")]
    pub fault_code: String,
    #[serde(rename = "faultString")]
    pub fault_string: String,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<i32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapEntry {
    pub key: String,
    pub value: String,
}

/// `ctMetadata`: 1..15 entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataList {
    #[serde(rename = "mapEntry")]
    pub entries: Vec<MapEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentOptionDescription {
    pub amount: String,
    pub options: String,
    #[serde(rename = "dueDate", skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    #[serde(rename = "detailDescription", skip_serializing_if = "Option::is_none")]
    pub detail_description: Option<String>,
    #[serde(rename = "allCCP")]
    pub all_ccp: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentList {
    #[serde(rename = "paymentOptionDescription")]
    pub option: PaymentOptionDescription,
}

/// `paVerifyPaymentNoticeRes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyResponse {
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<FaultBean>,
    #[serde(rename = "paymentList", skip_serializing_if = "Option::is_none")]
    pub payment_list: Option<PaymentList>,
    #[serde(rename = "paymentDescription", skip_serializing_if = "Option::is_none")]
    pub payment_description: Option<String>,
    #[serde(rename = "fiscalCodePA", skip_serializing_if = "Option::is_none")]
    pub fiscal_code_pa: Option<String>,
    #[serde(rename = "companyName", skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(rename = "officeName", skip_serializing_if = "Option::is_none")]
    pub office_name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UniqueIdentifier {
    #[serde(rename = "entityUniqueIdentifierType")]
    pub kind: String,
    #[serde(rename = "entityUniqueIdentifierValue")]
    pub value: String,
}

/// `ctSubject`: the debtor or the payer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    #[serde(rename = "uniqueIdentifier")]
    pub unique_identifier: UniqueIdentifier,
    #[serde(rename = "fullName")]
    pub full_name: String,
    #[serde(rename = "streetName", skip_serializing_if = "Option::is_none")]
    pub street_name: Option<String>,
    #[serde(rename = "civicNumber", skip_serializing_if = "Option::is_none")]
    pub civic_number: Option<String>,
    #[serde(rename = "postalCode", skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(
        rename = "stateProvinceRegion",
        skip_serializing_if = "Option::is_none"
    )]
    pub state_province_region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(rename = "e-mail", skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// `ctRichiestaMarcaDaBollo`: a revenue stamp to be bought (V2 only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StampRequest {
    #[serde(rename = "hashDocumento")]
    pub hash_document: String,
    #[serde(rename = "tipoBollo")]
    pub stamp_type: String,
    #[serde(rename = "provinciaResidenza")]
    pub provincial_residence: String,
}

/// `ctTransferPA` (V1: always an IBAN) and `ctTransferPAV2` (an IBAN or a
/// revenue stamp; optional company name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferPa {
    #[serde(rename = "idTransfer")]
    pub id_transfer: u8,
    #[serde(rename = "transferAmount")]
    pub transfer_amount: String,
    #[serde(rename = "fiscalCodePA")]
    pub fiscal_code_pa: String,
    #[serde(rename = "companyName", skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(rename = "IBAN", skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    #[serde(
        rename = "richiestaMarcaDaBollo",
        skip_serializing_if = "Option::is_none"
    )]
    pub stamp: Option<StampRequest>,
    #[serde(rename = "remittanceInformation")]
    pub remittance_information: String,
    #[serde(rename = "transferCategory")]
    pub transfer_category: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MetadataList>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferList {
    pub transfer: Vec<TransferPa>,
}

/// `ctPaymentPA` / `ctPaymentPAV2`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentPa {
    #[serde(rename = "creditorReferenceId")]
    pub creditor_reference_id: String,
    #[serde(rename = "paymentAmount")]
    pub payment_amount: String,
    #[serde(rename = "dueDate")]
    pub due_date: String,
    #[serde(rename = "retentionDate", skip_serializing_if = "Option::is_none")]
    pub retention_date: Option<String>,
    #[serde(rename = "lastPayment", skip_serializing_if = "Option::is_none")]
    pub last_payment: Option<bool>,
    pub description: String,
    #[serde(rename = "companyName", skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(rename = "officeName", skip_serializing_if = "Option::is_none")]
    pub office_name: Option<String>,
    pub debtor: Subject,
    #[serde(rename = "transferList")]
    pub transfer_list: TransferList,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MetadataList>,
}

/// `paGetPaymentRes` / `paGetPaymentV2Response`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetPaymentResponse {
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<FaultBean>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<PaymentPa>,
}

/// `paSendRTRes` / `paSendRTV2Response`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRtResponse {
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<FaultBean>,
}

/// A transfer of a receipt: `ctTransferPA` (V1) or `ctTransferPAReceiptV2`
/// (an IBAN, or the bought stamp as `MBDAttachment`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptTransfer {
    #[serde(rename = "idTransfer")]
    pub id_transfer: u8,
    #[serde(rename = "transferAmount")]
    pub transfer_amount: String,
    #[serde(rename = "fiscalCodePA")]
    pub fiscal_code_pa: String,
    #[serde(rename = "companyName", skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(rename = "IBAN", skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    #[serde(rename = "MBDAttachment", skip_serializing_if = "Option::is_none")]
    pub mbd_attachment: Option<String>,
    #[serde(rename = "remittanceInformation")]
    pub remittance_information: String,
    #[serde(rename = "transferCategory")]
    pub transfer_category: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MetadataList>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptTransferList {
    pub transfer: Vec<ReceiptTransfer>,
}

/// `ctReceipt` / `ctReceiptV2`; the V2-only fields are absent in V1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    #[serde(rename = "receiptId")]
    pub receipt_id: String,
    #[serde(rename = "noticeNumber")]
    pub notice_number: String,
    #[serde(rename = "fiscalCode")]
    pub fiscal_code: String,
    pub outcome: String,
    #[serde(rename = "creditorReferenceId")]
    pub creditor_reference_id: String,
    #[serde(rename = "paymentAmount")]
    pub payment_amount: String,
    pub description: String,
    #[serde(rename = "companyName")]
    pub company_name: String,
    #[serde(rename = "officeName", skip_serializing_if = "Option::is_none")]
    pub office_name: Option<String>,
    pub debtor: Subject,
    #[serde(rename = "transferList")]
    pub transfer_list: ReceiptTransferList,
    #[serde(rename = "idPSP")]
    pub id_psp: String,
    #[serde(rename = "pspFiscalCode", skip_serializing_if = "Option::is_none")]
    pub psp_fiscal_code: Option<String>,
    #[serde(rename = "pspPartitaIVA", skip_serializing_if = "Option::is_none")]
    pub psp_partita_iva: Option<String>,
    #[serde(rename = "PSPCompanyName")]
    pub psp_company_name: String,
    #[serde(rename = "idChannel")]
    pub id_channel: String,
    #[serde(rename = "channelDescription")]
    pub channel_description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payer: Option<Subject>,
    #[serde(rename = "paymentMethod", skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    #[serde(rename = "paymentNote", skip_serializing_if = "Option::is_none")]
    pub payment_note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee: Option<String>,
    #[serde(
        rename = "primaryCiIncurredFee",
        skip_serializing_if = "Option::is_none"
    )]
    pub primary_ci_incurred_fee: Option<String>,
    #[serde(rename = "idBundle", skip_serializing_if = "Option::is_none")]
    pub id_bundle: Option<String>,
    #[serde(rename = "idCiBundle", skip_serializing_if = "Option::is_none")]
    pub id_ci_bundle: Option<String>,
    #[serde(rename = "paymentDateTime", skip_serializing_if = "Option::is_none")]
    pub payment_date_time: Option<String>,
    #[serde(rename = "applicationDate", skip_serializing_if = "Option::is_none")]
    pub application_date: Option<String>,
    #[serde(rename = "transferDate", skip_serializing_if = "Option::is_none")]
    pub transfer_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MetadataList>,
    #[serde(rename = "standIn", skip_serializing_if = "Option::is_none")]
    pub stand_in: Option<bool>,
}

/// `paSendRTReq` / `paSendRTV2Request`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRtRequest {
    #[serde(rename = "idPA")]
    pub id_pa: String,
    #[serde(rename = "idBrokerPA")]
    pub id_broker_pa: String,
    #[serde(rename = "idStation")]
    pub id_station: String,
    pub receipt: Receipt,
}
