//! Free text as pagoPA's schemas bound it.

/// `text` cut to at most `max` characters, on a character boundary (the
/// schemas count characters, not bytes).
pub fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn cuts_characters_not_bytes() {
        assert_eq!(cut("perché sì", 6), "perché");
        assert_eq!(cut("ok", 140), "ok");
    }
}
