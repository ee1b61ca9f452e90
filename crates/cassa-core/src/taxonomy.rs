//! pagoPA's taxonomy of collection services: the code every transfer carries
//! in its "dati specifici di riscossione" (`9/0101100IM/`), and the official
//! catalogue of valid codes (shipped in `data/tassonomia.json`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaxonomyError {
    #[error("must look like 9/0101100IM/ (prefix, 2+2+3 digits, legal reason, trailing /)")]
    Malformed,
    #[error("the prefix {0:?} is not one of 9/, 6/, 7/, 8/")]
    UnknownPrefix(String),
    #[error("the legal reason {0:?} is not one of IM, TS, SP, SA, AP")]
    UnknownLegalReason(String),
}

/// The legal reason of a collection (motivo giuridico della riscossione).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LegalReason {
    /// Imposta: a tax.
    IM,
    /// Tassa: a fee for a service.
    TS,
    /// Sanzione: a fine.
    SA,
    /// Servizio pubblico: a charge for a public service.
    SP,
    /// Altre entrate patrimoniali: other revenue.
    AP,
}

impl LegalReason {
    pub fn code(self) -> &'static str {
        match self {
            LegalReason::IM => "IM",
            LegalReason::TS => "TS",
            LegalReason::SA => "SA",
            LegalReason::SP => "SP",
            LegalReason::AP => "AP",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "IM" => LegalReason::IM,
            "TS" => LegalReason::TS,
            "SA" => LegalReason::SA,
            "SP" => LegalReason::SP,
            "AP" => LegalReason::AP,
            _ => return None,
        })
    }
}

/// A taxonomy code such as `9/0101100IM/`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TaxonomyCode {
    prefix: u8,
    ente_type: u8,
    macro_area: u8,
    service: u16,
    legal_reason: LegalReason,
}

impl TaxonomyCode {
    pub fn parse(text: &str) -> Result<Self, TaxonomyError> {
        let text = text.trim();
        let b = text.as_bytes();
        if b.len() != 12 || b[1] != b'/' || b[11] != b'/' {
            return Err(TaxonomyError::Malformed);
        }
        if !b[2..9].iter().all(u8::is_ascii_digit) {
            return Err(TaxonomyError::Malformed);
        }
        let prefix = match b[0] {
            b'9' | b'6' | b'7' | b'8' => b[0] - b'0',
            _ => return Err(TaxonomyError::UnknownPrefix(text[..2].to_owned())),
        };
        let reason_text = &text[9..11];
        let legal_reason = LegalReason::parse(reason_text)
            .ok_or_else(|| TaxonomyError::UnknownLegalReason(reason_text.to_owned()))?;
        let num = |r: std::ops::Range<usize>| text[r].parse::<u16>().unwrap_or(0);
        Ok(TaxonomyCode {
            prefix,
            ente_type: num(2..4) as u8,
            macro_area: num(4..6) as u8,
            service: num(6..9),
            legal_reason,
        })
    }

    pub fn ente_type(&self) -> u8 {
        self.ente_type
    }

    pub fn macro_area(&self) -> u8 {
        self.macro_area
    }

    pub fn service(&self) -> u16 {
        self.service
    }

    pub fn legal_reason(&self) -> LegalReason {
        self.legal_reason
    }
}

impl fmt::Display for TaxonomyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{:02}{:02}{:03}{}/",
            self.prefix,
            self.ente_type,
            self.macro_area,
            self.service,
            self.legal_reason.code()
        )
    }
}

impl FromStr for TaxonomyCode {
    type Err = TaxonomyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for TaxonomyCode {
    type Error = TaxonomyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<TaxonomyCode> for String {
    fn from(v: TaxonomyCode) -> String {
        v.to_string()
    }
}

/// One service of the official catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogueEntry {
    pub code: TaxonomyCode,
    pub ente_type_name: String,
    pub macro_area_name: String,
    pub macro_area_description: String,
    pub service_name: String,
    pub service_description: String,
    pub version: String,
    pub valid_from: Date,
    pub valid_to: Date,
}

impl CatalogueEntry {
    pub fn is_valid_on(&self, day: Date) -> bool {
        self.valid_from <= day && day < self.valid_to
    }
}

/// The official taxonomy catalogue, ordered by code.
#[derive(Debug, Clone)]
pub struct Catalogue {
    entries: BTreeMap<TaxonomyCode, CatalogueEntry>,
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(rename = "TIPO ENTE CREDITORE")]
    ente_type_name: String,
    #[serde(rename = "NOME MACRO AREA")]
    macro_area_name: String,
    #[serde(rename = "DESCRIZIONE MACRO AREA")]
    macro_area_description: String,
    #[serde(rename = "TIPO SERVIZIO")]
    service_name: String,
    #[serde(rename = "DESCRIZIONE TIPO SERVIZIO")]
    service_description: String,
    #[serde(rename = "VERSIONE TASSONOMIA")]
    version: String,
    #[serde(rename = "DATI SPECIFICI DI INCASSO")]
    code: String,
    #[serde(rename = "DATA INIZIO VALIDITA")]
    valid_from: String,
    #[serde(rename = "DATA FINE VALIDITA")]
    valid_to: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("the catalogue is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("entry {index}: {reason}")]
    Entry { index: usize, reason: String },
}

/// The catalogue's dates are written month/day/year.
fn parse_us_date(text: &str) -> Option<Date> {
    let mut parts = text.split('/');
    let month: i8 = parts.next()?.parse().ok()?;
    let day: i8 = parts.next()?.parse().ok()?;
    let year: i16 = parts.next()?.parse().ok()?;
    Date::new(year, month, day).ok()
}

impl Catalogue {
    /// Parses a catalogue in the JSON form pagoPA publishes.
    pub fn from_json(json: &str) -> Result<Self, CatalogueError> {
        let raw: Vec<RawEntry> = serde_json::from_str(json)?;
        let mut entries = BTreeMap::new();
        for (index, r) in raw.into_iter().enumerate() {
            let bad = |reason: String| CatalogueError::Entry { index, reason };
            let code = TaxonomyCode::parse(&r.code).map_err(|e| bad(format!("{}: {e}", r.code)))?;
            let valid_from = parse_us_date(&r.valid_from)
                .ok_or_else(|| bad(format!("bad start date {}", r.valid_from)))?;
            let valid_to = parse_us_date(&r.valid_to)
                .ok_or_else(|| bad(format!("bad end date {}", r.valid_to)))?;
            entries.insert(
                code,
                CatalogueEntry {
                    code,
                    ente_type_name: r.ente_type_name,
                    macro_area_name: r.macro_area_name,
                    macro_area_description: r.macro_area_description,
                    service_name: r.service_name,
                    service_description: r.service_description,
                    version: r.version,
                    valid_from,
                    valid_to,
                },
            );
        }
        Ok(Catalogue { entries })
    }

    /// The catalogue shipped with cassa (taxonomy version 33).
    pub fn official() -> &'static Catalogue {
        static OFFICIAL: OnceLock<Catalogue> = OnceLock::new();
        OFFICIAL.get_or_init(|| {
            Catalogue::from_json(include_str!("../data/tassonomia.json"))
                .expect("the shipped taxonomy catalogue is valid")
        })
    }

    pub fn get(&self, code: &TaxonomyCode) -> Option<&CatalogueEntry> {
        self.entries.get(code)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> impl Iterator<Item = &CatalogueEntry> {
        self.entries.values()
    }

    /// The ente types (code, name), for the first level of a picker.
    pub fn ente_types(&self) -> Vec<(u8, &str)> {
        let mut seen: BTreeMap<u8, &str> = BTreeMap::new();
        for e in self.entries.values() {
            seen.entry(e.code.ente_type).or_insert(&e.ente_type_name);
        }
        seen.into_iter().collect()
    }

    /// The macro-areas of one ente type (code, name).
    pub fn macro_areas(&self, ente_type: u8) -> Vec<(u8, &str)> {
        let mut seen: BTreeMap<u8, &str> = BTreeMap::new();
        for e in self
            .entries
            .values()
            .filter(|e| e.code.ente_type == ente_type)
        {
            seen.entry(e.code.macro_area).or_insert(&e.macro_area_name);
        }
        seen.into_iter().collect()
    }

    /// The services of one macro-area, each with its legal reason and code.
    pub fn services(&self, ente_type: u8, macro_area: u8) -> Vec<&CatalogueEntry> {
        self.entries
            .values()
            .filter(|e| e.code.ente_type == ente_type && e.code.macro_area == macro_area)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints_codes() {
        let code = TaxonomyCode::parse("9/0101100IM/").unwrap();
        assert_eq!(code.ente_type(), 1);
        assert_eq!(code.macro_area(), 1);
        assert_eq!(code.service(), 100);
        assert_eq!(code.legal_reason(), LegalReason::IM);
        assert_eq!(code.to_string(), "9/0101100IM/");
    }

    #[test]
    fn explains_bad_codes() {
        assert_eq!(
            TaxonomyCode::parse("9/0101100IM"),
            Err(TaxonomyError::Malformed)
        );
        assert_eq!(
            TaxonomyCode::parse("9/01A1100IM/"),
            Err(TaxonomyError::Malformed)
        );
        assert_eq!(
            TaxonomyCode::parse("5/0101100IM/"),
            Err(TaxonomyError::UnknownPrefix("5/".into()))
        );
        assert_eq!(
            TaxonomyCode::parse("9/0101100XX/"),
            Err(TaxonomyError::UnknownLegalReason("XX".into()))
        );
    }

    #[test]
    fn loads_the_official_catalogue() {
        let catalogue = Catalogue::official();
        assert_eq!(catalogue.len(), 623);
        let imu = catalogue.get(&"9/0101100IM/".parse().unwrap()).unwrap();
        assert_eq!(imu.macro_area_name, "TRIBUTI");
        assert_eq!(imu.ente_type_name, "COMUNE/UNIONE DI COMUNI / CONSORZI");
        assert!(imu.is_valid_on(Date::new(2026, 11, 23).unwrap()));
        // Dates are month/day/year in the source.
        assert!(
            catalogue
                .entries()
                .any(|e| e.valid_from == Date::new(2021, 2, 15).unwrap())
        );
        let comuni = catalogue.macro_areas(1);
        assert!(comuni.contains(&(1, "TRIBUTI")));
        assert!(!catalogue.services(1, 1).is_empty());
        assert!(catalogue.ente_types().len() >= 10);
    }

    #[test]
    fn every_catalogue_code_round_trips() {
        for entry in Catalogue::official().entries() {
            let text = entry.code.to_string();
            assert_eq!(TaxonomyCode::parse(&text), Ok(entry.code));
        }
    }

    proptest! {
        #[test]
        fn well_formed_codes_round_trip(
            prefix in prop::sample::select(vec!['9', '6', '7', '8']),
            digits in "[0-9]{7}",
            reason in prop::sample::select(vec!["IM", "TS", "SP", "SA", "AP"]),
        ) {
            let text = format!("{prefix}/{digits}{reason}/");
            let code = TaxonomyCode::parse(&text).unwrap();
            prop_assert_eq!(code.to_string(), text);
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,16}") {
            let _ = TaxonomyCode::parse(&s);
        }
    }
}
