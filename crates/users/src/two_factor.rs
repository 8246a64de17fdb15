//! Two-factor authentication with time-based one-time passwords (RFC 6238: HMAC-SHA1, 6
//! digits, 30-second steps, one step of clock drift either way) and single-use recovery codes.
//!
//! Set-up is two steps, so a mistyped secret cannot lock anyone out: `setup` (password asked
//! again) stores a pending secret and returns it with its `otpauth://` URI for a QR code;
//! `enable` turns it on once a code from the authenticator app matches, and returns ten
//! recovery codes, shown once and stored as SHA-256 digests. A code is accepted at most once:
//! the store remembers the last time step used and accepts only later ones, atomically, so
//! two requests racing with one code cannot both pass. Second-factor checks share the
//! account's throttle with password checks.
//!
//! Administrators must use it: admin routes want a session that proved a second factor, and
//! an administrator cannot turn it off.

use crate::error::AccountError;
use crate::service::{audit, session_id, user_key, TokenPair, UsersService};
use crate::tokens;
use rand::Rng;
use spontra_domain::ErrorCode;
use spontra_http::{ClientInfo, Principal};
use spontra_store::{Role, StoreError, TokenPurpose, User, UserId};
use totp_rs::{Algorithm, Secret, Totp};

/// How many recovery codes an account gets.
pub const RECOVERY_CODES: usize = 10;
const ISSUER: &str = "Spontra";

/// What set-up shows the user: the secret for manual entry and the URI a QR code carries.
pub struct Enrolment {
    pub secret: String,
    pub otpauth_uri: String,
}

pub struct TwoFactorStatus {
    pub enabled: bool,
    pub recovery_codes_left: u32,
}

fn totp(secret_base32: &str, account: &str) -> Result<Totp, AccountError> {
    let secret = Secret::try_from_base32(secret_base32).map_err(AccountError::internal)?;
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(account)
        .build()
        .map_err(AccountError::internal)
}

/// The time step a six-digit code matches at `now` (Unix seconds), if any.
fn matching_step(t: &Totp, code: &str, now: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let now = u64::try_from(now).ok()?;
    t.check(&code, now)
        .and_then(|step| i64::try_from(step).ok())
}

/// Ten codes like `k7dq2-mx4tp` (50 random bits each, no look-alike characters).
fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw: String = (0..10)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                .collect();
            format!("{}-{}", &raw[..5], &raw[5..])
        })
        .collect()
}

/// How a recovery code is stored: the digest of its letters, whatever the dashes and case.
fn recovery_digest(code: &str) -> String {
    let letters: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    tokens::digest(&letters)
}

fn account_name(user: &User) -> String {
    user.email
        .as_ref()
        .map_or_else(|| user.id.to_string(), |e| e.to_string())
}

impl UsersService {
    pub async fn two_factor_status(&self, p: &Principal) -> Result<TwoFactorStatus, AccountError> {
        let user = self.me(p).await?;
        Ok(TwoFactorStatus {
            enabled: user.totp_enabled(),
            recovery_codes_left: if user.totp_enabled() {
                self.store.recovery_codes_left(user.id).await?
            } else {
                0
            },
        })
    }

    /// Start set-up: a new pending secret (replacing any earlier pending one).
    pub async fn setup_two_factor(
        &self,
        p: &Principal,
        password: &str,
        client: &ClientInfo,
    ) -> Result<Enrolment, AccountError> {
        let user = self.me(p).await?;
        if user.totp_enabled() {
            return Err(AccountError::TwoFactorAlreadyOn(
                "two-factor authentication is already on; turn it off first to set up a new device",
            ));
        }
        self.recheck_password(p, &user, password, "password", client)
            .await?;
        let secret = Secret::generate().to_base32();
        let uri = totp(&secret, &account_name(&user))?
            .to_url()
            .map_err(AccountError::internal)?;
        self.store
            .set_totp_secret(user.id, Some(&secret), self.clock.now())
            .await?;
        audit::info("two_factor.setup_started", Some(user.id), &client.ip);
        Ok(Enrolment {
            secret,
            otpauth_uri: uri,
        })
    }

    /// Finish set-up with a code from the app: two-factor is on, this session counts as
    /// having proved it, and the recovery codes are returned (the only time they are shown).
    pub async fn enable_two_factor(
        &self,
        p: &Principal,
        code: &str,
        client: &ClientInfo,
    ) -> Result<Vec<String>, AccountError> {
        let user = self.me(p).await?;
        if user.totp_enabled() {
            return Err(AccountError::TwoFactorAlreadyOn(
                "two-factor authentication is already on",
            ));
        }
        let Some(secret) = &user.totp_secret else {
            return Err(AccountError::TwoFactorNotSetUp);
        };
        let attempt = self.reserve(
            &user_key(&user),
            Some(user.id),
            client,
            "second_factor.throttled",
        )?;
        let Some(step) = matching_step(
            &totp(secret, &account_name(&user))?,
            code,
            self.clock.now().timestamp(),
        ) else {
            attempt.failed();
            return Err(AccountError::field(
                ErrorCode::WrongCode,
                "code",
                "the code does not match; check the device's clock and try the current code",
            ));
        };
        attempt.succeeded();
        let codes = new_recovery_codes();
        let digests: Vec<String> = codes.iter().map(|c| recovery_digest(c)).collect();
        self.store
            .enable_totp(user.id, &digests, self.clock.now())
            .await?;
        self.store.use_totp_step(user.id, step).await?;
        self.store.mark_session_mfa(session_id(p)?).await?;
        audit::info("two_factor.enabled", Some(user.id), &client.ip);
        self.notify_two_factor_change(&user, true);
        Ok(codes)
    }

    /// Turn two-factor off (password and a current code or a recovery code asked). Not for
    /// administrators, who must keep it.
    pub async fn disable_two_factor(
        &self,
        p: &Principal,
        password: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        let user = self.me(p).await?;
        if user.role == Role::Admin {
            return Err(AccountError::Forbidden(
                "administrators must keep two-factor authentication on",
            ));
        }
        if !user.totp_enabled() {
            return Ok(());
        }
        self.recheck_password(p, &user, password, "password", client)
            .await?;
        self.recheck_second_factor(&user, Some(code), client)
            .await?;
        self.store
            .set_totp_secret(user.id, None, self.clock.now())
            .await?;
        audit::alert("two_factor.disabled", Some(user.id), "", &client.ip, "");
        self.notify_two_factor_change(&user, false);
        Ok(())
    }

    /// With two-factor authentication on, `code` must be a right code (a field error `code`
    /// otherwise); with it off, nothing is asked.
    pub(crate) async fn recheck_second_factor(
        &self,
        user: &User,
        code: Option<&str>,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        if !user.totp_enabled() {
            return Ok(());
        }
        let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
            return Err(AccountError::field(
                ErrorCode::MissingField,
                "code",
                "two-factor authentication is on: enter a code from your app or a recovery code",
            ));
        };
        if !self.second_factor_ok(user, code, client).await? {
            return Err(AccountError::field(
                ErrorCode::WrongCode,
                "code",
                "the code is wrong or already used",
            ));
        }
        Ok(())
    }

    /// Check a TOTP code or a recovery code once, counted in the account's throttle.
    async fn second_factor_ok(
        &self,
        user: &User,
        code: &str,
        client: &ClientInfo,
    ) -> Result<bool, AccountError> {
        let Some(secret) = user.totp_secret.as_deref().filter(|_| user.totp_enabled()) else {
            return Ok(false);
        };
        let key = user_key(user);
        let attempt = self.reserve(&key, Some(user.id), client, "second_factor.throttled")?;
        let ok = match matching_step(
            &totp(secret, &account_name(user))?,
            code,
            self.clock.now().timestamp(),
        ) {
            Some(step) => self.store.use_totp_step(user.id, step).await?,
            None if code.chars().filter(|c| c.is_ascii_alphanumeric()).count() == 10 => {
                let used = self
                    .store
                    .use_recovery_code(user.id, &recovery_digest(code), self.clock.now())
                    .await?;
                if used {
                    audit::alert(
                        "second_factor.recovery_code_used",
                        Some(user.id),
                        "",
                        &client.ip,
                        "",
                    );
                }
                used
            }
            None => false,
        };
        if ok {
            attempt.succeeded();
        } else {
            let locked = attempt.failed();
            audit::alert(
                "second_factor.failed",
                Some(user.id),
                &key,
                &client.ip,
                if locked {
                    "wrong code; now locked"
                } else {
                    "wrong code"
                },
            );
        }
        Ok(ok)
    }

    /// The second step of a sign-in: the challenge from the password step and a code (or a
    /// recovery code). The session proves the second factor. A challenge signs in once.
    pub async fn login_second_factor(
        &self,
        challenge: &str,
        code: &str,
        client: ClientInfo,
    ) -> Result<TokenPair, AccountError> {
        let expired =
            || AccountError::InvalidToken("this sign-in has expired; enter your password again");
        let claims = tokens::verify_challenge(&self.keys, challenge).map_err(|_| expired())?;
        let id = uuid::Uuid::parse_str(&claims.sub)
            .map(UserId)
            .map_err(|_| expired())?;
        let user = self.store.user_by_id(id).await.map_err(|e| match e {
            StoreError::NotFound => expired(),
            other => AccountError::from(other),
        })?;
        if user.disabled || !user.totp_enabled() || claims.jti.is_empty() {
            return Err(expired());
        }
        // Once: a challenge that was used, or voided by revoking the account's sessions (or
        // changing its password) since it was issued, is refused before the code is looked
        // at (so it costs no recovery code), and spent once the code is right.
        let jti = tokens::digest(&claims.jti);
        let spent = |e| match e {
            StoreError::NotFound => expired(),
            other => AccountError::from(other),
        };
        let now = self.clock.now();
        self.store
            .live_token(&jti, TokenPurpose::SecondFactor, now)
            .await
            .map_err(spent)?;
        if !self.second_factor_ok(&user, code, &client).await? {
            return Err(AccountError::InvalidCode);
        }
        self.store
            .consume_token(&jti, TokenPurpose::SecondFactor, self.clock.now())
            .await
            .map_err(spent)?;
        let ip = client.ip.clone();
        let pair = self.start_session(&user, client, true).await?;
        audit::info("login.succeeded_with_second_factor", Some(user.id), &ip);
        Ok(pair)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn codes_match_their_step_once_formatted_and_not_otherwise() {
        let secret = Secret::generate().to_base32();
        let t = totp(&secret, "ada@example.com").unwrap();
        let now = Utc::now().timestamp();
        let code = t.generate(u64::try_from(now).unwrap()).to_string();
        let step = matching_step(&t, &code, now).unwrap();
        assert_eq!(step, now / 30);
        assert_eq!(
            matching_step(&t, &format!("{} {}", &code[..3], &code[3..]), now),
            Some(step)
        );
        let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
        assert_eq!(matching_step(&t, &wrong, now), None);
        assert_eq!(matching_step(&t, "12345", now), None);
        assert_eq!(matching_step(&t, "abcdef", now), None);
        let uri = t.to_url().unwrap();
        assert!(
            uri.starts_with("otpauth://totp/Spontra:ada%40example.com?secret="),
            "{uri}"
        );
    }

    #[test]
    fn recovery_codes_are_distinct_and_read_loosely() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        assert!(codes
            .iter()
            .all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'));
        let c = &codes[0];
        assert_eq!(
            recovery_digest(c),
            recovery_digest(&c.to_uppercase().replace('-', " "))
        );
    }
}
