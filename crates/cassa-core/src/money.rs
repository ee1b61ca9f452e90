//! Money as integer euro cents. No floats anywhere: amounts are parsed from
//! and formatted to text digit by digit.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Sub};

use serde::{Deserialize, Serialize};

/// An amount of euro cents. Negative values exist (refunds, differences);
/// [`Cents::check_payable`] says whether it can be asked of a debtor.
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cents(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("the amount is empty")]
    Empty,
    #[error("unexpected character {0:?} in the amount")]
    InvalidCharacter(char),
    #[error("an amount has at most 2 decimal digits")]
    TooManyDecimals,
    #[error("the thousands separators are misplaced (groups of three digits)")]
    MisplacedThousandsSeparator,
    #[error("the amount is too large")]
    Overflow,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("the amount must be greater than zero")]
    NotPositive,
    #[error("the amount must not exceed 999,999,999.99 euro")]
    TooLarge,
}

impl Cents {
    pub const ZERO: Cents = Cents(0);
    /// The largest amount pagoPA accepts for one payment: 999,999,999.99 €.
    pub const MAX_PAYABLE: Cents = Cents(99_999_999_999);

    pub const fn new(cents: i64) -> Self {
        Cents(cents)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Cents) -> Option<Cents> {
        self.0.checked_add(other.0).map(Cents)
    }

    pub fn checked_sub(self, other: Cents) -> Option<Cents> {
        self.0.checked_sub(other.0).map(Cents)
    }

    /// Sums amounts, `None` on overflow.
    pub fn checked_sum<I: IntoIterator<Item = Cents>>(amounts: I) -> Option<Cents> {
        amounts
            .into_iter()
            .try_fold(Cents::ZERO, |acc, c| acc.checked_add(c))
    }

    /// Whether this amount may be asked of a debtor: more than zero and at
    /// most [`Cents::MAX_PAYABLE`].
    pub fn check_payable(self) -> Result<(), AmountError> {
        if self.0 <= 0 {
            Err(AmountError::NotPositive)
        } else if self > Self::MAX_PAYABLE {
            Err(AmountError::TooLarge)
        } else {
            Ok(())
        }
    }

    /// Parses pagoPA's decimal form: `1234.56`, `1234.5`, `1234`, `-3.00`.
    /// No thousands separators, a dot for decimals.
    pub fn parse_decimal(text: &str) -> Result<Cents, MoneyError> {
        let (negative, body) = split_sign(text.trim())?;
        let (units, decimals) = match body.split_once('.') {
            Some((u, d)) => (u, d),
            None => (body, ""),
        };
        if units.is_empty() {
            return Err(MoneyError::InvalidCharacter('.'));
        }
        from_parts(negative, units.chars(), decimals)
    }

    /// Formats as pagoPA's decimal form with exactly two decimals: `1234.56`.
    pub fn to_decimal(self) -> String {
        let (sign, units, cents) = self.parts();
        format!("{sign}{units}.{cents:02}")
    }

    /// Parses the Italian form: `1.234,56 €`, `€ 1234,56`, `12`, `0,5`.
    /// Thousands separators (dots) are optional but must sit every three digits.
    pub fn parse_italian(text: &str) -> Result<Cents, MoneyError> {
        let trimmed = text
            .trim_matches(|c: char| c.is_whitespace() || c == '€')
            .trim();
        let (negative, body) = split_sign(trimmed)?;
        let (units, decimals) = match body.split_once(',') {
            Some((u, d)) => (u, d),
            None => (body, ""),
        };
        if units.is_empty() {
            return Err(MoneyError::InvalidCharacter(','));
        }
        if units.contains('.') {
            let groups: Vec<&str> = units.split('.').collect();
            let first_ok = (1..=3).contains(&groups[0].len());
            if !first_ok || groups[1..].iter().any(|g| g.len() != 3) {
                return Err(MoneyError::MisplacedThousandsSeparator);
            }
        }
        from_parts(negative, units.chars().filter(|&c| c != '.'), decimals)
    }

    /// Formats in the Italian form with thousands separators: `1.234,56 €`.
    pub fn to_italian(self) -> String {
        let (sign, units, cents) = self.parts();
        let digits = units.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push('.');
            }
            grouped.push(ch);
        }
        format!("{sign}{grouped},{cents:02} €")
    }

    fn parts(self) -> (&'static str, u64, u64) {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        (sign, abs / 100, abs % 100)
    }
}

fn split_sign(text: &str) -> Result<(bool, &str), MoneyError> {
    if text.is_empty() {
        return Err(MoneyError::Empty);
    }
    Ok(match text.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    })
}

fn from_parts(
    negative: bool,
    units: impl Iterator<Item = char>,
    decimals: &str,
) -> Result<Cents, MoneyError> {
    if decimals.len() > 2 {
        if let Some(bad) = decimals.chars().find(|c| !c.is_ascii_digit()) {
            return Err(MoneyError::InvalidCharacter(bad));
        }
        return Err(MoneyError::TooManyDecimals);
    }
    let mut value: i64 = 0;
    let mut any_digit = false;
    for ch in units {
        let digit = ch.to_digit(10).ok_or(MoneyError::InvalidCharacter(ch))?;
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(digit)))
            .ok_or(MoneyError::Overflow)?;
        any_digit = true;
    }
    if !any_digit {
        return Err(MoneyError::Empty);
    }
    let mut cents: i64 = 0;
    for (i, ch) in decimals.chars().enumerate() {
        let digit = ch.to_digit(10).ok_or(MoneyError::InvalidCharacter(ch))?;
        cents += i64::from(digit) * if i == 0 { 10 } else { 1 };
    }
    let total = value
        .checked_mul(100)
        .and_then(|v| v.checked_add(cents))
        .ok_or(MoneyError::Overflow)?;
    Ok(Cents(if negative { -total } else { total }))
}

impl fmt::Display for Cents {
    /// The Italian form, as shown to people.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_italian())
    }
}

/// `+`, `-` and `sum()` are checked in every build: an amount never wraps
/// around. Overflowing means a bug (every stored amount is at most
/// 999,999,999.99 €), so it stops the operation rather than record a wrong
/// sum; sums of amounts from outside use `checked_sum`.
impl Add for Cents {
    type Output = Cents;
    fn add(self, rhs: Cents) -> Cents {
        self.checked_add(rhs)
            .expect("amount overflow in Cents + Cents")
    }
}

impl Sub for Cents {
    type Output = Cents;
    fn sub(self, rhs: Cents) -> Cents {
        self.checked_sub(rhs)
            .expect("amount overflow in Cents - Cents")
    }
}

impl Sum for Cents {
    fn sum<I: Iterator<Item = Cents>>(iter: I) -> Cents {
        iter.fold(Cents::ZERO, Add::add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_formats_the_italian_form() {
        assert_eq!(Cents::parse_italian("1.234,56 €"), Ok(Cents(123_456)));
        assert_eq!(Cents::parse_italian("€ 1234,56"), Ok(Cents(123_456)));
        assert_eq!(Cents::parse_italian("0,5"), Ok(Cents(50)));
        assert_eq!(Cents::parse_italian("12"), Ok(Cents(1200)));
        assert_eq!(Cents::parse_italian("1.000.000"), Ok(Cents(100_000_000)));
        assert_eq!(Cents::parse_italian("-3,10 €"), Ok(Cents(-310)));
        assert_eq!(Cents(123_456).to_italian(), "1.234,56 €");
        assert_eq!(Cents(5).to_italian(), "0,05 €");
        assert_eq!(Cents(-100_000_000).to_italian(), "-1.000.000,00 €");
        assert_eq!(Cents(99_999_999_999).to_italian(), "999.999.999,99 €");
    }

    #[test]
    fn parses_and_formats_the_decimal_form() {
        assert_eq!(Cents::parse_decimal("1234.56"), Ok(Cents(123_456)));
        assert_eq!(Cents::parse_decimal("1234.5"), Ok(Cents(123_450)));
        assert_eq!(Cents::parse_decimal("1234"), Ok(Cents(123_400)));
        assert_eq!(Cents::parse_decimal("0.01"), Ok(Cents(1)));
        assert_eq!(Cents(123_456).to_decimal(), "1234.56");
        assert_eq!(Cents(7).to_decimal(), "0.07");
        assert_eq!(Cents(-7).to_decimal(), "-0.07");
    }

    #[test]
    fn refuses_malformed_amounts() {
        assert_eq!(Cents::parse_decimal(""), Err(MoneyError::Empty));
        assert_eq!(
            Cents::parse_decimal("1.234"),
            Err(MoneyError::TooManyDecimals)
        );
        assert_eq!(
            Cents::parse_decimal("1,5"),
            Err(MoneyError::InvalidCharacter(','))
        );
        assert_eq!(
            Cents::parse_decimal(".5"),
            Err(MoneyError::InvalidCharacter('.'))
        );
        assert_eq!(
            Cents::parse_decimal("12e3"),
            Err(MoneyError::InvalidCharacter('e'))
        );
        assert_eq!(
            Cents::parse_italian("1.23,00"),
            Err(MoneyError::MisplacedThousandsSeparator)
        );
        assert_eq!(
            Cents::parse_italian("1234.567,00"),
            Err(MoneyError::MisplacedThousandsSeparator)
        );
        assert_eq!(
            Cents::parse_italian("1,234"),
            Err(MoneyError::TooManyDecimals)
        );
        assert_eq!(
            Cents::parse_decimal("99999999999999999999"),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn payable_amounts_are_between_one_cent_and_the_cap() {
        assert_eq!(Cents(0).check_payable(), Err(AmountError::NotPositive));
        assert_eq!(Cents(-1).check_payable(), Err(AmountError::NotPositive));
        assert_eq!(Cents(1).check_payable(), Ok(()));
        assert_eq!(Cents::MAX_PAYABLE.check_payable(), Ok(()));
        assert_eq!(
            Cents(100_000_000_000).check_payable(),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    #[should_panic(expected = "amount overflow")]
    fn arithmetic_never_wraps() {
        let _ = Cents(i64::MAX) + Cents(1);
    }

    #[test]
    #[should_panic(expected = "amount overflow")]
    fn sums_never_wrap() {
        let _: Cents = [Cents(i64::MAX), Cents(1)].into_iter().sum();
    }

    proptest! {
        #[test]
        fn decimal_form_round_trips(c in any::<i64>().prop_map(|v| v / 4)) {
            prop_assert_eq!(Cents::parse_decimal(&Cents(c).to_decimal()), Ok(Cents(c)));
        }

        #[test]
        fn italian_form_round_trips(c in any::<i64>().prop_map(|v| v / 4)) {
            prop_assert_eq!(Cents::parse_italian(&Cents(c).to_italian()), Ok(Cents(c)));
        }

        #[test]
        fn italian_and_decimal_forms_agree(units in 0u64..10_000_000_000, cents in 0u64..100) {
            let decimal = format!("{units}.{cents:02}");
            let italian = Cents::parse_decimal(&decimal).unwrap().to_italian();
            prop_assert_eq!(Cents::parse_italian(&italian), Cents::parse_decimal(&decimal));
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,24}") {
            let _ = Cents::parse_decimal(&s);
            let _ = Cents::parse_italian(&s);
        }

        #[test]
        fn checked_sum_matches_wide_sum(v in proptest::collection::vec(any::<i32>(), 0..20)) {
            let wide: i128 = v.iter().map(|&x| i128::from(x)).sum();
            let sum = Cents::checked_sum(v.iter().map(|&x| Cents(i64::from(x))));
            prop_assert_eq!(sum.map(|c| i128::from(c.get())), Some(wide));
        }
    }
}
