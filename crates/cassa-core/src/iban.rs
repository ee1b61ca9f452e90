//! IBANs: ISO 13616 structure and mod-97 check (through `iban_validate`,
//! which carries the registry of every country's BBAN format), plus the
//! Italian rules pagoPA cares about: the CIN check letter, and the postal
//! accounts of Poste Italiane (ABI 07601).

use std::fmt;
use std::str::FromStr;

use iban::IbanLike;
use serde::{Deserialize, Serialize};

use crate::fiscal_code::check_letter;

/// The ABI code of Poste Italiane's BancoPosta: IBANs with it are postal accounts.
pub const POSTAL_ABI: &str = "07601";
const ITALIAN_LENGTH: usize = 27;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IbanError {
    #[error("is empty")]
    Empty,
    #[error("is not shaped like an IBAN (two letters, two check digits, then letters and digits)")]
    Malformed,
    #[error("an {country} IBAN has {expected} characters, found {found}")]
    WrongLength {
        country: String,
        expected: usize,
        found: usize,
    },
    #[error("fails the IBAN check digits (mod 97)")]
    WrongCheckDigits,
    #[error("the country code {0} is not an IBAN country")]
    UnknownCountry(String),
    #[error("the account part does not match the format of country {0}")]
    WrongStructure(String),
    #[error("the Italian CIN check letter is wrong: expected {expected:?}, found {found:?}")]
    WrongCin { expected: char, found: char },
}

/// A valid IBAN in electronic form (upper case, no spaces).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Iban(String);

impl Iban {
    /// Parses an IBAN in electronic or printed form (spaces are ignored).
    pub fn parse(text: &str) -> Result<Self, IbanError> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if compact.is_empty() {
            return Err(IbanError::Empty);
        }
        let country: String = compact.chars().take(2).collect();
        if matches!(country.as_str(), "IT" | "SM") && compact.len() != ITALIAN_LENGTH {
            return Err(IbanError::WrongLength {
                country,
                expected: ITALIAN_LENGTH,
                found: compact.chars().count(),
            });
        }
        let parsed: iban::Iban = compact.parse().map_err(|e| match e {
            iban::ParseIbanError::InvalidBaseIban {
                source: iban::ParseBaseIbanError::InvalidChecksum,
            } => IbanError::WrongCheckDigits,
            iban::ParseIbanError::InvalidBaseIban { .. } => IbanError::Malformed,
            iban::ParseIbanError::UnknownCountry(_) => IbanError::UnknownCountry(country.clone()),
            iban::ParseIbanError::InvalidBban(_) => IbanError::WrongStructure(country.clone()),
        })?;
        let iban = Iban(parsed.electronic_str().to_owned());
        if iban.has_italian_structure() {
            let bban = &iban.0.as_bytes()[4..];
            let expected = check_letter(&bban[1..]);
            let found = char::from(bban[0]);
            if expected != found {
                return Err(IbanError::WrongCin { expected, found });
            }
        }
        Ok(iban)
    }

    /// Builds a valid Italian IBAN from ABI, CAB and account number, computing
    /// the CIN and the check digits (demo data, tests).
    pub fn italian(abi: &str, cab: &str, account: &str) -> Result<Self, IbanError> {
        let bban_tail = format!("{abi}{cab}{account:0>12}");
        let cin = check_letter(bban_tail.as_bytes());
        let bban = format!("{cin}{bban_tail}");
        // Check digits: 98 - (bban + "IT00" as digits) mod 97.
        let rearranged = format!("{bban}IT00");
        let remainder = rearranged.chars().fold(0u32, |acc, ch| {
            let value = ch.to_digit(36).unwrap_or(0);
            if value >= 10 {
                (acc * 100 + value) % 97
            } else {
                (acc * 10 + value) % 97
            }
        });
        Iban::parse(&format!("IT{:02}{bban}", 98 - remainder))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn country(&self) -> &str {
        &self.0[..2]
    }

    /// Italy and San Marino share the CIN/ABI/CAB/account layout.
    fn has_italian_structure(&self) -> bool {
        matches!(self.country(), "IT" | "SM")
    }

    pub fn is_italian(&self) -> bool {
        self.country() == "IT"
    }

    /// The ABI (bank) code of an Italian IBAN.
    pub fn abi(&self) -> Option<&str> {
        self.has_italian_structure().then(|| &self.0[5..10])
    }

    /// The CAB (branch) code of an Italian IBAN.
    pub fn cab(&self) -> Option<&str> {
        self.has_italian_structure().then(|| &self.0[10..15])
    }

    /// The 12-character account number of an Italian IBAN.
    pub fn account_number(&self) -> Option<&str> {
        self.has_italian_structure().then(|| &self.0[15..27])
    }

    /// A BancoPosta account: what pagoPA calls a postal IBAN.
    pub fn is_postal(&self) -> bool {
        self.is_italian() && self.abi() == Some(POSTAL_ABI)
    }

    /// The printed form, in groups of four characters.
    pub fn printed(&self) -> String {
        group_by_four(&self.0)
    }
}

pub(crate) fn group_by_four(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for (i, ch) in text.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(ch);
    }
    out
}

impl FromStr for Iban {
    type Err = IbanError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Iban::parse(s)
    }
}

impl TryFrom<String> for Iban {
    type Error = IbanError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Iban::parse(&s)
    }
}

impl From<Iban> for String {
    fn from(v: Iban) -> String {
        v.0
    }
}

impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_valid_ibans_in_either_form() {
        let iban = Iban::parse("IT60 X054 2811 1010 0000 0123 456").unwrap();
        assert_eq!(iban.as_str(), "IT60X0542811101000000123456");
        assert_eq!(iban.abi(), Some("05428"));
        assert_eq!(iban.cab(), Some("11101"));
        assert_eq!(iban.account_number(), Some("000000123456"));
        assert_eq!(iban.printed(), "IT60 X054 2811 1010 0000 0123 456");
        assert!(!iban.is_postal());
        // Foreign IBANs follow their own country's structure.
        assert!(Iban::parse("DE89370400440532013000").is_ok());
        assert!(Iban::parse("GB82WEST12345698765432").is_ok());
    }

    #[test]
    fn recognises_postal_ibans() {
        let postal = Iban::italian(POSTAL_ABI, "03200", "1234567").unwrap();
        assert!(postal.is_postal());
        assert_eq!(Iban::parse(postal.as_str()), Ok(postal));
    }

    #[test]
    fn explains_what_is_wrong() {
        assert_eq!(
            Iban::parse("IT60X0542811101000000123457"),
            Err(IbanError::WrongCheckDigits)
        );
        assert_eq!(
            Iban::parse("IT60X054"),
            Err(IbanError::WrongLength {
                country: "IT".into(),
                expected: 27,
                found: 8
            })
        );
        assert_eq!(Iban::parse("I!60X054"), Err(IbanError::Malformed));
        assert_eq!(Iban::parse(""), Err(IbanError::Empty));
        assert_eq!(
            Iban::parse("IT0000000000000000000000000"),
            Err(IbanError::WrongCheckDigits)
        );
    }

    #[test]
    fn checks_the_cin_even_when_mod_97_passes() {
        // Change the CIN and repair the mod-97 digits: only the CIN check catches it.
        let good = Iban::italian("05428", "11101", "123456").unwrap();
        let tail = &good.as_str()[5..];
        let forged = (0..100)
            .map(|cd| format!("IT{cd:02}Y{tail}"))
            .find(|s| s.parse::<iban::Iban>().is_ok())
            .unwrap();
        assert_eq!(
            Iban::parse(&forged),
            Err(IbanError::WrongCin {
                expected: 'X',
                found: 'Y'
            })
        );
    }

    proptest! {
        #[test]
        fn built_italian_ibans_verify(abi in "[0-9]{5}", cab in "[0-9]{5}", account in "[0-9A-Z]{12}") {
            let iban = Iban::italian(&abi, &cab, &account).unwrap();
            prop_assert_eq!(iban.abi(), Some(abi.as_str()));
            prop_assert_eq!(Iban::parse(&iban.printed()), Ok(iban));
        }

        #[test]
        fn a_swapped_pair_of_digits_is_refused(account in "[0-9]{12}", pos in 0usize..11) {
            let iban = Iban::italian("05428", "11101", &account).unwrap();
            let mut bytes = iban.as_str().as_bytes().to_vec();
            let i = 15 + pos;
            prop_assume!(bytes[i] != bytes[i + 1]);
            bytes.swap(i, i + 1);
            prop_assert!(Iban::parse(std::str::from_utf8(&bytes).unwrap()).is_err());
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,40}") {
            let _ = Iban::parse(&s);
        }
    }
}
