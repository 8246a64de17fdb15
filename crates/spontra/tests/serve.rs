#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! `spontra serve` as the README runs it (here on the tiny world, port 0, a temporary data
//! directory): the search API and the account API answer over HTTP.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

struct Child(std::process::Child, std::path::PathBuf);

/// The document passes an independent OpenAPI 3.1 validator (PyPI `openapi-spec-validator`,
/// installed by `scripts/test`): parameters where they are, references resolved, schemas
/// valid.
fn validate_openapi(doc: &Value, dir: &std::path::Path) {
    let file = dir.join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let out = Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("python3");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.contains("OK"),
        "the OpenAPI document does not validate (is openapi-spec-validator installed? scripts/test installs it): {said}"
    );
    // Query parameters are declared in the query, and optional ones as optional.
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                if p["in"] == "path" {
                    assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: {name} is not in the path"
                    );
                }
            }
        }
    }
    // Every error an operation can give is declared, as problem+json.
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            for (status, r) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let types: Vec<&String> = r["content"].as_object().unwrap().keys().collect();
                    assert_eq!(
                        types,
                        ["application/problem+json"],
                        "{method} {path} {status}"
                    );
                }
            }
            assert!(responses.contains_key("503"), "{method} {path}: 503");
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                for status in ["401", "403"] {
                    assert!(responses.contains_key(status), "{method} {path}: {status}");
                }
            }
            if op["requestBody"].is_object() {
                for status in ["400", "413", "415"] {
                    assert!(responses.contains_key(status), "{method} {path}: {status}");
                }
            }
        }
    }
    // Links name operations that exist, as OpenAPI spells them (operationId, requestBody).
    let ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|ops| ops.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let mut links = 0;
    for ops in doc["paths"].as_object().unwrap().values() {
        for op in ops.as_object().unwrap().values() {
            for r in op["responses"].as_object().unwrap().values() {
                for link in r["links"].as_object().into_iter().flat_map(|l| l.values()) {
                    links += 1;
                    let target = link["operationId"].as_str().expect("operationId");
                    assert!(ids.contains(&target), "a link to {target}");
                    assert!(
                        link.get("operation_id").is_none() && link.get("request_body").is_none()
                    );
                }
            }
        }
    }
    assert!(links >= 5, "register → sign in → use is linked");
    let search = &doc["paths"]["/api/v1/search"]["get"]["parameters"];
    let names: Vec<&str> = search
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"slices"), "slices is the POST body's only");
    for p in search.as_array().unwrap() {
        let required = ["origin", "destination", "depart"].contains(&p["name"].as_str().unwrap());
        assert_eq!(p["in"], "query");
        assert_eq!(p["required"] == true, required, "{p}");
    }
    // Lists in a query are comma-separated, as the API reads them.
    let carriers = search
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "carriers")
        .unwrap();
    assert_eq!(
        (&carriers["style"], &carriers["explode"]),
        (&json!("form"), &json!(false))
    );
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

#[tokio::test]
async fn serve_answers_search_and_accounts() {
    let dir = std::env::temp_dir().join(format!("spontra-serve-{}", uuid_like()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_spontra"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--scale",
            "tiny",
            "--today",
            "2026-12-01",
        ])
        .env("SPONTRA__DATA__DIR", &dir)
        .env(
            "SPONTRA__DATABASE__URL",
            format!("sqlite://{}/spontra.db", dir.display()),
        )
        .env("SPONTRA__LOG__FILTER", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let guard = Child(child, dir.clone());
    let base = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.split("listening on ").nth(1).map(str::to_string))
        .expect("serve prints its address");
    let http = reqwest::Client::new();
    let health = json_of(http.get(format!("{base}/healthz"))).await;
    assert_eq!(health["status"], "ok");
    // Live search asks the simulated providers serve started, until every one has its say.
    let live = json_of(
        http.post(format!("{base}/api/v1/live-searches"))
            .json(&json!({"origin": "LHR", "destination": "JFK", "depart": "2026-12-10"})),
    )
    .await;
    let id = live["id"].as_str().unwrap().to_string();
    let started = std::time::Instant::now();
    let live = loop {
        let v = json_of(http.get(format!("{base}/api/v1/live-searches/{id}"))).await;
        if v["status"] == "complete" {
            break v;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(45));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let names: Vec<&str> = live["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["SkyHub", "FareFinder"]);
    assert!(live["providers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["status"] == "complete" && p["offers"].as_u64().unwrap() > 0));
    assert!(live["total"].as_u64().unwrap() > 0, "{live}");
    let search = http
        .get(format!(
            "{base}/api/v1/search?origin=LHR&destination=JFK&depart=2026-12-10"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(search.status().as_u16(), 200);
    let reg = http
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"email": "ada@example.com", "password": "correct horse battery", "display_name": "Ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reg.status().as_u16(), 202);
    let tokens = json_of(
        http.post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": "ada@example.com", "password": "correct horse battery"})),
    )
    .await;
    let me = json_of(
        http.get(format!("{base}/api/v1/me"))
            .bearer_auth(tokens["access_token"].as_str().unwrap()),
    )
    .await;
    assert_eq!(me["email"], "ada@example.com");
    let doc = json_of(http.get(format!("{base}/api/v1/openapi.json"))).await;
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/logout-all",
        "/api/v1/auth/verify-email",
        "/api/v1/auth/verify-email/resend",
        "/api/v1/auth/forgot-password",
        "/api/v1/auth/reset-password",
        "/api/v1/me",
        "/api/v1/me/password",
        "/api/v1/me/preferences",
        "/api/v1/me/sessions",
        "/api/v1/me/sessions/{id}",
        "/api/v1/me/export",
        "/api/v1/me/consents",
        "/api/v1/admin/users",
        "/api/v1/admin/users/{id}",
        "/api/v1/auth/login/2fa",
        "/api/v1/me/2fa",
        "/api/v1/me/2fa/setup",
        "/api/v1/me/2fa/enable",
        "/api/v1/me/2fa/disable",
    ] {
        assert!(doc["paths"][path].is_object(), "OpenAPI lacks {path}");
    }
    validate_openapi(&doc, &dir);
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert_eq!(
        doc["paths"]["/api/v1/admin/users"]["get"]["security"][0]["bearer"],
        serde_json::json!([])
    );
    // Without an SMTP server the verification mail lands in the outbox, linking to this
    // instance.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mail = loop {
        let found = std::fs::read_dir(dir.join("outbox"))
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .find(|m| m.contains("To: ada@example.com"));
        if let Some(m) = found {
            break m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no mail in the outbox"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(
        mail.contains(&format!("{base}/verify-email?token")),
        "{mail}"
    );
    // The generated signing key is kept privately in the data directory.
    let key = dir.join("jwt-keys");
    assert!(key.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    drop(guard);
}

/// `spontra sim providers` alone: the simulated providers on the ports given, answering the
/// real clients.
#[tokio::test]
async fn sim_providers_run_on_their_own_for_other_processes_to_ask() {
    use spontra_domain::{AirportCode, Cabin, Passengers};
    use spontra_providers::{OfferQuery, Provider, Secret};
    let dir = std::env::temp_dir().join(format!("spontra-sim-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (p1, p2) = (free(), free());
    let mut child = Command::new(env!("CARGO_BIN_EXE_spontra"))
        .args([
            "sim",
            "providers",
            "--bind",
            "127.0.0.1:0",
            "--scale",
            "tiny",
        ])
        .args(["--today", "2026-12-01", "--ports", &format!("{p1},{p2}")])
        .env("SPONTRA__DATA__DIR", &dir)
        .env("SPONTRA__LOG__FILTER", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _guard = Child(child, dir.clone());
    let mut urls = vec![];
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(url) = line.split(" serves ").nth(1) {
            urls.push(url.to_string());
        }
        if line.contains("listening on") {
            break;
        }
    }
    assert_eq!(
        urls,
        [
            format!("http://127.0.0.1:{p1}/"),
            format!("http://127.0.0.1:{p2}/")
        ]
    );
    let q = OfferQuery {
        origin: AirportCode::parse("LHR").unwrap(),
        destination: AirportCode::parse("JFK").unwrap(),
        departure_date: "2026-12-10".parse().unwrap(),
        return_date: None,
        passengers: Passengers::one_adult(),
        cabin: Cabin::Economy,
        max_connections: 1,
        currency: None,
    };
    let duffel =
        spontra_providers::duffel::DuffelClient::new(spontra_providers::duffel::DuffelConfig {
            name: "SkyHub".into(),
            base_url: urls[0].parse().unwrap(),
            access_token: Secret::new("sim_skyhub_token"),
        })
        .unwrap();
    let amadeus =
        spontra_providers::amadeus::AmadeusClient::new(spontra_providers::amadeus::AmadeusConfig {
            name: "FareFinder".into(),
            base_url: urls[1].parse().unwrap(),
            client_id: "sim-farefinder".into(),
            client_secret: Secret::new("sim_farefinder_secret"),
        })
        .unwrap();
    let within = std::time::Duration::from_secs(40);
    let (a, b) = tokio::join!(duffel.search(&q, within), amadeus.search(&q, within));
    // The first request of each is drawn to be answered (the draws are seeded).
    assert!(!a.unwrap().offers.is_empty());
    assert!(!b.unwrap().offers.is_empty());
}

async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}
