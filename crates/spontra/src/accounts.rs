//! Wiring the users service: the store from the database URL, and the signing keys from
//! configuration (or, for the embedded profile, generated once and kept in the data directory).

use crate::config::Settings;
use anyhow::Context;
use spontra_users::tokens::KeyRing;
use spontra_users::{UsersService, UsersState};
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
            std::fs::create_dir_all(&settings.data.dir)
                .with_context(|| format!("creating {}", settings.data.dir.display()))?;
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

pub async fn users_state(
    settings: &Settings,
    refdata: Arc<spontra_refdata::RefData>,
) -> anyhow::Result<UsersState> {
    if settings.database.url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data.dir)
            .with_context(|| format!("creating {}", settings.data.dir.display()))?;
    }
    let store = crate::store::open(&settings.database.url).await?;
    let service = Arc::new(UsersService::new(store, keys(settings)?, refdata));
    Ok(UsersState {
        service: service.clone(),
        auth: service,
    })
}
