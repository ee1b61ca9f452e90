//! Italian tax identifiers: the 16-character codice fiscale of a person
//! (with omocodia), the 11-digit partita IVA / codice fiscale of a legal
//! entity, and "ANONIMO", the anonymous debtor.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The debtor id pagoPA accepts when nobody is identified.
pub const ANONYMOUS: &str = "ANONIMO";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FiscalCodeError {
    #[error("is empty")]
    Empty,
    #[error("must be {expected} characters long, found {found}")]
    WrongLength { expected: usize, found: usize },
    #[error("must be 16 characters (person) or 11 digits (legal entity), found {0} characters")]
    UnknownShape(usize),
    #[error("character {position} ({found:?}) should be {expected}")]
    InvalidCharacter {
        position: usize,
        found: char,
        expected: &'static str,
    },
    #[error("the month letter {0:?} is not one of ABCDEHLMPRST")]
    InvalidMonth(char),
    #[error("the day {0} is not 1-31 (men) or 41-71 (women)")]
    InvalidDay(u32),
    #[error("wrong check character: expected {expected:?}, found {found:?}")]
    WrongCheckCharacter { expected: char, found: char },
    #[error("wrong check digit: expected {expected}, found {found}")]
    WrongCheckDigit { expected: char, found: char },
}

/// The 16-character codice fiscale of a natural person, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CodiceFiscale(String);

/// An 11-digit number with the Luhn-style check digit: a partita IVA, or the
/// codice fiscale of a legal entity (enti, companies) or a provisional one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PartitaIva(String);

/// Who owes a debt, as pagoPA identifies them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DebtorId {
    Person(CodiceFiscale),
    Numeric(PartitaIva),
    Anonymous,
}

/// Letters that replace digits 0-9 in an omocode codice fiscale.
const OMOCODIA: &[u8; 10] = b"LMNPQRSTUV";
const MONTHS: &str = "ABCDEHLMPRST";
/// Positions (0-based) that hold digits, or their omocodia letters.
const DIGIT_POSITIONS: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];

/// Value of a character in an odd (1-based) position, for the check character.
fn odd_value(ch: u8) -> u32 {
    const TABLE: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    let index = if ch.is_ascii_digit() {
        ch - b'0'
    } else {
        ch - b'A'
    };
    TABLE[usize::from(index)]
}

fn even_value(ch: u8) -> u32 {
    u32::from(if ch.is_ascii_digit() {
        ch - b'0'
    } else {
        ch - b'A'
    })
}

/// The check letter of the codice fiscale and of the Italian IBAN's CIN: odd
/// positions through the odd table, even positions by value, modulo 26.
pub(crate) fn check_letter(chars: &[u8]) -> char {
    let sum: u32 = chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if i % 2 == 0 {
                odd_value(c)
            } else {
                even_value(c)
            }
        })
        .sum();
    char::from(b'A' + (sum % 26) as u8)
}

fn decode_omocode(ch: u8) -> Option<u32> {
    if ch.is_ascii_digit() {
        Some(u32::from(ch - b'0'))
    } else {
        OMOCODIA.iter().position(|&l| l == ch).map(|p| p as u32)
    }
}

impl CodiceFiscale {
    pub fn parse(text: &str) -> Result<Self, FiscalCodeError> {
        let upper = text.trim().to_ascii_uppercase();
        let bytes = upper.as_bytes();
        if bytes.is_empty() {
            return Err(FiscalCodeError::Empty);
        }
        if bytes.len() != 16 {
            return Err(FiscalCodeError::WrongLength {
                expected: 16,
                found: upper.chars().count(),
            });
        }
        for (i, &c) in bytes.iter().enumerate() {
            let ok = if DIGIT_POSITIONS.contains(&i) {
                decode_omocode(c).is_some()
            } else {
                c.is_ascii_uppercase()
            };
            if !ok {
                let expected = if DIGIT_POSITIONS.contains(&i) {
                    "a digit (or one of LMNPQRSTUV)"
                } else {
                    "a letter"
                };
                return Err(FiscalCodeError::InvalidCharacter {
                    position: i + 1,
                    found: char::from(c),
                    expected,
                });
            }
        }
        let month = char::from(bytes[8]);
        if !MONTHS.contains(month) {
            return Err(FiscalCodeError::InvalidMonth(month));
        }
        let day =
            decode_omocode(bytes[9]).unwrap_or(0) * 10 + decode_omocode(bytes[10]).unwrap_or(0);
        if !((1..=31).contains(&day) || (41..=71).contains(&day)) {
            return Err(FiscalCodeError::InvalidDay(day));
        }
        let expected = check_letter(&bytes[..15]);
        let found = char::from(bytes[15]);
        if expected != found {
            return Err(FiscalCodeError::WrongCheckCharacter { expected, found });
        }
        Ok(CodiceFiscale(upper))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether some digits were replaced by letters (omocodia).
    pub fn is_omocode(&self) -> bool {
        DIGIT_POSITIONS
            .iter()
            .any(|&i| !self.0.as_bytes()[i].is_ascii_digit())
    }
}

/// The check digit of an 11-digit partita IVA over its first ten digits.
fn piva_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, &d)| {
            let v = u32::from(d - b'0');
            if i % 2 == 0 {
                v
            } else if v * 2 > 9 {
                v * 2 - 9
            } else {
                v * 2
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl PartitaIva {
    pub fn parse(text: &str) -> Result<Self, FiscalCodeError> {
        let trimmed = text.trim();
        let trimmed = trimmed.strip_prefix("IT").unwrap_or(trimmed);
        let bytes = trimmed.as_bytes();
        if bytes.is_empty() {
            return Err(FiscalCodeError::Empty);
        }
        if bytes.len() != 11 {
            return Err(FiscalCodeError::WrongLength {
                expected: 11,
                found: trimmed.chars().count(),
            });
        }
        if let Some(pos) = bytes.iter().position(|c| !c.is_ascii_digit()) {
            return Err(FiscalCodeError::InvalidCharacter {
                position: pos + 1,
                found: trimmed[pos..].chars().next().unwrap_or('?'),
                expected: "a digit",
            });
        }
        let expected = piva_check_digit(bytes);
        if bytes[10] - b'0' != expected {
            return Err(FiscalCodeError::WrongCheckDigit {
                expected: char::from(b'0' + expected),
                found: char::from(bytes[10]),
            });
        }
        Ok(PartitaIva(trimmed.to_owned()))
    }

    /// Completes ten digits with their check digit (for demo data and tests).
    pub fn with_check_digit(first_ten: &str) -> Option<Self> {
        let bytes = first_ten.as_bytes();
        if bytes.len() != 10 || !bytes.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let check = char::from(b'0' + piva_check_digit(bytes));
        Some(PartitaIva(format!("{first_ten}{check}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl DebtorId {
    /// Reads a debtor id: "ANONIMO", a 16-character codice fiscale or an
    /// 11-digit number. Case-insensitive; the stored form is upper case.
    pub fn parse(text: &str) -> Result<Self, FiscalCodeError> {
        let trimmed = text.trim();
        if trimmed.eq_ignore_ascii_case(ANONYMOUS) {
            return Ok(DebtorId::Anonymous);
        }
        match trimmed.len() {
            0 => Err(FiscalCodeError::Empty),
            16 => CodiceFiscale::parse(trimmed).map(DebtorId::Person),
            11 => PartitaIva::parse(trimmed).map(DebtorId::Numeric),
            13 if trimmed.starts_with("IT") => PartitaIva::parse(trimmed).map(DebtorId::Numeric),
            n => Err(FiscalCodeError::UnknownShape(n)),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            DebtorId::Person(cf) => cf.as_str(),
            DebtorId::Numeric(piva) => piva.as_str(),
            DebtorId::Anonymous => ANONYMOUS,
        }
    }

    pub fn is_anonymous(&self) -> bool {
        matches!(self, DebtorId::Anonymous)
    }
}

macro_rules! string_newtype_impls {
    ($t:ty) => {
        impl FromStr for $t {
            type Err = FiscalCodeError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
        impl TryFrom<String> for $t {
            type Error = FiscalCodeError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.as_str().to_owned()
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_newtype_impls!(CodiceFiscale);
string_newtype_impls!(PartitaIva);
string_newtype_impls!(DebtorId);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_real_shaped_codici_fiscali() {
        // The textbook example and its omocode variants.
        assert!(CodiceFiscale::parse("RSSMRA85T10A562S").is_ok());
        assert!(CodiceFiscale::parse("rssmra85t10a562s").is_ok());
        let omocode = CodiceFiscale::parse("RSSMRA85T10A56NH").unwrap();
        assert!(omocode.is_omocode());
        assert!(
            !CodiceFiscale::parse("RSSMRA85T10A562S")
                .unwrap()
                .is_omocode()
        );
        // A woman (day + 40).
        assert!(CodiceFiscale::parse("BNCGLI90A41F205H").is_ok());
    }

    #[test]
    fn explains_what_is_wrong_with_a_codice_fiscale() {
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85T10A562X"),
            Err(FiscalCodeError::WrongCheckCharacter {
                expected: 'S',
                found: 'X'
            })
        );
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85T10A562"),
            Err(FiscalCodeError::WrongLength {
                expected: 16,
                found: 15
            })
        );
        assert!(matches!(
            CodiceFiscale::parse("RSSMRA85Z10A562S"),
            Err(FiscalCodeError::InvalidMonth('Z'))
        ));
        assert!(matches!(
            CodiceFiscale::parse("RSSMRA85T32A562S"),
            Err(FiscalCodeError::InvalidDay(32))
        ));
        assert!(matches!(
            CodiceFiscale::parse("RSSMR185T10A562S"),
            Err(FiscalCodeError::InvalidCharacter { position: 6, .. })
        ));
    }

    #[test]
    fn checks_partite_iva() {
        // Regione Lombardia, Comune di Milano.
        assert!(PartitaIva::parse("80050050154").is_ok());
        assert!(PartitaIva::parse("01199250158").is_ok());
        assert!(PartitaIva::parse("IT01199250158").is_ok());
        assert_eq!(
            PartitaIva::parse("01199250159"),
            Err(FiscalCodeError::WrongCheckDigit {
                expected: '8',
                found: '9'
            })
        );
        assert!(matches!(
            PartitaIva::parse("0119925015A"),
            Err(FiscalCodeError::InvalidCharacter { position: 11, .. })
        ));
    }

    #[test]
    fn reads_any_debtor_id() {
        assert_eq!(DebtorId::parse("anonimo"), Ok(DebtorId::Anonymous));
        assert!(matches!(
            DebtorId::parse("RSSMRA85T10A562S"),
            Ok(DebtorId::Person(_))
        ));
        assert!(matches!(
            DebtorId::parse("01199250158"),
            Ok(DebtorId::Numeric(_))
        ));
        assert_eq!(
            DebtorId::parse("12345"),
            Err(FiscalCodeError::UnknownShape(5))
        );
        assert_eq!(DebtorId::parse(""), Err(FiscalCodeError::Empty));
    }

    fn arb_codice_fiscale() -> impl Strategy<Value = String> {
        (
            "[A-Z]{6}",
            0u32..100,
            0usize..12,
            prop_oneof![1u32..=31, 41u32..=71],
            "[A-Z][0-9]{3}",
        )
            .prop_map(|(names, year, month, day, place)| {
                let body = format!(
                    "{names}{year:02}{}{day:02}{place}",
                    MONTHS.as_bytes()[month] as char
                );
                let check = check_letter(body.as_bytes());
                format!("{body}{check}")
            })
    }

    proptest! {
        #[test]
        fn generated_codici_fiscali_verify(cf in arb_codice_fiscale()) {
            prop_assert!(CodiceFiscale::parse(&cf).is_ok());
        }

        #[test]
        fn omocodia_keeps_a_code_valid(cf in arb_codice_fiscale(), which in 0usize..7) {
            // Replace one digit by its omocodia letter and recompute the check.
            let mut bytes = cf.into_bytes();
            let pos = DIGIT_POSITIONS[which];
            bytes[pos] = OMOCODIA[usize::from(bytes[pos] - b'0')];
            bytes[15] = check_letter(&bytes[..15]) as u8;
            let cf = CodiceFiscale::parse(std::str::from_utf8(&bytes).unwrap()).unwrap();
            prop_assert!(cf.is_omocode());
        }

        #[test]
        fn a_changed_check_character_is_refused(cf in arb_codice_fiscale(), other in 0u8..26) {
            let mut bytes = cf.into_bytes();
            let replacement = b'A' + other;
            prop_assume!(replacement != bytes[15]);
            bytes[15] = replacement;
            let is_wrong_check = matches!(
                CodiceFiscale::parse(std::str::from_utf8(&bytes).unwrap()),
                Err(FiscalCodeError::WrongCheckCharacter { .. })
            );
            prop_assert!(is_wrong_check);
        }

        #[test]
        fn partita_iva_check_digit_detects_single_digit_errors(
            first_ten in "[0-9]{10}", pos in 0usize..11, delta in 1u8..10
        ) {
            let valid = PartitaIva::with_check_digit(&first_ten).unwrap();
            prop_assert!(PartitaIva::parse(valid.as_str()).is_ok());
            let mut bytes = valid.as_str().as_bytes().to_vec();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            prop_assert!(PartitaIva::parse(std::str::from_utf8(&bytes).unwrap()).is_err());
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,20}") {
            let _ = DebtorId::parse(&s);
        }
    }
}
