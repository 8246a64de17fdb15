//! Privacy: everything stored about an account as one JSON document, account deletion, and
//! consent records.
//!
//! Deleting an account erases the email, name, password hash, preferences, sessions and
//! tokens; the row itself stays, anonymised and disabled, so anything that refers to the
//! account (later: price alerts, audit entries) keeps its integrity without personal data.
//! Consents are an append-only history: each decision is kept with its time.

use crate::error::AccountError;
use crate::preferences::Preferences;
use crate::service::{audit, user_id, UsersService};
use spontra_domain::ErrorCode;
use spontra_http::{ClientInfo, Principal};
use spontra_store::{Consent, Session, User, UserId};

/// The kinds of consent the product asks for.
pub const CONSENT_KINDS: [&str; 2] = ["marketing", "analytics"];

/// What another service keeps about an account (price alerts, webhooks, notifications sent),
/// as a section of the account's export. The composition root hands the users service one per
/// such service, so "everything stored about me" is everything, whichever process serves it.
#[async_trait::async_trait]
pub trait PersonalData: Send + Sync + 'static {
    /// The section's name in the export.
    fn section(&self) -> &'static str;
    /// The section for `user`, as the service's own API shows it.
    async fn export(&self, user: UserId) -> Result<serde_json::Value, String>;
}

/// Everything stored about one account.
pub struct Export {
    pub user: User,
    pub preferences: Preferences,
    pub consents: Vec<Consent>,
    pub sessions: Vec<Session>,
    /// Each other service's section, by name.
    pub sections: Vec<(&'static str, serde_json::Value)>,
}

impl UsersService {
    pub async fn export(&self, p: &Principal) -> Result<Export, AccountError> {
        let id = user_id(p)?;
        let mut sections = Vec::new();
        for part in &self.personal_data {
            let section = part.export(id).await.map_err(AccountError::internal)?;
            sections.push((part.section(), section));
        }
        Ok(Export {
            user: self.me(p).await?,
            preferences: self.preferences(p).await?,
            consents: self.consents(p).await?,
            sessions: self.sessions(p).await?,
            sections,
        })
    }

    /// Delete the caller's account; the password is asked again (and throttled), and with
    /// two-factor authentication on a code too, so a stolen access token alone cannot do it.
    pub async fn delete_account(
        &self,
        p: &Principal,
        password: &str,
        code: Option<&str>,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        let user = self.me(p).await?;
        self.recheck_password(p, &user, password, "password", client)
            .await?;
        self.recheck_second_factor(&user, code, client).await?;
        self.store.anonymise_user(user.id, self.clock.now()).await?;
        audit::info("account.deleted", Some(user.id), &client.ip);
        Ok(())
    }

    /// The caller's consent history, oldest first.
    pub async fn consents(&self, p: &Principal) -> Result<Vec<Consent>, AccountError> {
        self.store
            .consents(user_id(p)?)
            .await
            .map_err(AccountError::from)
    }

    /// Record decisions (`kind`, granted); returns the whole history.
    pub async fn record_consents(
        &self,
        p: &Principal,
        decisions: &[(&str, bool)],
    ) -> Result<Vec<Consent>, AccountError> {
        let id = user_id(p)?;
        let now = self.clock.now();
        for (kind, granted) in decisions {
            if !CONSENT_KINDS.contains(kind) {
                return Err(AccountError::field(
                    ErrorCode::InvalidField,
                    *kind,
                    "not a consent this service records",
                ));
            }
            self.store
                .record_consent(&Consent {
                    user_id: id,
                    kind: (*kind).to_string(),
                    granted: *granted,
                    recorded_at: now,
                })
                .await?;
        }
        self.consents(p).await
    }
}

/// The latest decision of each kind, if any.
pub fn current(history: &[Consent], kind: &str) -> Option<Consent> {
    history.iter().rev().find(|c| c.kind == kind).cloned()
}
