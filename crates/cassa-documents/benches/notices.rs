//! How fast notices render: single-page notices (one payment and its QR
//! code) on one thread, with a postal slip (QR + Data Matrix), and with
//! an ente's logo.
//! Run with `cargo bench -p cassa-documents`.

use std::time::{Duration, Instant};

use cassa_core::{Cents, NoticeNumber, SegregationCode};
use cassa_documents::{Debtor, Ente, Notice, Payment, PostalAccount, render_notice};
use jiff::civil::Date;

fn notice(base: u64, postal: bool, logo: Option<&[u8]>) -> Notice {
    Notice {
        subject: format!("TARI 2026 - avviso n. {base}"),
        ente: Ente {
            fiscal_code: "01199250158".into(),
            name: "Comune di Milano".into(),
            office: Some("Ufficio Tributi".into()),
            contacts: vec!["www.comune.milano.it".into()],
            cbill: Some("A0EDT".into()),
            logo_png: logo.map(<[u8]>::to_vec),
            postal: postal.then(|| PostalAccount {
                account: "12345678".into(),
                holder: "Comune di Milano".into(),
                authorization: None,
            }),
        },
        debtor: Debtor {
            name: "Mario Rossi".into(),
            fiscal_code: "RSSMRA80A01F205X".into(),
            address: vec!["Via Roma 1".into(), "20121 Milano (MI)".into()],
        },
        full: Some(Payment {
            notice: NoticeNumber::generate(SegregationCode::new(2).unwrap(), base).unwrap(),
            amount: Cents::new(10_000 + base as i64),
            due_date: Some(Date::constant(2026, 12, 31)),
        }),
        installments: Vec::new(),
        printed_at: jiff::Timestamp::now(),
    }
}

fn measure(label: &str, postal: bool, logo: Option<&[u8]>) {
    // Warm up: fonts are parsed once per process.
    render_notice(&notice(0, postal, logo)).unwrap();
    let started = Instant::now();
    let mut count = 0u64;
    let mut bytes = 0usize;
    while started.elapsed() < Duration::from_secs(5) {
        count += 1;
        bytes += render_notice(&notice(count, postal, logo)).unwrap().len();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{label}.notices_per_second_one_core={:.0}",
        count as f64 / seconds
    );
    println!(
        "{label}.ms_per_notice={:.2}",
        seconds * 1000.0 / count as f64
    );
    println!(
        "{label}.average_kib={:.1}",
        bytes as f64 / count as f64 / 1024.0
    );
}

fn main() {
    measure("qr_only", false, None);
    measure("with_postal_slip", true, None);
    let logo = cassa_testkit::documents::sample_logo();
    measure("with_logo", false, Some(&logo));
}
