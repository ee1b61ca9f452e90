//! Reading the cells of one data row of a debt file into typed values,
//! collecting every broken rule with the column it belongs to. Shared by
//! the MyPay and the P4PA readers, which differ in which columns exist.

use jiff::civil::Date;

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

/// One broken rule of a row: the column and why, in Italian (the report
/// goes to the ente's staff, as MyPay's `de_rifiuto` does).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub column: &'static str,
    /// A stable code for programs: `OBBLIGATORIO`, `LUNGHEZZA`, `FORMATO`.
    pub code: &'static str,
    pub reason: String,
}

/// A further beneficiary of a payment (MyPay's "ente secondario", P4PA's
/// beneficiaries 2 to 5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secondary {
    pub fiscal_code: PartitaIva,
    pub name: String,
    pub iban: Iban,
    pub taxonomy: Option<TaxonomyCode>,
    pub remittance: Option<String>,
    pub amount: Cents,
}

/// Who owes: the payer columns every debt file has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payer {
    /// `G` (legal entity) rather than `F` (person).
    pub legal_entity: bool,
    pub id: DebtorId,
    pub name: String,
    pub street: Option<String>,
    pub civic: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub country: Option<String>,
    pub email: Option<String>,
}

/// The payer's columns, by name.
pub(crate) struct PayerColumns {
    pub kind: &'static str,
    pub id: &'static str,
    pub name: &'static str,
    pub street: &'static str,
    pub civic: &'static str,
    pub postal_code: &'static str,
    pub city: &'static str,
    pub province: &'static str,
    pub country: &'static str,
    pub email: &'static str,
}

impl PayerColumns {
    /// The payer's columns as MyPay and P4PA name them, which differ only
    /// in the e-mail's.
    pub const fn italian(email: &'static str) -> PayerColumns {
        PayerColumns {
            kind: "tipoIdentificativoUnivoco",
            id: "codiceIdentificativoUnivoco",
            name: "anagraficaPagatore",
            street: "indirizzoPagatore",
            civic: "civicoPagatore",
            postal_code: "capPagatore",
            city: "localitaPagatore",
            province: "provinciaPagatore",
            country: "nazionePagatore",
            email,
        }
    }
}

/// The columns that describe one further beneficiary.
pub(crate) struct SecondaryColumns {
    pub fiscal_code: &'static str,
    pub name: &'static str,
    pub iban: &'static str,
    pub taxonomy: &'static str,
    pub remittance: &'static str,
    pub amount: &'static str,
}

pub(crate) struct Reader<'a> {
    /// The column of each cell, in the file's order.
    columns: &'a [&'static str],
    fields: &'a [&'a str],
    pub errors: Vec<FieldError>,
}

impl<'a> Reader<'a> {
    pub fn new(columns: &'a [&'static str], fields: &'a [&'a str]) -> Reader<'a> {
        Reader {
            columns,
            fields,
            errors: Vec::new(),
        }
    }

    /// The trimmed cell of `column`; empty when the file has no such column.
    pub fn raw(&self, column: &str) -> &'a str {
        self.columns
            .iter()
            .position(|c| *c == column)
            .and_then(|i| self.fields.get(i))
            .map_or("", |v| v.trim())
    }

    pub fn fail(&mut self, column: &'static str, code: &'static str, reason: impl Into<String>) {
        self.errors.push(FieldError {
            column,
            code,
            reason: reason.into(),
        });
    }

    /// A text of at most `max` characters; `None` when empty.
    pub fn text(&mut self, column: &'static str, max: usize, required: bool) -> Option<String> {
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

    /// Digits only (an IUV), at most `max`.
    pub fn digits(&mut self, column: &'static str, max: usize) -> Option<String> {
        let value = self.text(column, max, false)?;
        if value.bytes().all(|b| b.is_ascii_digit()) {
            Some(value)
        } else {
            self.fail(column, "FORMATO", "solo cifre");
            None
        }
    }

    pub fn flag(&mut self, column: &'static str) -> bool {
        match self.raw(column).to_ascii_lowercase().as_str() {
            "" | "false" => false,
            "true" => true,
            _ => {
                self.fail(column, "FORMATO", "atteso true o false");
                false
            }
        }
    }

    pub fn amount(&mut self, column: &'static str, required: bool) -> Option<Cents> {
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

    /// An amount that may be zero (a fee); `None` when empty.
    pub fn fee(&mut self, column: &'static str) -> Option<Cents> {
        match self.raw(column) {
            "" => None,
            text => match Cents::parse_decimal(text) {
                Ok(c) if c.get() >= 0 => Some(c),
                _ => {
                    self.fail(column, "FORMATO", "importo in euro con il punto decimale");
                    None
                }
            },
        }
    }

    pub fn taxonomy(&mut self, column: &'static str, required: bool) -> Option<TaxonomyCode> {
        let text = self.text(column, crate::debt::MAX_TEXT, required)?;
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

    pub fn date(&mut self, column: &'static str, required: bool) -> Option<Date> {
        let text = self.text(column, 10, required)?;
        text.parse::<Date>().ok().or_else(|| {
            self.fail(column, "FORMATO", "data non valida (aaaa-mm-gg)");
            None
        })
    }

    /// `F` (person) or `G` (legal entity): true for a legal entity.
    pub fn legal_entity(&mut self, column: &'static str) -> bool {
        match self.raw(column).to_ascii_uppercase().as_str() {
            "F" => false,
            "G" => true,
            "" => {
                self.fail(column, "OBBLIGATORIO", "campo obbligatorio");
                false
            }
            _ => {
                self.fail(
                    column,
                    "FORMATO",
                    "atteso F (persona fisica) o G (persona giuridica)",
                );
                false
            }
        }
    }

    /// The debtor's codice fiscale, partita IVA or `ANONIMO`. A partita
    /// IVA under F is accepted, as MyPay does (sole traders).
    pub fn debtor(&mut self, column: &'static str) -> Option<DebtorId> {
        let code = self.text(column, 35, true)?;
        match DebtorId::parse(&code) {
            Ok(id) => Some(id),
            Err(_) => {
                self.fail(
                    column,
                    "FORMATO",
                    "codice fiscale o partita IVA non valido (o ANONIMO)",
                );
                None
            }
        }
    }

    pub fn email(&mut self, column: &'static str) -> Option<String> {
        let email = self.text(column, 256, false)?;
        if crate::spontaneous::plausible_email(&email) {
            Some(email)
        } else {
            self.fail(column, "FORMATO", "indirizzo email non valido");
            None
        }
    }

    pub fn action(&mut self, column: &'static str) -> Option<Action> {
        match self.raw(column).to_ascii_uppercase().as_str() {
            "I" => Some(Action::Insert),
            "M" => Some(Action::Modify),
            "A" => Some(Action::Annul),
            "" => {
                self.fail(column, "OBBLIGATORIO", "campo obbligatorio");
                None
            }
            _ => {
                self.fail(
                    column,
                    "FORMATO",
                    "attesa I (inserimento), M (modifica) o A (annullamento)",
                );
                None
            }
        }
    }

    /// The payer, every column checked.
    pub fn payer(&mut self, c: &PayerColumns) -> Option<Payer> {
        let legal_entity = self.legal_entity(c.kind);
        let id = self.debtor(c.id);
        let name = self.text(c.name, 70, true);
        let street = self.text(c.street, 70, false);
        let civic = self.text(c.civic, 16, false);
        let postal_code = self.text(c.postal_code, 16, false);
        let city = self.text(c.city, 35, false);
        let province = self.text(c.province, 2, false);
        let country = self.text(c.country, 2, false);
        let email = self.email(c.email);
        Some(Payer {
            legal_entity,
            id: id?,
            name: name?,
            street,
            civic,
            postal_code,
            city,
            province,
            country,
            email,
        })
    }

    /// A further beneficiary, every column of it checked; its share must be
    /// less than `total`, what the row asks in all.
    pub fn secondary(&mut self, c: &SecondaryColumns, total: Option<Cents>) -> Option<Secondary> {
        let fiscal_code =
            self.text(c.fiscal_code, 35, true)
                .and_then(|code| match PartitaIva::parse(&code) {
                    Ok(p) => Some(p),
                    Err(_) => {
                        self.fail(
                            c.fiscal_code,
                            "FORMATO",
                            "codice fiscale dell'ente non valido",
                        );
                        None
                    }
                });
        let name = self.text(c.name, 70, true);
        let iban = self
            .text(c.iban, 35, true)
            .and_then(|i| match Iban::parse(&i) {
                Ok(iban) => Some(iban),
                Err(e) => {
                    self.fail(c.iban, "FORMATO", format!("IBAN non valido: {e}"));
                    None
                }
            });
        let taxonomy = self.taxonomy(c.taxonomy, false);
        let remittance = self.text(c.remittance, 1024, false);
        let share = self.amount(c.amount, true);
        if let (Some(share), Some(total)) = (share, total)
            && share >= total
        {
            self.fail(
                c.amount,
                "FORMATO",
                "deve essere minore dell'importo dovuto",
            );
        }
        Some(Secondary {
            fiscal_code: fiscal_code?,
            name: name?,
            iban: iban?,
            taxonomy,
            remittance,
            amount: share?,
        })
    }
}
