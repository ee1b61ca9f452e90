//! The creditor body (ente creditore) as far as the rules care.

/// How an ente joined the platform (modalità di adesione).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum MembershipMode {
    /// Spontaneous payments only; the ente reconciles through exports.
    Base,
    /// The ente also uploads files of debts.
    Flussi,
    /// The ente's own applications call our services (payment started at the ente).
    IniziatoPressoEnte,
}

impl MembershipMode {
    pub const ALL: [MembershipMode; 3] = [
        MembershipMode::Base,
        MembershipMode::Flussi,
        MembershipMode::IniziatoPressoEnte,
    ];

    pub fn code(self) -> &'static str {
        match self {
            MembershipMode::Base => "base",
            MembershipMode::Flussi => "flussi",
            MembershipMode::IniziatoPressoEnte => "ente",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for mode in MembershipMode::ALL {
            assert_eq!(MembershipMode::parse(mode.code()), Some(mode));
        }
        assert_eq!(MembershipMode::parse("other"), None);
    }
}
