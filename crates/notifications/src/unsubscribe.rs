//! One-click unsubscribe links (RFC 8058): each alert's link carries an HMAC-SHA256 of its id
//! under the server's notification key, so it works without signing in, only for that alert,
//! and cannot be made up for another. Following it pauses the alert.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use spontra_store::AlertId;

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks unsubscribe links.
pub struct Signer {
    key: Vec<u8>,
}

/// The shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

impl Signer {
    /// `key`: at least [`MIN_KEY_BYTES`] bytes of secret.
    pub fn new(key: &[u8]) -> Option<Signer> {
        (key.len() >= MIN_KEY_BYTES).then(|| Signer { key: key.to_vec() })
    }

    fn mac(&self, alert: AlertId) -> HmacSha256 {
        // Any key length is valid for HMAC.
        let mut mac = HmacSha256::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"spontra-unsubscribe-v1:");
        mac.update(alert.to_string().as_bytes());
        mac
    }

    /// The signature of `alert`'s link.
    pub fn sign(&self, alert: AlertId) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(alert).finalize().into_bytes())
    }

    /// Whether `signature` is `alert`'s (compared in constant time).
    pub fn verify(&self, alert: AlertId, signature: &str) -> bool {
        URL_SAFE_NO_PAD
            .decode(signature)
            .is_ok_and(|sig| self.mac(alert).verify_slice(&sig).is_ok())
    }

    /// A new random key (64 hex digits: 244 random bits from the OS generator, via uuid v4).
    pub fn generate_key() -> String {
        format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        )
    }

    /// The link that unsubscribes `alert`.
    pub fn url(&self, public_url: &str, alert: AlertId) -> String {
        format!(
            "{}/api/v1/notifications/unsubscribe?alert={alert}&sig={}",
            public_url.trim_end_matches('/'),
            self.sign(alert)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_works_for_its_alert_only_and_under_its_key_only() {
        let signer = Signer::new(&[7; 32]).unwrap();
        let (a, b) = (AlertId::new(), AlertId::new());
        let sig = signer.sign(a);
        assert!(signer.verify(a, &sig));
        assert!(!signer.verify(b, &sig));
        assert!(!signer.verify(a, "not base64 !"));
        assert!(!signer.verify(a, &sig[..sig.len() - 2]));
        assert!(!Signer::new(&[8; 32]).unwrap().verify(a, &sig));
        assert!(Signer::new(&[1; 31]).is_none(), "short keys are refused");
        assert!(signer.url("https://x.example/", a).starts_with(&format!(
            "https://x.example/api/v1/notifications/unsubscribe?alert={a}&sig="
        )));
    }
}
