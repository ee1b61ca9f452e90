//! The payment receipt (ricevuta di pagamento), from a stored pagoPA
//! receipt: who was paid, who paid, what, how much, through which PSP and
//! when (shown in Europe/Rome time).

use cassa_core::{Cents, NoticeNumber};
use jiff::Timestamp;

use crate::DocumentError;
use crate::canvas::{BAND, BLUE, Canvas, GREY, INK, RULE, Style, Weight};
use crate::pdf::Pdf;
use crate::text::amount;

#[derive(Clone, Debug)]
pub struct Receipt {
    pub ente_name: String,
    pub ente_fiscal_code: String,
    pub ente_logo_png: Option<Vec<u8>>,
    pub debtor_name: String,
    pub debtor_fiscal_code: String,
    pub payer_name: Option<String>,
    pub payer_fiscal_code: Option<String>,
    pub description: String,
    pub amount: Cents,
    pub fee: Option<Cents>,
    pub psp_name: String,
    pub payment_method: Option<String>,
    pub paid_at: Timestamp,
    /// The node's receiptId (the IUR of the old model).
    pub receipt_id: String,
    pub notice: NoticeNumber,
    pub iuv: String,
}

const LEFT: f32 = 48.0;
const RIGHT: f32 = 547.0;
const WIDTH: f32 = RIGHT - LEFT;

fn rome(at: Timestamp) -> String {
    at.to_zoned(cassa_core::italy::time_zone())
        .strftime("%d/%m/%Y %H:%M:%S")
        .to_string()
}

/// pagoPA's payment method codes, as a person reads them.
fn method_name(code: Option<&str>) -> String {
    match code {
        None => "-".into(),
        Some("CP") => "Carta di pagamento".into(),
        Some("BBT") => "Bonifico bancario".into(),
        Some("BP") => "Bollettino postale".into(),
        Some("AD") => "Addebito diretto".into(),
        Some("PO") => "Pagamento presso il prestatore (PSP)".into(),
        Some("PPAL") => "PayPal".into(),
        Some("MYBK") => "MyBank".into(),
        Some("JIF") => "Bancomat Pay".into(),
        Some(other) => other.into(),
    }
}

/// The receipt as a PDF.
pub fn render_receipt(r: &Receipt) -> Result<Vec<u8>, DocumentError> {
    render_receipts(std::slice::from_ref(r))
}

/// Several receipts (the installments of one debt) as one PDF, a page each.
pub fn render_receipts(receipts: &[Receipt]) -> Result<Vec<u8>, DocumentError> {
    let Some(first) = receipts.first() else {
        return Err(DocumentError::Invalid("no receipt to print".into()));
    };
    if let Some(bad) = receipts.iter().find(|r| r.amount.get() <= 0) {
        return Err(DocumentError::Invalid(format!(
            "receipt {}: amount must be positive",
            bad.receipt_id
        )));
    }
    let title = format!("Ricevuta di pagamento {}", first.receipt_id);
    let mut pdf = Pdf::new(&title, first.paid_at);
    for r in receipts {
        pdf.page(|c| draw(c, r));
    }
    pdf.finish()
}

fn draw(c: &mut Canvas<'_, '_>, r: &Receipt) {
    let kicker = Style::new(Weight::SemiBold, 8.5, BLUE);
    c.text(LEFT, 52.0, kicker, "pagoPA · RICEVUTA DI PAGAMENTO", 360.0);
    let after = c.paragraph(
        LEFT,
        76.0,
        Style::new(Weight::Bold, 18.0, INK),
        &r.ente_name,
        360.0,
        2,
    );
    c.text(
        LEFT,
        after,
        Style::new(Weight::Regular, 9.0, INK),
        &format!("Cod. Fiscale {}", r.ente_fiscal_code),
        360.0,
    );
    if let Some(png) = &r.ente_logo_png {
        c.logo(png, RIGHT, 36.0, 96.0, 58.0);
    }
    c.fill_rect(LEFT, 136.0, WIDTH, 58.0, BAND);
    c.text(
        LEFT + 12.0,
        156.0,
        Style::new(Weight::SemiBold, 9.0, GREY),
        "Importo pagato",
        200.0,
    );
    c.text(
        LEFT + 12.0,
        182.0,
        Style::new(Weight::Bold, 22.0, INK),
        &format!("{} €", amount(r.amount)),
        240.0,
    );
    c.text(
        LEFT + 270.0,
        156.0,
        Style::new(Weight::SemiBold, 9.0, GREY),
        "Data e ora del pagamento",
        220.0,
    );
    c.text(
        LEFT + 270.0,
        180.0,
        Style::new(Weight::SemiBold, 13.0, INK),
        &rome(r.paid_at),
        220.0,
    );

    let payer_name = r.payer_name.as_deref().unwrap_or(&r.debtor_name);
    let payer_cf = r
        .payer_fiscal_code
        .as_deref()
        .unwrap_or(&r.debtor_fiscal_code);
    let fee = r
        .fee
        .map(|f| format!("{} €", amount(f)))
        .unwrap_or_else(|| "-".into());
    let rows: [(&str, String); 11] = [
        ("Oggetto del pagamento", r.description.clone()),
        (
            "Debitore",
            format!("{} ({})", r.debtor_name, r.debtor_fiscal_code),
        ),
        ("Pagato da", format!("{payer_name} ({payer_cf})")),
        (
            "Ente creditore",
            format!("{} ({})", r.ente_name, r.ente_fiscal_code),
        ),
        ("Codice avviso", r.notice.printed()),
        ("IUV", r.iuv.clone()),
        ("ID ricevuta (IUR)", r.receipt_id.clone()),
        ("Prestatore del servizio (PSP)", r.psp_name.clone()),
        (
            "Metodo di pagamento",
            method_name(r.payment_method.as_deref()),
        ),
        ("Commissione applicata dal PSP", fee),
        ("Esito", "Pagamento eseguito".into()),
    ];
    let label = Style::new(Weight::Regular, 9.0, GREY);
    let value = Style::new(Weight::SemiBold, 10.0, INK);
    let mut y = 222.0;
    for (name, text) in rows {
        c.line(LEFT, y, RIGHT, y, RULE, 0.5);
        c.text(LEFT, y + 16.0, label, name, 170.0);
        let bottom = c.paragraph(LEFT + 180.0, y + 16.0, value, &text, WIDTH - 180.0, 2);
        y = bottom.max(y + 28.0) + 2.0;
    }
    c.line(LEFT, y, RIGHT, y, RULE, 0.5);
    c.paragraph(
        LEFT,
        y + 24.0,
        Style::new(Weight::Regular, 8.0, GREY),
        "Ricevuta generata dai dati della ricevuta telematica inviata dalla piattaforma pagoPA. \
         Orari nel fuso di Roma.",
        WIDTH,
        2,
    );
}
