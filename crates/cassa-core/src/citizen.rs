//! Who a logged-in citizen is, as an identity gateway tells us: the codice
//! fiscale (SPID, CIE, CNS) or, for eIDAS citizens of other EU countries,
//! their eIDAS person identifier; how they logged in, and the level of
//! assurance of that login.

use std::fmt;

use crate::fiscal_code::{CodiceFiscale, FiscalCodeError};

/// The key a citizen's data hangs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CitizenId {
    FiscalCode(CodiceFiscale),
    /// `DE/IT/…`: country of origin, country of destination, identifier.
    Eidas(String),
}

impl CitizenId {
    /// The stored form: `cf:RSSMRA80A01F205X` or `eidas:DE/IT/…`.
    pub fn key(&self) -> String {
        match self {
            CitizenId::FiscalCode(cf) => format!("cf:{}", cf.as_str()),
            CitizenId::Eidas(id) => format!("eidas:{id}"),
        }
    }

    pub fn from_key(key: &str) -> Option<CitizenId> {
        match key.split_once(':')? {
            ("cf", cf) => CodiceFiscale::parse(cf).ok().map(CitizenId::FiscalCode),
            ("eidas", id) if is_eidas_id(id) => Some(CitizenId::Eidas(id.to_owned())),
            _ => None,
        }
    }

    /// Debts are addressed to a codice fiscale; an eIDAS citizen has none.
    pub fn fiscal_code(&self) -> Option<&str> {
        match self {
            CitizenId::FiscalCode(cf) => Some(cf.as_str()),
            CitizenId::Eidas(_) => None,
        }
    }
}

impl fmt::Display for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CitizenId::FiscalCode(cf) => f.write_str(cf.as_str()),
            CitizenId::Eidas(id) => f.write_str(id),
        }
    }
}

/// An eIDAS uniqueness identifier: `XX/YY/` and 1..=256 visible characters.
pub fn is_eidas_id(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() > 6
        && text.len() <= 262
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2] == b'/'
        && bytes[3..5].iter().all(u8::is_ascii_uppercase)
        && bytes[5] == b'/'
        && text[6..]
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control())
}

/// How the citizen proved who they are.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    Spid,
    Cie,
    Cns,
    Eidas,
    /// A regional gateway that did not say which.
    Gateway,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 5] = [
        AuthMethod::Spid,
        AuthMethod::Cie,
        AuthMethod::Cns,
        AuthMethod::Eidas,
        AuthMethod::Gateway,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Spid => "spid",
            AuthMethod::Cie => "cie",
            AuthMethod::Cns => "cns",
            AuthMethod::Eidas => "eidas",
            AuthMethod::Gateway => "gateway",
        }
    }

    pub fn parse(text: &str) -> Option<AuthMethod> {
        let text = text.trim().to_ascii_lowercase();
        AuthMethod::ALL.into_iter().find(|m| m.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            AuthMethod::Spid => "SPID",
            AuthMethod::Cie => "CIE",
            AuthMethod::Cns => "CNS",
            AuthMethod::Eidas => "eIDAS",
            AuthMethod::Gateway => "Gateway",
        }
    }
}

/// eIDAS levels of assurance, which SPID's levels 1..3 map onto.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Assurance {
    Low = 1,
    Substantial = 2,
    High = 3,
}

impl Assurance {
    pub fn level(self) -> i64 {
        self as i64
    }

    pub fn from_level(level: i64) -> Option<Assurance> {
        match level {
            1 => Some(Assurance::Low),
            2 => Some(Assurance::Substantial),
            3 => Some(Assurance::High),
            _ => None,
        }
    }

    /// Whether a login at `actual` is enough where `minimum` is asked; a
    /// login that did not say its level meets no minimum.
    pub fn meets(actual: Option<Assurance>, minimum: Option<Assurance>) -> bool {
        match minimum {
            None => true,
            Some(minimum) => actual.is_some_and(|a| a >= minimum),
        }
    }

    /// From an `acr` claim (`https://www.spid.gov.it/SpidL2`,
    /// `http://eidas.europa.eu/LoA/substantial`) or a gateway's bare level.
    pub fn from_acr(acr: &str) -> Option<Assurance> {
        let acr = acr.trim();
        let lower = acr.to_ascii_lowercase();
        if let Some(level) = lower
            .strip_prefix("https://www.spid.gov.it/spidl")
            .or_else(|| lower.strip_prefix("urn:oasis:names:tc:saml:2.0:ac:classes:spidl"))
            .or_else(|| lower.strip_prefix("spidl"))
            .or(Some(lower.as_str()))
            .and_then(|l| l.parse::<i64>().ok())
        {
            return Assurance::from_level(level);
        }
        match lower.rsplit('/').next()? {
            "low" => Some(Assurance::Low),
            "substantial" => Some(Assurance::Substantial),
            "high" => Some(Assurance::High),
            _ => None,
        }
    }
}

/// A citizen as the gateway described them, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub id: CitizenId,
    pub given_name: String,
    pub family_name: String,
    pub method: AuthMethod,
    pub assurance: Option<Assurance>,
}

impl Identity {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
            .trim()
            .to_owned()
    }
}

/// What the gateway sent, before any check.
#[derive(Clone, Debug, Default)]
pub struct Claims<'a> {
    pub fiscal_code: Option<&'a str>,
    pub eidas_id: Option<&'a str>,
    pub given_name: Option<&'a str>,
    pub family_name: Option<&'a str>,
    /// The gateway's word on the method, else the button the citizen chose.
    pub method: Option<&'a str>,
    pub acr: Option<&'a str>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("the identity provider sent neither a codice fiscale nor an eIDAS identifier")]
    NoIdentifier,
    #[error("the codice fiscale from the identity provider is not valid: {0}")]
    FiscalCode(FiscalCodeError),
    #[error("the eIDAS identifier from the identity provider is not valid")]
    EidasId,
}

/// The codice fiscale in a claim: SPID and CIE send `TINIT-<cf>`.
pub fn fiscal_code_from_claim(value: &str) -> Result<CodiceFiscale, FiscalCodeError> {
    let value = value.trim();
    let bare = match value.get(..6) {
        Some(prefix) if prefix.eq_ignore_ascii_case("TINIT-") => &value[6..],
        _ => value,
    };
    CodiceFiscale::parse(bare)
}

fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// Checks what the gateway sent. A codice fiscale wins over an eIDAS id
/// (an Italian with both is known by the one their debts carry).
pub fn identity_from_claims(claims: &Claims<'_>) -> Result<Identity, IdentityError> {
    let id = match (present(claims.fiscal_code), present(claims.eidas_id)) {
        (Some(cf), _) => {
            CitizenId::FiscalCode(fiscal_code_from_claim(cf).map_err(IdentityError::FiscalCode)?)
        }
        (None, Some(eidas)) if is_eidas_id(eidas) => CitizenId::Eidas(eidas.to_owned()),
        (None, Some(_)) => return Err(IdentityError::EidasId),
        (None, None) => return Err(IdentityError::NoIdentifier),
    };
    let method = match (&id, claims.method.and_then(AuthMethod::parse)) {
        (CitizenId::Eidas(_), _) => AuthMethod::Eidas,
        (_, Some(method)) => method,
        (_, None) => AuthMethod::Gateway,
    };
    let name = |v: Option<&str>| {
        present(v)
            .map(|v| v.chars().take(70).collect::<String>())
            .unwrap_or_default()
    };
    Ok(Identity {
        id,
        given_name: name(claims.given_name),
        family_name: name(claims.family_name),
        method,
        assurance: claims.acr.and_then(Assurance::from_acr),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CF: &str = "RSSMRA80A01F205X";

    #[test]
    fn spid_claims_carry_the_codice_fiscale_with_its_country_prefix() {
        let identity = identity_from_claims(&Claims {
            fiscal_code: Some("TINIT-rssmra80a01f205x"),
            given_name: Some("Mario"),
            family_name: Some("Rossi"),
            method: Some("SPID"),
            acr: Some("https://www.spid.gov.it/SpidL2"),
            ..Claims::default()
        })
        .unwrap();
        assert_eq!(identity.id.fiscal_code(), Some(CF));
        assert_eq!(identity.method, AuthMethod::Spid);
        assert_eq!(identity.assurance, Some(Assurance::Substantial));
        assert_eq!(identity.full_name(), "Mario Rossi");
        assert_eq!(identity.id.key(), format!("cf:{CF}"));
    }

    #[test]
    fn an_eidas_citizen_is_known_by_the_person_identifier() {
        let identity = identity_from_claims(&Claims {
            eidas_id: Some("DE/IT/1f3a9c2b7d"),
            method: Some("spid"),
            acr: Some("http://eidas.europa.eu/LoA/substantial"),
            ..Claims::default()
        })
        .unwrap();
        assert_eq!(identity.id, CitizenId::Eidas("DE/IT/1f3a9c2b7d".into()));
        assert_eq!(identity.id.fiscal_code(), None);
        assert_eq!(identity.method, AuthMethod::Eidas);
        assert_eq!(identity.assurance, Some(Assurance::Substantial));
    }

    #[test]
    fn bad_or_missing_identifiers_are_refused_with_the_reason() {
        assert_eq!(
            identity_from_claims(&Claims::default()),
            Err(IdentityError::NoIdentifier)
        );
        assert!(matches!(
            identity_from_claims(&Claims {
                fiscal_code: Some("TINIT-RSSMRA80A01F205A"),
                ..Claims::default()
            }),
            Err(IdentityError::FiscalCode(_))
        ));
        assert_eq!(
            identity_from_claims(&Claims {
                eidas_id: Some("somebody"),
                ..Claims::default()
            }),
            Err(IdentityError::EidasId)
        );
    }

    #[test]
    fn levels_of_assurance_are_read_from_spid_eidas_and_bare_levels() {
        assert_eq!(
            Assurance::from_acr("https://www.spid.gov.it/SpidL3"),
            Some(Assurance::High)
        );
        assert_eq!(
            Assurance::from_acr("urn:oasis:names:tc:SAML:2.0:ac:classes:SpidL1"),
            Some(Assurance::Low)
        );
        assert_eq!(
            Assurance::from_acr("http://eidas.europa.eu/LoA/high"),
            Some(Assurance::High)
        );
        assert_eq!(Assurance::from_acr("2"), Some(Assurance::Substantial));
        assert_eq!(Assurance::from_acr("https://example.org/gold"), None);
        assert_eq!(Assurance::from_acr("7"), None);
    }

    #[test]
    fn a_minimum_level_needs_a_level_at_least_as_high() {
        use Assurance::{High, Low, Substantial};
        assert!(Assurance::meets(None, None));
        assert!(Assurance::meets(Some(Low), None));
        assert!(!Assurance::meets(None, Some(Low)));
        assert!(!Assurance::meets(Some(Low), Some(Substantial)));
        assert!(Assurance::meets(Some(Substantial), Some(Substantial)));
        assert!(Assurance::meets(Some(High), Some(Substantial)));
    }

    #[test]
    fn methods_round_trip() {
        for method in AuthMethod::ALL {
            assert_eq!(AuthMethod::parse(method.as_str()), Some(method));
        }
        assert_eq!(AuthMethod::parse("password"), None);
    }

    proptest! {
        #[test]
        fn keys_round_trip(origin in "[A-Z]{2}", tail in "[A-Za-z0-9+/=._-]{1,64}") {
            let eidas = CitizenId::Eidas(format!("{origin}/IT/{tail}"));
            prop_assert_eq!(CitizenId::from_key(&eidas.key()), Some(eidas.clone()));
            let cf = CitizenId::FiscalCode(CodiceFiscale::parse(CF).unwrap());
            prop_assert_eq!(CitizenId::from_key(&cf.key()), Some(cf));
        }

        #[test]
        fn garbage_keys_are_nobody(key in ".{0,40}") {
            if let Some(id) = CitizenId::from_key(&key) {
                prop_assert_eq!(id.key(), key);
            }
        }
    }
}
