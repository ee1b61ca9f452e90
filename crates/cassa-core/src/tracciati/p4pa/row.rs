//! One data row of a P4PA file (one installment), read into typed values
//! or into every broken rule, each naming its column as the file does.

use jiff::civil::Date;

use super::Header;
use super::plan::OptionType;
use crate::debt::MAX_TEXT;
use crate::money::Cents;
use crate::taxonomy::TaxonomyCode;
use crate::tracciati::cells::{
    Action, FieldError, Payer, PayerColumns, Reader, Secondary, SecondaryColumns,
};

const PAYER_COLUMNS: PayerColumns = PayerColumns::italian("mailPagatore");

macro_rules! beneficiary_columns {
    ($n:literal) => {
        SecondaryColumns {
            fiscal_code: concat!("codiceFiscaleEnte_", $n),
            name: concat!("DenominazioneEnte_", $n),
            iban: concat!("IbanAccreditoEnte_", $n),
            taxonomy: concat!("codiceTassonomiaEnte_", $n),
            remittance: concat!("CausaleVersamentoEnte_", $n),
            amount: concat!("importoVersamentoEnte_", $n),
        }
    };
}

/// Beneficiaries 2 to 5 (the first is the creditor ente itself).
const BENEFICIARY_COLUMNS: [SecondaryColumns; 4] = [
    beneficiary_columns!("2"),
    beneficiary_columns!("3"),
    beneficiary_columns!("4"),
    beneficiary_columns!("5"),
];

/// One row, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The position's key: the IUPD or, when empty, the row's IUD.
    pub iupd: String,
    pub description: String,
    pub validity: Option<Date>,
    pub option_index: u32,
    pub option_type: OptionType,
    pub option_description: Option<String>,
    pub iud: String,
    /// Empty: cassa generates it.
    pub iuv: Option<String>,
    pub payer: Payer,
    pub due_date: Date,
    pub amount: Cents,
    pub tipo_dovuto: String,
    pub remittance: String,
    /// Empty: the tipo dovuto's own code.
    pub taxonomy: Option<TaxonomyCode>,
    pub bilancio: Option<String>,
    /// Beneficiaries 2 to 5, with their shares of the amount.
    pub others: Vec<Secondary>,
    pub action: Action,
    /// Stored but not offered to pagoPA until published.
    pub draft: bool,
}

/// Reads one data row under `header`. All broken rules are reported at
/// once, each under the column's name in the file.
pub fn read_row(header: &Header, fields: &[&str]) -> Result<Row, Vec<FieldError>> {
    if fields.len() != header.columns.len() {
        return Err(vec![FieldError {
            column: "riga",
            code: "COLONNE",
            reason: format!(
                "la riga ha {} colonne, l'intestazione {}",
                fields.len(),
                header.columns.len()
            ),
        }]);
    }
    let mut r = Reader::new(&header.columns, fields);
    let iupd = r.text("IUPD", 35, false);
    let description = r.text("descrizionePosizioneDebitoria", MAX_TEXT, true);
    let validity = r.date("dataValidita", false);
    r.flag("coobbligato");
    r.date("dataNotifica", false);
    let option_index =
        r.text("indiceOpzionePagamento", 3, true)
            .and_then(|t| match t.parse::<u32>() {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    r.fail(
                        "indiceOpzionePagamento",
                        "FORMATO",
                        "numero intero da 1 in su",
                    );
                    None
                }
            });
    let option_type =
        r.text("tipoOpzionePagamento", 32, true)
            .and_then(|t| match OptionType::parse(&t) {
                Some(kind) => Some(kind),
                None => {
                    r.fail(
                        "tipoOpzionePagamento",
                        "FORMATO",
                        "atteso SINGLE_INSTALLMENT, INSTALLMENTS, DOWN_PAYMENT o \
                     REDUCED_SINGLE_INSTALLMENT",
                    );
                    None
                }
            });
    let option_description = r.text("descrizioneOpzionePagamento", MAX_TEXT, false);
    let iud = r.text("iud", 35, true);
    let iuv = r.digits("codIUV", 35);
    let payer = r.payer(&PAYER_COLUMNS);
    let due_date = r.date("dataEsecuzionePagamento", true);
    let amount = r.amount("importoDovuto", true);
    let tipo_dovuto = r.text("tipoDovuto", 64, true);
    let remittance = r.text("causaleVersamento", MAX_TEXT, true);
    let taxonomy = r.taxonomy("datiSpecificiRiscossione", false);
    r.flag("flgGeneraIuv");
    r.flag("flagPagamentoPu");
    let bilancio = r.text("bilancio", 4096, false);
    let multi = r.flag("flagMultiBeneficiario");
    let count = match r.raw("numeroBeneficiari") {
        "" => None,
        t => match t.parse::<usize>() {
            Ok(n @ 1..=5) => Some(n),
            _ => {
                r.fail("numeroBeneficiari", "FORMATO", "numero da 1 a 5");
                None
            }
        },
    };
    let others = match (multi, count) {
        (true, None | Some(1)) => {
            r.fail(
                "numeroBeneficiari",
                "OBBLIGATORIO",
                "con flagMultiBeneficiario=true servono da 2 a 5 beneficiari",
            );
            Vec::new()
        }
        (_, Some(n)) if n > 1 => BENEFICIARY_COLUMNS[..n - 1]
            .iter()
            .filter_map(|c| r.secondary(c, amount))
            .collect(),
        _ => Vec::new(),
    };
    if let Some(total) = amount {
        let shares = others.iter().fold(Cents::ZERO, |s, o| s + o.amount);
        if others.len() > 1 && shares >= total {
            r.fail(
                "importoDovuto",
                "FORMATO",
                "deve superare la somma delle quote degli altri beneficiari",
            );
        }
    }
    let action = r.action("azione");
    let draft = r.flag("draft");
    let mut errors = std::mem::take(&mut r.errors);
    for e in &mut errors {
        e.column = header.name_in_file(e.column);
    }
    match (
        iud,
        description,
        option_index,
        option_type,
        payer,
        due_date,
        amount,
        tipo_dovuto,
        remittance,
        action,
    ) {
        (
            Some(iud),
            Some(description),
            Some(option_index),
            Some(option_type),
            Some(payer),
            Some(due_date),
            Some(amount),
            Some(tipo_dovuto),
            Some(remittance),
            Some(action),
        ) if errors.is_empty() => Ok(Row {
            iupd: iupd.unwrap_or_else(|| iud.clone()),
            description,
            validity,
            option_index,
            option_type,
            option_description,
            iud,
            iuv,
            payer,
            due_date,
            amount,
            tipo_dovuto,
            remittance,
            taxonomy,
            bilancio,
            others,
            action,
            draft,
        }),
        _ => Err(errors),
    }
}
