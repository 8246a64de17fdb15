//! Password policy and hashing.
//!
//! Policy (OWASP ASVS 4.0 2.1.1–2.1.2, level 2): 12 to 128 characters, any characters, refused if it is one of the
//! 20,000 most common passwords (`data/common-passwords.txt`, compared case-insensitively).
//! Hashing: argon2id, 19 MiB memory, 2 iterations, 1 lane (the OWASP Password Storage Cheat
//! Sheet's first recommended configuration), 16-byte random salt, PHC string format.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use std::collections::HashSet;
use std::sync::OnceLock;

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 128;

const COMMON: &str = include_str!("../../../data/common-passwords.txt");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("use at least {MIN_LENGTH} characters")]
    TooShort,
    #[error("use at most {MAX_LENGTH} characters")]
    TooLong,
    #[error("this password is among the most common ones; choose another")]
    Common,
}

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON.lines().collect())
}

/// A password that meets the policy. Its text is never printed.
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    pub fn parse(input: &str) -> Result<Password, PasswordError> {
        let chars = input.chars().count();
        if chars < MIN_LENGTH {
            return Err(PasswordError::TooShort);
        }
        if chars > MAX_LENGTH {
            return Err(PasswordError::TooLong);
        }
        if common().contains(input.to_lowercase().as_str()) {
            return Err(PasswordError::Common);
        }
        Ok(Password(input.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn hasher() -> Argon2<'static> {
    // These parameters are valid constants; `Params::DEFAULT` is the fallback only in theory.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or(Params::DEFAULT);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hash for storage (PHC string).
pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Check a password against a stored hash; a malformed hash never verifies.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password, verified against when an email is unknown, so a login for an
/// unknown account costs the same time as one with a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash(&uuid::Uuid::new_v4().to_string()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert_eq!(
            Password::parse("short").unwrap_err(),
            PasswordError::TooShort
        );
        assert_eq!(
            Password::parse(&"x".repeat(129)).unwrap_err(),
            PasswordError::TooLong
        );
        assert_eq!(
            Password::parse("Password123").unwrap_err(),
            PasswordError::TooShort
        );
        assert_eq!(
            Password::parse("Password1234").unwrap_err(),
            PasswordError::Common
        );
        assert!(Password::parse("correct horse battery staple").is_ok());
        assert!(
            Password::parse(&"é".repeat(12)).is_ok(),
            "length counts characters"
        );
        assert_eq!(
            Password::parse("elevenchars").unwrap_err(),
            PasswordError::TooShort,
            "ASVS level 2: at least 12"
        );
        assert_eq!(
            format!("{:?}", Password::parse("correct horse battery").unwrap()),
            "Password(***)"
        );
    }

    #[test]
    fn argon2id_round_trip() {
        let h = hash("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery staple", &h));
        assert!(!verify("correct horse battery stapler", &h));
        assert!(!verify("anything", "not a hash"));
        assert_ne!(h, hash("correct horse battery staple").unwrap(), "salted");
    }
}
