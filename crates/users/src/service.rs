//! Account logic: registration, login, refresh-token rotation, logout, sessions, profile and
//! preferences. Email links live in `recovery`, privacy in `privacy`, administration in
//! `admin`. Handlers parse requests into these calls; nothing here knows HTTP beyond
//! `ApiError`.

use crate::password::{self, Password, PasswordError};
use crate::preferences::Preferences;
use crate::throttle::{retry_after_secs, LoginThrottle, MailQuota};
use crate::tokens::{self, KeyRing, ACCESS_TTL_SECONDS};
use chrono::{DateTime, Duration, Utc};
use spontra_domain::Email;
use spontra_http::{ApiError, Authenticator, ClientInfo, ErrorCode, FieldErrors, Principal};
use spontra_mail::Mailer;
use spontra_refdata::RefData;
use spontra_store::{
    NewSession, NewUser, Role, Rotation, Session, SessionId, StoreError, User, UserId, UserStore,
    UserUpdate,
};
use std::sync::Arc;

/// Refresh tokens (and so sessions) last 30 days from login.
pub const SESSION_DAYS: i64 = 30;

pub struct UsersService {
    pub(crate) store: Arc<dyn UserStore>,
    keys: KeyRing,
    refdata: Arc<RefData>,
    pub(crate) outgoing: Outgoing,
    throttle: LoginThrottle,
    pub(crate) mail_quota: MailQuota,
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
    pub display_name: String,
}

/// Tokens handed out at login and refresh.
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub session_id: SessionId,
}

pub(crate) fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::new(ErrorCode::NotFound, "no such resource"),
        other => ApiError::internal(other),
    }
}

pub(crate) fn password_error(field: &str, e: PasswordError) -> ApiError {
    ApiError::field(ErrorCode::WeakPassword, field, e.to_string())
}

impl Registration {
    pub fn parse(
        email: &str,
        password: &str,
        display_name: &str,
    ) -> Result<Registration, ApiError> {
        let mut e = FieldErrors::default();
        let email = e.take(
            Email::parse(email)
                .map_err(|err| ApiError::field(ErrorCode::InvalidEmail, "email", err.to_string())),
        );
        let password =
            e.take(Password::parse(password).map_err(|err| password_error("password", err)));
        let name = display_name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            e.push(
                ErrorCode::InvalidField,
                "display_name",
                "give a name of 1 to 80 characters",
            );
        }
        e.finish()?;
        match (email, password) {
            (Some(email), Some(password)) => Ok(Registration {
                email,
                password,
                display_name: name.to_string(),
            }),
            _ => Err(ApiError::internal("registration parse left no value")),
        }
    }
}

impl UsersService {
    pub fn new(
        store: Arc<dyn UserStore>,
        keys: KeyRing,
        refdata: Arc<RefData>,
        outgoing: Outgoing,
    ) -> Self {
        Self {
            store,
            keys,
            refdata,
            outgoing,
            throttle: LoginThrottle::default(),
            mail_quota: MailQuota::default(),
        }
    }

    /// Stored preferences, or the defaults.
    pub async fn preferences(&self, p: &Principal) -> Result<Preferences, ApiError> {
        match self
            .store
            .preferences(user_id(p)?)
            .await
            .map_err(store_error)?
        {
            Some(json) => serde_json::from_str(&json).map_err(ApiError::internal),
            None => Ok(Preferences::default()),
        }
    }

    pub async fn set_preferences(
        &self,
        p: &Principal,
        prefs: Preferences,
    ) -> Result<Preferences, ApiError> {
        let prefs = prefs.validated(&self.refdata)?;
        let json = serde_json::to_string(&prefs).map_err(ApiError::internal)?;
        self.store
            .put_preferences(user_id(p)?, &json, Utc::now())
            .await
            .map_err(store_error)?;
        Ok(prefs)
    }

    pub fn store(&self) -> &Arc<dyn UserStore> {
        &self.store
    }

    /// Create an account and mail it a verification link.
    pub async fn register(&self, r: Registration) -> Result<User, ApiError> {
        let user = self.create_account(r, Role::User).await?;
        self.send_verification(&user).await?;
        Ok(user)
    }

    /// Create an account without mail (the command-line admin bootstrap marks it verified).
    pub async fn create_account(&self, r: Registration, role: Role) -> Result<User, ApiError> {
        let hash = password::hash(r.password.expose()).map_err(ApiError::internal)?;
        let new = NewUser {
            id: UserId::new(),
            email: r.email,
            password_hash: hash,
            display_name: r.display_name,
            role,
            created_at: Utc::now(),
        };
        self.store.create_user(&new).await.map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::field(
                ErrorCode::EmailTaken,
                "email",
                "an account with this email already exists; sign in or reset the password",
            ),
            other => store_error(other),
        })
    }

    /// The same answer, in about the same time, for an unknown email and a wrong password.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: ClientInfo,
    ) -> Result<TokenPair, ApiError> {
        let wrong = || ApiError::new(ErrorCode::InvalidCredentials, "email or password is wrong");
        let key = email.trim().to_lowercase();
        if let Some(wait) = self
            .throttle
            .wait(&key, &client.ip, std::time::Instant::now())
        {
            return Err(ApiError::Throttled {
                retry_after_secs: retry_after_secs(wait),
                detail: "too many failed sign-ins; wait before trying again".into(),
            });
        }
        let user = match Email::parse(email) {
            Ok(email) => match self.store.user_by_email(&email).await {
                Ok(u) => Some(u),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(store_error(e)),
            },
            Err(_) => None,
        };
        let Some(user) = user else {
            password::verify(password, password::decoy_hash());
            self.throttle
                .failed(&key, &client.ip, std::time::Instant::now());
            return Err(wrong());
        };
        if !password::verify(password, &user.password_hash) {
            self.throttle
                .failed(&key, &client.ip, std::time::Instant::now());
            return Err(wrong());
        }
        self.throttle.succeeded(&key);
        if user.disabled {
            return Err(ApiError::new(
                ErrorCode::AccountDisabled,
                "this account is disabled; contact support",
            ));
        }
        let now = Utc::now();
        let refresh = tokens::opaque();
        let session = self
            .store
            .create_session(&NewSession {
                id: SessionId::new(),
                user_id: user.id,
                refresh_hash: tokens::digest(&refresh),
                created_at: now,
                expires_at: now + Duration::days(SESSION_DAYS),
                user_agent: client.user_agent,
                ip: client.ip,
            })
            .await
            .map_err(store_error)?;
        self.pair(&user, session.id, refresh, now)
    }

    fn pair(
        &self,
        user: &User,
        session: SessionId,
        refresh: String,
        now: DateTime<Utc>,
    ) -> Result<TokenPair, ApiError> {
        let access = tokens::issue_access(
            &self.keys,
            &user.id.to_string(),
            &session.to_string(),
            user.role.as_str(),
            now.timestamp(),
        )
        .map_err(ApiError::internal)?;
        Ok(TokenPair {
            access_token: access,
            refresh_token: refresh,
            expires_in: ACCESS_TTL_SECONDS,
            session_id: session,
        })
    }

    /// Trade a refresh token for a new pair. A token used twice ends its whole session.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, ApiError> {
        let now = Utc::now();
        let replacement = tokens::opaque();
        let rotation = self
            .store
            .rotate_refresh(
                &tokens::digest(refresh_token),
                &tokens::digest(&replacement),
                now,
            )
            .await
            .map_err(store_error)?;
        match rotation {
            Rotation::Rotated(session) => {
                let user = self
                    .store
                    .user_by_id(session.user_id)
                    .await
                    .map_err(store_error)?;
                if user.disabled {
                    self.store
                        .revoke_session(session.id, now)
                        .await
                        .map_err(store_error)?;
                    return Err(ApiError::new(
                        ErrorCode::AccountDisabled,
                        "this account is disabled; contact support",
                    ));
                }
                self.pair(&user, session.id, replacement, now)
            }
            Rotation::ReuseDetected(user) => {
                tracing::warn!(user_id = %user, "refresh token reuse: session revoked");
                Err(ApiError::new(ErrorCode::TokenReused, "this refresh token was already used, so its session has been ended; sign in again"))
            }
            Rotation::Invalid => Err(ApiError::new(ErrorCode::InvalidToken, "sign in again")),
        }
    }

    pub async fn logout(&self, p: &Principal) -> Result<(), ApiError> {
        self.store
            .revoke_session(session_id(p)?, Utc::now())
            .await
            .map_err(store_error)
    }

    /// End every session of the caller, this one included; returns how many.
    pub async fn logout_everywhere(&self, p: &Principal) -> Result<u64, ApiError> {
        self.store
            .revoke_sessions(user_id(p)?, None, Utc::now())
            .await
            .map_err(store_error)
    }

    /// Change the password: the current one is required, and every other session ends (the
    /// one making the change stays signed in).
    pub async fn change_password(
        &self,
        p: &Principal,
        current: &str,
        new: &str,
    ) -> Result<(), ApiError> {
        let user = self.me(p).await?;
        if !password::verify(current, &user.password_hash) {
            return Err(ApiError::field(
                ErrorCode::WrongPassword,
                "current_password",
                "the current password is wrong",
            ));
        }
        let new = Password::parse(new).map_err(|e| password_error("new_password", e))?;
        if new.expose() == current {
            return Err(ApiError::field(
                ErrorCode::WeakPassword,
                "new_password",
                "choose a password different from the current one",
            ));
        }
        let hash = password::hash(new.expose()).map_err(ApiError::internal)?;
        let now = Utc::now();
        let update = UserUpdate {
            password_hash: Some(hash),
            ..Default::default()
        };
        self.store
            .update_user(user.id, &update, now)
            .await
            .map_err(store_error)?;
        self.store
            .revoke_sessions(user.id, Some(session_id(p)?), now)
            .await
            .map_err(store_error)?;
        self.notify_password_changed(&user);
        Ok(())
    }

    pub async fn update_profile(
        &self,
        p: &Principal,
        display_name: &str,
    ) -> Result<User, ApiError> {
        let name = display_name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(ApiError::field(
                ErrorCode::InvalidField,
                "display_name",
                "give a name of 1 to 80 characters",
            ));
        }
        let update = UserUpdate {
            display_name: Some(name.to_string()),
            ..Default::default()
        };
        self.store
            .update_user(user_id(p)?, &update, Utc::now())
            .await
            .map_err(store_error)
    }

    pub async fn me(&self, p: &Principal) -> Result<User, ApiError> {
        self.store
            .user_by_id(user_id(p)?)
            .await
            .map_err(store_error)
    }

    pub async fn sessions(&self, p: &Principal) -> Result<Vec<Session>, ApiError> {
        self.store
            .live_sessions(user_id(p)?, Utc::now())
            .await
            .map_err(store_error)
    }

    /// Revoke one of the caller's own sessions; someone else's is "not found".
    pub async fn revoke_session(&self, p: &Principal, id: &str) -> Result<(), ApiError> {
        let not_found = || ApiError::field(ErrorCode::NotFound, "id", "no such session");
        let id = uuid::Uuid::parse_str(id)
            .map(SessionId)
            .map_err(|_| not_found())?;
        let session = self.store.session(id).await.map_err(|e| match e {
            StoreError::NotFound => not_found(),
            other => store_error(other),
        })?;
        if session.user_id != user_id(p)? {
            return Err(not_found());
        }
        self.store
            .revoke_session(id, Utc::now())
            .await
            .map_err(store_error)
    }
}

pub(crate) fn user_id(p: &Principal) -> Result<UserId, ApiError> {
    uuid::Uuid::parse_str(&p.user_id)
        .map(UserId)
        .map_err(|_| ApiError::new(ErrorCode::Unauthorized, "sign in again"))
}

fn session_id(p: &Principal) -> Result<SessionId, ApiError> {
    uuid::Uuid::parse_str(&p.session_id)
        .map(SessionId)
        .map_err(|_| ApiError::new(ErrorCode::Unauthorized, "sign in again"))
}

#[async_trait::async_trait]
impl Authenticator for UsersService {
    /// A valid signature is not enough: the session must be live and the account enabled, so
    /// logout and disabling take effect at once rather than when the token expires.
    async fn authenticate(&self, bearer: &str) -> Result<Principal, ApiError> {
        let unauthorized = || {
            ApiError::new(
                ErrorCode::Unauthorized,
                "the access token is invalid or expired; refresh it or sign in",
            )
        };
        let claims = tokens::verify_access(&self.keys, bearer).map_err(|_| unauthorized())?;
        let p = Principal {
            user_id: claims.sub,
            session_id: claims.sid,
            role: claims.role,
        };
        let session = self
            .store
            .session(session_id(&p)?)
            .await
            .map_err(|_| unauthorized())?;
        if session.revoked_at.is_some()
            || session.expires_at <= Utc::now()
            || session.user_id != user_id(&p)?
        {
            return Err(unauthorized());
        }
        let user = self
            .store
            .user_by_id(session.user_id)
            .await
            .map_err(|_| unauthorized())?;
        if user.disabled {
            return Err(ApiError::new(
                ErrorCode::AccountDisabled,
                "this account is disabled",
            ));
        }
        // The role comes from the account, so a demotion applies to live tokens too.
        Ok(Principal {
            role: user.role.as_str().to_string(),
            ..p
        })
    }
}
