//! Layered configuration: built-in defaults, then an optional TOML file, then environment
//! variables prefixed `SPONTRA__` (e.g. `SPONTRA__SERVER__BIND=0.0.0.0:8080`).

use anyhow::Context;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub world: WorldSettings,
    #[serde(default)]
    pub web: WebSettings,
    pub data: DataSettings,
    pub database: DatabaseSettings,
    #[serde(default)]
    pub auth: AuthSettings,
    pub mail: MailSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub bind: String,
    /// The address users reach the web app at, for links in mails (default: the bound
    /// address, `http://127.0.0.1:8080`).
    pub public_url: Option<String>,
    /// Believe the right-most `X-Forwarded-For` entry (only behind a proxy that sets it).
    #[serde(default)]
    pub trust_forwarded_for: bool,
    /// Origins allowed to call the API from a browser when the web app is served from another
    /// host, e.g. `["https://app.spontra.example"]` (same-origin needs nothing).
    #[serde(default)]
    pub cors_origins: Vec<String>,
}

/// Outgoing mail: SMTP when `smtp_url` is set (`smtps://user:pass@host`, or
/// `smtp://host:port` for a local relay), otherwise files in `<data.dir>/outbox`.
#[derive(Clone, Deserialize)]
pub struct MailSettings {
    pub smtp_url: Option<String>,
    pub from: String,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MailSettings {{ smtp_url: {}, from: {:?} }}",
            if self.smtp_url.is_some() {
                "<set>"
            } else {
                "<unset: outbox>"
            },
            self.from
        )
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct WorldSettings {
    /// `tiny`, `small`, `medium` or `full`.
    pub scale: String,
    pub seed: u64,
    pub days: u32,
    /// Override "today" (YYYY-MM-DD); defaults to the current UTC date.
    pub today: Option<String>,
    /// Serve this schedule (SSIM or CSV) instead of the simulated world.
    pub schedule: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DataSettings {
    /// Where the embedded profile keeps its files (database, generated keys, mail outbox).
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// `sqlite://…` (embedded default) or `postgres://…`. Never logged.
    pub url: String,
}

/// Access-token signing keys: `jwt_keys = "kid1:BASE64,kid2:BASE64"`, `active_key = "kid2"`.
/// When unset, the embedded profile generates a key once and keeps it in the data directory.
#[derive(Clone, Default, Deserialize)]
pub struct AuthSettings {
    pub jwt_keys: Option<String>,
    pub active_key: Option<String>,
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AuthSettings {{ jwt_keys: {}, active_key: {:?} }}",
            if self.jwt_keys.is_some() {
                "<set>"
            } else {
                "<unset>"
            },
            self.active_key
        )
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct WebSettings {
    /// Built web app to serve at `/` (Next.js static export).
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// `json` (default) or `pretty`.
    pub format: String,
    /// A tracing filter, e.g. `info` or `spontra=debug,tower_http=info`.
    pub filter: String,
}

impl Settings {
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut b = config::Config::builder()
            .set_default("server.bind", "127.0.0.1:8080")?
            .set_default("world.scale", "full")?
            .set_default("world.seed", 42)?
            .set_default("world.days", 35)?
            .set_default("data.dir", "spontra-data")?
            .set_default("database.url", "sqlite://spontra-data/spontra.db")?
            .set_default("mail.from", "Spontra <no-reply@spontra.localhost>")?
            .set_default("log.format", "json")?
            .set_default("log.filter", "info")?;
        if let Some(f) = file {
            b = b.add_source(config::File::from(f).format(config::FileFormat::Toml));
        } else if Path::new("spontra.toml").exists() {
            b = b.add_source(
                config::File::with_name("spontra.toml").format(config::FileFormat::Toml),
            );
        }
        b = b.add_source(
            config::Environment::with_prefix("SPONTRA")
                .separator("__")
                .try_parsing(true),
        );
        b.build()?
            .try_deserialize()
            .context("reading the configuration")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_then_file_then_environment() {
        let s = Settings::load(None).unwrap();
        assert_eq!(s.server.bind, "127.0.0.1:8080");
        assert_eq!(s.world.scale, "full");
        assert!(s.web.dir.is_none());
        let dir = std::env::temp_dir().join(format!("spontra-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("spontra.toml");
        std::fs::write(
            &file,
            "[server]\nbind = \"0.0.0.0:9000\"\n[world]\nscale = \"small\"\n",
        )
        .unwrap();
        let s = Settings::load(Some(&file)).unwrap();
        assert_eq!(
            (s.server.bind.as_str(), s.world.scale.as_str()),
            ("0.0.0.0:9000", "small")
        );
        std::env::set_var("SPONTRA__WORLD__SCALE", "tiny");
        let s = Settings::load(Some(&file)).unwrap();
        std::env::remove_var("SPONTRA__WORLD__SCALE");
        assert_eq!(s.world.scale, "tiny");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
