//! The MyPay 1.x debt-import file ("flusso dovuti", versions 1_0 to 1_4):
//! which columns each version has, the header check, and one row read into
//! typed values or into every broken rule, each naming its column. The CSV
//! reading itself (`;`, UTF-8, quotes) is the caller's.

mod draft;
mod row;
#[cfg(test)]
mod tests;

pub use crate::tracciati::cells::{Action, FieldError, Secondary};
pub use crate::tracciati::creditor::Creditor;
pub use draft::draft_of;
pub use row::{Row, read_row};

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
