//! Tokens: short-lived JWT access tokens signed with a rotating key ring, and opaque random
//! tokens (refresh, verification, reset) that are stored only as SHA-256 digests.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Access tokens live 15 minutes.
pub const ACCESS_TTL_SECONDS: i64 = 15 * 60;
const ISSUER: &str = "spontra";
const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "a signing key is written KID:BASE64 with at least {MIN_SECRET_BYTES} bytes of secret"
    )]
    Malformed,
    #[error("the active key id {0:?} is not among the keys")]
    UnknownActive(String),
}

/// Signing keys by key id; new tokens use the active one, any listed key verifies, so keys
/// rotate without logging everyone out. Secrets never appear in `Debug` output.
#[derive(Clone)]
pub struct KeyRing {
    active: String,
    keys: HashMap<String, Vec<u8>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids: Vec<&String> = self.keys.keys().collect();
        ids.sort();
        write!(f, "KeyRing {{ active: {:?}, keys: {ids:?} }}", self.active)
    }
}

impl KeyRing {
    /// Parse `kid1:BASE64,kid2:BASE64`; `active` names the key that signs.
    pub fn parse(spec: &str, active: &str) -> Result<KeyRing, KeyError> {
        let mut keys = HashMap::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kid, secret) = part.split_once(':').ok_or(KeyError::Malformed)?;
            let bytes = STANDARD
                .decode(secret.trim())
                .map_err(|_| KeyError::Malformed)?;
            if kid.trim().is_empty() || bytes.len() < MIN_SECRET_BYTES {
                return Err(KeyError::Malformed);
            }
            keys.insert(kid.trim().to_string(), bytes);
        }
        if !keys.contains_key(active) {
            return Err(KeyError::UnknownActive(active.to_string()));
        }
        Ok(KeyRing {
            active: active.to_string(),
            keys,
        })
    }

    /// A fresh random key spec (`kid:BASE64`), for first start of the embedded profile.
    pub fn generate_spec(kid: &str) -> String {
        let mut secret = [0u8; 48];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        format!("{kid}:{}", STANDARD.encode(secret))
    }

    pub fn active_kid(&self) -> &str {
        &self.active
    }
}

/// What an access token says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Session id.
    pub sid: String,
    pub role: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the access token is malformed, expired, or not signed by us")]
    Invalid,
}

pub fn issue_access(
    keys: &KeyRing,
    user: &str,
    session: &str,
    role: &str,
    now: i64,
) -> Result<String, String> {
    let claims = Claims {
        sub: user.to_string(),
        sid: session.to_string(),
        role: role.to_string(),
        iat: now,
        exp: now + ACCESS_TTL_SECONDS,
        iss: ISSUER.to_string(),
    };
    sign(keys, &claims)
}

pub fn verify_access(keys: &KeyRing, token: &str) -> Result<Claims, TokenError> {
    verify(keys, token, ISSUER)
}

/// HS256 with the active key, its id in the header.
fn sign(keys: &KeyRing, claims: &impl Serialize) -> Result<String, String> {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(keys.active.clone());
    let secret = keys.keys.get(&keys.active).ok_or("active key missing")?;
    encode(&header, claims, &EncodingKey::from_secret(secret)).map_err(|e| e.to_string())
}

/// Signature by a key of the ring (named by `kid`), expiry, and the issuer.
fn verify<C: serde::de::DeserializeOwned>(
    keys: &KeyRing,
    token: &str,
    issuer: &str,
) -> Result<C, TokenError> {
    let header = decode_header(token).map_err(|_| TokenError::Invalid)?;
    let secret = header
        .kid
        .as_ref()
        .and_then(|k| keys.keys.get(k))
        .ok_or(TokenError::Invalid)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[issuer]);
    validation.leeway = 5;
    decode::<C>(token, &DecodingKey::from_secret(secret), &validation)
        .map(|d| d.claims)
        .map_err(|_| TokenError::Invalid)
}

/// A sign-in that passed the password and still owes its second factor. Signed by the same
/// key ring but with another issuer, so it is never accepted as an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChallengeClaims {
    /// User id.
    pub sub: String,
    /// The challenge's own id: its digest is kept as a single-use token, spent by the second
    /// step that succeeds (and by revoking the account's sessions).
    #[serde(default)]
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

const CHALLENGE_ISSUER: &str = "spontra-second-factor";
/// The second step must follow within 5 minutes.
pub const CHALLENGE_TTL_SECONDS: i64 = 5 * 60;

/// A challenge for `user` with the id `jti` (see [`ChallengeClaims::jti`]).
pub fn issue_challenge(keys: &KeyRing, user: &str, jti: &str, now: i64) -> Result<String, String> {
    let claims = ChallengeClaims {
        sub: user.to_string(),
        jti: jti.to_string(),
        iat: now,
        exp: now + CHALLENGE_TTL_SECONDS,
        iss: CHALLENGE_ISSUER.to_string(),
    };
    sign(keys, &claims)
}

pub fn verify_challenge(keys: &KeyRing, token: &str) -> Result<ChallengeClaims, TokenError> {
    verify(keys, token, CHALLENGE_ISSUER)
}

/// A new opaque token: 256 random bits, URL-safe.
pub fn opaque() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How an opaque token is stored: its SHA-256, hex.
pub fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(active: &str) -> KeyRing {
        let spec = format!(
            "{},{}",
            KeyRing::generate_spec("k1"),
            KeyRing::generate_spec("k2")
        );
        KeyRing::parse(&spec, active).unwrap()
    }

    #[test]
    fn access_tokens_verify_across_rotation_and_fail_when_tampered() {
        let old = ring("k1");
        let now = chrono::Utc::now().timestamp();
        let t = issue_access(&old, "u1", "s1", "user", now).unwrap();
        let c = verify_access(&old, &t).unwrap();
        assert_eq!(
            (
                c.sub.as_str(),
                c.sid.as_str(),
                c.role.as_str(),
                c.exp - c.iat
            ),
            ("u1", "s1", "user", 900)
        );
        // Rotated: k2 signs now, k1 still verifies.
        let rotated = KeyRing {
            active: "k2".into(),
            keys: old.keys.clone(),
        };
        assert!(verify_access(&rotated, &t).is_ok());
        assert_eq!(
            decode_header(&issue_access(&rotated, "u1", "s1", "user", now).unwrap())
                .unwrap()
                .kid
                .as_deref(),
            Some("k2")
        );
        // Another ring, a tampered payload, an expired token: refused.
        assert_eq!(verify_access(&ring("k1"), &t), Err(TokenError::Invalid));
        let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin","sid":"s1","role":"admin","iat":0,"exp":99999999999,"iss":"spontra"}"#);
        assert_eq!(
            verify_access(&old, &parts.join(".")),
            Err(TokenError::Invalid)
        );
        let expired = issue_access(&old, "u1", "s1", "user", now - 3600).unwrap();
        assert_eq!(verify_access(&old, &expired), Err(TokenError::Invalid));
    }

    #[test]
    fn challenges_and_access_tokens_are_not_interchangeable() {
        let keys = ring("k1");
        let now = chrono::Utc::now().timestamp();
        let challenge = issue_challenge(&keys, "u1", "j1", now).unwrap();
        assert_eq!(verify_challenge(&keys, &challenge).unwrap().sub, "u1");
        assert_eq!(verify_access(&keys, &challenge), Err(TokenError::Invalid));
        let access = issue_access(&keys, "u1", "s1", "user", now).unwrap();
        assert_eq!(verify_challenge(&keys, &access), Err(TokenError::Invalid));
        let old = issue_challenge(&keys, "u1", "j1", now - 600).unwrap();
        assert_eq!(verify_challenge(&keys, &old), Err(TokenError::Invalid));
    }

    #[test]
    fn key_specs_are_checked_and_never_printed() {
        assert_eq!(
            KeyRing::parse("k1:c2hvcnQ=", "k1").unwrap_err(),
            KeyError::Malformed
        );
        let spec = KeyRing::generate_spec("k1");
        assert_eq!(
            KeyRing::parse(&spec, "k9").unwrap_err(),
            KeyError::UnknownActive("k9".into())
        );
        let secret = spec.split_once(':').unwrap().1.to_string();
        let shown = format!("{:?}", KeyRing::parse(&spec, "k1").unwrap());
        assert!(!shown.contains(&secret) && shown.contains("k1"));
    }

    #[test]
    fn opaque_tokens_are_random_and_stored_as_digests() {
        let (a, b) = (opaque(), opaque());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(digest(&a).len(), 64);
        assert_eq!(digest(&a), digest(&a));
    }
}
