//! API key secrets: random, shown once, stored only as a SHA-256 hash.
//! (A fast hash is right here: the secret has 256 random bits, so there is
//! nothing to brute-force; a slow password hash would only slow every call.)

pub const PREFIX: &str = "cassa_";

/// A new key: the secret to hand over, a short public prefix, and the hash to store.
pub struct NewSecret {
    pub secret: String,
    pub prefix: String,
    pub hash: String,
}

pub fn generate() -> NewSecret {
    let random: [u8; 32] = rand::random();
    let secret = format!("{PREFIX}{}", hex::encode(random));
    NewSecret {
        prefix: secret[..PREFIX.len() + 8].to_owned(),
        hash: hash(&secret),
        secret,
    }
}

/// What the database keeps of a key: its SHA-256, as of any secret token.
pub fn hash(secret: &str) -> String {
    cassa_http::token::hash(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hash_to_what_is_stored() {
        let a = generate();
        let b = generate();
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.secret.len(), PREFIX.len() + 64);
        assert!(a.secret.starts_with(&a.prefix));
        assert_eq!(hash(&a.secret), a.hash);
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
