#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! The provider clients against recorded answers in Duffel's and Amadeus' documented formats,
//! served by wiremock: what is asked (method, path, query, headers, body), how offers map,
//! which failures are retried and which are not, deadlines, and Amadeus' token kept, shared
//! and renewed.

use chrono::NaiveDate;
use serde_json::json;
use spontra_domain::{AirportCode, Cabin, CarrierCode, Passengers};
use spontra_providers::amadeus::{AmadeusClient, AmadeusConfig};
use spontra_providers::duffel::{DuffelClient, DuffelConfig};
use spontra_providers::{OfferQuery, Provider, ProviderError, Secret};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wiremock::matchers::{
    body_partial_json, body_string_contains, header, method, path, query_param,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DUFFEL_OFFERS: &str = include_str!("fixtures/duffel-offer-request.json");
const AMADEUS_OFFERS: &str = include_str!("fixtures/amadeus-flight-offers.json");
const TOKEN: &str = "duffel_test_s3cr3t";

fn query(return_date: Option<&str>) -> OfferQuery {
    OfferQuery {
        origin: AirportCode::parse("LHR").unwrap(),
        destination: AirportCode::parse("JFK").unwrap(),
        departure_date: NaiveDate::from_ymd_opt(2026, 12, 18).unwrap(),
        return_date: return_date.map(|d| d.parse().unwrap()),
        passengers: Passengers::new(2, 1, 0).unwrap(),
        cabin: Cabin::Economy,
        max_connections: 1,
        currency: None,
    }
}

fn duffel(server: &MockServer) -> DuffelClient {
    DuffelClient::new(DuffelConfig {
        name: "Duffel".into(),
        base_url: server.uri().parse().unwrap(),
        access_token: Secret::new(TOKEN),
    })
    .unwrap()
}

fn carrier(c: &str) -> CarrierCode {
    CarrierCode::parse(c).unwrap()
}

#[tokio::test]
async fn duffel_offer_requests_are_asked_and_read_as_documented() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/air/offer_requests"))
        .and(query_param("return_offers", "true"))
        .and(query_param("supplier_timeout", "9000"))
        .and(header("Duffel-Version", "v2"))
        .and(header("Authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_partial_json(json!({"data": {
            "slices": [
                {"origin": "LHR", "destination": "JFK", "departure_date": "2026-12-18"},
                {"origin": "JFK", "destination": "LHR", "departure_date": "2026-12-24"}
            ],
            "passengers": [{"type": "adult"}, {"type": "adult"}, {"age": 8}],
            "cabin_class": "economy",
            "max_connections": 1
        }})))
        .respond_with(ResponseTemplate::new(201).set_body_raw(DUFFEL_OFFERS, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let got = duffel(&server)
        .search(&query(Some("2026-12-24")), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(got.offers.len(), 3, "{got:?}");
    assert_eq!(got.skipped.len(), 1);
    assert!(
        got.skipped[0].starts_with("offer off_0000AhTmH3BAD: total_amount"),
        "{:?}",
        got.skipped
    );
    let ba = &got.offers[0];
    assert_eq!(ba.provider, "Duffel");
    assert_eq!(ba.id, "off_0000AhTmH3A1");
    assert_eq!(ba.owner, carrier("BA"));
    assert_eq!(
        (ba.total.minor, ba.total.currency.as_str()),
        (41_230, "GBP")
    );
    assert_eq!(
        ba.expires_at.unwrap().to_rfc3339(),
        "2026-12-01T09:42:44.261+00:00"
    );
    assert_eq!(ba.slices[0].fare_brand.as_deref(), Some("Basic"));
    let s = &ba.slices[0].segments[0];
    assert_eq!(s.departing_at.to_string(), "2026-12-18 09:05:00");
    assert_eq!(
        (s.marketing.to_string(), s.operating_number),
        ("BA117".into(), Some(117))
    );
    assert_eq!(s.cabin, Some(Cabin::Economy));
    // The codeshare: sold as AA6135, flown as BA117 — the same flight as the first offer.
    let aa = &got.offers[1];
    let cs = &aa.slices[0].segments[0];
    assert_eq!(cs.marketing.to_string(), "AA6135");
    assert_eq!(cs.flown(), s.flown());
    // A connection; an operating number left null falls back to the marketing one.
    let ei = &got.offers[2];
    assert_eq!(ei.slices[0].segments.len(), 2);
    assert_eq!(ei.slices[0].fare_brand, None);
    assert_eq!(ei.slices[0].segments[0].flown().1, Some(151));
}

#[tokio::test]
async fn duffel_is_retried_only_when_the_request_surely_was_not_processed() {
    // A 429 with Retry-After: asked again after it, once.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(json!({"errors": [{"code": "rate_limit_exceeded", "message": "Too many requests"}]})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_raw(DUFFEL_OFFERS, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let got = duffel(&server)
        .search(&query(None), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(got.offers.len(), 3);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as told"
    );
    server.verify().await;

    // A 500 may have reached the airlines: not asked again.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_json(
            json!({"errors": [{"code": "internal_server_error", "message": "Something went wrong"}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let e = duffel(&server)
        .search(&query(None), Duration::from_secs(10))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "provider_failed");
    assert!(e.to_string().contains("Something went wrong"), "{e}");
}

#[tokio::test]
async fn duffel_failures_have_their_codes_and_never_show_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"errors": [{"code": "invalid_authorization_header", "message": "The Authorization header is invalid"}]}),
        ))
        .mount(&server)
        .await;
    let e = duffel(&server)
        .search(&query(None), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "provider_unauthorized");
    let client_debug = format!(
        "{:?}",
        DuffelConfig {
            name: "Duffel".into(),
            base_url: server.uri().parse().unwrap(),
            access_token: Secret::new(TOKEN),
        }
    );
    assert!(!client_debug.contains(TOKEN) && !e.to_string().contains(TOKEN));

    // 422: the query refused, with Duffel's message.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(422).set_body_json(
            json!({"errors": [{"code": "invalid_date", "message": "departure_date must be in the future"}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let e = duffel(&server)
        .search(&query(None), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        ProviderError::Rejected {
            provider: "Duffel".into(),
            status: 422,
            detail: "departure_date must be in the future".into()
        }
    );

    // Garbage where JSON was promised.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(201).set_body_raw("<html>502 Bad Gateway</html>", "text/html"),
        )
        .mount(&server)
        .await;
    let e = duffel(&server)
        .search(&query(None), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "provider_malformed");
}

#[tokio::test]
async fn a_slow_provider_times_out_at_the_deadline() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_raw(DUFFEL_OFFERS, "application/json")
                .set_delay(Duration::from_secs(10)),
        )
        .mount(&server)
        .await;
    let started = Instant::now();
    let e = duffel(&server)
        .search(&query(None), Duration::from_millis(800))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(e.is_timeout(), "{e}");
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_reported_within_the_deadline() {
    // A port nothing listens on: the connection is refused, so even the POST is tried again
    // (nothing was sent), and the search ends as unreachable well within its deadline.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let client = DuffelClient::new(DuffelConfig {
        name: "Duffel".into(),
        base_url: format!("http://127.0.0.1:{port}").parse().unwrap(),
        access_token: Secret::new(TOKEN),
    })
    .unwrap();
    let started = Instant::now();
    let e = client
        .search(&query(None), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "provider_unreachable", "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

fn amadeus(server: &MockServer) -> AmadeusClient {
    AmadeusClient::new(AmadeusConfig {
        name: "Amadeus".into(),
        base_url: server.uri().parse().unwrap(),
        client_id: "spontra-client".into(),
        client_secret: Secret::new("amadeus_s3cr3t"),
    })
    .unwrap()
}

fn token_answer(token: &str, expires_in: u64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "type": "amadeusOAuth2Token",
        "username": "dev@spontra.example",
        "application_name": "spontra",
        "client_id": "spontra-client",
        "token_type": "Bearer",
        "access_token": token,
        "expires_in": expires_in,
        "state": "approved",
        "scope": ""
    }))
}

async fn token_endpoint(server: &MockServer, token: &str, expires_in: u64, times: u64) {
    Mock::given(method("POST"))
        .and(path("/v1/security/oauth2/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("client_id=spontra-client"))
        .and(body_string_contains("client_secret=amadeus_s3cr3t"))
        .respond_with(token_answer(token, expires_in))
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test]
async fn amadeus_searches_share_one_token_and_read_offers_as_documented() {
    let server = MockServer::start().await;
    token_endpoint(&server, "tok-1", 1799, 1).await;
    Mock::given(method("GET"))
        .and(path("/v2/shopping/flight-offers"))
        .and(header("Authorization", "Bearer tok-1"))
        .and(query_param("originLocationCode", "LHR"))
        .and(query_param("destinationLocationCode", "JFK"))
        .and(query_param("departureDate", "2026-12-18"))
        .and(query_param("returnDate", "2026-12-24"))
        .and(query_param("adults", "2"))
        .and(query_param("children", "1"))
        .and(query_param("travelClass", "ECONOMY"))
        .and(query_param("max", "250"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(AMADEUS_OFFERS, "application/vnd.amadeus+json"),
        )
        .expect(21)
        .mount(&server)
        .await;
    let client = Arc::new(amadeus(&server));
    let q = query(Some("2026-12-24"));
    // Twenty searches at one instant on a fresh client: one token asked for.
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let (client, q) = (client.clone(), q.clone());
            tokio::spawn(async move { client.search(&q, Duration::from_secs(10)).await })
        })
        .collect();
    for h in handles {
        assert_eq!(h.await.unwrap().unwrap().offers.len(), 2);
    }
    let got = client.search(&q, Duration::from_secs(10)).await.unwrap();
    assert_eq!(got.skipped.len(), 1);
    assert!(
        got.skipped[0].starts_with("offer 3: itineraries[0].segments[0].departure.at"),
        "{:?}",
        got.skipped
    );
    let codeshare = &got.offers[0];
    assert_eq!(codeshare.provider, "Amadeus");
    assert_eq!(codeshare.owner, carrier("BA"));
    assert_eq!(
        (codeshare.total.minor, codeshare.total.currency.as_str()),
        (65_512, "EUR")
    );
    assert_eq!(codeshare.seats_left, Some(4));
    assert_eq!(codeshare.slices.len(), 2);
    let out = &codeshare.slices[0].segments[0];
    assert_eq!(out.marketing.to_string(), "AA6135");
    assert_eq!(out.operating_carrier, carrier("BA"));
    assert_eq!(
        out.operating_number, None,
        "Amadeus names only the operating carrier"
    );
    assert_eq!(out.cabin, Some(Cabin::Economy));
    assert_eq!(codeshare.slices[0].fare_brand.as_deref(), Some("BASIC"));
    assert_eq!(
        codeshare.slices[1].segments[0].arriving_at.to_string(),
        "2026-12-25 06:30:00"
    );
    let connection = &got.offers[1];
    assert_eq!(connection.owner, carrier("EI"));
    assert_eq!(connection.slices[0].segments.len(), 2);
    assert_eq!(connection.slices[1].fare_brand.as_deref(), Some("SAVER"));
    // Non-stop asked: said so, and an answer's connections are dropped.
    let nonstop = OfferQuery {
        max_connections: 0,
        ..q.clone()
    };
    assert!(AmadeusClient::query(&nonstop).contains(&("nonStop", "true".to_string())));
}

#[tokio::test]
async fn an_amadeus_token_is_renewed_before_it_expires_and_when_refused() {
    // Tokens that expire within the renewal margin: a new one for every search.
    let server = MockServer::start().await;
    token_endpoint(&server, "short", 30, 2).await;
    Mock::given(method("GET"))
        .and(path("/v2/shopping/flight-offers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .expect(2)
        .mount(&server)
        .await;
    let client = amadeus(&server);
    for _ in 0..2 {
        client
            .search(&query(None), Duration::from_secs(5))
            .await
            .unwrap();
    }
    server.verify().await;

    // A token revoked early: the 401 brings one renewal and the search is asked again.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/security/oauth2/token"))
        .respond_with(token_answer("old", 1799))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/security/oauth2/token"))
        .respond_with(token_answer("new", 1799))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("Authorization", "Bearer old"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"errors": [
            {"code": 38192, "title": "Access token expired", "detail": "The access token provided in the Authorization header is expired", "status": 401}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("Authorization", "Bearer new"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(AMADEUS_OFFERS, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let got = amadeus(&server)
        .search(&query(None), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(got.offers.len(), 2);

    // Credentials refused: unauthorized, with Amadeus' reason and without the secret.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/security/oauth2/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client",
            "error_description": "Client credentials are invalid",
            "code": 38187,
            "title": "Invalid parameters"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let e = amadeus(&server)
        .search(&query(None), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "provider_unauthorized");
    assert!(
        e.to_string().contains("Client credentials are invalid"),
        "{e}"
    );
    assert!(!e.to_string().contains("amadeus_s3cr3t"));
}

#[tokio::test]
async fn amadeus_reads_are_retried_after_5xx_and_429() {
    let server = MockServer::start().await;
    token_endpoint(&server, "tok", 1799, 1).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"errors": [
            {"status": 503, "code": 141, "title": "SYSTEM ERROR HAS OCCURRED"}
        ]})))
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(json!({"errors": [{"status": 429, "code": 38194, "title": "Too many requests"}]})),
        )
        .up_to_n_times(1)
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(AMADEUS_OFFERS, "application/json"))
        .with_priority(3)
        .expect(1)
        .mount(&server)
        .await;
    let got = amadeus(&server)
        .search(&query(None), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(got.offers.len(), 2);
    server.verify().await;

    // Always failing: four attempts, then the last error.
    let server = MockServer::start().await;
    token_endpoint(&server, "tok", 1799, 1).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .expect(4)
        .mount(&server)
        .await;
    let e = amadeus(&server)
        .search(&query(None), Duration::from_secs(10))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        ProviderError::Upstream {
            provider: "Amadeus".into(),
            status: 502,
            detail: "bad gateway".into()
        }
    );
}
