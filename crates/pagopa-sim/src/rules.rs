//! The spec's rules for the EC's answers, checked on every answer: what
//! must be there for OK and for KO, the formats of amounts and codes, and
//! that the transfers add up to the payment.

use cassa_core::Cents;
use cassa_pagopa::node::FaultCode;
use cassa_pagopa::node::check::wire_amount;
use cassa_pagopa::node::model::{FaultBean, GetPaymentResponse, SendRtResponse, VerifyResponse};

/// A broken rule, as `field: what is wrong`.
pub type Violations = Vec<String>;

/// Amounts the EC answers are all `stAmountNotZero`.
fn amount(out: &mut Violations, path: &str, text: &str) -> Option<Cents> {
    wire_amount(text, true)
        .map_err(|e| out.push(format!("{path}: {e}")))
        .ok()
}

fn text(out: &mut Violations, path: &str, value: Option<&str>, max: usize) {
    match value {
        None => out.push(format!("{path}: missing")),
        Some(v) if v.is_empty() || v.chars().count() > max => {
            out.push(format!("{path}: must be 1 to {max} characters"))
        }
        Some(_) => {}
    }
}

fn outcome(out: &mut Violations, outcome: &str, fault: &Option<FaultBean>, id_pa: &str) -> bool {
    match (outcome, fault) {
        ("OK", None) => true,
        ("OK", Some(_)) => {
            out.push("fault: present although outcome is OK".into());
            false
        }
        ("KO", None) => {
            out.push("fault: missing although outcome is KO".into());
            false
        }
        ("KO", Some(f)) => {
            match FaultCode::parse(&f.fault_code) {
                None => out.push(format!(
                    "fault.faultCode: {} is not a fault of the EC table",
                    f.fault_code
                )),
                Some(code) if code.fault_string() != f.fault_string => out.push(format!(
                    "fault.faultString: {:?} is not the spec's text for {}",
                    f.fault_string, f.fault_code
                )),
                Some(_) => {}
            }
            if f.id.is_empty() {
                out.push("fault.id: empty".into());
            } else if f.fault_code != FaultCode::IdIntermediarioErrato.code()
                && f.fault_code != FaultCode::SintassiExtraxsd.code()
                && f.id != id_pa
            {
                out.push(format!("fault.id: {} is not the idPA {id_pa}", f.id));
            }
            false
        }
        (other, _) => {
            out.push(format!("outcome: {other:?} is neither OK nor KO"));
            false
        }
    }
}

pub fn verify(r: &VerifyResponse, id_pa: &str) -> Violations {
    let mut out = Vec::new();
    if outcome(&mut out, &r.outcome, &r.fault, id_pa) {
        match &r.payment_list {
            None => out.push("paymentList: missing although outcome is OK".into()),
            Some(list) => {
                amount(
                    &mut out,
                    "paymentList.paymentOptionDescription.amount",
                    &list.option.amount,
                );
                if !["EQ", "LS", "GT", "ANY"].contains(&list.option.options.as_str()) {
                    out.push(format!(
                        "paymentList.paymentOptionDescription.options: {:?}",
                        list.option.options
                    ));
                }
            }
        }
        text(
            &mut out,
            "paymentDescription",
            r.payment_description.as_deref(),
            140,
        );
        if r.fiscal_code_pa.as_deref() != Some(id_pa) {
            out.push(format!(
                "fiscalCodePA: {:?} is not {id_pa}",
                r.fiscal_code_pa
            ));
        }
        text(&mut out, "companyName", r.company_name.as_deref(), 140);
    }
    out
}

pub fn get_payment(r: &GetPaymentResponse, id_pa: &str, v2: bool) -> Violations {
    let mut out = Vec::new();
    if !outcome(&mut out, &r.outcome, &r.fault, id_pa) {
        return out;
    }
    let Some(data) = &r.data else {
        out.push("data: missing although outcome is OK".into());
        return out;
    };
    text(
        &mut out,
        "data.creditorReferenceId",
        Some(&data.creditor_reference_id),
        35,
    );
    let total = amount(&mut out, "data.paymentAmount", &data.payment_amount);
    if data.due_date.parse::<jiff::civil::Date>().is_err() {
        out.push(format!("data.dueDate: {:?} is not a date", data.due_date));
    }
    text(&mut out, "data.description", Some(&data.description), 140);
    if v2 {
        text(
            &mut out,
            "data.companyName",
            data.company_name.as_deref(),
            140,
        );
    }
    text(
        &mut out,
        "data.debtor.fullName",
        Some(&data.debtor.full_name),
        70,
    );
    let transfers = &data.transfer_list.transfer;
    if transfers.is_empty() || transfers.len() > 5 {
        out.push(format!(
            "data.transferList: 1 to 5 transfers, found {}",
            transfers.len()
        ));
    }
    let mut sum = Some(Cents::ZERO);
    for (i, t) in transfers.iter().enumerate() {
        let at = format!("data.transferList.transfer[{i}]");
        if t.id_transfer as usize != i + 1 {
            out.push(format!(
                "{at}.idTransfer: {} (expected {})",
                t.id_transfer,
                i + 1
            ));
        }
        let part = amount(
            &mut out,
            &format!("{at}.transferAmount"),
            &t.transfer_amount,
        );
        sum = sum.zip(part).and_then(|(s, p)| s.checked_add(p));
        if t.fiscal_code_pa.len() != 11 || !t.fiscal_code_pa.bytes().all(|b| b.is_ascii_digit()) {
            out.push(format!(
                "{at}.fiscalCodePA: {:?} is not 11 digits",
                t.fiscal_code_pa
            ));
        }
        match (&t.iban, &t.stamp, v2) {
            (Some(_), None, _) => {}
            (None, Some(_), true) => {}
            (None, Some(_), false) => {
                out.push(format!("{at}: a revenue stamp in a version 1 answer"))
            }
            _ => out.push(format!(
                "{at}: exactly one of IBAN and richiestaMarcaDaBollo"
            )),
        }
        if !v2 && t.company_name.is_some() {
            out.push(format!("{at}.companyName: not part of version 1"));
        }
        text(
            &mut out,
            &format!("{at}.remittanceInformation"),
            Some(&t.remittance_information),
            140,
        );
        text(
            &mut out,
            &format!("{at}.transferCategory"),
            Some(&t.transfer_category),
            140,
        );
    }
    if let (Some(total), Some(sum)) = (total, sum)
        && total != sum
    {
        out.push(format!(
            "data.transferList: transfers add up to {}, not to the payment amount {}",
            sum.to_decimal(),
            total.to_decimal()
        ));
    }
    out
}

pub fn send_rt(r: &SendRtResponse, id_pa: &str) -> Violations {
    let mut out = Vec::new();
    outcome(&mut out, &r.outcome, &r.fault, id_pa);
    out
}

#[cfg(test)]
mod tests {
    use cassa_pagopa::node::model::{
        PaymentPa, Subject, TransferList, TransferPa, UniqueIdentifier,
    };

    use super::*;

    fn answer(amount: &str, parts: &[&str]) -> GetPaymentResponse {
        GetPaymentResponse {
            outcome: "OK".into(),
            fault: None,
            data: Some(PaymentPa {
                creditor_reference_id: "02000000000000184".into(),
                payment_amount: amount.into(),
                due_date: "2026-12-31".into(),
                retention_date: None,
                last_payment: None,
                description: "TARI".into(),
                company_name: Some("Comune".into()),
                office_name: None,
                debtor: Subject {
                    unique_identifier: UniqueIdentifier {
                        kind: "F".into(),
                        value: "RSSMRA85T10A562S".into(),
                    },
                    full_name: "Mario Rossi".into(),
                    street_name: None,
                    civic_number: None,
                    postal_code: None,
                    city: None,
                    state_province_region: None,
                    country: None,
                    email: None,
                },
                transfer_list: TransferList {
                    transfer: parts
                        .iter()
                        .enumerate()
                        .map(|(i, a)| TransferPa {
                            id_transfer: i as u8 + 1,
                            transfer_amount: (*a).into(),
                            fiscal_code_pa: "01199250158".into(),
                            company_name: None,
                            iban: Some("IT60X0542811101000000123456".into()),
                            stamp: None,
                            remittance_information: "TARI".into(),
                            transfer_category: "9/0101101IM/".into(),
                            metadata: None,
                        })
                        .collect(),
                },
                metadata: None,
            }),
        }
    }

    #[test]
    fn a_correct_answer_passes() {
        assert_eq!(
            get_payment(&answer("120.50", &["100.00", "20.50"]), "01199250158", true),
            Vec::<String>::new()
        );
    }

    #[test]
    fn wrong_answers_are_caught() {
        let sum = get_payment(&answer("120.50", &["100.00", "20.00"]), "01199250158", true);
        assert!(sum.iter().any(|v| v.contains("add up")), "{sum:?}");
        let format = get_payment(&answer("120.5", &["120.5"]), "01199250158", true);
        assert!(
            format.iter().any(|v| v.contains("paymentAmount")),
            "{format:?}"
        );
        let mut both = answer("1.00", &["1.00"]);
        both.fault = Some(FaultCode::SystemError.bean("01199250158", "x"));
        assert!(
            get_payment(&both, "01199250158", true)
                .iter()
                .any(|v| v.contains("present although"))
        );
        let ko = SendRtResponse {
            outcome: "KO".into(),
            fault: Some(FaultBean {
                fault_code: "PAA_MADE_UP".into(),
                fault_string: "x".into(),
                id: "01199250158".into(),
                description: None,
                serial: None,
            }),
        };
        assert!(
            send_rt(&ko, "01199250158")
                .iter()
                .any(|v| v.contains("not a fault"))
        );
    }
}
