//! Rules of a tipo dovuto (a kind of payment an ente collects).

use crate::money::Cents;

/// What amount a citizen may pay for a tipo dovuto.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AmountRule {
    /// Any payable amount.
    Free,
    /// Exactly this amount.
    Fixed(Cents),
    /// Between `min` and `max`, both included.
    Range { min: Cents, max: Cents },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountRuleError {
    #[error("the amount must be exactly {0}")]
    NotTheFixedAmount(Cents),
    #[error("the amount must be between {min} and {max}")]
    OutOfRange { min: Cents, max: Cents },
    #[error("{0}")]
    NotPayable(#[from] crate::money::AmountError),
}

impl AmountRule {
    pub fn code(self) -> &'static str {
        match self {
            AmountRule::Free => "free",
            AmountRule::Fixed(_) => "fixed",
            AmountRule::Range { .. } => "range",
        }
    }

    /// Rebuilds a rule from its stored parts.
    pub fn from_parts(
        code: &str,
        fixed: Option<Cents>,
        min: Option<Cents>,
        max: Option<Cents>,
    ) -> Option<Self> {
        match (code, fixed, min, max) {
            ("free", _, _, _) => Some(AmountRule::Free),
            ("fixed", Some(amount), _, _) => Some(AmountRule::Fixed(amount)),
            ("range", _, Some(min), Some(max)) if min <= max => {
                Some(AmountRule::Range { min, max })
            }
            _ => None,
        }
    }

    pub fn check(self, amount: Cents) -> Result<(), AmountRuleError> {
        amount.check_payable()?;
        match self {
            AmountRule::Free => Ok(()),
            AmountRule::Fixed(expected) if amount == expected => Ok(()),
            AmountRule::Fixed(expected) => Err(AmountRuleError::NotTheFixedAmount(expected)),
            AmountRule::Range { min, max } if (min..=max).contains(&amount) => Ok(()),
            AmountRule::Range { min, max } => Err(AmountRuleError::OutOfRange { min, max }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn checks_amounts_against_the_rule() {
        let c = Cents::new;
        assert_eq!(AmountRule::Free.check(c(1)), Ok(()));
        assert!(AmountRule::Free.check(c(0)).is_err());
        assert_eq!(AmountRule::Fixed(c(1600)).check(c(1600)), Ok(()));
        assert_eq!(
            AmountRule::Fixed(c(1600)).check(c(1500)),
            Err(AmountRuleError::NotTheFixedAmount(c(1600)))
        );
        let range = AmountRule::Range {
            min: c(100),
            max: c(500),
        };
        assert_eq!(range.check(c(100)), Ok(()));
        assert_eq!(range.check(c(500)), Ok(()));
        assert!(range.check(c(501)).is_err());
    }

    proptest! {
        #[test]
        fn rules_rebuild_from_their_parts(fixed in 1i64..1_000_000, min in 1i64..1000, extra in 0i64..1000) {
            let c = Cents::new;
            for rule in [AmountRule::Free, AmountRule::Fixed(c(fixed)), AmountRule::Range { min: c(min), max: c(min + extra) }] {
                let (f, lo, hi) = match rule {
                    AmountRule::Free => (None, None, None),
                    AmountRule::Fixed(a) => (Some(a), None, None),
                    AmountRule::Range { min, max } => (None, Some(min), Some(max)),
                };
                prop_assert_eq!(AmountRule::from_parts(rule.code(), f, lo, hi), Some(rule));
            }
        }
    }
}
