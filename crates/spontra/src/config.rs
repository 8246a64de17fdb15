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
    /// Account rules: session lifetimes, caps, per-address limits, the hashing pool.
    #[serde(default)]
    pub accounts: spontra_users::AccountPolicy,
    /// Search work bounds: the engine pools and the per-request budget.
    #[serde(default)]
    pub search: spontra_search::SearchLimits,
    pub mail: MailSettings,
    pub log: LogSettings,
    #[serde(default)]
    pub events: EventSettings,
    /// The simulated market: its clock's speed and its feeds.
    #[serde(default)]
    pub market: crate::market::MarketSettings,
    /// Price history retention and alerts.
    #[serde(default)]
    pub pricing: PricingSettings,
    /// The outbox worker and unsubscribe links.
    #[serde(default)]
    pub notifications: NotificationSettings,
    /// Live search: the whole search's deadline, how long results are reused.
    #[serde(default)]
    pub live: spontra_search::live_search::LiveLimits,
    /// The providers live search asks (`[[providers]]`), besides the simulated ones.
    #[serde(default)]
    pub providers: Vec<ProviderSettings>,
    /// The simulated provider network (`[simulated_providers]`).
    #[serde(default)]
    pub simulated_providers: SimulatedProviders,
    /// The shared cache (`[cache]`).
    #[serde(default)]
    pub cache: CacheSettings,
}

/// `[cache]`: Redis, where search processes share live search results (the L2 beside each
/// process's own); unset, each process keeps its own only. The URL may carry a password: it
/// is printed redacted.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheSettings {
    pub redis_url: Option<String>,
    /// Prefix of every key (several deployments can share one Redis).
    pub key_prefix: String,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            redis_url: None,
            key_prefix: "spontra:live:v1:".into(),
        }
    }
}

impl std::fmt::Debug for CacheSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheSettings")
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

/// A provider live search asks (`[[providers]]`): a Duffel or an Amadeus Flight Offers API.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    /// Its name beside its prices.
    pub name: String,
    pub format: crate::sim_providers::Format,
    /// `https://api.duffel.com/`, `https://api.amadeus.com/`, or a simulated provider's.
    pub base_url: String,
    /// Duffel's access token.
    #[serde(default)]
    pub access_token: String,
    /// Amadeus' client credentials.
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    /// Its deadline within a search, seconds (2–60).
    #[serde(default = "provider_deadline_seconds")]
    pub deadline_seconds: u64,
    /// Its calls in flight at most.
    #[serde(default = "provider_concurrency")]
    pub concurrency: usize,
    /// Where a traveller books an offer: a URL with `{offer_id}`.
    #[serde(default)]
    pub deep_link: Option<String>,
}

fn provider_deadline_seconds() -> u64 {
    20
}

fn provider_concurrency() -> usize {
    16
}

impl std::fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |s: &str| if s.is_empty() { "<unset>" } else { "<set>" };
        f.debug_struct("ProviderSettings")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("base_url", &self.base_url)
            .field("access_token", &set(&self.access_token))
            .field("client_id", &self.client_id)
            .field("client_secret", &set(&self.client_secret))
            .field("deadline_seconds", &self.deadline_seconds)
            .field("concurrency", &self.concurrency)
            .field("deep_link", &self.deep_link)
            .finish()
    }
}

/// `[simulated_providers]`: the simulated provider network, started in the search process
/// and asked by its live search (the embedded profile's default), each provider as
/// `[[simulated_providers.providers]]` describes it (default: SkyHub and FareFinder).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulatedProviders {
    pub start: bool,
    pub providers: Vec<crate::sim_providers::SimProviderSettings>,
}

impl Default for SimulatedProviders {
    fn default() -> Self {
        SimulatedProviders {
            start: true,
            providers: crate::sim_providers::SimProviderSettings::defaults(),
        }
    }
}

/// `[pricing]`: how long price history is kept, and how alerts are evaluated.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PricingSettings {
    /// Raw price observations (every report ingestion applied) are kept this many days of
    /// market time (on PostgreSQL whole months go, once wholly older).
    pub observations_days: u64,
    /// Daily roll-ups of a departure are kept this many days after it leaves (the history
    /// cheapest months and insights read).
    pub daily_days: u64,
    /// Alerts told per user per day, at most (later ones wait for the next day).
    pub alerts_daily_cap: u32,
    /// Every live alert is evaluated this often (besides on each price that touches it).
    pub alerts_sweep_seconds: u64,
}

impl Default for PricingSettings {
    fn default() -> Self {
        PricingSettings {
            observations_days: 90,
            daily_days: 730,
            alerts_daily_cap: 10,
            alerts_sweep_seconds: 300,
        }
    }
}

/// `[notifications]`: the outbox worker, and the key that signs unsubscribe links
/// (`signing_key`, at least 32 bytes; when unset one is generated once and kept in the data
/// directory — a scaled deployment sets it, the same in every process).
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationSettings {
    pub signing_key: Option<String>,
    /// Attempts before a notification is dead.
    pub max_attempts: i32,
    /// The wait after a first failed attempt, doubled after each further one.
    pub backoff_seconds: i64,
    /// How long a worker's claim on a notification lasts.
    pub lease_seconds: i64,
    /// How often an idle worker looks for due notifications.
    pub poll_millis: u64,
    /// A webhook delivery's whole attempt (resolution, connection, answer), in seconds.
    pub webhook_timeout_seconds: u64,
    /// Accept webhooks on this machine's loopback addresses (and plain `http` to them): for
    /// tests and local development only — in production it lets users aim requests at the
    /// server's own ports.
    pub webhook_allow_loopback: bool,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        let o = spontra_notifications::outbox::OutboxSettings::default();
        NotificationSettings {
            signing_key: None,
            max_attempts: o.max_attempts,
            backoff_seconds: o.backoff_seconds,
            lease_seconds: o.lease_seconds,
            poll_millis: o.poll_millis,
            webhook_timeout_seconds: 10,
            webhook_allow_loopback: false,
        }
    }
}

impl std::fmt::Debug for NotificationSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationSettings")
            .field(
                "signing_key",
                &self
                    .signing_key
                    .as_ref()
                    .map(|_| "<set>")
                    .unwrap_or("<unset>"),
            )
            .field("max_attempts", &self.max_attempts)
            .field("backoff_seconds", &self.backoff_seconds)
            .field("lease_seconds", &self.lease_seconds)
            .field("poll_millis", &self.poll_millis)
            .field("webhook_timeout_seconds", &self.webhook_timeout_seconds)
            .field("webhook_allow_loopback", &self.webhook_allow_loopback)
            .finish()
    }
}

/// A service a process can run. A process runs the services its configuration lists
/// (`server.services`, `--services`); the default is all of them.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum ServiceName {
    /// Airports, airlines and Browse search over the inventory (loads the world).
    Search,
    /// Accounts, sessions, preferences, privacy and administration (needs the database).
    Users,
    /// Consumes provider feeds from the event stream into the inventory store and the price
    /// observations (needs the database and the event stream).
    Ingest,
    /// The simulated market: publishes the providers' feeds about the world's flights (needs
    /// the world and the event stream).
    Market,
    /// Price history, insights, cheapest dates and price alerts from `price.observed` (needs
    /// the database and the event stream).
    Pricing,
    /// Delivers the notifications alerts put in the outbox: email with one-click unsubscribe
    /// (needs the database).
    Notifications,
}

impl ServiceName {
    pub const ALL: [ServiceName; 6] = [
        ServiceName::Search,
        ServiceName::Users,
        ServiceName::Ingest,
        ServiceName::Market,
        ServiceName::Pricing,
        ServiceName::Notifications,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceName::Search => "search",
            ServiceName::Users => "users",
            ServiceName::Ingest => "ingest",
            ServiceName::Market => "market",
            ServiceName::Pricing => "pricing",
            ServiceName::Notifications => "notifications",
        }
    }
}

/// The event stream: Kafka when `kafka_brokers` is set (`host:port,…`, the scaled profile),
/// otherwise the embedded durable log in the SQLite database (`database.url`).
#[derive(Debug, Clone, Deserialize)]
pub struct EventSettings {
    pub kafka_brokers: Option<String>,
    /// How long (ms) a Kafka group member may go unheard before its partitions are given to
    /// the others — how long a crashed process's partitions wait (librdkafka's default).
    #[serde(default = "kafka_session_timeout_ms")]
    pub kafka_session_timeout_ms: u64,
    /// The embedded log keeps records this long (minutes), as a Kafka topic's `retention.ms`;
    /// 0 keeps everything. (Kafka topics keep what their broker is configured to.)
    #[serde(default = "retention_minutes")]
    pub retention_minutes: u64,
    /// …except dead letters, kept this long for operators to look at and replay.
    #[serde(default = "dead_letter_retention_minutes")]
    pub dead_letter_retention_minutes: u64,
}

fn kafka_session_timeout_ms() -> u64 {
    spontra_events::kafka::DEFAULT_SESSION_TIMEOUT.as_millis() as u64
}

fn retention_minutes() -> u64 {
    30
}

fn dead_letter_retention_minutes() -> u64 {
    24 * 60
}

impl Default for EventSettings {
    fn default() -> Self {
        EventSettings {
            kafka_brokers: None,
            kafka_session_timeout_ms: kafka_session_timeout_ms(),
            retention_minutes: retention_minutes(),
            dead_letter_retention_minutes: dead_letter_retention_minutes(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub bind: String,
    /// The services this process runs (default: all).
    #[serde(default = "all_services")]
    pub services: Vec<ServiceName>,
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
    /// A client must send a request's headers within this many seconds (an idle keep-alive
    /// connection is closed after it too).
    pub header_read_timeout_secs: u64,
    /// …its body within this many seconds of the request's start (408 otherwise)…
    pub body_timeout_secs: u64,
    /// …and the whole answer must be ready within this many (503 otherwise).
    pub request_timeout_secs: u64,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
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
    /// Days the live inventory holds from today: every dated leg, moved by the market.
    pub days: u32,
    /// Days on sale from today (airlines sell about 330 ahead); those after `days` are
    /// generated from the schedule when a search asks for them. A schedule file is served for
    /// `days` only.
    pub horizon_days: u32,
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

fn all_services() -> Vec<ServiceName> {
    ServiceName::ALL.to_vec()
}

impl ServerSettings {
    /// Whether this process runs `service`.
    pub fn runs(&self, service: ServiceName) -> bool {
        self.services.contains(&service)
    }

    /// The limits the HTTP edge enforces.
    pub fn edge_limits(&self) -> crate::app::EdgeLimits {
        use std::time::Duration;
        crate::app::EdgeLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs.max(1)),
            body_timeout: Duration::from_secs(self.body_timeout_secs.max(1)),
            request_timeout: Duration::from_secs(self.request_timeout_secs.max(1)),
            max_connections: self.max_connections.max(1),
        }
    }

    /// Whether the server listens only on loopback (nobody else can reach it).
    pub fn loopback_only(&self) -> bool {
        self.bind
            .parse::<std::net::SocketAddr>()
            .map(|a| a.ip().is_loopback())
            .unwrap_or_else(|_| self.bind.starts_with("localhost:"))
    }
}

/// A URL fit to print: a password in it becomes `***`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(_) => raw.to_string(),
        // Not a URL we can parse: keep only the scheme, in case the rest holds a secret.
        Err(_) => match raw.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://***"),
            None => "***".to_string(),
        },
    }
}

impl Settings {
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut b = config::Config::builder()
            .set_default("server.bind", "127.0.0.1:8080")?
            .set_default("server.header_read_timeout_secs", 10)?
            .set_default("server.body_timeout_secs", 15)?
            .set_default("server.request_timeout_secs", 30)?
            .set_default("server.max_connections", 1024)?
            .set_default("world.scale", "full")?
            .set_default("world.seed", 42)?
            .set_default("world.days", 35)?
            .set_default("world.horizon_days", 330)?
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
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("server.services")
                .with_list_parse_key("server.cors_origins"),
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
    fn only_loopback_binds_count_as_private() {
        let mut s = Settings::load(None).unwrap();
        for (bind, loopback) in [
            ("127.0.0.1:8080", true),
            ("[::1]:8080", true),
            ("localhost:8080", true),
            ("0.0.0.0:8080", false),
            ("192.0.2.4:8080", false),
        ] {
            s.server.bind = bind.into();
            assert_eq!(s.server.loopback_only(), loopback, "{bind}");
        }
    }

    #[test]
    fn printed_urls_never_show_a_password() {
        assert_eq!(
            redact_url("postgres://spontra:hunter2@db.internal:5432/spontra"),
            "postgres://spontra:***@db.internal:5432/spontra"
        );
        assert_eq!(
            redact_url("sqlite://spontra-data/spontra.db"),
            "sqlite://spontra-data/spontra.db"
        );
        assert_eq!(
            redact_url("postgres://user@host/db"),
            "postgres://user@host/db"
        );
        assert!(!redact_url("mysql://root:s3cret@[bad").contains("s3cret"));
    }

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
        assert_eq!(
            s.server.services,
            ServiceName::ALL.to_vec(),
            "all by default"
        );
        std::env::set_var("SPONTRA__WORLD__SCALE", "tiny");
        std::env::set_var("SPONTRA__SERVER__SERVICES", "users");
        let s = Settings::load(Some(&file)).unwrap();
        std::env::remove_var("SPONTRA__WORLD__SCALE");
        std::env::remove_var("SPONTRA__SERVER__SERVICES");
        assert_eq!(s.world.scale, "tiny");
        assert_eq!(s.server.services, vec![ServiceName::Users]);
        assert!(s.server.runs(ServiceName::Users) && !s.server.runs(ServiceName::Search));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
