//! One anomaly in the demo data, so that the back office's Anomalie page
//! has something to show: a receipt the node sent for a notice the
//! Comune di Milano does not have (a debt deleted while a citizen was
//! paying it at a tobacconist, say). The money arrived; it pays nothing.

use cassa_core::Cents;
use cassa_store::{Ente, NewReceipt, Store};
use jiff::Timestamp;

const NOTICE: &str = "302991234567890123";
const RECEIPT_ID: &str = "DEMO-RT-0000000001";

/// The receipt as the node sends it (paSendRTV2).
fn raw_xml(fiscal_code: &str, name: &str, paid_at: &str) -> String {
    format!(
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><paf:paSendRTV2Request xmlns:paf="http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd"><idPA>{cf}</idPA><idBrokerPA>80050050154</idBrokerPA><idStation>80050050154_01</idStation><receipt><receiptId>{RECEIPT_ID}</receiptId><noticeNumber>{NOTICE}</noticeNumber><fiscalCode>{cf}</fiscalCode><outcome>OK</outcome><creditorReferenceId>991234567890123</creditorReferenceId><paymentAmount>45.00</paymentAmount><description>TARI 2026 - rata unica</description><companyName>{name}</companyName><debtor><uniqueIdentifier><entityUniqueIdentifierType>F</entityUniqueIdentifierType><entityUniqueIdentifierValue>BNCGLI90C45F205Y</entityUniqueIdentifierValue></uniqueIdentifier><fullName>Giulia Bianchi</fullName></debtor><transferList><transfer><idTransfer>1</idTransfer><transferAmount>45.00</transferAmount><fiscalCodePA>{cf}</fiscalCodePA><IBAN>IT60X0542811101000000123456</IBAN><remittanceInformation>TARI 2026</remittanceInformation><transferCategory>9/0101101IM/</transferCategory></transfer></transferList><idPSP>SIMBANKIT</idPSP><PSPCompanyName>Banca Simulata</PSPCompanyName><idChannel>SIMBANKIT_01</idChannel><channelDescription>app</channelDescription><payer><uniqueIdentifier><entityUniqueIdentifierType>F</entityUniqueIdentifierType><entityUniqueIdentifierValue>BNCGLI90C45F205Y</entityUniqueIdentifierValue></uniqueIdentifier><fullName>Giulia Bianchi</fullName><e-mail>giulia.bianchi@example.org</e-mail></payer><paymentMethod>cash</paymentMethod><fee>1.50</fee><paymentDateTime>{paid_at}</paymentDateTime><applicationDate>{day}</applicationDate><transferDate>{day}</transferDate></receipt></paf:paSendRTV2Request></soapenv:Body></soapenv:Envelope>"#,
        cf = fiscal_code,
        day = &paid_at[..10],
    )
}

pub async fn record(store: &Store, ente: &Ente, now: Timestamp) -> anyhow::Result<()> {
    let paid_at = now - jiff::SignedDuration::from_hours(2);
    let paid_text = paid_at
        .to_zoned(cassa_core::italy::time_zone())
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let xml = raw_xml(&ente.fiscal_code, &ente.name, &paid_text);
    store
        .record_receipt(&NewReceipt {
            ente_id: ente.id,
            receipt_id: RECEIPT_ID,
            notice_number: NOTICE,
            ok: true,
            amount: Cents::new(4_500),
            fee: Some(Cents::new(150)),
            psp_id: "SIMBANKIT",
            psp_company_name: "Banca Simulata",
            channel_id: "SIMBANKIT_01",
            payment_method: Some("cash"),
            payer_fiscal_code: Some("BNCGLI90C45F205Y"),
            payer_name: Some("Giulia Bianchi"),
            payer_email: Some("giulia.bianchi@example.org"),
            debtor_email: None,
            payment_note: None,
            payment_date_time: Some(paid_at),
            application_date: Some(&paid_text[..10]),
            transfer_date: Some(&paid_text[..10]),
            operation: "paSendRTV2",
            raw_xml: &xml,
            now,
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use cassa_pagopa::node::Operation;
    use cassa_pagopa::node::model::SendRtRequest;
    use cassa_pagopa::node::soap::read_message;

    /// The demo's receipt is one the node could send: valid against the
    /// official XSD and read by our reader, payer's e-mail and all.
    #[test]
    fn the_demo_receipt_is_a_real_one() {
        let xml = super::raw_xml("01199250158", "Comune di Milano", "2026-11-23T10:00:00");
        let body = xml
            .split("<soapenv:Body>")
            .nth(1)
            .and_then(|b| b.split("</soapenv:Body>").next())
            .unwrap();
        let api = cassa_testkit::pagopa_api_dir();
        cassa_testkit::assert_valid_xml(body, &api.join("wsdl/xsd/paForNode.xsd"));
        let read: SendRtRequest =
            read_message(xml.as_bytes(), Operation::SendRtV2.request_element()).unwrap();
        assert_eq!(
            read.receipt.payer.and_then(|p| p.email).as_deref(),
            Some("giulia.bianchi@example.org")
        );
    }
}
