//! One harness for the tests that talk HTTP to a running instance: [`spawn_app`] builds the
//! application through the composition root (`Application::build`) from settings — port 0, the
//! tiny world, a fresh data directory, a fresh database on the chosen backend, mail to a real
//! SMTP server — and serves it in the background.
#![allow(dead_code)] // each test binary uses its own part of the harness

pub mod smtp;
pub mod stream;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use smtp::SmtpServer;
use spontra::config::Settings;
use spontra::world::{self, World};
use spontra_store_postgres::scratch::ScratchDatabase;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

pub const PASSWORD: &str = "correct horse battery";

/// "Today" in every test world: results are reproducible.
pub const TODAY: &str = "2026-12-01";

/// The world every instance serves: the tiny simulated world from [`TODAY`] (built once per
/// test process and shared, as the composition root shares it).
pub fn world_settings() -> spontra::config::WorldSettings {
    spontra::config::WorldSettings {
        scale: "tiny".into(),
        seed: 42,
        days: 35,
        horizon_days: 330,
        today: Some(TODAY.into()),
        schedule: None,
    }
}

pub fn shared_world() -> Arc<World> {
    world::shared(&world_settings()).expect("tiny world")
}

/// A search service over the shared world (what the simulated providers sell from).
pub fn search_service() -> Arc<spontra_search::SearchService> {
    let w = shared_world();
    Arc::new(spontra_search::SearchService::new(
        w.refdata.clone(),
        w.index.clone(),
        w.today,
    ))
}

/// A Browse itinerary's flights as flown: the key live search merges offers by.
pub fn flown_key(it: &spontra_search::dto::ItineraryDto) -> spontra_providers::merge::ItineraryKey {
    use spontra_domain::{AirportCode, CarrierCode};
    it.slices
        .iter()
        .map(|s| {
            s.segments
                .iter()
                .map(|g| spontra_providers::merge::FlownSegment {
                    operating_carrier: CarrierCode::parse(&g.carrier).expect("carrier"),
                    origin: AirportCode::parse(&g.origin).expect("origin"),
                    destination: AirportCode::parse(&g.destination).expect("destination"),
                    departing_at: g.departure.local[..19].parse().expect("local time"),
                })
                .collect()
        })
        .collect()
}

/// An instance running every service on `backend`; `None` when PostgreSQL is asked for and
/// `SPONTRA_TEST_DATABASE_URL` is not set.
pub async fn spawn_app(backend: Backend) -> Option<Instance> {
    Instance::start(backend).await
}

/// As [`spawn_app`], with settings changed by `tune` first (services, limits, policies).
pub async fn spawn_app_with(
    backend: Backend,
    tune: impl FnOnce(&mut Settings),
) -> Option<Instance> {
    Instance::start_with(backend, tune).await
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct Instance {
    pub base: String,
    pub addr: std::net::SocketAddr,
    pub http: reqwest::Client,
    pub settings: Settings,
    /// The SMTP server the users service sends to (when the instance runs it).
    smtp: Option<SmtpServer>,
    pub data_dir: PathBuf,
    /// The users service, when the instance runs it.
    pub service: Option<Arc<spontra_users::UsersService>>,
    _db: Option<ScratchDatabase>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// A reply: status, headers, JSON body (Null when empty).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
    pub fn field(&self) -> &str {
        self.body["errors"][0]["field"].as_str().unwrap_or("")
    }
    pub fn problem(&self) -> (u16, &str) {
        (self.status.as_u16(), self.code())
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

#[derive(Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub session: String,
}

impl Instance {
    /// An instance on `backend` with the default settings; `None` when PostgreSQL is asked
    /// for and `SPONTRA_TEST_DATABASE_URL` is not set.
    pub async fn start(backend: Backend) -> Option<Instance> {
        Instance::start_with(backend, |_| {}).await
    }

    /// As [`Instance::start`], with settings changed by `tune` first.
    pub async fn start_with(
        backend: Backend,
        tune: impl FnOnce(&mut Settings),
    ) -> Option<Instance> {
        Instance::start_on_clock(backend, Arc::new(spontra_domain::SystemClock), tune).await
    }

    /// As [`Instance::start_with`], the services reading time from `clock`.
    pub async fn start_on_clock(
        backend: Backend,
        clock: spontra_domain::SharedClock,
        tune: impl FnOnce(&mut Settings),
    ) -> Option<Instance> {
        let db = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => match ScratchDatabase::from_env().await.expect("scratch database")
            {
                Some(db) => Some(db),
                None => {
                    eprintln!("SPONTRA_TEST_DATABASE_URL is not set: the PostgreSQL run is skipped here (.ci/run sets it)");
                    return None;
                }
            },
        };

        let data_dir = std::env::temp_dir().join(format!("spontra-it-{}", uuid::Uuid::new_v4()));
        let mut settings = Settings::load(None).expect("default settings");
        settings.data.dir = data_dir.clone();
        settings.database.url = match &db {
            Some(db) => db.url().to_string(),
            None => format!("sqlite://{}/spontra.db", data_dir.display()),
        };
        settings.log.filter = "warn".into();
        settings.server.bind = "127.0.0.1:0".into();
        settings.world = world_settings();
        settings.web.dir = None;
        // The HTTP services; a test that wants ingestion asks for it.
        settings.server.services = vec![
            spontra::config::ServiceName::Search,
            spontra::config::ServiceName::Users,
        ];
        // Mail goes to a real SMTP server the harness starts, unless `tune` says otherwise
        // (another URL, or none for the outbox).
        const HARNESS_SMTP: &str = "smtp://harness";
        settings.mail.smtp_url = Some(HARNESS_SMTP.into());
        tune(&mut settings);
        let mut smtp = None;
        if settings.mail.smtp_url.as_deref() == Some(HARNESS_SMTP) {
            settings.mail.smtp_url = None;
            if settings.server.runs(spontra::config::ServiceName::Users) {
                let server = SmtpServer::start();
                settings.mail.smtp_url = Some(server.url());
                smtp = Some(server);
            }
        }
        let app = spontra::application::Application::build_with_clock(settings.clone(), clock)
            .await
            .expect("the application builds");
        let addr = app.address();
        let base = format!("http://{addr}");
        let service = app.users();
        tokio::spawn(app.run(std::future::pending()));
        Some(Instance {
            base,
            addr,
            http: reqwest::Client::new(),
            settings,
            smtp,
            data_dir,
            service,
            _db: db,
        })
    }

    /// The SMTP server mail goes to.
    pub fn smtp(&self) -> &SmtpServer {
        self.smtp
            .as_ref()
            .expect("this instance runs the users service")
    }

    /// The instance's Prometheus metrics, as text.
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.base))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text")
    }

    pub async fn send(&self, req: reqwest::RequestBuilder, path: &str) -> Reply {
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("body");
        if status.is_client_error() || status.is_server_error() {
            assert_eq!(
                headers["content-type"], "application/problem+json",
                "{path}: every error is problem+json"
            );
        }
        assert!(
            status != StatusCode::INTERNAL_SERVER_ERROR,
            "{path}: {status} {}",
            String::from_utf8_lossy(&bytes)
        );
        if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
            assert!(
                headers.contains_key("retry-after"),
                "{path}: {status} without Retry-After"
            );
        }
        Reply {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/api/v1{path}", self.base))
    }

    /// Any method, an optional JSON body and bearer token. No answer may be a 500; 5xx
    /// answers must be 503 with `Retry-After`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Reply {
        let mut req = self.request(method, path);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req, path).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, None, Some(token)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body), None).await
    }

    pub async fn register(&self, email: &str, name: &str) -> Reply {
        self.register_with(email, name, PASSWORD).await
    }

    pub async fn register_with(&self, email: &str, name: &str, password: &str) -> Reply {
        self.post(
            "/auth/register",
            json!({"email": email, "password": password, "display_name": name}),
        )
        .await
    }

    /// An account a scenario starts from (registered, not yet verified).
    pub async fn given_account(&self, email: &str, name: &str, password: &str) {
        let r = self.register_with(email, name, password).await;
        assert_eq!(r.status, 202, "{email}: {}", r.body);
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post("/auth/login", json!({"email": email, "password": password}))
            .await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Tokens {
        let r = self.login(email, password).await;
        assert_eq!(r.status, 200, "{email}: {}", r.body);
        tokens(&r)
    }

    /// Turn on two-factor authentication for the signed-in account; returns its secret, its
    /// recovery codes and the time (Unix seconds) whose code confirmed it. The session then
    /// counts as having proved the second factor.
    pub async fn enrol_two_factor(&self, t: &Tokens, password: &str) -> TwoFactor {
        let setup = self
            .call(
                Method::POST,
                "/me/2fa/setup",
                Some(json!({ "password": password })),
                Some(&t.access),
            )
            .await;
        assert_eq!(setup.status, 200, "{}", setup.body);
        let secret = setup.body["secret"].as_str().expect("secret").to_string();
        let uri = setup.body["otpauth_uri"].as_str().expect("uri");
        assert!(uri.starts_with("otpauth://totp/Spontra:"), "{uri}");
        let enrolled_at = chrono::Utc::now().timestamp();
        let enable = self
            .call(
                Method::POST,
                "/me/2fa/enable",
                Some(json!({ "code": totp_at(&secret, enrolled_at) })),
                Some(&t.access),
            )
            .await;
        assert_eq!(enable.status, 200, "{}", enable.body);
        let codes = enable.body["recovery_codes"]
            .as_array()
            .expect("codes")
            .iter()
            .map(|c| c.as_str().expect("code").to_string())
            .collect();
        TwoFactor {
            secret,
            recovery_codes: codes,
            enrolled_at,
        }
    }

    /// `spontra admin create-user`, against the same database as the running instance.
    pub fn create_user_cli(&self, email: &str, password: &str, admin: bool) -> (i32, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_spontra"));
        cmd.args(["admin", "create-user", "--email", email, "--name", "Ops"]);
        if admin {
            cmd.arg("--admin");
        }
        let mut child = cmd
            .env("SPONTRA__DATABASE__URL", &self.settings.database.url)
            .env("SPONTRA__DATA__DIR", &self.settings.data.dir)
            .env("SPONTRA__LOG__FILTER", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spontra binary");
        writeln!(child.stdin.take().expect("stdin"), "{password}").expect("password");
        let out = child.wait_with_output().expect("exit");
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }
}

pub fn tokens(r: &Reply) -> Tokens {
    Tokens {
        access: r.body["access_token"].as_str().expect("access").to_string(),
        refresh: r.body["refresh_token"].as_str().unwrap_or("").to_string(),
        session: r.body["session_id"].as_str().expect("session").to_string(),
    }
}

pub struct TwoFactor {
    pub secret: String,
    pub recovery_codes: Vec<String>,
    pub enrolled_at: i64,
}

/// The TOTP code of `secret` (base32) at `unix_time`.
pub fn totp_at(secret: &str, unix_time: i64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).expect("base32"))
        .with_account_name("test")
        .build()
        .expect("totp");
    totp.generate(u64::try_from(unix_time).expect("after 1970"))
        .to_string()
}

/// Raw HTTP/1.1 against the instance, for what a client library will not do: many requests
/// released at one instant (all but the last byte sent first), dribbled headers or bodies.
pub mod raw {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// A JSON POST as bytes.
    pub fn post_json(path: &str, body: &str, extra_headers: &[(&str, &str)]) -> Vec<u8> {
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (k, v) in extra_headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        bytes
    }

    /// Status and body of a response read to the end of the connection.
    pub fn parse(response: &[u8]) -> (u16, String) {
        let text = String::from_utf8_lossy(response).to_string();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    /// Send every request but its last byte on its own connection, wait until all are
    /// written, then send the last bytes together; returns each status and body.
    pub async fn burst(addr: SocketAddr, requests: Vec<Vec<u8>>) -> Vec<(u16, String)> {
        let barrier = Arc::new(tokio::sync::Barrier::new(requests.len()));
        let tasks: Vec<_> = requests
            .into_iter()
            .map(|req| {
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.expect("connect");
                    let (head, last) = req.split_at(req.len() - 1);
                    stream.write_all(head).await.expect("write");
                    stream.flush().await.expect("flush");
                    barrier.wait().await;
                    stream.write_all(last).await.expect("last byte");
                    let mut response = Vec::new();
                    let _ = stream.read_to_end(&mut response).await;
                    parse(&response)
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("task"));
        }
        out
    }
}
