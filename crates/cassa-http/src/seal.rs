//! Values the server hands to a browser and must get back unaltered (the
//! spontaneous payment's challenge, the OIDC login state): signed with
//! HMAC-SHA256 under the key every process shares
//! ([`cassa_store::Store::server_key`]), so anonymous pages write nothing
//! and any process can check what another sealed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Clone)]
pub struct Sealer {
    key: [u8; 32],
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

impl Sealer {
    pub fn new(key: [u8; 32]) -> Sealer {
        Sealer { key }
    }

    /// A key for this process only (tests, a single process without a
    /// database key yet).
    pub fn random() -> Sealer {
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
        Sealer { key }
    }

    /// The key stored as hex ([`Sealer::key_hex`]); `None` if it is not 32
    /// bytes of hex.
    pub fn from_hex(hex: &str) -> Option<Sealer> {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|b| u8::from_str_radix(b, 16).ok())
            })
            .collect::<Option<_>>()?;
        Some(Sealer {
            key: bytes.try_into().ok()?,
        })
    }

    pub fn key_hex(&self) -> String {
        hex::encode(self.key)
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length")
    }

    /// The HMAC of `data`, in hex (ALTCHA's signature).
    pub fn sign_hex(&self, data: &[u8]) -> String {
        let mut mac = self.mac();
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether `signature` (hex) is the HMAC of `data`, compared in
    /// constant time.
    pub fn verify_hex(&self, data: &[u8], signature: &str) -> bool {
        crate::token::same(signature, &self.sign_hex(data))
    }

    /// `payload` and its signature, as one URL- and cookie-safe string.
    pub fn seal(&self, payload: &[u8]) -> String {
        let mut mac = self.mac();
        mac.update(payload);
        let tag = mac.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The payload of a string [`Sealer::seal`] made with this key.
    pub fn open(&self, sealed: &str) -> Option<Vec<u8>> {
        let (payload, tag) = sealed.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let mut mac = self.mac();
        mac.update(&payload);
        mac.verify_slice(&tag).ok()?;
        Some(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_this_key_sealed_opens() {
        let sealer = Sealer::random();
        let sealed = sealer.seal(b"state=abc");
        assert_eq!(sealer.open(&sealed).as_deref(), Some(&b"state=abc"[..]));
        assert!(Sealer::random().open(&sealed).is_none(), "another key");
        let (payload, tag) = sealed.split_once('.').unwrap();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(b"state=abd"));
        assert!(sealer.open(&forged).is_none(), "another payload");
        assert!(sealer.open(payload).is_none(), "no signature");
        let again = Sealer::from_hex(&sealer.key_hex()).unwrap();
        assert_eq!(again.open(&sealed).as_deref(), Some(&b"state=abc"[..]));
        assert!(Sealer::from_hex("abcd").is_none());
        assert!(sealer.verify_hex(b"x", &sealer.sign_hex(b"x")));
        assert!(!sealer.verify_hex(b"y", &sealer.sign_hex(b"x")));
    }
}
