//! The citizens one can log in as: one per way in (SPID, CIE, CNS, eIDAS).

/// A demo citizen and how they authenticate.
#[derive(Debug)]
pub struct DemoIdentity {
    /// What the login form sends; the button's id is `login-` + this with
    /// dots as dashes.
    pub login: &'static str,
    /// "spid", "cie", "cns" or "eidas": the `auth_method` claim, and what
    /// `idp_hint` selects.
    pub method: &'static str,
    pub given_name: &'static str,
    pub family_name: &'static str,
    /// Italians: their codice fiscale, sent as `fiscal_number` "TINIT-…".
    pub fiscal_code: Option<&'static str>,
    /// Foreigners through eIDAS: their `person_identifier`.
    pub eidas_id: Option<&'static str>,
    /// The level of assurance, as the `acr` claim.
    pub acr: &'static str,
    pub email: &'static str,
}

impl DemoIdentity {
    /// The id of the identity's login button.
    pub fn button_id(&self) -> String {
        format!("login-{}", self.login.replace('.', "-"))
    }

    /// How the method is written for people.
    pub fn method_label(&self) -> &'static str {
        method_label(self.method)
    }
}

pub(super) fn method_label(method: &str) -> &'static str {
    match method {
        "spid" => "SPID",
        "cie" => "CIE",
        "cns" => "CNS",
        "eidas" => "eIDAS",
        _ => "?",
    }
}

/// The methods an `idp_hint` may name.
pub(super) const METHODS: [&str; 4] = ["spid", "cie", "cns", "eidas"];

static IDENTITIES: [DemoIdentity; 4] = [
    DemoIdentity {
        login: "mario.rossi",
        method: "spid",
        given_name: "Mario",
        family_name: "Rossi",
        // Born 1 January 1980 in Milano (F205).
        fiscal_code: Some("RSSMRA80A01F205X"),
        eidas_id: None,
        acr: "https://www.spid.gov.it/SpidL2",
        email: "mario.rossi@example.it",
    },
    DemoIdentity {
        login: "anna.bianchi",
        method: "cie",
        given_name: "Anna",
        family_name: "Bianchi",
        // Born 15 March 1985 in Roma (H501): a woman, so day 15 + 40.
        fiscal_code: Some("BNCNNA85C55H501O"),
        eidas_id: None,
        acr: "https://www.spid.gov.it/SpidL3",
        email: "anna.bianchi@example.it",
    },
    DemoIdentity {
        login: "giulia.verdi",
        method: "cns",
        given_name: "Giulia",
        family_name: "Verdi",
        // Born 22 July 1990 in Torino (L219).
        fiscal_code: Some("VRDGLI90L62L219W"),
        eidas_id: None,
        acr: "https://www.spid.gov.it/SpidL2",
        email: "giulia.verdi@example.it",
    },
    DemoIdentity {
        login: "hans.muller",
        method: "eidas",
        given_name: "Hans",
        family_name: "Müller",
        fiscal_code: None,
        eidas_id: Some("DE/IT/1f3a9c2b7d"),
        acr: "http://eidas.europa.eu/LoA/substantial",
        email: "hans.muller@example.de",
    },
];

pub fn identities() -> &'static [DemoIdentity] {
    &IDENTITIES
}

#[cfg(test)]
mod tests {
    use super::*;
    use cassa_core::CodiceFiscale;

    #[test]
    fn fiscal_codes_are_valid() {
        for identity in identities() {
            if let Some(cf) = identity.fiscal_code {
                let parsed = CodiceFiscale::parse(cf)
                    .unwrap_or_else(|e| panic!("{}: {cf}: {e}", identity.login));
                assert_eq!(parsed.as_str(), cf);
            }
        }
    }

    #[test]
    fn one_identity_per_method_each_with_one_id() {
        for method in METHODS {
            let found: Vec<_> = identities().iter().filter(|i| i.method == method).collect();
            assert_eq!(found.len(), 1, "{method}");
            let identity = found[0];
            assert_eq!(identity.fiscal_code.is_some(), method != "eidas");
            assert_eq!(identity.eidas_id.is_some(), method == "eidas");
        }
        assert_eq!(identities()[0].button_id(), "login-mario-rossi");
    }
}
