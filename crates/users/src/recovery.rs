//! Links sent by email: verifying the address, resetting a forgotten password, and the notice
//! that a password changed.
//!
//! Tokens are 256-bit random, stored only as SHA-256 digests, single use and expiring
//! (verification 48 h, reset 1 h). "Forgot password" answers the same 202 whether or not the
//! account exists, and does its work (lookup, token, mail) after answering, so neither the
//! response nor its timing says whether an email is registered. Mail goes out in background
//! tasks: a slow or failing mail server never fails or delays a request; failures are logged.
//!
//! Mails carry no text anyone else typed: the person who registers an address may not own it,
//! so the display name is never put into a mail. Each kind of mail goes at most
//! `mails_per_hour_per_recipient` times an hour to one address, however many accounts come
//! and go under it, and the requests that send mail are counted per client address.

use crate::error::AccountError;
use crate::password::Password;
use crate::service::{audit, password_error, throttled, UsersService};
use crate::tokens;
use chrono::Duration;
use spontra_domain::Email;
use spontra_domain::ErrorCode;
use spontra_http::{ClientInfo, Principal};
use spontra_mail::Mail;
use spontra_store::{NewOneTimeToken, StoreError, TokenPurpose, User, UserId, UserUpdate};
use std::sync::Arc;
use std::time::Instant;

pub const VERIFY_TTL_HOURS: i64 = 48;
pub const RESET_TTL_MINUTES: i64 = 60;

fn invalid_link() -> AccountError {
    AccountError::field(
        ErrorCode::InvalidLinkToken,
        "token",
        "this link is invalid, expired or already used; ask for a new one",
    )
}

impl UsersService {
    /// Count one mail of `kind` to `address`; `Err` with the wait when over the quota.
    fn take_recipient_quota(&self, kind: &str, address: &Email) -> Result<(), std::time::Duration> {
        self.mails_to_recipient
            .take(&format!("{kind}:{address}"), Instant::now())
    }

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
    ) -> Result<String, AccountError> {
        let token = tokens::opaque();
        let now = self.clock.now();
        self.store
            .create_token(&NewOneTimeToken {
                hash: tokens::digest(&token),
                user_id: user.id,
                purpose,
                created_at: now,
                expires_at: now + ttl,
            })
            .await?;
        Ok(token)
    }

    /// Spend a link's token: the account it belongs to, or `invalid_link_token`.
    async fn consume_link_token(
        &self,
        token: &str,
        purpose: TokenPurpose,
    ) -> Result<UserId, AccountError> {
        self.store
            .consume_token(&tokens::digest(token.trim()), purpose, self.clock.now())
            .await
            .map_err(|e| match e {
                StoreError::NotFound => invalid_link(),
                other => AccountError::from(other),
            })
    }

    /// Mail a verification link, unless this address had its quota of them this hour.
    pub(crate) async fn send_verification(&self, user: &User) -> Result<(), AccountError> {
        let Some(email) = &user.email else {
            return Ok(());
        };
        if self.take_recipient_quota("verify", email).is_err() {
            audit::alert(
                "mail.recipient_quota",
                Some(user.id),
                "",
                "",
                "verification mail not sent",
            );
            return Ok(());
        }
        let token = self
            .new_link_token(
                user,
                TokenPurpose::VerifyEmail,
                Duration::hours(VERIFY_TTL_HOURS),
            )
            .await?;
        let link = self.link("verify-email", &token);
        // No greeting by name: the address is not confirmed yet, and a name chosen by whoever
        // registered it would put their words into a stranger's inbox.
        self.spawn_mail(Mail {
            to: email.to_string(),
            subject: "Confirm your email address for Spontra".into(),
            text: format!(
                "Hello,\n\nPlease confirm that this is your email address by opening this link:\n\n{link}\n\n\
                 The link works once and expires in {VERIFY_TTL_HOURS} hours. If you did not create a Spontra \
                 account, ignore this message.\n\n— Spontra\n"
            ),
            link: Some(link),
            ..Default::default()
        });
        Ok(())
    }

    /// Tell the owner of `email` that someone tried to register it (within the address's quota
    /// of such mails).
    pub(crate) fn send_already_registered(&self, email: &Email) {
        if self.take_recipient_quota("registered", email).is_err() {
            return;
        }
        let base = self.outgoing.public_url.trim_end_matches('/');
        self.spawn_mail(Mail {
            to: email.to_string(),
            subject: "Someone tried to create a Spontra account with your address".into(),
            text: format!(
                "Hello,\n\nSomeone, perhaps you, tried to create a Spontra account with this email \
                 address. You already have one, so nothing was changed.\n\nSign in: {base}/login\n\
                 Forgot your password? {base}/forgot-password\n\nIf it was not you, you can ignore \
                 this message: your account is as it was.\n\n— Spontra\n"
            ),
            ..Default::default()
        });
    }

    /// Send a fresh verification link to the signed-in account (within the address's
    /// quota of verification mails).
    pub async fn resend_verification(
        &self,
        p: &Principal,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        let user = self.me(p).await?;
        if user.email_verified_at.is_some() {
            return Err(AccountError::AlreadyVerified);
        }
        let Some(email) = &user.email else {
            return Ok(());
        };
        self.take_mail_request(&client.ip)?;
        // Checked here too, to tell the user; `send_verification` counts the mail.
        if let Some(wait) = self.recipient_quota_wait("verify", email) {
            return Err(throttled(
                wait,
                "verification mails were sent recently; check your inbox or wait",
            ));
        }
        self.send_verification(&user).await
    }

    /// How long until another mail of `kind` may go to `address`, if it may not now.
    fn recipient_quota_wait(&self, kind: &str, address: &Email) -> Option<std::time::Duration> {
        self.mails_to_recipient
            .wait(&format!("{kind}:{address}"), Instant::now())
    }

    /// Mark the address of the token's account as verified.
    pub async fn verify_email(&self, token: &str) -> Result<(), AccountError> {
        let id = self
            .consume_link_token(token, TokenPurpose::VerifyEmail)
            .await?;
        audit::info("email.verified", Some(id), "");
        let user = self.store.user_by_id(id).await?;
        if user.email_verified_at.is_none() {
            let now = self.clock.now();
            let update = UserUpdate {
                email_verified_at: Some(now),
                ..Default::default()
            };
            self.store.update_user(id, &update, now).await?;
        }
        Ok(())
    }

    /// Start a password reset. Always succeeds (after checking the address is well formed);
    /// the lookup and the mail happen after the answer.
    pub fn forgot_password(
        self: &Arc<Self>,
        email: &str,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        let email = Email::parse(email)
            .map_err(|e| AccountError::field(ErrorCode::InvalidEmail, "email", e.to_string()))?;
        self.take_mail_request(&client.ip)?;
        audit::alert(
            "password_reset.requested",
            None,
            email.as_str(),
            &client.ip,
            "",
        );
        let service = self.clone();
        tokio::spawn(async move {
            if let Err(e) = service.send_reset(&email).await {
                tracing::error!(error = %e, "password reset mail not sent");
            }
        });
        Ok(())
    }

    async fn send_reset(&self, email: &Email) -> Result<(), AccountError> {
        let user = match self.store.user_by_email(email).await {
            Ok(u) => u,
            Err(StoreError::NotFound) => return Ok(()),
            Err(e) => return Err(AccountError::from(e)),
        };
        if user.disabled {
            return Ok(());
        }
        if self.take_recipient_quota("reset", email).is_err() {
            audit::alert(
                "mail.recipient_quota",
                Some(user.id),
                "",
                "",
                "reset mail not sent",
            );
            return Ok(());
        }
        let token = self
            .new_link_token(
                &user,
                TokenPurpose::ResetPassword,
                Duration::minutes(RESET_TTL_MINUTES),
            )
            .await?;
        let link = self.link("reset-password", &token);
        self.spawn_mail(Mail {
            to: email.to_string(),
            subject: "Reset your Spontra password".into(),
            text: format!(
                "Hello,\n\nSomeone (hopefully you) asked to reset the password of your Spontra account. \
                 To choose a new password, open this link:\n\n{link}\n\n\
                 The link works once and expires in {RESET_TTL_MINUTES} minutes. If you did not ask for this, \
                 ignore this message: your password stays as it is.\n\n— Spontra\n"
            ),
            link: Some(link),
            ..Default::default()
        });
        Ok(())
    }

    /// Set a new password with a reset token. The password is checked before the token is
    /// spent, so a weak choice does not burn the link. Every session ends; the address counts
    /// as verified (the link reached it).
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &str,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        let password =
            Password::parse(new_password).map_err(|e| password_error("new_password", e))?;
        // Hash before spending the token: a busy hashing pool must not burn the link.
        let hash = self.hash_password(password.expose()).await?;
        let id = match self
            .consume_link_token(token, TokenPurpose::ResetPassword)
            .await
        {
            Ok(id) => id,
            Err(e) => {
                audit::alert("password_reset.bad_link", None, "", &client.ip, "");
                return Err(e);
            }
        };
        let now = self.clock.now();
        let user = self.store.user_by_id(id).await?;
        let update = UserUpdate {
            password_hash: Some(hash),
            email_verified_at: user.email_verified_at.or(Some(now)),
            ..Default::default()
        };
        let user = self.store.update_user(id, &update, now).await?;
        self.store.revoke_sessions(id, None, now).await?;
        audit::info("password_reset.completed", Some(id), &client.ip);
        self.notify_password_changed(&user);
        Ok(())
    }

    /// Tell the owner two-factor authentication was turned on or off (ASVS 2.5.5: a changed
    /// authentication factor is notified).
    pub(crate) fn notify_two_factor_change(&self, user: &User, on: bool) {
        let Some(email) = &user.email else {
            return;
        };
        let link = format!(
            "{}/forgot-password",
            self.outgoing.public_url.trim_end_matches('/')
        );
        let state = if on { "turned on" } else { "turned off" };
        self.spawn_mail(Mail {
            to: email.to_string(),
            subject: format!("Two-factor authentication was {state} for your Spontra account"),
            text: format!(
                "Hello,\n\nTwo-factor authentication was just {state} for your Spontra account. If this \
                 was not you, reset your password at once:\n\n{link}\n\n— Spontra\n"
            ),
            link: Some(link),
            ..Default::default()
        });
    }

    /// Tell the owner their password changed (so a takeover does not go unnoticed).
    pub(crate) fn notify_password_changed(&self, user: &User) {
        let Some(email) = &user.email else {
            return;
        };
        let link = format!(
            "{}/forgot-password",
            self.outgoing.public_url.trim_end_matches('/')
        );
        self.spawn_mail(Mail {
            to: email.to_string(),
            subject: "Your Spontra password was changed".into(),
            text: format!(
                "Hello,\n\nThe password of your Spontra account was just changed, and other \
                 sessions were signed out. If this was not you, reset your password at once:\n\n{link}\n\n— Spontra\n"
            ),
            link: Some(link),
            ..Default::default()
        });
    }
}
