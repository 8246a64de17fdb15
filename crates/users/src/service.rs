//! Account logic: registration, login (password, then the second factor when it is on),
//! refresh-token rotation, logout, sessions, profile and preferences. Email links live in
//! `recovery`, privacy in `privacy`, administration in `admin`, two-factor set-up in
//! `two_factor`. Handlers parse requests into these calls; nothing here knows HTTP: every
//! refusal is an [`AccountError`] carrying its code, rendered at the edge.
//!
//! Password hashing and verification run on a bounded pool (`WorkPool`), never on the async
//! workers; when it is saturated the caller gets 503 with `Retry-After`. Every password check
//! (sign-in, the second factor, and the password asked again by sensitive routes) first
//! reserves an attempt in the throttle.

use crate::error::AccountError;
use crate::password::{self, Password, PasswordError};
use crate::policy::AccountPolicy;
use crate::preferences::Preferences;
use crate::throttle::{Attempt, LoginThrottle, Quota};
use crate::tokens::{self, KeyRing, ACCESS_TTL_SECONDS};
use chrono::{DateTime, Duration, Utc};
use spontra_domain::{DisplayName, DisplayNameError, Email, ErrorCode, Invalid, SharedClock};
use spontra_http::{ApiError, Authenticator, ClientInfo, Principal, WorkPool};
use spontra_mail::Mailer;
use spontra_refdata::RefData;
use spontra_store::{
    NewOneTimeToken, NewSession, NewUser, Role, Rotation, Session, SessionId, StoreError,
    TokenPurpose, User, UserId, UserStore, UserUpdate,
};
use std::sync::Arc;

pub struct UsersService {
    pub(crate) store: Arc<dyn UserStore>,
    pub(crate) keys: KeyRing,
    refdata: Arc<RefData>,
    pub(crate) outgoing: Outgoing,
    pub(crate) policy: AccountPolicy,
    pub(crate) throttle: LoginThrottle,
    hash_pool: WorkPool,
    /// Mails of one kind to one address (`verify:ada@example.com`).
    pub(crate) mails_to_recipient: Quota,
    /// Mail-sending requests from one client address.
    pub(crate) mail_requests: Quota,
    registrations: Quota,
    /// Where "now" comes from (expiries, audit times, TOTP steps).
    pub(crate) clock: SharedClock,
    /// Other services' sections of an account's export.
    pub(crate) personal_data: Vec<Arc<dyn crate::privacy::PersonalData>>,
}

/// How the service reaches people: the mailer, and the web app's address for links in mails
/// (e.g. `https://spontra.example`; links are `{public_url}/verify-email?token=…`).
#[derive(Clone)]
pub struct Outgoing {
    pub mailer: Arc<dyn Mailer>,
    pub public_url: String,
}

/// A new account's details, already valid.
pub struct Registration {
    pub email: Email,
    pub password: Password,
    pub display_name: DisplayName,
}

/// Tokens handed out at login and refresh.
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub session_id: SessionId,
    /// When the refresh token (and the session) ends at the latest.
    pub session_expires_at: DateTime<Utc>,
    /// When the pair was issued.
    pub issued_at: DateTime<Utc>,
}

/// What the password step of a sign-in gives.
pub enum SignIn {
    /// Signed in.
    Tokens(TokenPair),
    /// The password was right; the account asks for its second factor next, with this
    /// short-lived challenge.
    SecondFactor { challenge: String, expires_in: i64 },
}

pub(crate) fn password_error(field: &str, e: PasswordError) -> Invalid {
    Invalid::field(ErrorCode::WeakPassword, field, e.to_string())
}

pub(crate) fn display_name_error(e: DisplayNameError) -> Invalid {
    Invalid::field(ErrorCode::InvalidText, "display_name", e.to_string())
}

pub(crate) fn throttled(wait: std::time::Duration, detail: &'static str) -> AccountError {
    AccountError::Throttled { wait, detail }
}

/// Structured security events (target `spontra::audit`): what happened, to which account
/// (by id; or by a short digest of the email typed, when no account matched), from which
/// client address. Never a password, token or code.
pub(crate) mod audit {
    use spontra_store::UserId;

    pub fn account_key(email_key: &str) -> String {
        crate::tokens::digest(email_key)[..12].to_string()
    }

    pub fn info(event: &str, user: Option<UserId>, ip: &str) {
        let user_id = user.map(|u| u.to_string()).unwrap_or_default();
        tracing::info!(target: "spontra::audit", event, user_id, client_ip = ip, "security event");
    }

    pub fn alert(event: &str, user: Option<UserId>, email_key: &str, ip: &str, detail: &str) {
        let user_id = user.map(|u| u.to_string()).unwrap_or_default();
        let account = if email_key.is_empty() {
            String::new()
        } else {
            account_key(email_key)
        };
        tracing::warn!(target: "spontra::audit", event, user_id, account, client_ip = ip, detail, "security event");
    }
}

impl Registration {
    pub fn parse(
        email: &str,
        password: &str,
        display_name: &str,
    ) -> Result<Registration, AccountError> {
        let mut e = Invalid::default();
        let email = e.take(
            Email::parse(email)
                .map_err(|err| Invalid::field(ErrorCode::InvalidEmail, "email", err.to_string())),
        );
        let password =
            e.take(Password::parse(password).map_err(|err| password_error("password", err)));
        let name = e.take(DisplayName::parse(display_name).map_err(display_name_error));
        e.finish()?;
        match (email, password, name) {
            (Some(email), Some(password), Some(display_name)) => Ok(Registration {
                email,
                password,
                display_name,
            }),
            _ => Err(AccountError::internal("registration parse left no value")),
        }
    }
}

/// The throttle key of an account: its email normalised as accounts are (so "ａda@…" counts
/// against "ada@…"), or as typed, trimmed and lowercased, when it is no address at all.
pub(crate) fn email_key(email: &str) -> String {
    Email::parse(email).map_or_else(|_| email.trim().to_lowercase(), |e| e.as_str().to_string())
}

/// The throttle key of a stored account (its id once the email is erased).
pub(crate) fn user_key(user: &User) -> String {
    user.email
        .as_ref()
        .map_or_else(|| user.id.to_string(), |e| email_key(e.as_str()))
}

impl UsersService {
    pub fn new(
        store: Arc<dyn UserStore>,
        keys: KeyRing,
        refdata: Arc<RefData>,
        outgoing: Outgoing,
        policy: AccountPolicy,
        clock: SharedClock,
    ) -> Self {
        Self {
            clock,
            store,
            keys,
            refdata,
            outgoing,
            throttle: LoginThrottle::default(),
            hash_pool: WorkPool::new("password hashing", policy.hash_pool()),
            mails_to_recipient: Quota::hourly(policy.mails_per_hour_per_recipient),
            mail_requests: Quota::hourly(policy.mail_requests_per_hour_per_address),
            registrations: Quota::hourly(policy.registrations_per_hour_per_address),
            policy,
            personal_data: Vec::new(),
        }
    }

    /// Export these other services' sections with an account's data (see
    /// [`crate::privacy::PersonalData`]).
    pub fn with_personal_data(mut self, parts: Vec<Arc<dyn crate::privacy::PersonalData>>) -> Self {
        self.personal_data = parts;
        self
    }

    pub fn policy(&self) -> &AccountPolicy {
        &self.policy
    }

    /// The service's clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Hash a new password on the hashing pool.
    pub(crate) async fn hash_password(&self, password: &str) -> Result<String, AccountError> {
        let password = password.to_string();
        self.hash_pool
            .run(move |_| password::hash(&password))
            .await?
            .map_err(AccountError::internal)
    }

    /// Check a password against a stored hash on the hashing pool.
    pub(crate) async fn verify_password(
        &self,
        password: &str,
        stored: &str,
    ) -> Result<bool, AccountError> {
        let (password, stored) = (password.to_string(), stored.to_string());
        Ok(self
            .hash_pool
            .run(move |_| password::verify(&password, &stored))
            .await?)
    }

    /// Stored preferences, or the defaults.
    pub async fn preferences(&self, p: &Principal) -> Result<Preferences, AccountError> {
        match self.store.preferences(user_id(p)?).await? {
            Some(json) => serde_json::from_str(&json).map_err(AccountError::internal),
            None => Ok(Preferences::default()),
        }
    }

    pub async fn set_preferences(
        &self,
        p: &Principal,
        prefs: Preferences,
    ) -> Result<Preferences, AccountError> {
        let prefs = prefs.validated(&self.refdata)?;
        let json = serde_json::to_string(&prefs).map_err(AccountError::internal)?;
        self.store
            .put_preferences(user_id(p)?, &json, self.clock.now())
            .await?;
        Ok(prefs)
    }

    pub fn store(&self) -> &Arc<dyn UserStore> {
        &self.store
    }

    /// Create an account and mail it a verification link; for an address that has an account
    /// already, change nothing and mail its owner that someone tried (so the answer, the same
    /// either way, tells no one whether an address is registered). Registrations and
    /// mail-sending requests are counted per client address. Returns the new account, if one
    /// was made.
    pub async fn register(
        &self,
        r: Registration,
        client: &ClientInfo,
    ) -> Result<Option<User>, AccountError> {
        let now = std::time::Instant::now();
        if !client.ip.is_empty() {
            if let Err(wait) = self.registrations.take(&client.ip, now) {
                audit::alert(
                    "register.throttled",
                    None,
                    "",
                    &client.ip,
                    "registrations per address",
                );
                return Err(throttled(
                    wait,
                    "too many accounts were created from this address; try again later",
                ));
            }
            self.take_mail_request(&client.ip)?;
        }
        let email = r.email.clone();
        match self.new_account(r, Role::User).await? {
            Some(user) => {
                audit::info("register", Some(user.id), &client.ip);
                self.send_verification(&user).await?;
                Ok(Some(user))
            }
            None => {
                audit::alert(
                    "register.existing_address",
                    None,
                    email.as_str(),
                    &client.ip,
                    "",
                );
                self.send_already_registered(&email);
                Ok(None)
            }
        }
    }

    /// Count one mail-sending request from `ip`, or refuse it.
    pub(crate) fn take_mail_request(&self, ip: &str) -> Result<(), AccountError> {
        if ip.is_empty() {
            return Ok(());
        }
        self.mail_requests
            .take(ip, std::time::Instant::now())
            .map_err(|wait| {
                audit::alert("mail.throttled", None, "", ip, "mail requests per address");
                throttled(
                    wait,
                    "too many mails were requested from this address; try again later",
                )
            })
    }

    /// Create an account without mail (the command-line admin bootstrap marks it verified).
    pub async fn create_account(&self, r: Registration, role: Role) -> Result<User, AccountError> {
        self.new_account(r, role).await?.ok_or_else(|| {
            AccountError::field(
                ErrorCode::EmailTaken,
                "email",
                "an account with this email already exists; sign in or reset the password",
            )
        })
    }

    /// The new account, or none when the address has one already. The password is hashed
    /// either way, so both take about the same time.
    async fn new_account(&self, r: Registration, role: Role) -> Result<Option<User>, AccountError> {
        let hash = self.hash_password(r.password.expose()).await?;
        let new = NewUser {
            id: UserId::new(),
            email: r.email,
            password_hash: hash,
            display_name: r.display_name.into_string(),
            role,
            created_at: self.clock.now(),
        };
        match self.store.create_user(&new).await {
            Ok(user) => Ok(Some(user)),
            Err(StoreError::Conflict(_)) => Ok(None),
            Err(other) => Err(AccountError::from(other)),
        }
    }

    /// Reserve a password or second-factor check for `key` from the client, or answer 429
    /// (and log `event`).
    pub(crate) fn reserve(
        &self,
        key: &str,
        user: Option<UserId>,
        client: &ClientInfo,
        event: &str,
    ) -> Result<Attempt<'_>, AccountError> {
        self.throttle.reserve(key, &client.ip).map_err(|wait| {
            audit::alert(event, user, key, &client.ip, "locked out");
            throttled(wait, "too many failed attempts; wait before trying again")
        })
    }

    /// The password step. The same answer, in about the same time, for an unknown email and
    /// a wrong password.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: ClientInfo,
    ) -> Result<SignIn, AccountError> {
        let wrong = || AccountError::InvalidCredentials;
        let key = email_key(email);
        let attempt = self.reserve(&key, None, &client, "login.throttled")?;
        let user = match Email::parse(email) {
            Ok(email) => match self.store.user_by_email(&email).await {
                Ok(u) => Some(u),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(AccountError::from(e)),
            },
            Err(_) => None,
        };
        let Some(user) = user else {
            self.verify_password(password, password::decoy_hash())
                .await?;
            let locked = attempt.failed();
            audit::alert(
                "login.failed",
                None,
                &key,
                &client.ip,
                if locked {
                    "unknown account; now locked"
                } else {
                    "unknown account"
                },
            );
            return Err(wrong());
        };
        if !self.verify_password(password, &user.password_hash).await? {
            let locked = attempt.failed();
            audit::alert(
                "login.failed",
                Some(user.id),
                &key,
                &client.ip,
                if locked {
                    "wrong password; now locked"
                } else {
                    "wrong password"
                },
            );
            return Err(wrong());
        }
        attempt.succeeded();
        if user.disabled {
            audit::alert(
                "login.refused",
                Some(user.id),
                "",
                &client.ip,
                "account disabled",
            );
            return Err(AccountError::Disabled(
                "this account is disabled; contact support",
            ));
        }
        if user.totp_enabled() {
            let now = self.clock.now();
            let jti = tokens::opaque();
            self.store
                .create_token(&NewOneTimeToken {
                    hash: tokens::digest(&jti),
                    user_id: user.id,
                    purpose: TokenPurpose::SecondFactor,
                    created_at: now,
                    expires_at: now + Duration::seconds(tokens::CHALLENGE_TTL_SECONDS),
                })
                .await?;
            let challenge =
                tokens::issue_challenge(&self.keys, &user.id.to_string(), &jti, now.timestamp())
                    .map_err(AccountError::internal)?;
            audit::info(
                "login.password_ok_second_factor_due",
                Some(user.id),
                &client.ip,
            );
            return Ok(SignIn::SecondFactor {
                challenge,
                expires_in: tokens::CHALLENGE_TTL_SECONDS,
            });
        }
        let ip = client.ip.clone();
        let pair = self.start_session(&user, client, false).await?;
        audit::info("login.succeeded", Some(user.id), &ip);
        Ok(SignIn::Tokens(pair))
    }

    pub(crate) async fn start_session(
        &self,
        user: &User,
        client: ClientInfo,
        mfa: bool,
    ) -> Result<TokenPair, AccountError> {
        let now = self.clock.now();
        let refresh = tokens::opaque();
        let session = self
            .store
            .create_session(
                &NewSession {
                    id: SessionId::new(),
                    user_id: user.id,
                    refresh_hash: tokens::digest(&refresh),
                    created_at: now,
                    expires_at: now + Duration::days(i64::from(self.policy.session_days)),
                    idle_expires_at: now + Duration::days(i64::from(self.policy.idle_days)),
                    user_agent: client.user_agent,
                    ip: client.ip,
                    mfa,
                },
                self.policy.max_sessions,
            )
            .await?;
        self.pair(user, &session, refresh, now)
    }

    fn pair(
        &self,
        user: &User,
        session: &Session,
        refresh: String,
        now: DateTime<Utc>,
    ) -> Result<TokenPair, AccountError> {
        let access = tokens::issue_access(
            &self.keys,
            &user.id.to_string(),
            &session.id.to_string(),
            user.role.as_str(),
            now.timestamp(),
        )
        .map_err(AccountError::internal)?;
        Ok(TokenPair {
            access_token: access,
            refresh_token: refresh,
            expires_in: ACCESS_TTL_SECONDS,
            session_id: session.id,
            session_expires_at: session.expires_at,
            issued_at: now,
        })
    }

    /// Trade a refresh token for a new pair. A token used twice ends its whole session; a
    /// session unused for `idle_days` has ended.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        client: &ClientInfo,
    ) -> Result<TokenPair, AccountError> {
        let now = self.clock.now();
        let replacement = tokens::opaque();
        let rotation = self
            .store
            .rotate_refresh(
                &tokens::digest(refresh_token),
                &tokens::digest(&replacement),
                now,
                now + Duration::days(i64::from(self.policy.idle_days)),
            )
            .await?;
        match rotation {
            Rotation::Rotated(session) => {
                let user = self.store.user_by_id(session.user_id).await?;
                if user.disabled {
                    self.store.revoke_session(session.id, now).await?;
                    return Err(AccountError::Disabled(
                        "this account is disabled; contact support",
                    ));
                }
                self.pair(&user, &session, replacement, now)
            }
            Rotation::ReuseDetected(user) => {
                audit::alert(
                    "refresh.reuse_detected",
                    Some(user),
                    "",
                    &client.ip,
                    "session revoked",
                );
                Err(AccountError::TokenReused)
            }
            Rotation::Invalid => Err(AccountError::InvalidToken("sign in again")),
        }
    }

    pub async fn logout(&self, p: &Principal) -> Result<(), AccountError> {
        self.store
            .revoke_session(session_id(p)?, self.clock.now())
            .await
            .map_err(AccountError::from)
    }

    /// End every session of the caller, this one included; returns how many.
    pub async fn logout_everywhere(&self, p: &Principal) -> Result<u64, AccountError> {
        self.store
            .revoke_sessions(user_id(p)?, None, self.clock.now())
            .await
            .map_err(AccountError::from)
    }

    /// Ask for the password again before something sensitive. Counted in the account's
    /// throttle like a sign-in; once the account is locked, the session asking ends (a stolen
    /// access token cannot be used to guess the password).
    pub(crate) async fn recheck_password(
        &self,
        p: &Principal,
        user: &User,
        password: &str,
        field: &str,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        let attempt = match self.throttle.reserve(&user_key(user), &client.ip) {
            Ok(a) => a,
            Err(wait) => {
                self.end_session_after_guessing(p, user, client).await?;
                return Err(throttled(
                    wait,
                    "too many wrong passwords: this session has ended; sign in again",
                ));
            }
        };
        if self.verify_password(password, &user.password_hash).await? {
            attempt.succeeded();
            return Ok(());
        }
        if attempt.failed() {
            self.end_session_after_guessing(p, user, client).await?;
            return Err(AccountError::SignInAgain(
                "too many wrong passwords: this session has ended; sign in again",
            ));
        }
        audit::alert(
            "password_recheck.failed",
            Some(user.id),
            "",
            &client.ip,
            field,
        );
        Err(AccountError::field(
            ErrorCode::WrongPassword,
            field,
            "the password is wrong",
        ))
    }

    async fn end_session_after_guessing(
        &self,
        p: &Principal,
        user: &User,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        audit::alert(
            "session.ended_after_wrong_passwords",
            Some(user.id),
            "",
            &client.ip,
            "repeated wrong passwords behind a token",
        );
        self.store
            .revoke_session(session_id(p)?, self.clock.now())
            .await
            .map_err(AccountError::from)
    }

    /// Change the password: the current one is required, and every other session ends (the
    /// one making the change stays signed in).
    pub async fn change_password(
        &self,
        p: &Principal,
        current: &str,
        new: &str,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        let user = self.me(p).await?;
        let new = Password::parse(new).map_err(|e| password_error("new_password", e))?;
        self.recheck_password(p, &user, current, "current_password", client)
            .await?;
        if new.expose() == current {
            return Err(AccountError::field(
                ErrorCode::WeakPassword,
                "new_password",
                "choose a password different from the current one",
            ));
        }
        let hash = self.hash_password(new.expose()).await?;
        let now = self.clock.now();
        let update = UserUpdate {
            password_hash: Some(hash),
            ..Default::default()
        };
        self.store.update_user(user.id, &update, now).await?;
        self.store
            .revoke_sessions(user.id, Some(session_id(p)?), now)
            .await?;
        audit::info("password.changed", Some(user.id), &client.ip);
        self.notify_password_changed(&user);
        Ok(())
    }

    pub async fn update_profile(
        &self,
        p: &Principal,
        display_name: &str,
    ) -> Result<User, AccountError> {
        let name = DisplayName::parse(display_name).map_err(display_name_error)?;
        let update = UserUpdate {
            display_name: Some(name.into_string()),
            ..Default::default()
        };
        self.store
            .update_user(user_id(p)?, &update, self.clock.now())
            .await
            .map_err(AccountError::from)
    }

    pub async fn me(&self, p: &Principal) -> Result<User, AccountError> {
        self.store
            .user_by_id(user_id(p)?)
            .await
            .map_err(AccountError::from)
    }

    pub async fn sessions(&self, p: &Principal) -> Result<Vec<Session>, AccountError> {
        self.store
            .live_sessions(user_id(p)?, self.clock.now())
            .await
            .map_err(AccountError::from)
    }

    /// Revoke one of the caller's own sessions; someone else's is "not found".
    pub async fn revoke_session(&self, p: &Principal, id: &str) -> Result<(), AccountError> {
        let not_found = || AccountError::field(ErrorCode::NotFound, "id", "no such session");
        let id = uuid::Uuid::parse_str(id)
            .map(SessionId)
            .map_err(|_| not_found())?;
        let session = self.store.session(id).await.map_err(|e| match e {
            StoreError::NotFound => not_found(),
            other => AccountError::from(other),
        })?;
        if session.user_id != user_id(p)? {
            return Err(not_found());
        }
        self.store
            .revoke_session(id, self.clock.now())
            .await
            .map_err(AccountError::from)
    }

    /// Delete sessions and tokens that can no longer be used (a day after they ended, so a
    /// late replay of a spent token is still recognised as reuse for a while).
    pub async fn prune_expired(&self) -> Result<u64, AccountError> {
        let gone = self
            .store
            .prune(self.clock.now() - Duration::days(1))
            .await?;
        tracing::info!(rows = gone, "pruned expired sessions and tokens");
        Ok(gone)
    }
}

pub(crate) fn user_id(p: &Principal) -> Result<UserId, AccountError> {
    uuid::Uuid::parse_str(&p.user_id)
        .map(UserId)
        .map_err(|_| AccountError::SignInAgain("sign in again"))
}

pub(crate) fn session_id(p: &Principal) -> Result<SessionId, AccountError> {
    uuid::Uuid::parse_str(&p.session_id)
        .map(SessionId)
        .map_err(|_| AccountError::SignInAgain("sign in again"))
}

#[async_trait::async_trait]
impl Authenticator for UsersService {
    async fn authenticate(&self, bearer: &str) -> Result<Principal, ApiError> {
        Ok(self.principal(bearer).await?)
    }
}

impl UsersService {
    /// Who an access token speaks for. A valid signature is not enough: the session must be
    /// live (not revoked, expired or idle) and the account enabled, so logout and disabling
    /// take effect at once rather than when the token expires.
    pub async fn principal(&self, bearer: &str) -> Result<Principal, AccountError> {
        let unauthorized = || {
            AccountError::SignInAgain(
                "the access token is invalid or expired; refresh it or sign in",
            )
        };
        let claims = tokens::verify_access(&self.keys, bearer).map_err(|_| unauthorized())?;
        let p = Principal {
            user_id: claims.sub,
            session_id: claims.sid,
            role: claims.role,
            mfa: false,
        };
        // A busy store is a 503; anything else wrong with the lookup, a 401.
        let lookup_failed = |e: StoreError| match e {
            StoreError::Unavailable(_) => AccountError::from(e),
            _ => unauthorized(),
        };
        let session = self
            .store
            .session(session_id(&p)?)
            .await
            .map_err(lookup_failed)?;
        if !session.is_live(self.clock.now()) || session.user_id != user_id(&p)? {
            return Err(unauthorized());
        }
        let user = self
            .store
            .user_by_id(session.user_id)
            .await
            .map_err(lookup_failed)?;
        if user.disabled {
            return Err(AccountError::Disabled("this account is disabled"));
        }
        // The role comes from the account, so a demotion applies to live tokens too.
        Ok(Principal {
            role: user.role.as_str().to_string(),
            mfa: session.mfa,
            ..p
        })
    }
}
