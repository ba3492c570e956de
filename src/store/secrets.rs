//! Password hashes (argon2id PHC strings) and API tokens (`lb_<id>_<secret>`, stored as the SHA-256 of the secret:
//! the secret is 256 random bits, so a fast hash is enough and a slow one would only slow every request).

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::records::{ApiToken, UnixMs, now_ms};

/// Hashes a password into an argon2id PHC string with a random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks a password against a PHC string from [`hash_password`]. A malformed hash never verifies.
pub fn verify_password(phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// A freshly made token: the string to show the user once, and the record to store.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub secret: String,
    pub record: ApiToken,
}

/// Makes a token for `user`.
pub fn new_token(user: &str, description: &str, expires: Option<UnixMs>) -> NewToken {
    let mut rng = rand::rng();
    let mut id = [0u8; 6];
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut id);
    rng.fill_bytes(&mut secret);
    let id = hex::encode(id);
    let secret_hex = hex::encode(secret);
    NewToken {
        secret: format!("lb_{id}_{secret_hex}"),
        record: ApiToken {
            id,
            user: user.to_string(),
            secret_sha256: Sha256::digest(secret_hex.as_bytes()).into(),
            description: description.to_string(),
            created: now_ms(),
            expires,
        },
    }
}

/// Splits `lb_<id>_<secret>` into id and secret.
pub fn parse_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix("lb_")?;
    let (id, secret) = rest.split_once('_')?;
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

impl ApiToken {
    /// True when `secret` is this token's secret and the token has not expired at `now`. Constant time in the
    /// secret.
    pub fn verify(&self, secret: &str, now: UnixMs) -> bool {
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let diff = digest
            .iter()
            .zip(self.secret_sha256.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        diff == 0 && self.expires.is_none_or(|e| now < e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn passwords_verify_only_with_the_right_password() -> TestResult {
        let h = hash_password("hunter2")?;
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "hunter2"));
        assert!(!verify_password(&h, "hunter3"));
        assert!(!verify_password("not a hash", "hunter2"));
        Ok(())
    }

    #[test]
    fn tokens_verify_by_secret_and_expire() -> TestResult {
        let t = new_token("alice", "ci", Some(now_ms() + 60_000));
        let (id, secret) = parse_token(&t.secret).ok_or("a fresh token does not parse")?;
        assert_eq!(id, t.record.id);
        assert!(t.record.verify(secret, now_ms()));
        assert!(!t.record.verify("0000", now_ms()));
        assert!(
            !t.record.verify(secret, now_ms() + 120_000),
            "expired token verified"
        );
        assert!(!t.secret.contains(&hex::encode(t.record.secret_sha256)));
        assert_eq!(parse_token("lb__x"), None);
        assert_eq!(parse_token("bearer"), None);
        Ok(())
    }
}
