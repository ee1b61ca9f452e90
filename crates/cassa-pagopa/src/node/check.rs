//! The schema rules serde cannot see (lengths, patterns, enumerations of
//! paForNode.xsd and sac-common-types), checked on requests we receive.
//! Each broken rule is reported as `path: reason`.

use cassa_core::Cents;

use super::model::{GetPaymentRequest, Receipt, SendRtRequest, Subject, VerifyRequest};

/// An amount as the schema writes it: `stAmount` (`\d+\.\d{2}`, at most
/// 999999999.99) or, with `not_zero`, `stAmountNotZero` (at least 0.01).
pub fn wire_amount(text: &str, not_zero: bool) -> Result<Cents, String> {
    let well_formed = text.split_once('.').is_some_and(|(units, cents)| {
        !units.is_empty()
            && units.bytes().all(|b| b.is_ascii_digit())
            && cents.len() == 2
            && cents.bytes().all(|b| b.is_ascii_digit())
    });
    let floor = if not_zero { Cents::new(1) } else { Cents::ZERO };
    match Cents::parse_decimal(text) {
        Ok(c) if well_formed && c >= floor && c <= Cents::MAX_PAYABLE => Ok(c),
        _ => Err(format!(
            "must be an amount like 12.34, from {} to 999999999.99, found {text:?}",
            floor.to_decimal()
        )),
    }
}

#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn text(&mut self, path: &str, value: &str, max: usize) {
        let chars = value.chars().count();
        if chars == 0 {
            self.0.push(format!("{path}: must not be empty"));
        } else if chars > max {
            self.0
                .push(format!("{path}: at most {max} characters, found {chars}"));
        }
    }

    fn opt_text(&mut self, path: &str, value: Option<&String>, max: usize) {
        if let Some(v) = value {
            self.text(path, v, max);
        }
    }

    fn digits(&mut self, path: &str, value: &str, count: usize) {
        if value.len() != count || !value.bytes().all(|b| b.is_ascii_digit()) {
            self.0
                .push(format!("{path}: must be {count} digits, found {value:?}"));
        }
    }

    /// `stAmount`: `\d+\.\d{2}`, at most 999999999.99; `not_zero` for `stAmountNotZero`.
    fn amount(&mut self, path: &str, value: &str, not_zero: bool) {
        if let Err(e) = wire_amount(value, not_zero) {
            self.0.push(format!("{path}: {e}"));
        }
    }

    fn date(&mut self, path: &str, value: &str) {
        if value.parse::<jiff::civil::Date>().is_err() {
            self.0.push(format!(
                "{path}: must be a date YYYY-MM-DD, found {value:?}"
            ));
        }
    }

    fn one_of(&mut self, path: &str, value: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            self.0.push(format!(
                "{path}: must be one of {}, found {value:?}",
                allowed.join(", ")
            ));
        }
    }

    fn header(&mut self, id_pa: &str, id_broker_pa: &str, id_station: &str) {
        self.text("idPA", id_pa, 35);
        self.text("idBrokerPA", id_broker_pa, 35);
        self.text("idStation", id_station, 35);
    }

    fn subject(&mut self, path: &str, s: &Subject) {
        self.one_of(
            &format!("{path}.uniqueIdentifier.entityUniqueIdentifierType"),
            &s.unique_identifier.kind,
            &["F", "G"],
        );
        let value = &s.unique_identifier.value;
        let chars = value.chars().count();
        if !(2..=16).contains(&chars) {
            self.0.push(format!("{path}.uniqueIdentifier.entityUniqueIdentifierValue: 2 to 16 characters, found {chars}"));
        }
        self.text(&format!("{path}.fullName"), &s.full_name, 70);
    }

    fn done(self) -> Result<(), Vec<String>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

pub fn verify_request(r: &VerifyRequest) -> Result<(), Vec<String>> {
    let mut p = Problems::default();
    p.header(&r.id_pa, &r.id_broker_pa, &r.id_station);
    p.digits("qrCode.fiscalCode", &r.qr_code.fiscal_code, 11);
    p.digits("qrCode.noticeNumber", &r.qr_code.notice_number, 18);
    p.done()
}

pub fn get_payment_request(r: &GetPaymentRequest) -> Result<(), Vec<String>> {
    let mut p = Problems::default();
    p.header(&r.id_pa, &r.id_broker_pa, &r.id_station);
    p.digits("qrCode.fiscalCode", &r.qr_code.fiscal_code, 11);
    p.digits("qrCode.noticeNumber", &r.qr_code.notice_number, 18);
    if let Some(amount) = &r.amount {
        p.amount("amount", amount, false);
    }
    p.opt_text("paymentNote", r.payment_note.as_ref(), 210);
    if let Some(kind) = &r.transfer_type {
        p.one_of("transferType", kind, &["POSTAL", "PAGOPA"]);
    }
    if let Some(date) = &r.due_date {
        p.date("dueDate", date);
    }
    p.done()
}

fn receipt(p: &mut Problems, r: &Receipt) {
    p.text("receipt.receiptId", &r.receipt_id, 35);
    p.digits("receipt.noticeNumber", &r.notice_number, 18);
    p.digits("receipt.fiscalCode", &r.fiscal_code, 11);
    p.one_of("receipt.outcome", &r.outcome, &["OK", "KO"]);
    p.text("receipt.creditorReferenceId", &r.creditor_reference_id, 35);
    p.amount("receipt.paymentAmount", &r.payment_amount, false);
    p.text("receipt.description", &r.description, 140);
    p.text("receipt.companyName", &r.company_name, 140);
    p.subject("receipt.debtor", &r.debtor);
    let transfers = &r.transfer_list.transfer;
    if transfers.is_empty() || transfers.len() > 5 {
        p.0.push(format!(
            "receipt.transferList: 1 to 5 transfers, found {}",
            transfers.len()
        ));
    }
    for (i, t) in transfers.iter().enumerate() {
        let at = format!("receipt.transferList.transfer[{i}]");
        if !(1..=5).contains(&t.id_transfer) {
            p.0.push(format!("{at}.idTransfer: must be 1 to 5"));
        }
        p.amount(&format!("{at}.transferAmount"), &t.transfer_amount, true);
        p.digits(&format!("{at}.fiscalCodePA"), &t.fiscal_code_pa, 11);
        if t.iban.is_some() == t.mbd_attachment.is_some() {
            p.0.push(format!("{at}: exactly one of IBAN and MBDAttachment"));
        }
        p.text(
            &format!("{at}.remittanceInformation"),
            &t.remittance_information,
            140,
        );
        p.text(&format!("{at}.transferCategory"), &t.transfer_category, 140);
    }
    p.text("receipt.idPSP", &r.id_psp, 35);
    p.text("receipt.PSPCompanyName", &r.psp_company_name, 70);
    p.text("receipt.idChannel", &r.id_channel, 35);
    p.text("receipt.channelDescription", &r.channel_description, 35);
    if let Some(payer) = &r.payer {
        p.subject("receipt.payer", payer);
    }
    if let Some(fee) = &r.fee {
        p.amount("receipt.fee", fee, false);
    }
    if let Some(at) = &r.payment_date_time
        && crate::time::parse_datetime(at).is_err()
    {
        p.0.push(format!("receipt.paymentDateTime: not a date-time: {at:?}"));
    }
    for (path, date) in [
        ("receipt.applicationDate", &r.application_date),
        ("receipt.transferDate", &r.transfer_date),
    ] {
        if let Some(d) = date {
            p.date(path, d);
        }
    }
}

pub fn send_rt_request(r: &SendRtRequest) -> Result<(), Vec<String>> {
    let mut p = Problems::default();
    p.header(&r.id_pa, &r.id_broker_pa, &r.id_station);
    receipt(&mut p, &r.receipt);
    p.done()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_follow_the_schema() {
        assert_eq!(wire_amount("120.50", true), Ok(Cents::new(12_050)));
        assert_eq!(wire_amount("0.00", false), Ok(Cents::ZERO));
        assert_eq!(wire_amount("999999999.99", true), Ok(Cents::MAX_PAYABLE));
        for bad in [
            "0.00",
            "12.5",
            "12",
            ".50",
            "1,00",
            "1000000000.00",
            "-1.00",
            "1e2",
        ] {
            assert!(wire_amount(bad, true).is_err(), "{bad}");
        }
    }
}
