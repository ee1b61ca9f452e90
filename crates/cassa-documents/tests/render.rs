//! Renders every variant of the notice and the receipt, rasterises the
//! pages with pdftoppm, and reads the codes back from the pixels with a
//! real decoder (rxing): the QR payloads and Data Matrix must come back
//! byte for byte. The PNGs stay in target/tmp/documents for people to look at.

use std::path::PathBuf;

use cassa_core::{Cents, NoticeNumber};
use cassa_documents::codes::{PostalSlip, datamatrix_payload, qr_payload};
use cassa_documents::{
    Debtor, Ente, Notice, NoticeBook, Payment, PostalAccount, Receipt, render_notice,
    render_receipt,
};
use cassa_testkit::documents::{self, BarcodeFormat, decode, pdf_text, sample_logo};
use jiff::civil::Date;

const ENTE_CF: &str = "01199250158";

fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("documents");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn notice_number(base: u64) -> NoticeNumber {
    NoticeNumber::generate(cassa_core::SegregationCode::new(2).unwrap(), base).unwrap()
}

fn payment(base: u64, cents: i64, due: Option<Date>) -> Payment {
    Payment {
        notice: notice_number(base),
        amount: Cents::new(cents),
        due_date: due,
    }
}

fn base_notice() -> Notice {
    Notice {
        subject: "TARI 2026 - Tassa sui rifiuti".into(),
        ente: Ente {
            fiscal_code: ENTE_CF.into(),
            name: "Comune di Milano".into(),
            office: Some("Direzione Entrate - Ufficio Tributi".into()),
            contacts: vec![
                "www.comune.milano.it".into(),
                "tributi@comune.milano.it".into(),
            ],
            cbill: Some("A0EDT".into()),
            logo_png: Some(sample_logo()),
            postal: None,
        },
        debtor: Debtor {
            name: "Mario Rossi".into(),
            fiscal_code: "RSSMRA80A01F205X".into(),
            address: vec!["Via Roma 1".into(), "20121 Milano (MI)".into()],
        },
        full: Some(payment(1, 12_345, Some(Date::constant(2026, 12, 31)))),
        installments: Vec::new(),
        printed_at: "2026-11-23T10:00:00Z".parse().unwrap(),
    }
}

fn postal() -> PostalAccount {
    PostalAccount {
        account: "12345678".into(),
        holder: "Comune di Milano - Servizio Tesoreria".into(),
        authorization: Some(
            "Aut. n. 123456 del 01/01/2026 rilasciata da Poste Italiane S.p.A.".into(),
        ),
    }
}

fn installments(count: u64, cents: i64) -> Vec<Payment> {
    (0..count)
        .map(|i| {
            payment(
                100 + i,
                cents,
                Some(Date::constant(2027, 1 + (i % 12) as i8, 15)),
            )
        })
        .collect()
}

fn rasterise(pdf: &[u8], name: &str) -> Vec<PathBuf> {
    documents::rasterise(pdf, &artifacts(), name)
}

fn qr_of(p: &Payment) -> (BarcodeFormat, String) {
    (
        BarcodeFormat::QR_CODE,
        qr_payload(&p.notice, ENTE_CF, p.amount),
    )
}

fn dm_of(notice: &Notice, p: &Payment) -> (BarcodeFormat, String) {
    let postal = notice.ente.postal.as_ref().unwrap();
    let slip = PostalSlip {
        notice: &p.notice,
        account: &postal.account,
        amount: p.amount,
        ente_fiscal_code: ENTE_CF,
        debtor_fiscal_code: &notice.debtor.fiscal_code,
        debtor_name: &notice.debtor.name,
        subject: &notice.subject,
    };
    (
        BarcodeFormat::DATA_MATRIX,
        datamatrix_payload(&slip).unwrap(),
    )
}

fn sorted(mut codes: Vec<(BarcodeFormat, String)>) -> Vec<(BarcodeFormat, String)> {
    codes.sort_by(|a, b| a.1.cmp(&b.1));
    codes
}

#[test]
fn single_payment_qr_reads_back_and_the_notice_number_is_text() {
    let notice = base_notice();
    let pdf = render_notice(&notice).unwrap();
    let pages = rasterise(&pdf, "single");
    assert_eq!(pages.len(), 1);
    let full = notice.full.as_ref().unwrap();
    assert_eq!(decode(&pages[0]), vec![qr_of(full)]);
    let text = pdf_text(&pdf);
    assert!(text.contains(&full.notice.printed()), "{text}");
    assert!(text.contains("123,45"));
    assert!(text.contains("31/12/2026"));
}

#[test]
fn postal_slip_carries_the_poste_data_matrix() {
    let mut notice = base_notice();
    notice.ente.postal = Some(postal());
    let pdf = render_notice(&notice).unwrap();
    let pages = rasterise(&pdf, "postal");
    assert_eq!(pages.len(), 1);
    let full = notice.full.as_ref().unwrap();
    assert_eq!(
        decode(&pages[0]),
        sorted(vec![qr_of(full), dm_of(&notice, full)])
    );
    assert!(pdf_text(&pdf).contains("BOLLETTINO POSTALE PA"));
}

#[test]
fn three_installments_share_one_page_after_the_first() {
    let mut notice = base_notice();
    notice.installments = installments(3, 4_115);
    let pdf = render_notice(&notice).unwrap();
    let pages = rasterise(&pdf, "installments-3");
    assert_eq!(pages.len(), 2);
    assert_eq!(
        decode(&pages[0]),
        vec![qr_of(notice.full.as_ref().unwrap())]
    );
    let expected = sorted(notice.installments.iter().map(qr_of).collect());
    assert_eq!(decode(&pages[1]), expected);
    let text = pdf_text(&pdf);
    assert!(text.contains("unica rata o in 3 rate"), "{text}");
}

#[test]
fn installments_with_postal_slips_go_two_to_a_page() {
    let mut notice = base_notice();
    notice.ente.postal = Some(postal());
    notice.full = None;
    notice.installments = installments(4, 5_000);
    let pdf = render_notice(&notice).unwrap();
    let pages = rasterise(&pdf, "installments-4-postal");
    assert_eq!(pages.len(), 3);
    for (page, pair) in pages[1..].iter().zip(notice.installments.chunks(2)) {
        let expected = sorted(
            pair.iter()
                .flat_map(|p| [qr_of(p), dm_of(&notice, p)])
                .collect(),
        );
        assert_eq!(decode(page), expected);
    }
    let text = pdf_text(&pdf);
    assert!(text.contains("Puoi pagare in 4 rate"), "{text}");
    assert!(
        !text.contains("unica rata o in"),
        "no full option, no 'or in N installments'"
    );
}

#[test]
fn twelve_installments_get_a_summary_page() {
    let mut notice = base_notice();
    notice.full = None;
    notice.installments = installments(12, 1_000);
    let pdf = render_notice(&notice).unwrap();
    let pages = rasterise(&pdf, "installments-12");
    // Page one, the summary, then four pages of three.
    assert_eq!(pages.len(), 6);
    let text = pdf_text(&pdf);
    for p in &notice.installments {
        assert!(text.contains(&p.notice.printed()), "{} missing", p.notice);
    }
    let expected = sorted(notice.installments[9..].iter().map(qr_of).collect());
    assert_eq!(decode(&pages[5]), expected);
}

#[test]
fn a_plan_of_one_installment_prints_as_a_single_payment() {
    let mut notice = base_notice();
    notice.full = None;
    notice.installments = installments(1, 777);
    let pdf = render_notice(&notice).unwrap();
    let pages = rasterise(&pdf, "installments-1");
    assert_eq!(pages.len(), 1);
    assert_eq!(decode(&pages[0]), vec![qr_of(&notice.installments[0])]);
    assert!(!pdf_text(&pdf).contains("in 1 rate"));
}

#[test]
fn no_due_date_says_so() {
    let mut notice = base_notice();
    notice.full = Some(payment(7, 5_000, None));
    let pdf = render_notice(&notice).unwrap();
    let text = pdf_text(&pdf);
    assert!(text.contains("senza scadenza"), "{text}");
    rasterise(&pdf, "no-due-date");
}

#[test]
fn extreme_amounts_long_names_and_no_logo_stay_in_their_boxes() {
    let mut notice = base_notice();
    notice.ente.logo_png = None;
    notice.ente.postal = Some(postal());
    notice.ente.name =
        "Azienda Socio Sanitaria Territoriale dei Santi Paolo e Carlo e delle Valli ".repeat(3);
    notice.debtor.name = "Maria Giuseppina Antonietta Francesca ".repeat(4);
    notice.subject = "Canone unico patrimoniale ".repeat(8);
    notice.full = Some(payment(
        9,
        99_999_999_999,
        Some(Date::constant(2026, 6, 30)),
    ));
    notice.installments = vec![payment(10, 1, None), payment(11, 99_999_999_998, None)];
    let pdf = render_notice(&notice).unwrap();
    let pages = rasterise(&pdf, "extremes");
    assert_eq!(pages.len(), 2);
    let text = pdf_text(&pdf);
    assert!(text.contains("999.999.999,99"));
    assert!(text.contains("0,01"));
    assert!(text.contains("Importo oltre il"), "{text}");
    // The full amount does not fit Poste's 10 digits: QR only; the 0,01
    // installment has its slip.
    assert_eq!(
        decode(&pages[0]),
        vec![qr_of(notice.full.as_ref().unwrap())]
    );
    let small = &notice.installments[0];
    let big = &notice.installments[1];
    assert_eq!(
        decode(&pages[1]),
        sorted(vec![qr_of(small), dm_of(&notice, small), qr_of(big)])
    );
}

#[test]
fn a_logo_that_is_not_a_png_is_left_out() {
    let mut notice = base_notice();
    notice.ente.logo_png = Some(b"not an image".to_vec());
    let pdf = render_notice(&notice).unwrap();
    let pages = rasterise(&pdf, "bad-logo");
    assert_eq!(
        decode(&pages[0]),
        vec![qr_of(notice.full.as_ref().unwrap())]
    );
}

#[test]
fn bad_data_is_refused_with_the_field_named() {
    let mut notice = base_notice();
    notice.full = None;
    assert!(
        render_notice(&notice)
            .unwrap_err()
            .to_string()
            .contains("no payment")
    );
    let mut notice = base_notice();
    notice.ente.postal = Some(PostalAccount {
        account: "IT60X0542811101000000123456".into(),
        ..postal()
    });
    assert!(
        render_notice(&notice)
            .unwrap_err()
            .to_string()
            .contains("postal account")
    );
    let mut notice = base_notice();
    notice.full = Some(payment(1, 0, None));
    assert!(
        render_notice(&notice)
            .unwrap_err()
            .to_string()
            .contains("amount")
    );
}

#[test]
fn a_book_holds_many_notices_and_skips_a_bad_one_whole() {
    let first = base_notice();
    let mut second = base_notice();
    second.full = Some(payment(2, 99, None));
    second.installments = installments(3, 3_000);
    let mut bad = base_notice();
    bad.full = Some(payment(9, 0, None));
    let mut book = NoticeBook::new("Avvisi", first.printed_at);
    book.add(&first).unwrap();
    assert!(book.add(&bad).unwrap_err().to_string().contains("amount"));
    book.add(&second).unwrap();
    assert_eq!(book.notices(), 2);
    let pdf = book.finish().unwrap();
    let pages = rasterise(&pdf, "book");
    // One page for the first notice; the second has a page for its three
    // installments after its own first page. The bad one left nothing.
    assert_eq!(pages.len(), 3);
    assert_eq!(decode(&pages[0]), vec![qr_of(first.full.as_ref().unwrap())]);
    assert_eq!(
        decode(&pages[1]),
        vec![qr_of(second.full.as_ref().unwrap())]
    );
    let plan: Vec<_> = second.installments.iter().map(qr_of).collect();
    assert_eq!(decode(&pages[2]), sorted(plan));
}

#[test]
fn receipt_has_its_data_as_text() {
    let receipt = Receipt {
        ente_name: "Comune di Milano".into(),
        ente_fiscal_code: ENTE_CF.into(),
        ente_logo_png: Some(sample_logo()),
        debtor_name: "Mario Rossi".into(),
        debtor_fiscal_code: "RSSMRA80A01F205X".into(),
        payer_name: Some("Anna Bianchi".into()),
        payer_fiscal_code: Some("BNCNNA85C41F205Y".into()),
        description: "TARI 2026".into(),
        amount: Cents::new(12_345),
        fee: Some(Cents::new(150)),
        psp_name: "PSP Simulato S.p.A.".into(),
        payment_method: Some("CP".into()),
        paid_at: "2026-07-01T08:30:00Z".parse().unwrap(),
        receipt_id: "c1f0a9e2d3b4".into(),
        notice: notice_number(1),
        iuv: notice_number(1).iuv().as_str().to_owned(),
    };
    let pdf = render_receipt(&receipt).unwrap();
    rasterise(&pdf, "receipt");
    let text = pdf_text(&pdf);
    for expected in [
        "Comune di Milano",
        "123,45",
        "1,50",
        "01/07/2026 10:30:00",
        "c1f0a9e2d3b4",
        "Anna Bianchi",
        "PSP Simulato S.p.A.",
        "Carta di pagamento",
        &receipt.notice.printed(),
        &receipt.iuv,
    ] {
        assert!(text.contains(expected), "{expected:?} missing from\n{text}");
    }
}
