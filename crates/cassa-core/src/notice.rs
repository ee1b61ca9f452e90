//! The notice number (codice avviso, 18 digits) and the IUV it carries.
//!
//! cassa is an intermediary with segregation codes, so it generates notices
//! with aux digit 3: `3` + segregation code (2) + base (13) + check (2), where
//! the check digits are the first 16 digits modulo 93. The IUV is the notice
//! without its aux digit. Notices with other aux digits (0, 1, 2) can still be
//! read, e.g. when an ente migrates from another platform.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::iban::group_by_four;

/// The largest 13-digit IUV base.
pub const MAX_IUV_BASE: u64 = 9_999_999_999_999;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    #[error("must be {expected} digits long, found {found} characters")]
    WrongLength { expected: usize, found: usize },
    #[error("must contain only digits")]
    NotDigits,
    #[error("the aux digit {0} is not 0, 1, 2 or 3")]
    UnknownAuxDigit(char),
    #[error("the segregation code {found} is not this ente's ({expected})")]
    WrongSegregationCode { expected: String, found: String },
    #[error("wrong check digits: expected {expected:02}, found {found}")]
    WrongCheckDigits { expected: u8, found: String },
    #[error("the IUV base {0} does not fit in 13 digits")]
    BaseTooLarge(u64),
    #[error("a segregation code is two digits (00-99), not {0}")]
    BadSegregationCode(String),
}

/// The ente's two-digit segregation code, assigned by pagoPA.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SegregationCode(u8);

impl SegregationCode {
    pub fn new(code: u8) -> Result<Self, NoticeError> {
        if code < 100 {
            Ok(SegregationCode(code))
        } else {
            Err(NoticeError::BadSegregationCode(code.to_string()))
        }
    }

    pub fn parse(text: &str) -> Result<Self, NoticeError> {
        let text = text.trim();
        if text.len() != 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NoticeError::BadSegregationCode(text.to_owned()));
        }
        Self::new(text.parse().map_err(|_| NoticeError::NotDigits)?)
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl fmt::Display for SegregationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

impl TryFrom<String> for SegregationCode {
    type Error = NoticeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<SegregationCode> for String {
    fn from(v: SegregationCode) -> String {
        v.to_string()
    }
}

/// The check digits: the given digits read as one number, modulo 93.
pub fn check_digits(digits: &str) -> u8 {
    digits
        .bytes()
        .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 93) as u8
}

/// An IUV (identificativo univoco di versamento): 15 to 17 digits, unique
/// within one ente. Generated ones have 17: segregation code, base, check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Iuv(String);

impl Iuv {
    /// Checks an IUV supplied for an ente with a segregation code: 17 digits,
    /// starting with that code, with valid check digits.
    pub fn parse_for_ente(text: &str, segregation: SegregationCode) -> Result<Self, NoticeError> {
        let text = text.trim();
        check_digits_only(text, 17)?;
        let seg = segregation.to_string();
        if text[..2] != seg {
            return Err(NoticeError::WrongSegregationCode {
                expected: seg,
                found: text[..2].to_owned(),
            });
        }
        let expected = check_digits(&format!("3{}", &text[..15]));
        if text[15..] != format!("{expected:02}") {
            return Err(NoticeError::WrongCheckDigits {
                expected,
                found: text[15..].to_owned(),
            });
        }
        Ok(Iuv(text.to_owned()))
    }

    /// Wraps an IUV already known to be right (read back from storage).
    pub fn from_trusted(text: impl Into<String>) -> Self {
        Iuv(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The notice number of an IUV generated with aux digit 3.
    pub fn notice_number(&self) -> NoticeNumber {
        NoticeNumber(format!("3{}", self.0))
    }
}

impl fmt::Display for Iuv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn check_digits_only(text: &str, expected: usize) -> Result<(), NoticeError> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NoticeError::NotDigits);
    }
    if text.len() != expected {
        return Err(NoticeError::WrongLength {
            expected,
            found: text.chars().count(),
        });
    }
    Ok(())
}

/// The 18-digit notice number (codice avviso / NAV) printed on the notice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NoticeNumber(String);

/// A notice number as read, with what its check digits say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedNotice {
    pub notice: NoticeNumber,
    /// `false` when the notice carries check digits that do not verify. Such
    /// notices are still accepted: pagoPA's own examples have them.
    pub check_digits_valid: bool,
}

impl NoticeNumber {
    /// Generates the notice `3` + segregation code + 13-digit base + check digits.
    pub fn generate(segregation: SegregationCode, base: u64) -> Result<Self, NoticeError> {
        if base > MAX_IUV_BASE {
            return Err(NoticeError::BaseTooLarge(base));
        }
        let head = format!("3{segregation}{base:013}");
        let check = check_digits(&head);
        Ok(NoticeNumber(format!("{head}{check:02}")))
    }

    /// Reads a notice number in electronic or printed form (spaces ignored).
    pub fn parse(text: &str) -> Result<ParsedNotice, NoticeError> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        check_digits_only(&compact, 18)?;
        let check_digits_valid = match compact.as_bytes()[0] {
            // 1: a 17-digit IUV with no check digits.
            b'1' => true,
            b'0' | b'2' | b'3' => {
                let expected = check_digits(&compact[..16]);
                compact[16..] == format!("{expected:02}")
            }
            other => return Err(NoticeError::UnknownAuxDigit(char::from(other))),
        };
        Ok(ParsedNotice {
            notice: NoticeNumber(compact),
            check_digits_valid,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn aux_digit(&self) -> u8 {
        self.0.as_bytes()[0] - b'0'
    }

    /// The segregation code, for aux digit 3.
    pub fn segregation_code(&self) -> Option<SegregationCode> {
        (self.aux_digit() == 3).then(|| SegregationCode(self.0[1..3].parse().unwrap_or(0)))
    }

    /// The IUV inside the notice: aux digit 0 drops the 2-digit application
    /// code too; the others drop just the aux digit.
    pub fn iuv(&self) -> Iuv {
        match self.aux_digit() {
            0 => Iuv(self.0[3..].to_owned()),
            _ => Iuv(self.0[1..].to_owned()),
        }
    }

    /// The printed form, in groups of four digits: `3020 0000 0000 0001 84`.
    pub fn printed(&self) -> String {
        group_by_four(&self.0)
    }
}

impl fmt::Display for NoticeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn seg(code: u8) -> SegregationCode {
        SegregationCode::new(code).unwrap()
    }

    #[test]
    fn the_worked_example() {
        let notice = NoticeNumber::generate(seg(2), 1).unwrap();
        assert_eq!(notice.as_str(), "302000000000000184");
        assert_eq!(notice.iuv().as_str(), "02000000000000184");
        assert_eq!(notice.printed(), "3020 0000 0000 0001 84");
        assert_eq!(notice.segregation_code(), Some(seg(2)));
        assert_eq!(
            Iuv::parse_for_ente("02000000000000184", seg(2))
                .unwrap()
                .notice_number(),
            notice
        );
    }

    #[test]
    fn accepts_notices_whose_check_digits_do_not_verify_but_says_so() {
        let parsed = NoticeNumber::parse("302000000000000199").unwrap();
        assert!(!parsed.check_digits_valid);
        let parsed = NoticeNumber::parse("3020 0000 0000 0001 84").unwrap();
        assert!(parsed.check_digits_valid);
        assert_eq!(
            NoticeNumber::parse("402000000000000184"),
            Err(NoticeError::UnknownAuxDigit('4'))
        );
        assert_eq!(
            NoticeNumber::parse("30200000000000018"),
            Err(NoticeError::WrongLength {
                expected: 18,
                found: 17
            })
        );
    }

    #[test]
    fn reads_the_iuv_of_other_aux_digits() {
        let aux0 = NoticeNumber::parse("001123456789012345").unwrap().notice;
        assert_eq!(aux0.iuv().as_str(), "123456789012345");
        let aux1 = NoticeNumber::parse("112345678901234567").unwrap();
        assert!(aux1.check_digits_valid);
        assert_eq!(aux1.notice.iuv().as_str(), "12345678901234567");
        assert_eq!(aux1.notice.segregation_code(), None);
    }

    #[test]
    fn checks_a_supplied_iuv_against_the_ente() {
        assert_eq!(
            Iuv::parse_for_ente("01000000000000184", seg(2)),
            Err(NoticeError::WrongSegregationCode {
                expected: "02".into(),
                found: "01".into()
            })
        );
        assert_eq!(
            Iuv::parse_for_ente("02000000000000185", seg(2)),
            Err(NoticeError::WrongCheckDigits {
                expected: 84,
                found: "85".into()
            })
        );
        assert_eq!(
            Iuv::parse_for_ente("0200000000000018", seg(2)),
            Err(NoticeError::WrongLength {
                expected: 17,
                found: 16
            })
        );
        assert_eq!(
            Iuv::parse_for_ente("0200000000000018a", seg(2)),
            Err(NoticeError::NotDigits)
        );
    }

    #[test]
    fn refuses_bases_over_13_digits() {
        assert!(NoticeNumber::generate(seg(0), MAX_IUV_BASE).is_ok());
        assert_eq!(
            NoticeNumber::generate(seg(0), MAX_IUV_BASE + 1),
            Err(NoticeError::BaseTooLarge(MAX_IUV_BASE + 1))
        );
    }

    proptest! {
        #[test]
        fn generated_notices_always_verify(code in 0u8..100, base in 0..=MAX_IUV_BASE) {
            let notice = NoticeNumber::generate(seg(code), base).unwrap();
            prop_assert_eq!(notice.as_str().len(), 18);
            let parsed = NoticeNumber::parse(&notice.printed()).unwrap();
            prop_assert!(parsed.check_digits_valid);
            prop_assert_eq!(&parsed.notice, &notice);
            let iuv = Iuv::parse_for_ente(notice.iuv().as_str(), seg(code)).unwrap();
            prop_assert_eq!(iuv.notice_number(), notice);
        }

        #[test]
        fn distinct_bases_give_distinct_iuvs(code in 0u8..100, a in 0..=MAX_IUV_BASE, b in 0..=MAX_IUV_BASE) {
            prop_assume!(a != b);
            let na = NoticeNumber::generate(seg(code), a).unwrap();
            let nb = NoticeNumber::generate(seg(code), b).unwrap();
            prop_assert_ne!(na.iuv(), nb.iuv());
        }

        #[test]
        fn check_digits_match_big_integer_arithmetic(digits in "[0-9]{16}") {
            let n: u128 = digits.parse().unwrap();
            prop_assert_eq!(u128::from(check_digits(&digits)), n % 93);
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,24}") {
            let _ = NoticeNumber::parse(&s);
            let _ = Iuv::parse_for_ente(&s, seg(1));
        }
    }
}
