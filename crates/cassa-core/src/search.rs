//! How citizens search names: without caring about case, accents or
//! punctuation, and by the start of any word ("milan" finds "Comune di
//! Milano", "citta metro" finds "Città metropolitana").

/// `text` folded for comparison: lower case, Latin accents removed,
/// anything that is not a letter or digit turned into a single space.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars().flat_map(char::to_lowercase) {
        let plain = match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        };
        if plain == ' ' {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(plain);
            space = false;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// A query, folded once, matched against many texts.
#[derive(Clone, Debug)]
pub struct Query {
    words: Vec<String>,
}

impl Query {
    pub fn new(text: &str) -> Query {
        Query {
            words: fold(text)
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Whether every word of the query starts a word of one of `texts`
    /// (an empty query matches everything).
    pub fn matches<'a>(&self, texts: impl IntoIterator<Item = &'a str> + Clone) -> bool {
        let folded: Vec<String> = texts.into_iter().map(fold).collect();
        self.words.iter().all(|word| {
            folded
                .iter()
                .any(|text| text.split(' ').any(|w| w.starts_with(word.as_str())))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folding_ignores_case_accents_and_punctuation() {
        assert_eq!(fold("  Città di CANTÙ – l'Ente  "), "citta di cantu l ente");
        assert_eq!(fold("Sant'Angelo Lodigiano"), "sant angelo lodigiano");
    }

    #[test]
    fn queries_match_word_starts_in_any_text() {
        let q = Query::new("citta metro");
        assert!(q.matches(["Città metropolitana di Milano"]));
        assert!(!q.matches(["Comune di Milano"]));
        assert!(Query::new("MILAN").matches(["Comune di Milano"]));
        assert!(!Query::new("ilano").matches(["Comune di Milano"]));
        assert!(Query::new("rifiuti tari").matches(["TARI 2026", "Tassa sui rifiuti"]));
        assert!(Query::new("").matches(["anything"]));
        assert!(Query::new(" - ").is_empty());
    }

    proptest! {
        #[test]
        fn folding_is_idempotent_and_a_text_finds_itself(text in "\\PC{0,40}") {
            let once = fold(&text);
            prop_assert_eq!(fold(&once), once.clone());
            prop_assert!(Query::new(&text).matches([text.as_str()]));
        }
    }
}
