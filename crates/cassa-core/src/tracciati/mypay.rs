//! The MyPay 1.x debt-import file ("flusso dovuti", versions 1_0 to 1_4):
//! which columns each version has, the header check, and one row read into
//! typed values or into every broken rule, each naming its column. The CSV
//! reading itself (`;`, UTF-8, quotes) is the caller's.

use jiff::civil::Date;

use crate::fiscal_code::{DebtorId, PartitaIva};
use crate::iban::Iban;
use crate::money::Cents;
use crate::taxonomy::TaxonomyCode;

/// The versions of the MyPay file, by the suffix of its name (`1_4`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    V1_0,
    V1_1,
    V1_2,
    V1_3,
    V1_4,
}

const BASE: [&str; 19] = [
    "IUD",
    "codIuv",
    "tipoIdentificativoUnivoco",
    "codiceIdentificativoUnivoco",
    "anagraficaPagatore",
    "indirizzoPagatore",
    "civicoPagatore",
    "capPagatore",
    "localitaPagatore",
    "provinciaPagatore",
    "nazionePagatore",
    "emailPagatore",
    "dataScadenzaPagamento",
    "importoDovuto",
    "commissioneCaricoPa",
    "tipoDovuto",
    "tipoVersamento",
    "causaleVersamento",
    "datiSpecificiRiscossione",
];

const SECONDARY: [&str; 13] = [
    "flagMultiBeneficiario",
    "codiceFiscaleEnteSecondario",
    "denominazioneEnteSecondario",
    "ibanAccreditoEnteSecondario",
    "indirizzoEnteSecondario",
    "civicoEnteSecondario",
    "capEnteSecondario",
    "localitaEnteSecondario",
    "provinciaEnteSecondario",
    "nazioneEnteSecondario",
    "datiSpecificiRiscossioneEnteSecondario",
    "causaleVersamentoEnteSecondario",
    "importoVersamentoEnteSecondario",
];

impl Version {
    pub const ALL: [Version; 5] = [
        Version::V1_0,
        Version::V1_1,
        Version::V1_2,
        Version::V1_3,
        Version::V1_4,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Version::V1_0 => "1_0",
            Version::V1_1 => "1_1",
            Version::V1_2 => "1_2",
            Version::V1_3 => "1_3",
            Version::V1_4 => "1_4",
        }
    }

    /// The version a file name ends with: `<codIPA>-<IUF>-1_4[.zip|.csv]`.
    pub fn from_file_name(name: &str) -> Option<Version> {
        let stem = name
            .rsplit('/')
            .next()
            .unwrap_or(name)
            .trim_end_matches(".zip")
            .trim_end_matches(".ZIP")
            .trim_end_matches(".csv")
            .trim_end_matches(".CSV");
        let suffix = stem.rsplit('-').next()?;
        Version::ALL.into_iter().find(|v| v.code() == suffix)
    }

    /// The columns, in order.
    pub fn columns(self) -> Vec<&'static str> {
        let mut columns = BASE.to_vec();
        if self >= Version::V1_2 {
            columns.push("bilancio");
        }
        if self >= Version::V1_3 {
            columns.push("flagGeneraIuv");
        }
        if self >= Version::V1_4 {
            columns.extend(SECONDARY);
        }
        columns.push("azione");
        columns
    }
}

/// What is wrong with the header row.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("l'intestazione ha {found} colonne, la versione {version} ne prevede {expected}")]
    ColumnCount {
        version: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("la colonna {position} dell'intestazione è «{found}», era attesa «{expected}»")]
    Column {
        position: usize,
        expected: &'static str,
        found: String,
    },
    #[error("nessuna versione del tracciato MyPay ha {0} colonne")]
    UnknownVersion(usize),
}

/// Checks the header against the version named by the file, or, without
/// one, picks the version by the number of columns. Names are compared
/// ignoring case and surrounding spaces (and a UTF-8 byte-order mark).
pub fn check_header(header: &[&str], named: Option<Version>) -> Result<Version, HeaderError> {
    let version = match named {
        Some(v) => v,
        None => match header.len() {
            20 => Version::V1_1,
            21 => Version::V1_2,
            22 => Version::V1_3,
            35 => Version::V1_4,
            n => return Err(HeaderError::UnknownVersion(n)),
        },
    };
    let expected = version.columns();
    if header.len() != expected.len() {
        return Err(HeaderError::ColumnCount {
            version: version.code(),
            expected: expected.len(),
            found: header.len(),
        });
    }
    for (i, (found, wanted)) in header.iter().zip(&expected).enumerate() {
        let found = found.trim().trim_start_matches('\u{feff}');
        if !found.eq_ignore_ascii_case(wanted) {
            return Err(HeaderError::Column {
                position: i + 1,
                expected: wanted,
                found: found.to_owned(),
            });
        }
    }
    Ok(version)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn row_1_4() -> Vec<String> {
        let mut values: Vec<String> = vec![
            "IUD-0001",
            "",
            "F",
            "RSSMRA85T10A562S",
            "Mario Rossi",
            "Via Roma",
            "1",
            "20121",
            "Milano",
            "MI",
            "IT",
            "mario.rossi@example.org",
            "2026-12-31",
            "125.50",
            "",
            "TARI",
            "",
            "TARI 2026 rata unica",
            "9/0101100IM/",
            "",
            "true",
            "false",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        values.extend(std::iter::repeat_n(String::new(), 12));
        values.push("I".into());
        values
    }

    fn read(version: Version, values: &[String]) -> Result<Row, Vec<FieldError>> {
        let fields: Vec<&str> = values.iter().map(String::as_str).collect();
        read_row(version, &fields)
    }

    #[test]
    fn versions_have_their_columns() {
        assert_eq!(Version::V1_0.columns().len(), 20);
        assert_eq!(Version::V1_1.columns().len(), 20);
        assert_eq!(Version::V1_2.columns().len(), 21);
        assert_eq!(Version::V1_3.columns().len(), 22);
        assert_eq!(Version::V1_4.columns().len(), 35);
        assert_eq!(Version::V1_4.columns()[34], "azione");
        assert_eq!(
            Version::from_file_name("c_f205-IUF0001-1_4.zip"),
            Some(Version::V1_4)
        );
        assert_eq!(
            Version::from_file_name("/tmp/x/c_f205-IUF-0001-1_2.csv"),
            Some(Version::V1_2)
        );
        assert_eq!(Version::from_file_name("dovuti.csv"), None);
    }

    #[test]
    fn headers_are_checked_column_by_column() {
        let header = Version::V1_4.columns();
        assert_eq!(
            check_header(&header, Some(Version::V1_4)),
            Ok(Version::V1_4)
        );
        assert_eq!(check_header(&header, None), Ok(Version::V1_4));
        let mut bom: Vec<String> = header.iter().map(|c| c.to_lowercase()).collect();
        bom[0] = format!("\u{feff}{}", bom[0]);
        let bom: Vec<&str> = bom.iter().map(String::as_str).collect();
        assert_eq!(
            check_header(&bom, None),
            Ok(Version::V1_4),
            "case and BOM do not matter"
        );
        let mut wrong = header.clone();
        wrong[13] = "importo";
        assert_eq!(
            check_header(&wrong, Some(Version::V1_4)),
            Err(HeaderError::Column {
                position: 14,
                expected: "importoDovuto",
                found: "importo".into()
            })
        );
        assert!(matches!(
            check_header(&header[..20], Some(Version::V1_4)),
            Err(HeaderError::ColumnCount {
                expected: 35,
                found: 20,
                ..
            })
        ));
        assert_eq!(
            check_header(&header[..7], None),
            Err(HeaderError::UnknownVersion(7))
        );
        assert!(
            check_header(&header[..20], None).is_err(),
            "20 names of 1_4 are not a 1_1 header"
        );
    }

    #[test]
    fn a_good_row_reads() {
        let row = read(Version::V1_4, &row_1_4()).unwrap();
        assert_eq!(row.iud, "IUD-0001");
        assert_eq!(row.amount.get(), 12_550);
        assert_eq!(row.due_date, Date::constant(2026, 12, 31));
        assert!(row.generate_iuv && row.iuv.is_none() && row.secondary.is_none());
        assert_eq!(row.action, Action::Insert);
        assert_eq!(row.province.as_deref(), Some("MI"));
    }

    #[test]
    fn every_broken_rule_names_its_column() {
        let mut values = row_1_4();
        values[0] = String::new(); // IUD
        values[3] = "RSSMRA85T10A562X".into(); // bad check character
        values[12] = "31/12/2026".into();
        values[13] = "12,50".into();
        values[9] = "MIL".into();
        values[34] = "X".into();
        let errors = read(Version::V1_4, &values).unwrap_err();
        let columns: Vec<&str> = errors.iter().map(|e| e.column).collect();
        assert_eq!(
            columns,
            [
                "IUD",
                "codiceIdentificativoUnivoco",
                "provinciaPagatore",
                "dataScadenzaPagamento",
                "importoDovuto",
                "azione"
            ]
        );
        assert_eq!(errors[0].code, "OBBLIGATORIO");
        assert_eq!(errors[2].code, "LUNGHEZZA");
    }

    #[test]
    fn a_second_beneficiary_needs_its_data_and_a_smaller_share() {
        let mut values = row_1_4();
        values[21] = "true".into();
        let errors = read(Version::V1_4, &values).unwrap_err();
        let columns: Vec<&str> = errors.iter().map(|e| e.column).collect();
        assert!(columns.contains(&"codiceFiscaleEnteSecondario"));
        assert!(columns.contains(&"ibanAccreditoEnteSecondario"));
        assert!(columns.contains(&"importoVersamentoEnteSecondario"));
        values[22] = "01199250158".into();
        values[23] = "Comune di Milano".into();
        values[24] = "IT60X0542811101000000123456".into();
        values[33] = "25.00".into();
        let row = read(Version::V1_4, &values).unwrap();
        assert_eq!(row.secondary.unwrap().amount.get(), 2_500);
        values[33] = "125.50".into();
        assert!(read(Version::V1_4, &values).is_err());
    }

    #[test]
    fn older_versions_read_their_columns() {
        let v14 = row_1_4();
        let mut v10: Vec<String> = v14[..19].to_vec();
        v10.push("M".into());
        let row = read(Version::V1_0, &v10).unwrap();
        assert_eq!(row.action, Action::Modify);
        assert!(!row.generate_iuv);
        assert!(
            read(Version::V1_2, &v10).is_err(),
            "a 1_0 row is not a 1_2 row"
        );
    }

    proptest! {
        /// Whatever the cells hold, reading never panics, and a refusal
        /// names only columns of the version (or the row).
        #[test]
        fn any_cells_read_or_are_refused_by_column(cells in proptest::collection::vec(".{0,40}", 35)) {
            let fields: Vec<&str> = cells.iter().map(String::as_str).collect();
            if let Err(errors) = read_row(Version::V1_4, &fields) {
                prop_assert!(!errors.is_empty());
                let columns = Version::V1_4.columns();
                for e in errors {
                    prop_assert!(columns.contains(&e.column) || e.column == "riga", "{}", e.column);
                }
            }
        }
    }
}
