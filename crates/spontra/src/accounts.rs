//! Wiring the users service: the store from the database URL, and the signing keys from
//! configuration (or, for the embedded profile, generated once and kept in the data directory).
//! The data directory is private (0700): it holds the database, the key and the outbox.

use crate::config::Settings;
use anyhow::Context;
use spontra_domain::{SharedClock, SystemClock};
use spontra_mail::{Mailer, OutboxMailer, SmtpMailer};
use spontra_store::{Role, UserUpdate};
use spontra_users::service::Registration;
use spontra_users::tokens::KeyRing;
use spontra_users::{CookiePolicy, Outgoing, UsersService, UsersState};
use std::sync::Arc;

const GENERATED_KID: &str = "local-1";

fn keys(settings: &Settings) -> anyhow::Result<KeyRing> {
    if let Some(spec) = &settings.auth.jwt_keys {
        let active = settings
            .auth
            .active_key
            .as_deref()
            .context("auth.active_key must name one of auth.jwt_keys")?;
        return KeyRing::parse(spec, active).context("auth.jwt_keys");
    }
    let path = settings.data.dir.join("jwt-keys");
    let spec = match std::fs::read_to_string(&path) {
        Ok(spec) => spec,
        Err(_) => {
            private_data_dir(settings)?;
            let spec = KeyRing::generate_spec(GENERATED_KID);
            write_private(&path, &spec)?;
            tracing::info!(path = %path.display(), "generated an access-token signing key");
            spec
        }
    };
    KeyRing::parse(spec.trim(), GENERATED_KID)
        .with_context(|| format!("{} is not a key file this version wrote", path.display()))
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// The key that signs unsubscribe links: `notifications.signing_key`, or for the embedded
/// profile one generated once and kept (0600) in the data directory.
pub fn notification_signer(
    settings: &Settings,
) -> anyhow::Result<spontra_notifications::unsubscribe::Signer> {
    use spontra_notifications::unsubscribe::{Signer, MIN_KEY_BYTES};
    let key = match &settings.notifications.signing_key {
        Some(key) => key.clone(),
        None => {
            let path = settings.data.dir.join("notification-key");
            match std::fs::read_to_string(&path) {
                Ok(key) => key.trim().to_string(),
                Err(_) => {
                    private_data_dir(settings)?;
                    let key = Signer::generate_key();
                    write_private(&path, &key)?;
                    tracing::info!(path = %path.display(), "generated the unsubscribe-link key");
                    key
                }
            }
        }
    };
    Signer::new(key.as_bytes()).with_context(|| {
        format!("notifications.signing_key must be at least {MIN_KEY_BYTES} bytes")
    })
}

/// Create the data directory readable by its owner only (or tighten an existing one).
pub fn private_data_dir(settings: &Settings) -> anyhow::Result<()> {
    spontra_mail::create_private_dir(&settings.data.dir)
        .with_context(|| format!("creating {}", settings.data.dir.display()))
}

pub fn mailer(settings: &Settings) -> anyhow::Result<Arc<dyn Mailer>> {
    Ok(match &settings.mail.smtp_url {
        Some(url) => Arc::new(SmtpMailer::new(url, &settings.mail.from)?),
        None => {
            let dir = settings.data.dir.join("outbox");
            tracing::info!(outbox = %dir.display(), "no SMTP server configured: mail is written to the outbox");
            if !settings.server.loopback_only() {
                tracing::warn!(
                    bind = %settings.server.bind,
                    "mail goes to the outbox and its links to the log while the server listens beyond loopback: \
                     anyone who can read the log or the data directory can use reset links; configure mail.smtp_url"
                );
            }
            Arc::new(OutboxMailer::new(&dir, &settings.mail.from)?)
        }
    })
}

/// The database of the settings, opened (and migrated); the embedded profile's data
/// directory is created private first.
pub async fn open_stores(settings: &Settings) -> anyhow::Result<crate::store::Stores> {
    if settings.database.url.starts_with("sqlite:") {
        private_data_dir(settings)?;
    }
    crate::store::open(&settings.database.url).await
}

/// The users service over `store`. `public_url`: where links in mails point.
pub fn users_service(
    settings: &Settings,
    store: Arc<dyn spontra_store::UserStore>,
    refdata: Arc<spontra_refdata::RefData>,
    public_url: &str,
    clock: SharedClock,
    personal_data: Vec<Arc<dyn spontra_users::privacy::PersonalData>>,
) -> anyhow::Result<Arc<UsersService>> {
    let outgoing = Outgoing {
        mailer: mailer(settings)?,
        public_url: settings
            .server
            .public_url
            .clone()
            .unwrap_or_else(|| public_url.to_string()),
    };
    Ok(Arc::new(
        UsersService::new(
            store,
            keys(settings)?,
            refdata,
            outgoing,
            settings.accounts.clone(),
            clock,
        )
        .with_personal_data(personal_data),
    ))
}

/// Whether the public address is https (cookies `Secure`, HSTS on).
pub fn public_https(settings: &Settings) -> bool {
    settings
        .server
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
}

pub fn users_state(
    settings: &Settings,
    store: Arc<dyn spontra_store::UserStore>,
    refdata: Arc<spontra_refdata::RefData>,
    public_url: &str,
    clock: SharedClock,
    personal_data: Vec<Arc<dyn spontra_users::privacy::PersonalData>>,
) -> anyhow::Result<UsersState> {
    let service = users_service(settings, store, refdata, public_url, clock, personal_data)?;
    Ok(UsersState {
        service: service.clone(),
        auth: service,
        cookies: CookiePolicy {
            secure: public_https(settings),
            allowed_origins: settings.server.cors_origins.clone(),
        },
    })
}

/// `spontra admin create-user`: bad input prints the field at fault and exits 2.
pub async fn create_user(
    settings: &Settings,
    email: &str,
    password: &str,
    name: &str,
    admin: bool,
) -> anyhow::Result<std::process::ExitCode> {
    let refdata = crate::world::refdata()?;
    let store = open_stores(settings).await?.users;
    let service = users_service(settings, store, refdata, "", Arc::new(SystemClock), vec![])?;
    let role = if admin { Role::Admin } else { Role::User };
    let created = match Registration::parse(email, password, name) {
        Ok(reg) => service.create_account(reg, role).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(user) => {
            let now = service.clock().now();
            let verified = UserUpdate {
                email_verified_at: Some(now),
                ..Default::default()
            };
            service.store().update_user(user.id, &verified, now).await?;
            println!("created {} {} ({})", role.as_str(), user.id, email.trim());
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(e) => crate::cli::refused(e),
    }
}
