//! The spontaneous-payment form's challenge: a proof of work in the
//! ALTCHA protocol (<https://altcha.org>), self-hosted. The page carries a
//! challenge the server signed; the browser finds the number that hashes
//! to it (`static/challenge.js`, about 50,000 SHA-256 on average, well
//! under a second) while the citizen types, and posts it back. A script
//! pays the same work for every debt it asks for, and nothing is stored
//! until a solution is spent, once, on the POST. Citizens who log in are
//! not challenged: that is the accessible way in without JavaScript.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use cassa_http::seal::Sealer;

/// How long a challenge can be solved and posted.
pub const LIFETIME: SignedDuration = SignedDuration::from_mins(30);
/// The largest secret number: the work is half of it on average.
pub const MAX_NUMBER: u64 = 100_000;
const ALGORITHM: &str = "SHA-256";

/// What the page gives the browser, as ALTCHA's widget reads it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Challenge {
    pub algorithm: String,
    pub challenge: String,
    pub maxnumber: u64,
    pub salt: String,
    pub signature: String,
}

/// What the browser posts back (base64 of this JSON, in `altcha`).
#[derive(Debug, Serialize, Deserialize)]
pub struct Solution {
    pub algorithm: String,
    pub challenge: String,
    pub number: u64,
    pub salt: String,
    pub signature: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// No solution was posted (no JavaScript, or it had not finished).
    Missing,
    /// Not a solution, or signed by another key.
    Forged,
    Expired,
    /// The number does not hash to the challenge.
    Wrong,
}

/// A checked solution, to be spent once ([`cassa_store::Store::spend_token`]).
#[derive(Debug)]
pub struct Solved {
    pub token_hash: String,
    pub expires_at: Timestamp,
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A new challenge, valid until `now` + [`LIFETIME`].
pub fn issue(sealer: &Sealer, max_number: u64, now: Timestamp) -> Challenge {
    let number = rand::Rng::random_range(&mut rand::rng(), 0..=max_number);
    let expires = (now + LIFETIME).as_second();
    let salt = format!("{}?expires={expires}", cassa_http::token::random_hex(12));
    let challenge = sha256_hex(&format!("{salt}{number}"));
    Challenge {
        algorithm: ALGORITHM.to_owned(),
        signature: sealer.sign_hex(challenge.as_bytes()),
        challenge,
        maxnumber: max_number,
        salt,
    }
}

/// Checks the posted `altcha` field: signed by us, not expired, solved.
pub fn check(sealer: &Sealer, posted: &str, now: Timestamp) -> Result<Solved, Refused> {
    if posted.trim().is_empty() {
        return Err(Refused::Missing);
    }
    let solution: Solution = STANDARD
        .decode(posted.trim())
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or(Refused::Forged)?;
    if solution.algorithm != ALGORITHM
        || !sealer.verify_hex(solution.challenge.as_bytes(), &solution.signature)
    {
        return Err(Refused::Forged);
    }
    // The signature covers the hash of salt and number written one after
    // the other: digits could move between them (an expiry centuries
    // away). So the salt must be exactly as we write it, and its expiry no
    // later than a challenge made now would have.
    let expires = solution
        .salt
        .split_once("?expires=")
        .filter(|(random, _)| random.len() == 24 && random.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|(_, at)| at.parse::<i64>().ok())
        .and_then(|at| Timestamp::from_second(at).ok())
        .ok_or(Refused::Forged)?;
    if expires > now + LIFETIME {
        return Err(Refused::Forged);
    }
    if expires <= now {
        return Err(Refused::Expired);
    }
    if sha256_hex(&format!("{}{}", solution.salt, solution.number)) != solution.challenge {
        return Err(Refused::Wrong);
    }
    Ok(Solved {
        token_hash: sha256_hex(&solution.challenge),
        expires_at: expires,
    })
}

/// What a browser does: the number, then the field to post. For tests and
/// load generators.
pub fn solve(challenge: &Challenge) -> Option<String> {
    let number = (0..=challenge.maxnumber)
        .find(|n| sha256_hex(&format!("{}{n}", challenge.salt)) == challenge.challenge)?;
    let solution = Solution {
        algorithm: challenge.algorithm.clone(),
        challenge: challenge.challenge.clone(),
        number,
        salt: challenge.salt.clone(),
        signature: challenge.signature.clone(),
    };
    Some(STANDARD.encode(serde_json::to_vec(&solution).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-12-06T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_solved_challenge_passes_and_nothing_else_does() {
        let sealer = Sealer::random();
        let challenge = issue(&sealer, 2_000, now());
        let posted = solve(&challenge).expect("solvable");
        let solved = check(&sealer, &posted, now()).unwrap();
        assert_eq!(solved.expires_at, now() + LIFETIME);
        // The same solution is the same token: spent once by the store.
        assert_eq!(
            check(&sealer, &posted, now()).unwrap().token_hash,
            solved.token_hash
        );

        assert_eq!(check(&sealer, "", now()).unwrap_err(), Refused::Missing);
        assert_eq!(
            check(&sealer, "bm90IGpzb24=", now()).unwrap_err(),
            Refused::Forged
        );
        let late = now() + LIFETIME;
        assert_eq!(check(&sealer, &posted, late).unwrap_err(), Refused::Expired);
        assert_eq!(
            check(&Sealer::random(), &posted, now()).unwrap_err(),
            Refused::Forged,
            "another server's key"
        );
        let mut wrong: Solution =
            serde_json::from_slice(&STANDARD.decode(&posted).unwrap()).unwrap();
        wrong.number = (wrong.number + 1) % 2_001;
        let wrong = STANDARD.encode(serde_json::to_vec(&wrong).unwrap());
        assert_eq!(check(&sealer, &wrong, now()).unwrap_err(), Refused::Wrong);
        // Digits moved from the number to the salt's expiry: same hash,
        // same signature, an expiry centuries away. Refused.
        let mut moved: Solution =
            serde_json::from_slice(&STANDARD.decode(&posted).unwrap()).unwrap();
        let number = moved.number.to_string();
        if number.len() > 1 {
            moved.salt.push_str(&number[..1]);
            moved.number = number[1..].parse().unwrap();
            let moved = STANDARD.encode(serde_json::to_vec(&moved).unwrap());
            assert_eq!(check(&sealer, &moved, now()).unwrap_err(), Refused::Forged);
        }
        // A challenge of one's own making, with a later expiry, is not signed.
        let mut own = issue(&sealer, 10, now() + LIFETIME * 10);
        own.signature = "00".repeat(32);
        let own = solve(&own).unwrap();
        assert_eq!(check(&sealer, &own, now()).unwrap_err(), Refused::Forged);
    }
}
