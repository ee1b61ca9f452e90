//! Stored positions written as GPD's response models.

use cassa_core::debt::Metadata;
use cassa_pagopa::gpd::{
    MetadataModel, PaymentOptionModel, PaymentOptionModelResponse, PaymentPositionModel,
    PaymentPositionModelBaseResponse, StampModel, TransferModel, TransferModelResponse,
};
use cassa_pagopa::time::format_datetime;
use cassa_store::{StoredOption, StoredPosition, StoredTransfer};
use jiff::Timestamp;

fn metadata(list: &[Metadata]) -> Vec<MetadataModel> {
    list.iter()
        .map(|m| MetadataModel {
            key: Some(m.key.clone()),
            value: Some(m.value.clone()),
        })
        .collect()
}

fn stamp(t: &StoredTransfer) -> Option<StampModel> {
    t.stamp.as_ref().map(|s| StampModel {
        hash_document: Some(s.hash_document.clone()),
        stamp_type: Some(s.stamp_type.clone()),
        provincial_residence: Some(s.provincial_residence.clone()),
    })
}

fn date(t: Option<Timestamp>) -> Option<String> {
    t.map(format_datetime)
}

fn transfer_model(t: &StoredTransfer) -> TransferModel {
    TransferModel {
        id_transfer: t.id_transfer.to_string(),
        amount: t.amount.get(),
        organization_fiscal_code: t.organization_fiscal_code.clone(),
        remittance_information: t.remittance_information.clone(),
        category: t.category.clone(),
        iban: t.iban.clone(),
        postal_iban: t.postal_iban.clone(),
        stamp: stamp(t),
        company_name: t.company_name.clone(),
        transfer_metadata: metadata(&t.metadata),
    }
}

fn option_model(o: &StoredOption) -> PaymentOptionModel {
    PaymentOptionModel {
        nav: o.notice_number.clone(),
        iuv: o.iuv.clone(),
        amount: o.amount.get(),
        description: o.description.clone(),
        is_partial_payment: o.is_partial_payment,
        due_date: format_datetime(o.due_date),
        retention_date: date(o.retention_date),
        valid_from: date(o.valid_from),
        fee: o.fee.get(),
        notification_fee: o.notification_fee.get(),
        transfer: o.transfers.iter().map(transfer_model).collect(),
        payment_option_metadata: metadata(&o.metadata),
    }
}

/// `PaymentPositionModel`, with the status as of `now`.
pub fn position_model(p: &StoredPosition, now: Timestamp) -> PaymentPositionModel {
    PaymentPositionModel {
        iupd: p.iupd.clone(),
        kind: p.debtor_type.code().to_owned(),
        pay_stand_in: p.pay_stand_in,
        fiscal_code: p.debtor_fiscal_code.clone(),
        full_name: p.debtor_name.clone(),
        street_name: p.street_name.clone(),
        civic_number: p.civic_number.clone(),
        postal_code: p.postal_code.clone(),
        city: p.city.clone(),
        province: p.province.clone(),
        region: p.region.clone(),
        country: p.country.clone(),
        email: p.email.clone(),
        phone: p.phone.clone(),
        switch_to_expired: p.switch_to_expired,
        company_name: p.company_name.clone(),
        office_name: p.office_name.clone(),
        validity_date: date(p.validity_date),
        payment_date: date(p.payment_date),
        status: p.effective_status(now).code().to_owned(),
        payment_option: p.options.iter().map(option_model).collect(),
    }
}

fn transfer_response(t: &StoredTransfer) -> TransferModelResponse {
    TransferModelResponse {
        organization_fiscal_code: t.organization_fiscal_code.clone(),
        company_name: t.company_name.clone(),
        id_transfer: t.id_transfer.to_string(),
        amount: t.amount.get(),
        remittance_information: t.remittance_information.clone(),
        category: t.category.clone(),
        iban: t.iban.clone(),
        postal_iban: t.postal_iban.clone(),
        stamp: stamp(t),
        inserted_date: format_datetime(t.inserted_at),
        status: t.status.code().to_owned(),
        last_updated_date: format_datetime(t.updated_at),
        transfer_metadata: metadata(&t.metadata),
    }
}

fn option_response(o: &StoredOption, ente_fiscal_code: &str) -> PaymentOptionModelResponse {
    PaymentOptionModelResponse {
        nav: o.notice_number.clone(),
        iuv: o.iuv.clone(),
        organization_fiscal_code: ente_fiscal_code.to_owned(),
        amount: o.amount.get(),
        description: o.description.clone(),
        is_partial_payment: o.is_partial_payment,
        due_date: format_datetime(o.due_date),
        retention_date: date(o.retention_date),
        valid_from: date(o.valid_from),
        payment_date: date(o.payment_date),
        reporting_date: date(o.reporting_date),
        inserted_date: format_datetime(o.inserted_at),
        payment_method: o.payment_method.clone(),
        fee: o.fee.get(),
        notification_fee: o.notification_fee.get(),
        psp_company: o.psp_company.clone(),
        id_receipt: o.id_receipt.clone(),
        id_flow_reporting: o.id_flow_reporting.clone(),
        status: o.status.code().to_owned(),
        last_updated_date: format_datetime(o.updated_at),
        payment_option_metadata: metadata(&o.metadata),
        transfer: o.transfers.iter().map(transfer_response).collect(),
    }
}

/// `PaymentPositionModelBaseResponse` (GET), with the status as of `now`.
pub fn position_response(
    p: &StoredPosition,
    ente_fiscal_code: &str,
    now: Timestamp,
) -> PaymentPositionModelBaseResponse {
    PaymentPositionModelBaseResponse {
        iupd: p.iupd.clone(),
        organization_fiscal_code: ente_fiscal_code.to_owned(),
        kind: p.debtor_type.code().to_owned(),
        company_name: p.company_name.clone(),
        office_name: p.office_name.clone(),
        inserted_date: format_datetime(p.inserted_at),
        publish_date: date(p.published_at),
        validity_date: date(p.validity_date),
        payment_date: date(p.payment_date),
        status: p.effective_status(now).code().to_owned(),
        last_updated_date: format_datetime(p.updated_at),
        payment_option: p
            .options
            .iter()
            .map(|o| option_response(o, ente_fiscal_code))
            .collect(),
    }
}
