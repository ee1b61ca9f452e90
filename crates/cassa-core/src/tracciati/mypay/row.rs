//! One data row of a MyPay file, read into typed values or into every
//! broken rule, each naming its column.

use jiff::civil::Date;

use super::Version;
use crate::fiscal_code::{DebtorId, PartitaIva};
use crate::iban::Iban;
use crate::money::Cents;
use crate::taxonomy::TaxonomyCode;

/// What a row asks for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Insert,
    Modify,
    Annul,
}

/// The second beneficiary of a 1_4 row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secondary {
    pub fiscal_code: PartitaIva,
    pub name: String,
    pub iban: Iban,
    pub taxonomy: Option<TaxonomyCode>,
    pub remittance: Option<String>,
    pub amount: Cents,
}

/// One row, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub iud: String,
    /// Empty: cassa generates it.
    pub iuv: Option<String>,
    /// `G` (legal entity) rather than `F` (person).
    pub legal_entity: bool,
    pub debtor: DebtorId,
    pub name: String,
    pub street: Option<String>,
    pub civic: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub country: Option<String>,
    pub email: Option<String>,
    pub due_date: Date,
    pub amount: Cents,
    pub fee: Option<Cents>,
    pub tipo_dovuto: String,
    pub tipo_versamento: Option<String>,
    pub remittance: String,
    pub taxonomy: TaxonomyCode,
    pub bilancio: Option<String>,
    pub generate_iuv: bool,
    pub secondary: Option<Secondary>,
    pub action: Action,
}

/// One broken rule of a row: the column and why, in Italian (the report
/// goes to the ente's staff, as MyPay's `de_rifiuto` does).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub column: &'static str,
    /// A stable code for programs: `OBBLIGATORIO`, `LUNGHEZZA`, `FORMATO`.
    pub code: &'static str,
    pub reason: String,
}

struct Reader<'a> {
    columns: Vec<&'static str>,
    fields: &'a [&'a str],
    errors: Vec<FieldError>,
}

impl<'a> Reader<'a> {
    fn raw(&self, column: &str) -> &'a str {
        self.columns
            .iter()
            .position(|c| *c == column)
            .and_then(|i| self.fields.get(i))
            .map_or("", |v| v.trim())
    }

    fn fail(&mut self, column: &'static str, code: &'static str, reason: impl Into<String>) {
        self.errors.push(FieldError {
            column,
            code,
            reason: reason.into(),
        });
    }

    /// A text of at most `max` characters; `None` when empty.
    fn text(&mut self, column: &'static str, max: usize, required: bool) -> Option<String> {
        let value = self.raw(column);
        if value.is_empty() {
            if required {
                self.fail(column, "OBBLIGATORIO", "campo obbligatorio");
            }
            return None;
        }
        if value.chars().count() > max {
            self.fail(column, "LUNGHEZZA", format!("al massimo {max} caratteri"));
            return None;
        }
        Some(value.to_owned())
    }

    fn flag(&mut self, column: &'static str) -> bool {
        match self.raw(column).to_ascii_lowercase().as_str() {
            "" | "false" => false,
            "true" => true,
            _ => {
                self.fail(column, "FORMATO", "atteso true o false");
                false
            }
        }
    }

    fn amount(&mut self, column: &'static str, required: bool) -> Option<Cents> {
        let text = self.text(column, 15, required)?;
        match Cents::parse_decimal(&text) {
            Ok(c) if c.get() > 0 => Some(c),
            _ => {
                self.fail(
                    column,
                    "FORMATO",
                    "importo in euro con il punto decimale, maggiore di zero (es. 12.50)",
                );
                None
            }
        }
    }

    fn taxonomy(&mut self, column: &'static str, required: bool) -> Option<TaxonomyCode> {
        let text = self.text(column, 140, required)?;
        match TaxonomyCode::parse(&text) {
            Ok(code) => Some(code),
            Err(_) => {
                self.fail(
                    column,
                    "FORMATO",
                    "codice tassonomico non valido (es. 9/0101100IM/)",
                );
                None
            }
        }
    }
}

/// Reads one data row of `version`. All broken rules are reported at once.
pub fn read_row(version: Version, fields: &[&str]) -> Result<Row, Vec<FieldError>> {
    let mut r = Reader {
        columns: version.columns(),
        fields,
        errors: Vec::new(),
    };
    if fields.len() != r.columns.len() {
        return Err(vec![FieldError {
            column: "riga",
            code: "COLONNE",
            reason: format!(
                "la riga ha {} colonne, l'intestazione {}",
                fields.len(),
                r.columns.len()
            ),
        }]);
    }
    let iud = r.text("IUD", 35, true);
    let iuv = r.text("codIuv", 35, false);
    if let Some(iuv) = &iuv
        && !iuv.bytes().all(|b| b.is_ascii_digit())
    {
        r.fail("codIuv", "FORMATO", "solo cifre");
    }
    let kind = r.raw("tipoIdentificativoUnivoco").to_ascii_uppercase();
    let legal_entity = match kind.as_str() {
        "F" => false,
        "G" => true,
        "" => {
            r.fail(
                "tipoIdentificativoUnivoco",
                "OBBLIGATORIO",
                "campo obbligatorio",
            );
            false
        }
        _ => {
            r.fail(
                "tipoIdentificativoUnivoco",
                "FORMATO",
                "atteso F (persona fisica) o G (persona giuridica)",
            );
            false
        }
    };
    let debtor = r
        .text("codiceIdentificativoUnivoco", 35, true)
        .and_then(|code| match DebtorId::parse(&code) {
            Ok(id) => Some(id),
            Err(_) => {
                r.fail(
                    "codiceIdentificativoUnivoco",
                    "FORMATO",
                    "codice fiscale o partita IVA non valido (o ANONIMO)",
                );
                None
            }
        });
    let name = r.text("anagraficaPagatore", 70, true);
    let street = r.text("indirizzoPagatore", 70, false);
    let civic = r.text("civicoPagatore", 16, false);
    let postal_code = r.text("capPagatore", 16, false);
    let city = r.text("localitaPagatore", 35, false);
    let province = r.text("provinciaPagatore", 2, false);
    let country = r.text("nazionePagatore", 2, false);
    let email = r.text("emailPagatore", 256, false);
    if let Some(email) = &email
        && !crate::spontaneous::plausible_email(email)
    {
        r.fail("emailPagatore", "FORMATO", "indirizzo email non valido");
    }
    let due_date = r.text("dataScadenzaPagamento", 10, true).and_then(|d| {
        d.parse::<Date>().ok().or_else(|| {
            r.fail(
                "dataScadenzaPagamento",
                "FORMATO",
                "data non valida (aaaa-mm-gg)",
            );
            None
        })
    });
    let amount = r.amount("importoDovuto", true);
    let fee = match r.raw("commissioneCaricoPa") {
        "" => None,
        text => match Cents::parse_decimal(text) {
            Ok(c) if c.get() >= 0 => Some(c),
            _ => {
                r.fail(
                    "commissioneCaricoPa",
                    "FORMATO",
                    "importo in euro con il punto decimale",
                );
                None
            }
        },
    };
    let tipo_dovuto = r.text("tipoDovuto", 64, true);
    let tipo_versamento = r.text("tipoVersamento", 32, false);
    let remittance = r.text("causaleVersamento", 1024, true);
    let taxonomy = r.taxonomy("datiSpecificiRiscossione", true);
    let bilancio = if version >= Version::V1_2 {
        r.text("bilancio", 4096, false)
    } else {
        None
    };
    // Without an IUV cassa generates one, flag or not (as MyPay does for
    // enti that let the platform number their notices).
    let generate_iuv = version >= Version::V1_3 && r.flag("flagGeneraIuv");
    let secondary = if version >= Version::V1_4 && r.flag("flagMultiBeneficiario") {
        let code = r.text("codiceFiscaleEnteSecondario", 35, true);
        let fiscal_code = code.and_then(|c| match PartitaIva::parse(&c) {
            Ok(p) => Some(p),
            Err(_) => {
                r.fail(
                    "codiceFiscaleEnteSecondario",
                    "FORMATO",
                    "codice fiscale dell'ente non valido",
                );
                None
            }
        });
        let name = r.text("denominazioneEnteSecondario", 70, true);
        let iban = r
            .text("ibanAccreditoEnteSecondario", 35, true)
            .and_then(|i| match Iban::parse(&i) {
                Ok(iban) => Some(iban),
                Err(e) => {
                    r.fail(
                        "ibanAccreditoEnteSecondario",
                        "FORMATO",
                        format!("IBAN non valido: {e}"),
                    );
                    None
                }
            });
        let taxonomy = r.taxonomy("datiSpecificiRiscossioneEnteSecondario", false);
        let remittance = r.text("causaleVersamentoEnteSecondario", 1024, false);
        let share = r.amount("importoVersamentoEnteSecondario", true);
        if let (Some(share), Some(total)) = (share, amount)
            && share >= total
        {
            r.fail(
                "importoVersamentoEnteSecondario",
                "FORMATO",
                "deve essere minore dell'importo dovuto",
            );
        }
        match (fiscal_code, name, iban, share) {
            (Some(fiscal_code), Some(name), Some(iban), Some(amount)) => Some(Secondary {
                fiscal_code,
                name,
                iban,
                taxonomy,
                remittance,
                amount,
            }),
            _ => None,
        }
    } else {
        None
    };
    let action = match r.raw("azione").to_ascii_uppercase().as_str() {
        "I" => Some(Action::Insert),
        "M" => Some(Action::Modify),
        "A" => Some(Action::Annul),
        "" => {
            r.fail("azione", "OBBLIGATORIO", "campo obbligatorio");
            None
        }
        _ => {
            r.fail(
                "azione",
                "FORMATO",
                "attesa I (inserimento), M (modifica) o A (annullamento)",
            );
            None
        }
    };
    // A partita IVA under F is accepted, as MyPay does (sole traders).
    match (
        iud,
        debtor,
        name,
        due_date,
        amount,
        tipo_dovuto,
        remittance,
        taxonomy,
        action,
    ) {
        (
            Some(iud),
            Some(debtor),
            Some(name),
            Some(due_date),
            Some(amount),
            Some(tipo_dovuto),
            Some(remittance),
            Some(taxonomy),
            Some(action),
        ) if r.errors.is_empty() => Ok(Row {
            iud,
            iuv,
            legal_entity,
            debtor,
            name,
            street,
            civic,
            postal_code,
            city,
            province,
            country,
            email,
            due_date,
            amount,
            fee,
            tipo_dovuto,
            tipo_versamento,
            remittance,
            taxonomy,
            bilancio,
            generate_iuv,
            secondary,
            action,
        }),
        _ => Err(r.errors),
    }
}
