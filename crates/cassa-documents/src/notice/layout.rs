//! Where everything sits on the notice's pages (points from the top-left).

use std::collections::HashMap;

use cassa_core::Cents;

use super::{MANY_INSTALLMENTS, MAX_SUBJECT, Notice, Payment};
use crate::DocumentError;
use crate::canvas::{
    A4_HEIGHT, BAND, BLACK_70, BLUE, Canvas, GREY, INK, RULE, Rgb, Style, Weight, mm,
};
use crate::codes::{self, Modules, PostalSlip};
use crate::text::{amount, date};

const LEFT: f32 = 34.0;
const RIGHT: f32 = 561.0;
const WIDTH: f32 = RIGHT - LEFT;
/// The QR code is printed at 25 × 25 mm, the Data Matrix at 22 × 22 mm.
const QR_SIDE: f32 = mm(25.0);
const DM_SIDE: f32 = mm(22.0);
const PAYMENT_SLOT: f32 = 142.0;
const POSTAL_SLOT: f32 = 176.0;
const GAP: f32 = 12.0;
pub const SUMMARY_ROWS_PER_PAGE: usize = 36;

const KICKER: Style = Style::new(Weight::SemiBold, 8.5, BLUE);
const SUBJECT: Style = Style::new(Weight::Bold, 17.0, INK);
const HEADING: Style = Style::new(Weight::SemiBold, 10.0, BLUE);
const LABEL: Style = Style::new(Weight::Regular, 7.5, GREY);
const BODY: Style = Style::new(Weight::Regular, 9.0, INK);
const SMALL: Style = Style::new(Weight::Regular, 7.5, GREY);
const VALUE: Style = Style::new(Weight::SemiBold, 9.5, INK);
const NAME: Style = Style::new(Weight::Bold, 11.0, INK);

/// The codes of every payment, built before drawing so that a payload
/// that cannot be encoded is an error, not a blank on paper.
pub struct Codes {
    qr: HashMap<String, Modules>,
    /// `None` where the amount is beyond the slip's 10 digits.
    datamatrix: HashMap<String, Option<Modules>>,
}

impl Codes {
    pub fn for_notice(notice: &Notice) -> Result<Codes, DocumentError> {
        let mut qr = HashMap::new();
        let mut datamatrix = HashMap::new();
        for p in notice.full.iter().chain(&notice.installments) {
            let payload = codes::qr_payload(&p.notice, &notice.ente.fiscal_code, p.amount);
            qr.insert(p.notice.as_str().to_owned(), codes::qr_modules(&payload)?);
            if let Some(postal) = &notice.ente.postal {
                let slip = PostalSlip {
                    notice: &p.notice,
                    account: &postal.account,
                    amount: p.amount,
                    ente_fiscal_code: &notice.ente.fiscal_code,
                    debtor_fiscal_code: &notice.debtor.fiscal_code,
                    debtor_name: &notice.debtor.name,
                    subject: &notice.subject,
                };
                let modules = if !codes::fits_postal_slip(p.amount) {
                    None
                } else {
                    Some(codes::datamatrix_modules(&codes::datamatrix_payload(
                        &slip,
                    )?)?)
                };
                datamatrix.insert(p.notice.as_str().to_owned(), modules);
            }
        }
        Ok(Codes { qr, datamatrix })
    }
}

fn subject(notice: &Notice) -> String {
    notice.subject.chars().take(MAX_SUBJECT).collect()
}

fn euro(cents: Cents) -> String {
    format!("Euro {}", amount(cents))
}

fn due(payment: &Payment) -> String {
    match payment.due_date {
        Some(d) => format!("entro il {}", date(d)),
        None => "senza scadenza".to_owned(),
    }
}

/// Page one.
pub fn first_page(c: &mut Canvas<'_, '_>, notice: &Notice, codes: &Codes) {
    let mut y = header(c, notice, false);
    y = parties(c, notice, y);
    y = amount_and_channels(c, notice, y);
    y = band(c, y, "DATI PER IL PAGAMENTO");
    c.text(
        LEFT,
        y + 4.0,
        SMALL,
        "Utilizza la porzione di avviso relativa alla rata e al canale di pagamento che preferisci.",
        WIDTH,
    );
    y += 12.0;
    match notice.single() {
        Some(single) => {
            y = payment_slot(c, y, notice, codes, single, "RATA UNICA");
            if notice.ente.postal.is_some() {
                postal_slot(c, y + GAP / 2.0, notice, codes, single);
            }
        }
        None => {
            let plan = notice.plan();
            let where_to = if plan.len() >= MANY_INSTALLMENTS {
                "Trovi l'elenco delle rate e, per ciascuna, i dati per pagarla nelle pagine seguenti."
            } else {
                "Trovi i dati per pagare ciascuna rata nelle pagine seguenti."
            };
            c.text(LEFT, y + 14.0, BODY, where_to, WIDTH);
            if plan.len() < MANY_INSTALLMENTS {
                summary_table(c, y + 28.0, plan, 0);
            }
        }
    }
}

/// A page listing every installment (notices with many of them).
pub fn summary_page(c: &mut Canvas<'_, '_>, notice: &Notice, offset: usize, rows: &[Payment]) {
    let y = header(c, notice, true);
    let y = band(c, y, "ELENCO DELLE RATE");
    summary_table(c, y + 6.0, rows, offset);
    let total = notice.plan().len();
    c.text(
        LEFT,
        A4_HEIGHT - 30.0,
        SMALL,
        &format!("{total} rate in tutto: i dati per pagarle sono nelle pagine seguenti."),
        WIDTH,
    );
}

/// A page of two or three installment slots.
pub fn installments_page(
    c: &mut Canvas<'_, '_>,
    notice: &Notice,
    codes: &Codes,
    first: usize,
    slots: &[Payment],
    per_page: usize,
) {
    let total = notice.plan().len();
    let mut y = header(c, notice, true);
    let title = if notice.full.is_some() {
        format!("PAGAMENTO IN {total} RATE (in alternativa alla rata unica)")
    } else {
        format!("PAGAMENTO IN {total} RATE")
    };
    y = band(c, y, &title);
    let postal = notice.ente.postal.is_some();
    let slot_height = PAYMENT_SLOT + if postal { POSTAL_SLOT } else { 0.0 };
    // Slots sit at fixed places for the page's layout, so every page of a
    // notice looks the same even when the last one is not full.
    let room = A4_HEIGHT - 24.0 - y;
    let pitch = (room / per_page as f32).max(slot_height + GAP);
    for (i, payment) in slots.iter().enumerate() {
        let top = y + i as f32 * pitch;
        let title = format!("RATA {} di {}", first + i + 1, total);
        let after = payment_slot(c, top, notice, codes, payment, &title);
        if postal {
            postal_slot(c, after + GAP / 2.0, notice, codes, payment);
        }
    }
}

/// The subject and the ente's logo; `compact` on the pages after the first.
fn header(c: &mut Canvas<'_, '_>, notice: &Notice, compact: bool) -> f32 {
    let (logo_w, logo_h) = if compact { (70.0, 36.0) } else { (96.0, 58.0) };
    let text_width = WIDTH - logo_w - 16.0;
    c.text(LEFT, 46.0, KICKER, "AVVISO DI PAGAMENTO", text_width);
    let bottom = if compact {
        let style = Style::new(Weight::Bold, 12.0, INK);
        c.text(LEFT, 62.0, style, &subject(notice), text_width);
        76.0
    } else {
        c.paragraph(LEFT, 68.0, SUBJECT, &subject(notice), text_width, 2);
        108.0
    };
    if let Some(png) = &notice.ente.logo_png {
        c.logo(png, RIGHT, 32.0, logo_w, logo_h);
    }
    c.line(LEFT, bottom, RIGHT, bottom, RULE, 0.8);
    bottom + 14.0
}

/// The ente and the recipient, side by side.
fn parties(c: &mut Canvas<'_, '_>, notice: &Notice, y: f32) -> f32 {
    let column = WIDTH / 2.0 - 12.0;
    let right = LEFT + WIDTH / 2.0 + 12.0;
    let ente = &notice.ente;
    c.text(LEFT, y, HEADING, "ENTE CREDITORE", column);
    c.text(
        LEFT,
        y + 14.0,
        BODY,
        &format!("Cod. Fiscale {}", ente.fiscal_code),
        column,
    );
    let mut line = c.paragraph(LEFT, y + 29.0, NAME, &ente.name, column, 2);
    if let Some(office) = &ente.office {
        c.text(LEFT, line, BODY, office, column);
        line += BODY.leading();
    }
    for contact in ente.contacts.iter().take(3) {
        c.text(LEFT, line, SMALL, contact, column);
        line += SMALL.leading();
    }

    let debtor = &notice.debtor;
    c.text(right, y, HEADING, "DESTINATARIO AVVISO", column);
    c.text(
        right,
        y + 14.0,
        BODY,
        &format!("Cod. Fiscale {}", debtor.fiscal_code),
        column,
    );
    let mut line = c.paragraph(right, y + 29.0, NAME, &debtor.name, column, 2);
    for part in debtor.address.iter().take(3) {
        c.text(right, line, BODY, part, column);
        line += BODY.leading();
    }
    let bottom = y + 104.0;
    c.line(LEFT, bottom, RIGHT, bottom, RULE, 0.8);
    bottom + 16.0
}

/// "Quanto e quando pagare?" and "Dove pagare?".
fn amount_and_channels(c: &mut Canvas<'_, '_>, notice: &Notice, y: f32) -> f32 {
    let column = WIDTH / 2.0 - 12.0;
    let right = LEFT + WIDTH / 2.0 + 12.0;
    let plan = notice.plan();
    let (total, when) = match (notice.single(), plan.first()) {
        (Some(single), _) => (single.amount, due(single)),
        (None, Some(first)) => (
            Cents::checked_sum(plan.iter().map(|p| p.amount)).unwrap_or(first.amount),
            format!("prima rata {}", due(first)),
        ),
        (None, None) => (Cents::new(0), String::new()),
    };
    c.text(LEFT, y, HEADING, "QUANTO E QUANDO PAGARE?", column);
    let big = Style::new(Weight::Bold, 20.0, INK);
    c.text(LEFT, y + 26.0, big, &euro(total), column);
    c.text(
        LEFT,
        y + 42.0,
        Style::new(Weight::SemiBold, 11.0, INK),
        &when,
        column,
    );
    let mut line = y + 58.0;
    if plan.len() >= 2 {
        let text = if notice.full.is_some() {
            format!("Puoi pagare con un'unica rata o in {} rate.", plan.len())
        } else {
            format!("Puoi pagare in {} rate.", plan.len())
        };
        c.text(LEFT, line, VALUE, &text, column);
        line += VALUE.leading() + 2.0;
    }
    c.paragraph(
        LEFT,
        line,
        SMALL,
        "L'importo può cambiare per sgravi, note di credito, interessi o sanzioni: il canale \
         che userai per pagare potrebbe chiederti una cifra aggiornata dall'ente, diversa da \
         quella indicata qui.",
        column,
        4,
    );

    c.text(right, y, HEADING, "DOVE PAGARE?", column);
    c.text(
        right,
        y + 13.0,
        SMALL,
        "Lista dei canali di pagamento su www.pagopa.gov.it",
        column,
    );
    let strong = Style::new(Weight::Bold, 8.5, INK);
    c.text(
        right,
        y + 30.0,
        strong,
        "PAGA SUL SITO O CON LE APP",
        column,
    );
    let line = c.paragraph(
        right,
        y + 41.0,
        BODY,
        "dell'ente creditore, della tua banca, di Poste Italiane o degli altri prestatori di \
         servizi di pagamento aderenti a pagoPA. Puoi pagare con carte, conto corrente, CBILL.",
        column,
        4,
    );
    c.text(right, line + 6.0, strong, "PAGA SUL TERRITORIO", column);
    c.paragraph(
        right,
        line + 17.0,
        BODY,
        "in banca, negli uffici postali, in ricevitoria, dal tabaccaio, agli sportelli ATM e nei \
         supermercati abilitati.",
        column,
        3,
    );
    y + 136.0
}

/// A tinted band with a title; returns where the content below starts.
fn band(c: &mut Canvas<'_, '_>, y: f32, title: &str) -> f32 {
    c.fill_rect(LEFT, y, WIDTH, 20.0, BAND);
    c.text(
        LEFT + 8.0,
        y + 13.5,
        Style::new(Weight::Bold, 9.5, INK),
        title,
        WIDTH - 16.0,
    );
    y + 30.0
}

fn field(c: &mut Canvas<'_, '_>, x: f32, y: f32, width: f32, label: &str, value: &str, color: Rgb) {
    c.text(x, y, Style { color, ..LABEL }, label, width);
    c.text(x, y + 11.0, Style { color, ..VALUE }, value, width);
}

/// One payment with its QR code: the single payment or an installment.
fn payment_slot(
    c: &mut Canvas<'_, '_>,
    y: f32,
    notice: &Notice,
    codes: &Codes,
    payment: &Payment,
    title: &str,
) -> f32 {
    c.line(LEFT, y, RIGHT, y, RULE, 0.8);
    let title_style = Style::new(Weight::Bold, 11.0, INK);
    c.text(LEFT, y + 17.0, title_style, title, 150.0);
    let after_title = LEFT + title_style.width(title) + 8.0;
    c.text(
        after_title,
        y + 17.0,
        Style::new(Weight::SemiBold, 10.0, INK),
        &due(payment),
        200.0,
    );
    c.text_right(
        RIGHT,
        y + 17.0,
        Style::new(Weight::Bold, 12.0, INK),
        &euro(payment.amount),
        200.0,
    );
    if let Some(qr) = codes.qr.get(payment.notice.as_str()) {
        c.modules(LEFT, y + 28.0, QR_SIDE, qr);
    }
    let x = LEFT + QR_SIDE + 22.0;
    let width = RIGHT - x;
    field(
        c,
        x,
        y + 36.0,
        width,
        "Destinatario",
        &notice.debtor.name,
        INK,
    );
    field(
        c,
        x,
        y + 60.0,
        width,
        "Ente Creditore",
        &notice.ente.name,
        INK,
    );
    field(
        c,
        x,
        y + 84.0,
        width,
        "Oggetto del pagamento",
        &subject(notice),
        INK,
    );
    let third = width / 3.0;
    let cbill = notice.ente.cbill.as_deref().unwrap_or("-");
    field(c, x, y + 108.0, third - 8.0, "Codice CBILL", cbill, INK);
    field(
        c,
        x + third,
        y + 108.0,
        third - 8.0,
        "Codice Avviso",
        &payment.notice.printed(),
        INK,
    );
    field(
        c,
        x + 2.0 * third,
        y + 108.0,
        third - 8.0,
        "Cod. Fiscale Ente Creditore",
        &notice.ente.fiscal_code,
        INK,
    );
    c.text(
        LEFT,
        y + 134.0,
        SMALL,
        "Inquadra il codice QR con l'app della tua banca o di un altro canale abilitato, \
         oppure usa il codice avviso e il codice fiscale dell'ente.",
        WIDTH,
    );
    y + PAYMENT_SLOT
}

/// The Bollettino Postale PA for one payment, with Poste's Data Matrix.
fn postal_slot(c: &mut Canvas<'_, '_>, y: f32, notice: &Notice, codes: &Codes, payment: &Payment) {
    let Some(postal) = &notice.ente.postal else {
        return;
    };
    c.line(LEFT, y, RIGHT, y, BLACK_70, 0.8);
    let strong = Style::new(Weight::Bold, 11.0, BLACK_70);
    c.text(LEFT, y + 17.0, strong, "BOLLETTINO POSTALE PA", 200.0);
    c.text_right(
        RIGHT,
        y + 17.0,
        Style::new(Weight::Bold, 12.0, BLACK_70),
        &euro(payment.amount),
        200.0,
    );
    let account = Style::new(Weight::SemiBold, 10.0, BLACK_70);
    c.text(
        LEFT,
        y + 33.0,
        account,
        &format!("sul C/C n. {}", postal.account),
        240.0,
    );
    c.text(
        LEFT + 250.0,
        y + 33.0,
        Style {
            color: BLACK_70,
            ..BODY
        },
        &format!("intestato a {}", postal.holder),
        WIDTH - 250.0,
    );
    match codes.datamatrix.get(payment.notice.as_str()) {
        Some(Some(dm)) => c.modules(LEFT, y + 44.0, DM_SIDE, dm),
        _ => {
            c.paragraph(
                LEFT,
                y + 56.0,
                Style {
                    color: BLACK_70,
                    ..SMALL
                },
                "Importo oltre il limite del bollettino: paga con il codice QR o il codice avviso.",
                QR_SIDE + 10.0,
                5,
            );
        }
    }
    let x = LEFT + QR_SIDE + 22.0;
    let width = RIGHT - x;
    field(
        c,
        x,
        y + 50.0,
        width,
        "Destinatario",
        &notice.debtor.name,
        BLACK_70,
    );
    field(
        c,
        x,
        y + 74.0,
        width,
        "Oggetto del pagamento",
        &subject(notice),
        BLACK_70,
    );
    let third = width / 3.0;
    field(
        c,
        x,
        y + 98.0,
        third - 8.0,
        "Codice Avviso",
        &payment.notice.printed(),
        BLACK_70,
    );
    field(c, x + third, y + 98.0, third - 8.0, "Tipo", "P1", BLACK_70);
    field(
        c,
        x + 2.0 * third,
        y + 98.0,
        third - 8.0,
        "Cod. Fiscale Ente Creditore",
        &notice.ente.fiscal_code,
        BLACK_70,
    );
    let note = Style {
        color: BLACK_70,
        ..SMALL
    };
    c.text(
        LEFT,
        y + 136.0,
        note,
        "Bollettino Postale pagabile in tutti gli Uffici Postali e sui canali fisici o digitali abilitati di Poste Italiane.",
        WIDTH,
    );
    if let Some(authorization) = &postal.authorization {
        c.paragraph(LEFT, y + 148.0, note, authorization, WIDTH, 2);
    }
}

/// Installments as rows: number, due date, notice code, amount.
fn summary_table(c: &mut Canvas<'_, '_>, y: f32, rows: &[Payment], offset: usize) {
    let columns = [LEFT + 6.0, LEFT + 80.0, LEFT + 200.0, RIGHT - 6.0];
    let head = Style::new(Weight::SemiBold, 8.0, GREY);
    c.text(columns[0], y + 8.0, head, "Rata", 70.0);
    c.text(columns[1], y + 8.0, head, "Scadenza", 110.0);
    c.text(columns[2], y + 8.0, head, "Codice avviso", 200.0);
    c.text_right(columns[3], y + 8.0, head, "Importo", 120.0);
    for (i, p) in rows.iter().enumerate() {
        let top = y + 14.0 + i as f32 * 16.0;
        c.line(LEFT, top, RIGHT, top, RULE, 0.5);
        let baseline = top + 11.5;
        c.text(
            columns[0],
            baseline,
            BODY,
            &format!("{}", offset + i + 1),
            70.0,
        );
        let when = p
            .due_date
            .map(date)
            .unwrap_or_else(|| "senza scadenza".into());
        c.text(columns[1], baseline, BODY, &when, 110.0);
        c.text(columns[2], baseline, VALUE, &p.notice.printed(), 200.0);
        c.text_right(columns[3], baseline, VALUE, &euro(p.amount), 120.0);
    }
}
