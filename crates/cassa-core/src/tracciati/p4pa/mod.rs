//! The P4PA 2.0 debt-import file (pagoPA's successor of MyPay), in its
//! Italian (`2_0`) and English (`2_0-eng`) column names. Unlike MyPay's,
//! its columns are found by name, in any order; one row is one installment
//! (or single payment): rows sharing an IUPD form one debt position, rows
//! sharing also an option index form one payment option.

mod plan;
mod row;
#[cfg(test)]
mod tests;

pub use plan::{OptionType, PlanError, Position, position_of};
pub use row::{Row, read_row};

/// The two spellings of the file.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Language {
    Italian,
    English,
}

impl Language {
    /// The version code MyPay-style file names end with.
    pub fn code(self) -> &'static str {
        match self {
            Language::Italian => "2_0",
            Language::English => "2_0-eng",
        }
    }

    /// The language a file name ends with: `<codIPA>-<IUF>-2_0-eng.zip`.
    pub fn from_file_name(name: &str) -> Option<Language> {
        let stem = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
        let stem = stem.trim_end_matches(".zip").trim_end_matches(".csv");
        if stem.ends_with("-2_0-eng") {
            Some(Language::English)
        } else if stem.ends_with("-2_0") {
            Some(Language::Italian)
        } else {
            None
        }
    }
}

/// One column: its Italian name (cassa's name for it everywhere), its
/// English name, another spelling found in enti's files, and whether a
/// header must have it.
struct Column {
    italian: &'static str,
    english: &'static str,
    alias: Option<&'static str>,
    required: bool,
}

const fn col(italian: &'static str, english: &'static str, required: bool) -> Column {
    Column {
        italian,
        english,
        alias: None,
        required,
    }
}

const fn alias(italian: &'static str, english: &'static str, other: &'static str) -> Column {
    Column {
        italian,
        english,
        alias: Some(other),
        required: false,
    }
}

/// Beneficiary `n` (2..=5): fiscal code, name, IBAN, remittance, amount,
/// taxonomy.
macro_rules! beneficiary {
    ($n:literal) => {
        [
            col(
                concat!("codiceFiscaleEnte_", $n),
                concat!("orgFiscalCode_", $n),
                false,
            ),
            col(
                concat!("DenominazioneEnte_", $n),
                concat!("orgName_", $n),
                false,
            ),
            col(
                concat!("IbanAccreditoEnte_", $n),
                concat!("iban_", $n),
                false,
            ),
            col(
                concat!("CausaleVersamentoEnte_", $n),
                concat!("remittanceInformation_", $n),
                false,
            ),
            col(
                concat!("importoVersamentoEnte_", $n),
                concat!("amount_", $n),
                false,
            ),
            col(
                concat!("codiceTassonomiaEnte_", $n),
                concat!("category_", $n),
                false,
            ),
        ]
    };
}

const MAIN: [Column; 30] = [
    col("IUPD", "iupdOrg", true),
    col("descrizionePosizioneDebitoria", "description", true),
    col("dataValidita", "validityDate", false),
    alias("coobbligato", "multiDebtor", "multiDebtor"),
    col("dataNotifica", "notificationDate", false),
    col("indiceOpzionePagamento", "paymentOptionIndex", true),
    col("tipoOpzionePagamento", "paymentOptionType", true),
    col(
        "descrizioneOpzionePagamento",
        "paymentOptionDescription",
        false,
    ),
    col("iud", "iud", true),
    col("codIUV", "iuv", true),
    col("tipoIdentificativoUnivoco", "entityType", true),
    col("codiceIdentificativoUnivoco", "fiscalCode", true),
    col("anagraficaPagatore", "fullName", true),
    col("indirizzoPagatore", "address", false),
    col("civicoPagatore", "civic", false),
    col("capPagatore", "postalCode", false),
    col("localitaPagatore", "location", false),
    col("provinciaPagatore", "province", false),
    col("nazionePagatore", "nation", false),
    alias("mailPagatore", "email", "emailPagatore"),
    col("dataEsecuzionePagamento", "dueDate", true),
    col("importoDovuto", "amount", true),
    col("tipoDovuto", "debtPositionTypeCode", true),
    col("causaleVersamento", "remittanceInformation", true),
    col("datiSpecificiRiscossione", "legacyPaymentMetadata", false),
    alias("flgGeneraIuv", "generateNotice", "flagGeneraIuv"),
    col("flagPagamentoPu", "flagPuPagoPaPayment", false),
    col("bilancio", "balance", false),
    col("azione", "action", true),
    col("draft", "draft", false),
];

const MORE: [Column; 3] = [
    col("flagMultiBeneficiario", "flagMultiBeneficiary", false),
    col("numeroBeneficiari", "numberBeneficiary", false),
    col("configurazioniEsecuzione", "executionConfig", false),
];

const BENEFICIARIES: [[Column; 6]; 4] = [
    beneficiary!("2"),
    beneficiary!("3"),
    beneficiary!("4"),
    beneficiary!("5"),
];

fn all_columns() -> impl Iterator<Item = &'static Column> {
    MAIN.iter()
        .chain(MORE.iter())
        .chain(BENEFICIARIES.iter().flatten())
}

/// A checked header: the column of each cell, by its Italian name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub language: Language,
    columns: Vec<&'static str>,
}

impl Header {
    /// The name the file uses for a column, for messages.
    pub fn name_in_file(&self, italian: &'static str) -> &'static str {
        match self.language {
            Language::Italian => italian,
            Language::English => all_columns()
                .find(|c| c.italian == italian)
                .map_or(italian, |c| c.english),
        }
    }

    /// Where a column is in the file, if it has it.
    pub fn position(&self, italian: &str) -> Option<usize> {
        self.columns.iter().position(|c| *c == italian)
    }
}

/// What is wrong with a P4PA header.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error(
        "la colonna {position} dell'intestazione, «{found}», non è del tracciato P4PA {version}"
    )]
    Unknown {
        position: usize,
        version: &'static str,
        found: String,
    },
    #[error("la colonna «{0}» compare due volte nell'intestazione")]
    Repeated(String),
    #[error("manca la colonna obbligatoria «{0}»")]
    Missing(&'static str),
}

fn clean(name: &str) -> &str {
    name.trim().trim_start_matches('\u{feff}').trim()
}

/// Whether a header row is P4PA's rather than MyPay's: it names the IUPD
/// or the payment option type, which MyPay files do not have.
pub fn is_p4pa_header(header: &[&str]) -> bool {
    header.iter().any(|h| {
        let h = clean(h);
        [
            "IUPD",
            "iupdOrg",
            "tipoOpzionePagamento",
            "paymentOptionType",
        ]
        .iter()
        .any(|n| h.eq_ignore_ascii_case(n))
    })
}

/// Checks a P4PA header: every column known (names compared ignoring case),
/// none repeated, the required ones present. The language is the one the
/// file name says or, without one, the one of the IUPD column's name.
pub fn check_header(header: &[&str], named: Option<Language>) -> Result<Header, HeaderError> {
    let language = named.unwrap_or_else(|| {
        let english = header.iter().any(|h| {
            let h = clean(h);
            h.eq_ignore_ascii_case("iupdOrg") || h.eq_ignore_ascii_case("paymentOptionType")
        });
        if english {
            Language::English
        } else {
            Language::Italian
        }
    });
    let mut columns: Vec<&'static str> = Vec::with_capacity(header.len());
    for (i, found) in header.iter().enumerate() {
        let found = clean(found);
        let column = all_columns().find(|c| {
            let name = match language {
                Language::Italian => c.italian,
                Language::English => c.english,
            };
            found.eq_ignore_ascii_case(name)
                || c.alias.is_some_and(|a| found.eq_ignore_ascii_case(a))
        });
        let Some(column) = column else {
            return Err(HeaderError::Unknown {
                position: i + 1,
                version: language.code(),
                found: found.to_owned(),
            });
        };
        if columns.contains(&column.italian) {
            return Err(HeaderError::Repeated(found.to_owned()));
        }
        columns.push(column.italian);
    }
    let header = Header { language, columns };
    if let Some(missing) =
        all_columns().find(|c| c.required && !header.columns.contains(&c.italian))
    {
        return Err(HeaderError::Missing(header.name_in_file(missing.italian)));
    }
    Ok(header)
}
