//! paForNode messages: what we write validates against the official XSDs
//! (xmllint), reads back unchanged, and hostile input is refused cleanly.

use cassa_pagopa::node::model::*;
use cassa_pagopa::node::soap::{body_element, decode, read_message, write_body, write_message};
use cassa_pagopa::node::{FaultCode, Operation, SoapError};
use cassa_testkit::{assert_valid_xml, pagopa_api_dir};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn subject(name: &str) -> Subject {
    Subject {
        unique_identifier: UniqueIdentifier {
            kind: "F".into(),
            value: "RSSMRA85T10A562S".into(),
        },
        full_name: name.into(),
        street_name: Some("Via Roma".into()),
        civic_number: Some("1".into()),
        postal_code: Some("20121".into()),
        city: Some("Milano".into()),
        state_province_region: Some("MI".into()),
        country: Some("IT".into()),
        email: Some("mario.rossi@example.org".into()),
    }
}

fn metadata() -> Option<MetadataList> {
    Some(MetadataList {
        entries: vec![MapEntry {
            key: "anno".into(),
            value: "2026".into(),
        }],
    })
}

fn qr() -> QrCode {
    QrCode {
        fiscal_code: "01199250158".into(),
        notice_number: "302000000000000184".into(),
    }
}

fn transfer(id: u8, amount: &str, stamp: bool) -> TransferPa {
    TransferPa {
        id_transfer: id,
        transfer_amount: amount.into(),
        fiscal_code_pa: "01199250158".into(),
        company_name: None,
        iban: (!stamp).then(|| "IT60X0542811101000000123456".into()),
        stamp: stamp.then(|| StampRequest {
            hash_document: "wHpFSLCGZjIvNSXxqtGbxg7275t446DRTk5ZrsdUQ6E=".into(),
            stamp_type: "01".into(),
            provincial_residence: "MI".into(),
        }),
        remittance_information: "TARI 2026".into(),
        transfer_category: "9/0101101IM/".into(),
        metadata: metadata(),
    }
}

fn payment(transfers: Vec<TransferPa>) -> PaymentPa {
    PaymentPa {
        creditor_reference_id: "02000000000000184".into(),
        payment_amount: "120.50".into(),
        due_date: "2026-12-31".into(),
        retention_date: None,
        last_payment: Some(false),
        description: "TARI 2026 rata unica".into(),
        company_name: Some("Comune di Milano".into()),
        office_name: Some("Area Entrate".into()),
        debtor: subject("Mario Rossi"),
        transfer_list: TransferList {
            transfer: transfers,
        },
        metadata: metadata(),
    }
}

fn receipt(v2: bool) -> Receipt {
    Receipt {
        receipt_id: "c3f5e9b121114e578bfc09752b385eb8".into(),
        notice_number: "302000000000000184".into(),
        fiscal_code: "01199250158".into(),
        outcome: "OK".into(),
        creditor_reference_id: "02000000000000184".into(),
        payment_amount: "120.50".into(),
        description: "TARI 2026 rata unica".into(),
        company_name: "Comune di Milano".into(),
        office_name: None,
        debtor: subject("Mario Rossi"),
        transfer_list: ReceiptTransferList {
            transfer: vec![ReceiptTransfer {
                id_transfer: 1,
                transfer_amount: "120.50".into(),
                fiscal_code_pa: "01199250158".into(),
                company_name: None,
                iban: Some("IT60X0542811101000000123456".into()),
                mbd_attachment: None,
                remittance_information: "TARI 2026".into(),
                transfer_category: "9/0101101IM/".into(),
                metadata: None,
            }],
        },
        id_psp: "BCITITMM".into(),
        psp_fiscal_code: Some("00799960158".into()),
        psp_partita_iva: None,
        psp_company_name: "Intesa Sanpaolo".into(),
        id_channel: "00799960158_01".into(),
        channel_description: "app".into(),
        payer: Some(subject("Maria Bianchi")),
        payment_method: Some("creditCard".into()),
        payment_note: v2.then(|| "note".into()),
        fee: Some("1.00".into()),
        primary_ci_incurred_fee: v2.then(|| "0.00".into()),
        id_bundle: None,
        id_ci_bundle: None,
        payment_date_time: Some("2026-11-23T10:15:00".into()),
        application_date: Some("2026-11-23".into()),
        transfer_date: Some("2026-11-24".into()),
        metadata: None,
        stand_in: Some(false),
    }
}

fn fault(code: FaultCode) -> FaultBean {
    code.bean("01199250158", "the reason")
}

/// Writes, validates (body against paForNode.xsd, envelope against the
/// SOAP schema), reads back, compares.
fn check<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(element: &str, value: &T) {
    let api = pagopa_api_dir();
    assert_valid_xml(
        &write_body(element, value),
        &api.join("wsdl/xsd/paForNode.xsd"),
    );
    let message = write_message(element, value);
    assert_valid_xml(&message, &api.join("xsd-common/envelope.xsd"));
    let back: T = read_message(message.as_bytes(), element).unwrap();
    assert_eq!(&back, value);
}

#[test]
fn requests_validate_and_read_back() {
    let verify = VerifyRequest {
        id_pa: "01199250158".into(),
        id_broker_pa: "15376371009".into(),
        id_station: "15376371009_01".into(),
        qr_code: qr(),
    };
    check(Operation::VerifyPaymentNotice.request_element(), &verify);
    let get = GetPaymentRequest {
        id_pa: "01199250158".into(),
        id_broker_pa: "15376371009".into(),
        id_station: "15376371009_01".into(),
        qr_code: qr(),
        amount: Some("120.50".into()),
        payment_note: Some("cart 1".into()),
        transfer_type: Some("POSTAL".into()),
        due_date: Some("2026-12-31".into()),
    };
    check(Operation::GetPayment.request_element(), &get);
    check(Operation::GetPaymentV2.request_element(), &get);
    for (operation, v2) in [(Operation::SendRt, false), (Operation::SendRtV2, true)] {
        let send = SendRtRequest {
            id_pa: "01199250158".into(),
            id_broker_pa: "15376371009".into(),
            id_station: "15376371009_01".into(),
            receipt: receipt(v2),
        };
        check(operation.request_element(), &send);
    }
}

#[test]
fn responses_and_every_fault_validate() {
    let ok = VerifyResponse {
        outcome: "OK".into(),
        fault: None,
        payment_list: Some(PaymentList {
            option: PaymentOptionDescription {
                amount: "120.50".into(),
                options: "EQ".into(),
                due_date: Some("2026-12-31".into()),
                detail_description: Some("TARI 2026".into()),
                all_ccp: false,
            },
        }),
        payment_description: Some("TARI 2026".into()),
        fiscal_code_pa: Some("01199250158".into()),
        company_name: Some("Comune di Milano".into()),
        office_name: None,
    };
    check(Operation::VerifyPaymentNotice.response_element(), &ok);
    let v1 = GetPaymentResponse {
        outcome: "OK".into(),
        fault: None,
        data: Some(payment(vec![
            transfer(1, "100.50", false),
            transfer(2, "20.00", false),
        ])),
    };
    check(Operation::GetPayment.response_element(), &v1);
    let mut with_stamp = payment(vec![
        transfer(1, "104.50", false),
        transfer(2, "16.00", true),
    ]);
    with_stamp.transfer_list.transfer[0].company_name = Some("Comune di Milano".into());
    let v2 = GetPaymentResponse {
        outcome: "OK".into(),
        fault: None,
        data: Some(with_stamp),
    };
    check(Operation::GetPaymentV2.response_element(), &v2);

    for code in FaultCode::ALL {
        for operation in Operation::ALL {
            let element = operation.response_element();
            match operation {
                Operation::VerifyPaymentNotice => check(
                    element,
                    &VerifyResponse {
                        outcome: "KO".into(),
                        fault: Some(fault(code)),
                        payment_list: None,
                        payment_description: None,
                        fiscal_code_pa: None,
                        company_name: None,
                        office_name: None,
                    },
                ),
                Operation::GetPayment | Operation::GetPaymentV2 => check(
                    element,
                    &GetPaymentResponse {
                        outcome: "KO".into(),
                        fault: Some(fault(code)),
                        data: None,
                    },
                ),
                Operation::SendRt | Operation::SendRtV2 => check(
                    element,
                    &SendRtResponse {
                        outcome: "KO".into(),
                        fault: Some(fault(code)),
                    },
                ),
            }
        }
    }
    check(
        Operation::SendRtV2.response_element(),
        &SendRtResponse {
            outcome: "OK".into(),
            fault: None,
        },
    );
}

#[test]
fn the_official_example_is_read() {
    // The request as printed in pagoPA's SANP documentation.
    let message = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
        xmlns:nod="http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd">
      <soapenv:Header />
      <soapenv:Body>
        <nod:paVerifyPaymentNoticeReq>
          <idPA>77777777777</idPA>
          <idBrokerPA>77777777777</idBrokerPA>
          <idStation>77777777777_01</idStation>
          <qrCode>
            <fiscalCode>77777777777</fiscalCode>
            <noticeNumber>311111111112222222</noticeNumber>
          </qrCode>
        </nod:paVerifyPaymentNoticeReq>
      </soapenv:Body>
    </soapenv:Envelope>"#;
    let element = body_element(message.as_bytes()).unwrap();
    assert_eq!(
        Operation::from_request_element(&element.name),
        Some(Operation::VerifyPaymentNotice)
    );
    let request: VerifyRequest = decode(&element).unwrap();
    assert_eq!(request.id_station, "77777777777_01");
    assert_eq!(request.qr_code.notice_number, "311111111112222222");
}

fn refusal(message: &str) -> SoapError {
    body_element(message.as_bytes()).unwrap_err()
}

const ENVELOPE_START: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:paf="http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd"><soapenv:Body>"#;

#[test]
fn hostile_and_broken_messages_are_refused() {
    let xxe = format!(
        r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>{ENVELOPE_START}<paf:paVerifyPaymentNoticeReq><idPA>&xxe;</idPA></paf:paVerifyPaymentNoticeReq></soapenv:Body></soapenv:Envelope>"#
    );
    assert_eq!(refusal(&xxe), SoapError::Doctype);
    let laughs = format!(
        r#"<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>{ENVELOPE_START}<paf:paVerifyPaymentNoticeReq><idPA>&lol2;</idPA></paf:paVerifyPaymentNoticeReq></soapenv:Body></soapenv:Envelope>"#
    );
    assert_eq!(refusal(&laughs), SoapError::Doctype);
    let undeclared = format!(
        "{ENVELOPE_START}<paf:paVerifyPaymentNoticeReq><idPA>&lol;</idPA></paf:paVerifyPaymentNoticeReq></soapenv:Body></soapenv:Envelope>"
    );
    assert!(matches!(refusal(&undeclared), SoapError::NotWellFormed(_)));
    let deep = format!(
        "{ENVELOPE_START}{}{}</soapenv:Body></soapenv:Envelope>",
        "<a>".repeat(100),
        "</a>".repeat(100)
    );
    assert_eq!(refusal(&deep), SoapError::TooDeep);
    let huge = format!(
        "{ENVELOPE_START}<paf:x>{}</paf:x></soapenv:Body></soapenv:Envelope>",
        "a".repeat(1 << 20)
    );
    assert_eq!(refusal(&huge), SoapError::TooLarge);
    assert!(matches!(refusal("<a><b></a>"), SoapError::NotWellFormed(_)));
    assert!(matches!(
        refusal("not xml at all"),
        SoapError::NotWellFormed(_) | SoapError::NotSoap(_)
    ));
    assert!(matches!(refusal(""), SoapError::NotWellFormed(_)));
    assert!(matches!(
        refusal("<Envelope><Body/></Envelope>"),
        SoapError::NotSoap(_)
    ));
    let wrong_ns = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:x="urn:other"><soapenv:Body><x:paVerifyPaymentNoticeReq/></soapenv:Body></soapenv:Envelope>"#;
    assert!(matches!(
        refusal(wrong_ns),
        SoapError::WrongNamespace { .. }
    ));

    // A missing field is named with its path.
    let missing = format!(
        "{ENVELOPE_START}<paf:paVerifyPaymentNoticeReq><idPA>1</idPA><idBrokerPA>2</idBrokerPA><idStation>3</idStation><qrCode><fiscalCode>01199250158</fiscalCode></qrCode></paf:paVerifyPaymentNoticeReq></soapenv:Body></soapenv:Envelope>"
    );
    let element = body_element(missing.as_bytes()).unwrap();
    let error = decode::<VerifyRequest>(&element).unwrap_err().to_string();
    assert!(
        error.contains("qrCode") && error.contains("noticeNumber"),
        "{error}"
    );
}

#[test]
fn soap_actions_name_operations() {
    for operation in Operation::ALL {
        assert_eq!(
            Operation::from_soap_action(&format!("\"{}\"", operation.soap_action())),
            Some(operation)
        );
    }
    assert_eq!(Operation::from_soap_action("paDemandPaymentNotice"), None);
}
