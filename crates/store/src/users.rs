//! Accounts, sessions with rotating refresh tokens, one-time tokens, preferences and consents.

use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use spontra_domain::Email;

id_type!(UserId);
id_type!(SessionId);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A stored account. `email` is `None` once the account is deleted (anonymised).
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: UserId,
    pub email: Option<Email>,
    pub password_hash: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// The TOTP secret (base32): being set up while `totp_enabled_at` is `None`.
    pub totp_secret: Option<String>,
    /// When two-factor authentication was turned on.
    pub totp_enabled_at: Option<DateTime<Utc>>,
}

impl User {
    pub fn totp_enabled(&self) -> bool {
        self.totp_enabled_at.is_some() && self.totp_secret.is_some()
    }
}

#[derive(Clone, Debug)]
pub struct NewUser {
    pub id: UserId,
    pub email: Email,
    pub password_hash: String,
    pub display_name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    pub password_hash: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub email_verified_at: Option<DateTime<Utc>>,
}

/// A login session: one family of refresh tokens.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The session ends at this time unless a refresh moves it forward (idle timeout).
    pub idle_expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub user_agent: String,
    pub ip: String,
    /// The session proved a second factor (TOTP or a recovery code).
    pub mfa: bool,
}

impl Session {
    /// Not revoked, not expired, not idle at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now && self.idle_expires_at > now
    }
}

#[derive(Clone, Debug)]
pub struct NewSession {
    pub id: SessionId,
    pub user_id: UserId,
    /// Hash of the first refresh token (never the token itself).
    pub refresh_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub idle_expires_at: DateTime<Utc>,
    pub user_agent: String,
    pub ip: String,
    pub mfa: bool,
}

/// What presenting a refresh token did.
#[derive(Clone, Debug, PartialEq)]
pub enum Rotation {
    /// The token was current: it is now used, and the new one is current.
    Rotated(Session),
    /// The token had already been used: the whole session is revoked (possible theft).
    ReuseDetected(UserId),
    /// Unknown token, or its session is revoked or expired.
    Invalid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenPurpose {
    VerifyEmail,
    ResetPassword,
    /// A sign-in's pending second step (the password was right; the code is due).
    SecondFactor,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::ResetPassword => "reset_password",
            TokenPurpose::SecondFactor => "second_factor",
        }
    }
}

/// A single-use token, stored by hash.
#[derive(Clone, Debug)]
pub struct NewOneTimeToken {
    pub hash: String,
    pub user_id: UserId,
    pub purpose: TokenPurpose,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A consent decision, kept as an append-only history.
#[derive(Clone, Debug, PartialEq)]
pub struct Consent {
    pub user_id: UserId,
    /// e.g. `marketing`, `analytics`.
    pub kind: String,
    pub granted: bool,
    pub recorded_at: DateTime<Utc>,
}

#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// `Conflict` if the email is taken.
    async fn create_user(&self, user: &NewUser) -> StoreResult<User>;
    async fn user_by_id(&self, id: UserId) -> StoreResult<User>;
    async fn user_by_email(&self, email: &Email) -> StoreResult<User>;
    async fn update_user(
        &self,
        id: UserId,
        update: &UserUpdate,
        at: DateTime<Utc>,
    ) -> StoreResult<User>;
    /// Accounts whose email or display name contains `query` (case-insensitive), newest first.
    async fn search_users(&self, query: &str, limit: u32, offset: u32) -> StoreResult<Vec<User>>;
    /// Erase personal data: email, name, password, preferences, sessions and tokens. The row
    /// stays (anonymised) so whatever refers to the account keeps its integrity.
    async fn anonymise_user(&self, id: UserId, at: DateTime<Utc>) -> StoreResult<()>;

    /// Preferences as a JSON document (the service owns its shape).
    async fn preferences(&self, id: UserId) -> StoreResult<Option<String>>;
    async fn put_preferences(&self, id: UserId, json: &str, at: DateTime<Utc>) -> StoreResult<()>;

    async fn record_consent(&self, consent: &Consent) -> StoreResult<()>;
    /// Every consent decision of a user, oldest first.
    async fn consents(&self, id: UserId) -> StoreResult<Vec<Consent>>;

    /// Start a session. The user keeps at most `max_live` live sessions: the oldest others
    /// are revoked in the same transaction.
    async fn create_session(&self, session: &NewSession, max_live: u32) -> StoreResult<Session>;
    async fn session(&self, id: SessionId) -> StoreResult<Session>;
    /// Live (not revoked, not expired, not idle at `now`) sessions of a user, newest first.
    async fn live_sessions(&self, user: UserId, now: DateTime<Utc>) -> StoreResult<Vec<Session>>;
    /// Atomically trade the refresh token hashed `presented` for `replacement`, moving the
    /// session's idle expiry to `idle_expires_at`; see [`Rotation`].
    async fn rotate_refresh(
        &self,
        presented: &str,
        replacement: &str,
        now: DateTime<Utc>,
        idle_expires_at: DateTime<Utc>,
    ) -> StoreResult<Rotation>;
    /// Record that the session proved a second factor.
    async fn mark_session_mfa(&self, id: SessionId) -> StoreResult<()>;
    async fn revoke_session(&self, id: SessionId, at: DateTime<Utc>) -> StoreResult<()>;
    /// Revoke every live session of a user but `keep`; returns how many. Sign-ins waiting for
    /// their second step ([`TokenPurpose::SecondFactor`]) are void from then on too.
    async fn revoke_sessions(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        at: DateTime<Utc>,
    ) -> StoreResult<u64>;

    async fn create_token(&self, token: &NewOneTimeToken) -> StoreResult<()>;
    /// Use a token once: `NotFound` if unknown, of another purpose, expired or already used.
    /// Using one also spends the account's other unused tokens of that purpose, so an older
    /// link cannot be used after a newer one did its job.
    async fn consume_token(
        &self,
        hash: &str,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> StoreResult<UserId>;

    /// The account of a token that could still be used (known, of `purpose`, not expired, not
    /// used), without using it: `NotFound` otherwise.
    async fn live_token(
        &self,
        hash: &str,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> StoreResult<UserId>;

    /// Delete what can no longer be used: sessions (with their refresh tokens) that expired,
    /// went idle or were revoked before `before`, and one-time tokens that expired or were
    /// used before it. Returns how many rows went.
    async fn prune(&self, before: DateTime<Utc>) -> StoreResult<u64>;

    /// Keep `secret` as the account's pending TOTP secret (two-factor set-up started), or
    /// with `None` turn two-factor authentication off and drop the recovery codes.
    async fn set_totp_secret(
        &self,
        user: UserId,
        secret: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Turn two-factor authentication on for the pending secret, replacing the recovery
    /// codes with these digests.
    async fn enable_totp(
        &self,
        user: UserId,
        recovery_hashes: &[String],
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Accept TOTP time step `step` once: `false` if this step or a later one was already
    /// accepted (a code is never good twice).
    async fn use_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool>;
    /// Spend a recovery code: `false` if unknown or already used.
    async fn use_recovery_code(
        &self,
        user: UserId,
        hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// How many unused recovery codes the account has left.
    async fn recovery_codes_left(&self, user: UserId) -> StoreResult<u32>;
}
