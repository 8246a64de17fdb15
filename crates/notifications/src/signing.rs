//! How webhook deliveries are signed: the Standard Webhooks scheme
//! (<https://www.standardwebhooks.com>), so receivers can check them with any of its libraries
//! or by hand.
//!
//! Each delivery carries three headers:
//!
//! - `webhook-id`: the delivery's id, the same on every retry (to drop a second copy);
//! - `webhook-timestamp`: seconds since the Unix epoch when this attempt was sent;
//! - `webhook-signature`: `v1,` and the base64 of HMAC-SHA256, keyed with the webhook's secret
//!   (the base64 after `whsec_`, decoded), over `{webhook-id}.{webhook-timestamp}.{body}`.
//!
//! A receiver recomputes the signature over the raw body, compares in constant time, and
//! rejects a timestamp more than five minutes from its clock (a replay) and an id it has
//! already processed.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// What a webhook secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";

/// How far a receiver should let a timestamp stray from its clock, in seconds.
pub const TOLERANCE_SECONDS: i64 = 300;

/// A new secret: `whsec_` and the base64 of 32 bytes from the OS generator (two v4 uuids: 244
/// random bits).
pub fn new_secret() -> String {
    let mut key = Vec::with_capacity(32);
    key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

fn mac(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<HmacSha256> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .ok()?;
    let mut mac = HmacSha256::new_from_slice(&key).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

/// The `webhook-signature` header for a delivery (`None`: the secret is not base64).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let mac = mac(secret, id, timestamp, body)?;
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// What a receiver does: whether `header` (space-separated signatures, as the scheme allows
/// several during a key rotation) holds a valid `v1` signature of the delivery, and its
/// timestamp is within [`TOLERANCE_SECONDS`] of `now`.
pub fn verify(secret: &str, id: &str, timestamp: i64, body: &[u8], header: &str, now: i64) -> bool {
    if (now - timestamp).abs() > TOLERANCE_SECONDS {
        return false;
    }
    header.split(' ').any(|part| {
        let Some(sig) = part.strip_prefix("v1,") else {
            return false;
        };
        let (Ok(sig), Some(mac)) = (STANDARD.decode(sig), mac(secret, id, timestamp, body)) else {
            return false;
        };
        mac.verify_slice(&sig).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed vector in the scheme (the signature computed independently with Python's `hmac`
    /// over the same key, id, timestamp and body).
    #[test]
    fn the_specifications_example_signs_alike() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, id, 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn receivers_reject_tampering_other_keys_and_replays() {
        let secret = new_secret();
        assert!(secret.starts_with(SECRET_PREFIX));
        assert_ne!(secret, new_secret());
        let body = br#"{"type":"webhook.test"}"#;
        let header = sign(&secret, "d1", 1_000_000, body).unwrap();
        assert!(verify(&secret, "d1", 1_000_000, body, &header, 1_000_100));
        // Several signatures: any one valid will do.
        assert!(verify(
            &secret,
            "d1",
            1_000_000,
            body,
            &format!("v1,bm9wZQ== {header}"),
            1_000_000
        ));
        assert!(!verify(&secret, "d1", 1_000_000, b"{}", &header, 1_000_000));
        assert!(!verify(&secret, "d2", 1_000_000, body, &header, 1_000_000));
        assert!(!verify(&secret, "d1", 1_000_001, body, &header, 1_000_001));
        assert!(!verify(
            &new_secret(),
            "d1",
            1_000_000,
            body,
            &header,
            1_000_000
        ));
        // Older than five minutes, or from the future: a replay.
        assert!(!verify(&secret, "d1", 1_000_000, body, &header, 1_000_301));
        assert!(!verify(&secret, "d1", 1_000_000, body, &header, 999_600));
        assert!(!verify(&secret, "d1", 1_000_000, body, "v2,abc", 1_000_000));
        assert!(sign("whsec_not base64!", "d1", 0, body).is_none());
    }
}
