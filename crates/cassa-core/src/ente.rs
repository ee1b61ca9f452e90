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

/// The most stations one ente may be reached through.
pub const MAX_STATIONS: usize = 10;

/// The pagoPA stations an ente is reached through besides the platform's
/// own: an ente moving from MyPay or another intermediary keeps the station
/// the node knows it by. A station id is the intermediary's codice fiscale,
/// `_` and two digits (`80050050154_01`). Ids are separated by commas,
/// spaces or new lines; repeats are dropped.
pub fn parse_station_ids(text: &str) -> Result<Vec<String>, String> {
    let mut ids: Vec<String> = Vec::new();
    for id in text
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
    {
        let (broker, number) = id.split_once('_').unwrap_or((id, ""));
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(broker, 11) || !digits(number, 2) {
            return Err(format!(
                "«{id}» non è un identificativo di stazione (11 cifre, _ e 2 cifre, es. 80050050154_01)"
            ));
        }
        if !ids.iter().any(|known| known == id) {
            ids.push(id.to_owned());
        }
    }
    if ids.len() > MAX_STATIONS {
        return Err(format!("al più {MAX_STATIONS} stazioni"));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn station_ids_are_read_and_checked() {
        assert_eq!(
            parse_station_ids("80050050154_02, 01199250158_01\n80050050154_02"),
            Ok(vec![
                "80050050154_02".to_owned(),
                "01199250158_01".to_owned()
            ])
        );
        assert_eq!(parse_station_ids("  "), Ok(vec![]));
        for bad in [
            "80050050154",
            "80050050154_1",
            "8005005015_01",
            "80050050154_0A",
        ] {
            let error = parse_station_ids(bad).unwrap_err();
            assert!(error.contains(bad), "{error}");
        }
        let many: Vec<String> = (0..11).map(|n| format!("80050050154_{n:02}")).collect();
        assert!(parse_station_ids(&many.join(" ")).is_err());
    }

    proptest! {
        /// What is read writes back, joined by spaces, to the same list.
        #[test]
        fn station_ids_round_trip(ids in proptest::collection::vec((0u64..100_000_000_000, 0u8..100), 0..10)) {
            let text: Vec<String> = ids.iter().map(|(b, n)| format!("{b:011}_{n:02}")).collect();
            let read = parse_station_ids(&text.join(",")).unwrap();
            prop_assert_eq!(parse_station_ids(&read.join(" ")).unwrap(), read.clone());
            prop_assert!(read.iter().all(|id| text.contains(id)));
        }
    }

    #[test]
    fn codes_round_trip() {
        for mode in MembershipMode::ALL {
            assert_eq!(MembershipMode::parse(mode.code()), Some(mode));
        }
        assert_eq!(MembershipMode::parse("other"), None);
    }
}
