//! The machine-readable codes printed on a notice: the pagoPA QR code and
//! Poste Italiane's Data Matrix for the Bollettino Postale PA. Payloads are
//! pure functions; the matrices are drawn as vector squares by `canvas`.

use cassa_core::{Cents, NoticeNumber};
use qrcode::{Color, EcLevel, QrCode};

use crate::DocumentError;
use crate::text::ascii_upper;

/// The pagoPA QR payload: `PAGOPA|002|<notice>|<ente CF>|<amount in cents>`.
pub fn qr_payload(notice: &NoticeNumber, ente_fiscal_code: &str, amount: Cents) -> String {
    format!(
        "PAGOPA|002|{}|{}|{}",
        notice.as_str(),
        ente_fiscal_code,
        amount.get()
    )
}

/// The fixed-width fields of Poste's Data Matrix for the Bollettino PA
/// (Manuale della stampa in proprio, "Bollettino PA integrato nell'avviso").
pub struct PostalSlip<'a> {
    pub notice: &'a NoticeNumber,
    /// The 12-digit postal account (conto corrente) number.
    pub account: &'a str,
    pub amount: Cents,
    pub ente_fiscal_code: &'a str,
    pub debtor_fiscal_code: &'a str,
    pub debtor_name: &'a str,
    pub subject: &'a str,
}

/// Poste's amount field has 10 digits: 99.999.999,99 euro at most.
const MAX_SLIP_AMOUNT: i64 = 9_999_999_999;

/// Whether `amount` can be paid with a Bollettino Postale PA at all.
pub fn fits_postal_slip(amount: Cents) -> bool {
    (1..=MAX_SLIP_AMOUNT).contains(&amount.get())
}

/// Total length of the Data Matrix payload, always.
pub const DATAMATRIX_PAYLOAD_LEN: usize = 256;

/// `codfase=NBPA;` then `18` + notice, `12` + account, `10` + amount in
/// cents, `3` + `896` (document type), `1P1`, the ente's CF, the debtor's
/// CF (16), name (40) and subject (110) padded with spaces, 12 spaces and
/// `A`: 256 characters of upper-case ASCII.
pub fn datamatrix_payload(slip: &PostalSlip<'_>) -> Result<String, DocumentError> {
    let account = digits_padded(slip.account, 12)
        .ok_or_else(|| DocumentError::Invalid(format!("postal account {:?}", slip.account)))?;
    if !fits_postal_slip(slip.amount) {
        return Err(DocumentError::Invalid(format!("amount {}", slip.amount)));
    }
    let amount = slip.amount.get();
    let payload = format!(
        "codfase=NBPA;18{}12{}10{:010}3896{}{}{}{}{}{}A",
        slip.notice.as_str(),
        account,
        amount,
        "1P1",
        fixed(slip.ente_fiscal_code, 11),
        fixed(slip.debtor_fiscal_code, 16),
        fixed(slip.debtor_name, 40),
        fixed(slip.subject, 110),
        " ".repeat(12),
    );
    debug_assert_eq!(payload.len(), DATAMATRIX_PAYLOAD_LEN);
    Ok(payload)
}

/// `text` in upper-case ASCII, cut or padded with spaces to `width`.
fn fixed(text: &str, width: usize) -> String {
    let mut out: String = ascii_upper(text).chars().take(width).collect();
    while out.len() < width {
        out.push(' ');
    }
    out
}

/// The digits of `text` left-padded with zeros to `width`, if they fit.
fn digits_padded(text: &str, width: usize) -> Option<String> {
    let digits = text.trim();
    (!digits.is_empty() && digits.len() <= width && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{digits:0>width$}"))
}

/// A square matrix of modules, `true` for dark.
#[derive(Clone, Debug)]
pub struct Modules {
    pub width: usize,
    pub height: usize,
    pub dark: Vec<bool>,
}

impl Modules {
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }
}

/// The QR code of `payload`, error correction level M.
pub fn qr_modules(payload: &str) -> Result<Modules, DocumentError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| DocumentError::Invalid(format!("QR code: {e}")))?;
    let width = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    Ok(Modules {
        width,
        height: width,
        dark,
    })
}

/// The square ECC200 Data Matrix of `payload`.
pub fn datamatrix_modules(payload: &str) -> Result<Modules, DocumentError> {
    // Upper-case text and digits: ASCII (digit pairs) and C40 (three
    // characters in two codewords) give the smallest symbol. Letting the
    // encoder weigh all six encodations made the same symbol 30 times slower.
    let code = datamatrix::DataMatrixBuilder::new()
        .with_symbol_list(datamatrix::SymbolList::default().enforce_square())
        .with_encodation_types(
            datamatrix::data::EncodationType::Ascii | datamatrix::data::EncodationType::C40,
        )
        .encode_str(payload)
        .map_err(|e| DocumentError::Invalid(format!("Data Matrix: {e:?}")))?;
    let bitmap = code.bitmap();
    let (width, height) = (bitmap.width(), bitmap.height());
    let mut dark = vec![false; width * height];
    for (x, y) in bitmap.pixels() {
        dark[y * width + x] = true;
    }
    Ok(Modules {
        width,
        height,
        dark,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> NoticeNumber {
        NoticeNumber::parse("302000000000000184").unwrap().notice
    }

    #[test]
    fn qr_payload_has_the_five_fields() {
        assert_eq!(
            qr_payload(&notice(), "01199250158", Cents::new(12345)),
            "PAGOPA|002|302000000000000184|01199250158|12345"
        );
    }

    #[test]
    fn datamatrix_payload_is_256_fixed_characters() {
        let slip = PostalSlip {
            notice: &notice(),
            account: "1234567",
            amount: Cents::new(12345),
            ente_fiscal_code: "01199250158",
            debtor_fiscal_code: "RSSMRA80A01F205X",
            debtor_name: "Mario Rossi Niccolò",
            subject: "TARI 2026 — rata unica",
        };
        let payload = datamatrix_payload(&slip).unwrap();
        assert_eq!(payload.len(), DATAMATRIX_PAYLOAD_LEN);
        assert!(payload.starts_with(
            "codfase=NBPA;18302000000000000184120000012345671000000123453896\
             1P101199250158RSSMRA80A01F205XMARIO ROSSI NICCOLO"
        ));
        assert!(payload.contains("TARI 2026 - RATA UNICA"));
        assert!(payload.ends_with(&format!("{}A", " ".repeat(12))));
        assert!(payload.is_ascii());
    }

    #[test]
    fn datamatrix_refuses_a_bad_account() {
        let slip = PostalSlip {
            notice: &notice(),
            account: "IT60X0542811101000000123456",
            amount: Cents::new(1),
            ente_fiscal_code: "01199250158",
            debtor_fiscal_code: "",
            debtor_name: "",
            subject: "",
        };
        assert!(datamatrix_payload(&slip).is_err());
    }

    #[test]
    fn long_fields_are_cut_to_their_width() {
        let long = "x".repeat(500);
        let slip = PostalSlip {
            notice: &notice(),
            account: "123456789012",
            amount: Cents::new(9_999_999_999),
            ente_fiscal_code: "01199250158",
            debtor_fiscal_code: &long,
            debtor_name: &long,
            subject: &long,
        };
        assert_eq!(
            datamatrix_payload(&slip).unwrap().len(),
            DATAMATRIX_PAYLOAD_LEN
        );
        // Poste's amount field has 10 digits: 99.999.999,99 euro at most.
        let too_much = PostalSlip {
            amount: Cents::new(10_000_000_000),
            ..slip
        };
        assert!(datamatrix_payload(&too_much).is_err());
    }

    #[test]
    fn matrices_are_square() {
        let qr = qr_modules("PAGOPA|002|302000000000000184|01199250158|12345").unwrap();
        assert_eq!(qr.width, qr.height);
        let dm = datamatrix_modules(&"A".repeat(256)).unwrap();
        assert_eq!(dm.width, dm.height);
    }

    #[test]
    fn the_fast_datamatrix_is_as_small_as_the_best() {
        for (name, subject) in [
            ("Mario Rossi", "TARI 2026 - rata unica"),
            (
                "Comune di Valbrona S.p.A. & C.",
                "Lampade votive 2026 (n. 12/b)",
            ),
        ] {
            let slip = PostalSlip {
                notice: &notice(),
                account: "12345678",
                amount: Cents::new(18_700),
                ente_fiscal_code: "83000120150",
                debtor_fiscal_code: "GLLSRA95E41F205O",
                debtor_name: name,
                subject,
            };
            let payload = datamatrix_payload(&slip).unwrap();
            let fast = datamatrix_modules(&payload).unwrap();
            let best = datamatrix::DataMatrix::encode_str(
                &payload,
                datamatrix::SymbolList::default().enforce_square(),
            )
            .unwrap();
            assert_eq!(fast.width, best.bitmap().width(), "{name}");
        }
    }
}
