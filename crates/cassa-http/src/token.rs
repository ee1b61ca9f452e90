//! Random tokens (cart and checkout ids, form tokens, session tokens,
//! random salts) and their comparison.

use rand::RngCore;

/// `bytes` random bytes as lower-case hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    hex::encode(buffer)
}

/// A public id: 128 random bits in hex (carts, checkouts).
pub fn public_id() -> String {
    random_hex(16)
}

pub fn is_public_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What the database keeps of a session token: its SHA-256 in hex, so a
/// stolen database holds no usable session.
pub fn hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares a posted secret with ours in time that does not depend on
/// where they differ.
pub fn same(posted: &str, ours: &str) -> bool {
    posted.len() == ours.len()
        && posted
            .bytes()
            .zip(ours.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_hex_of_the_asked_length_and_compare_exactly() {
        let id = super::public_id();
        assert!(super::is_public_id(&id));
        assert_ne!(id, super::public_id());
        assert_eq!(super::random_hex(32).len(), 64);
        assert!(super::same("abc", "abc"));
        assert!(!super::same("abc", "abd"));
        assert!(!super::same("ab", "abc"));
    }
}
