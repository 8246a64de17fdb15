//! Links sent by email: verifying the address, resetting a forgotten password, and the notice
//! that a password changed.
//!
//! Tokens are 256-bit random, stored only as SHA-256 digests, single use and expiring
//! (verification 48 h, reset 1 h). "Forgot password" answers the same 202 whether or not the
//! account exists, and does its work (lookup, token, mail) after answering, so neither the
//! response nor its timing says whether an email is registered. Mail goes out in background
//! tasks: a slow or failing mail server never fails or delays a request; failures are logged.

use crate::password::Password;
use crate::service::{password_error, store_error, UsersService};
use crate::throttle::retry_after_secs;
use crate::tokens;
use chrono::{Duration, Utc};
use spontra_domain::Email;
use spontra_http::{ApiError, ErrorCode, Principal};
use spontra_mail::Mail;
use spontra_store::{NewOneTimeToken, StoreError, TokenPurpose, User, UserId, UserUpdate};
use std::sync::Arc;
use std::time::Instant;

pub const VERIFY_TTL_HOURS: i64 = 48;
pub const RESET_TTL_MINUTES: i64 = 60;

fn invalid_link() -> ApiError {
    ApiError::field(
        ErrorCode::InvalidLinkToken,
        "token",
        "this link is invalid, expired or already used; ask for a new one",
    )
}

impl UsersService {
    fn spawn_mail(&self, mail: Mail) {
        let mailer = self.outgoing.mailer.clone();
        tokio::spawn(async move {
            if let Err(e) = mailer.send(&mail).await {
                tracing::error!(error = %e, subject = %mail.subject, "mail not sent");
            }
        });
    }

    fn link(&self, page: &str, token: &str) -> String {
        format!(
            "{}/{page}?token={token}",
            self.outgoing.public_url.trim_end_matches('/')
        )
    }

    /// A new single-use token for `user`, stored by digest; returns the token itself.
    async fn new_link_token(
        &self,
        user: &User,
        purpose: TokenPurpose,
        ttl: Duration,
    ) -> Result<String, ApiError> {
        let token = tokens::opaque();
        let now = Utc::now();
        self.store
            .create_token(&NewOneTimeToken {
                hash: tokens::digest(&token),
                user_id: user.id,
                purpose,
                created_at: now,
                expires_at: now + ttl,
            })
            .await
            .map_err(store_error)?;
        Ok(token)
    }

    /// Spend a link's token: the account it belongs to, or `invalid_link_token`.
    async fn consume_link_token(
        &self,
        token: &str,
        purpose: TokenPurpose,
    ) -> Result<UserId, ApiError> {
        self.store
            .consume_token(&tokens::digest(token.trim()), purpose, Utc::now())
            .await
            .map_err(|e| match e {
                StoreError::NotFound => invalid_link(),
                other => store_error(other),
            })
    }

    pub(crate) async fn send_verification(&self, user: &User) -> Result<(), ApiError> {
        let Some(email) = &user.email else {
            return Ok(());
        };
        let token = self
            .new_link_token(
                user,
                TokenPurpose::VerifyEmail,
                Duration::hours(VERIFY_TTL_HOURS),
            )
            .await?;
        self.spawn_mail(Mail {
            to: email.to_string(),
            subject: "Confirm your email address for Spontra".into(),
            text: format!(
                "Hello {name},\n\nPlease confirm that this is your email address by opening this link:\n\n{link}\n\n\
                 The link works once and expires in {VERIFY_TTL_HOURS} hours. If you did not create a Spontra \
                 account, ignore this message.\n\n— Spontra\n",
                name = user.display_name,
                link = self.link("verify-email", &token),
            ),
        });
        Ok(())
    }

    /// Send a fresh verification link to the signed-in account (at most 3 an hour).
    pub async fn resend_verification(&self, p: &Principal) -> Result<(), ApiError> {
        let user = self.me(p).await?;
        if user.email_verified_at.is_some() {
            return Err(ApiError::new(
                ErrorCode::AlreadyVerified,
                "this email address is already verified",
            ));
        }
        self.mail_quota
            .take(&format!("verify:{}", user.id), Instant::now())
            .map_err(|wait| ApiError::Throttled {
                retry_after_secs: retry_after_secs(wait),
                detail: "a verification mail was sent recently; check your inbox or wait".into(),
            })?;
        self.send_verification(&user).await
    }

    /// Mark the address of the token's account as verified.
    pub async fn verify_email(&self, token: &str) -> Result<(), ApiError> {
        let id = self
            .consume_link_token(token, TokenPurpose::VerifyEmail)
            .await?;
        let user = self.store.user_by_id(id).await.map_err(store_error)?;
        if user.email_verified_at.is_none() {
            let now = Utc::now();
            let update = UserUpdate {
                email_verified_at: Some(now),
                ..Default::default()
            };
            self.store
                .update_user(id, &update, now)
                .await
                .map_err(store_error)?;
        }
        Ok(())
    }

    /// Start a password reset. Always succeeds (after checking the address is well formed);
    /// the lookup and the mail happen after the answer.
    pub fn forgot_password(self: &Arc<Self>, email: &str) -> Result<(), ApiError> {
        let email = Email::parse(email)
            .map_err(|e| ApiError::field(ErrorCode::InvalidEmail, "email", e.to_string()))?;
        let service = self.clone();
        tokio::spawn(async move {
            if let Err(e) = service.send_reset(&email).await {
                tracing::error!(error = %e, "password reset mail not sent");
            }
        });
        Ok(())
    }

    async fn send_reset(&self, email: &Email) -> Result<(), ApiError> {
        let user = match self.store.user_by_email(email).await {
            Ok(u) => u,
            Err(StoreError::NotFound) => return Ok(()),
            Err(e) => return Err(store_error(e)),
        };
        if user.disabled {
            return Ok(());
        }
        if self
            .mail_quota
            .take(&format!("reset:{}", user.id), Instant::now())
            .is_err()
        {
            tracing::warn!(user_id = %user.id, "password reset mails over quota; not sent");
            return Ok(());
        }
        let token = self
            .new_link_token(
                &user,
                TokenPurpose::ResetPassword,
                Duration::minutes(RESET_TTL_MINUTES),
            )
            .await?;
        self.spawn_mail(Mail {
            to: email.to_string(),
            subject: "Reset your Spontra password".into(),
            text: format!(
                "Hello {name},\n\nSomeone (hopefully you) asked to reset the password of your Spontra account. \
                 To choose a new password, open this link:\n\n{link}\n\n\
                 The link works once and expires in {RESET_TTL_MINUTES} minutes. If you did not ask for this, \
                 ignore this message: your password stays as it is.\n\n— Spontra\n",
                name = user.display_name,
                link = self.link("reset-password", &token),
            ),
        });
        Ok(())
    }

    /// Set a new password with a reset token. The password is checked before the token is
    /// spent, so a weak choice does not burn the link. Every session ends; the address counts
    /// as verified (the link reached it).
    pub async fn reset_password(&self, token: &str, new_password: &str) -> Result<(), ApiError> {
        let password =
            Password::parse(new_password).map_err(|e| password_error("new_password", e))?;
        let id = self
            .consume_link_token(token, TokenPurpose::ResetPassword)
            .await?;
        let hash = crate::password::hash(password.expose()).map_err(ApiError::internal)?;
        let now = Utc::now();
        let user = self.store.user_by_id(id).await.map_err(store_error)?;
        let update = UserUpdate {
            password_hash: Some(hash),
            email_verified_at: user.email_verified_at.or(Some(now)),
            ..Default::default()
        };
        let user = self
            .store
            .update_user(id, &update, now)
            .await
            .map_err(store_error)?;
        self.store
            .revoke_sessions(id, None, now)
            .await
            .map_err(store_error)?;
        self.notify_password_changed(&user);
        Ok(())
    }

    /// Tell the owner their password changed (so a takeover does not go unnoticed).
    pub(crate) fn notify_password_changed(&self, user: &User) {
        let Some(email) = &user.email else {
            return;
        };
        self.spawn_mail(Mail {
            to: email.to_string(),
            subject: "Your Spontra password was changed".into(),
            text: format!(
                "Hello {name},\n\nThe password of your Spontra account was just changed, and other \
                 sessions were signed out. If this was not you, reset your password at once:\n\n{url}/forgot-password\n\n— Spontra\n",
                name = user.display_name,
                url = self.outgoing.public_url.trim_end_matches('/'),
            ),
        });
    }
}
