#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! The simulated provider network against the real provider clients: what SkyHub (Duffel's
//! format) and FareFinder (Amadeus') sell is the search service's itineraries of their
//! carriers, at their markup and fare brands, some also under codeshare numbers; merging both
//! providers' offers finds every itinerary sold exactly once (the injected fare-brand and
//! codeshare duplicates all fall together, and nothing else does); faults, rate limits and
//! credentials behave as the real APIs'.

mod support;

use chrono::NaiveDate;
use spontra::sim_providers::{self, Format, Running, SimProviderSettings};
use spontra_domain::{AirportCode, Cabin, Passengers};
use spontra_providers::amadeus::{AmadeusClient, AmadeusConfig};
use spontra_providers::duffel::{DuffelClient, DuffelConfig};
use spontra_providers::merge::{ItineraryKey, Merged};
use spontra_providers::{OfferQuery, Offers, Provider, Secret};
use spontra_search::dto::{ItineraryDto, SearchBody};
use spontra_search::SearchService;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

fn service() -> Arc<SearchService> {
    support::search_service()
}

fn client(r: &Running, s: &SimProviderSettings) -> Box<dyn Provider> {
    let base_url = r.base_url().parse().unwrap();
    match r.format {
        Format::Duffel => Box::new(
            DuffelClient::new(DuffelConfig {
                name: r.name.clone(),
                base_url,
                access_token: Secret::new(&s.access_token),
            })
            .unwrap(),
        ),
        Format::Amadeus => Box::new(
            AmadeusClient::new(AmadeusConfig {
                name: r.name.clone(),
                base_url,
                client_id: s.client_id.clone(),
                client_secret: Secret::new(&s.client_secret),
            })
            .unwrap(),
        ),
    }
}

fn query(origin: &str, destination: &str, depart: &str, back: Option<&str>) -> OfferQuery {
    OfferQuery {
        origin: AirportCode::parse(origin).unwrap(),
        destination: AirportCode::parse(destination).unwrap(),
        departure_date: depart.parse().unwrap(),
        return_date: back.map(|b| b.parse::<NaiveDate>().unwrap()),
        passengers: Passengers::one_adult(),
        cabin: Cabin::Economy,
        max_connections: 2,
        currency: None,
    }
}

/// The search service's own answer to `q` (what the providers sell from).
fn truth(svc: &SearchService, q: &OfferQuery) -> Vec<ItineraryDto> {
    let body = SearchBody {
        origin: Some(q.origin.to_string()),
        destination: Some(q.destination.to_string()),
        depart: Some(q.departure_date.to_string()),
        return_date: q.return_date.map(|d| d.to_string()),
        adults: Some(1),
        max_stops: Some(2),
        limit: Some(100),
        ..SearchBody::default()
    };
    svc.search(&svc.parse_search(&body).unwrap())
        .unwrap()
        .itineraries
}

fn key_of(it: &ItineraryDto) -> ItineraryKey {
    support::flown_key(it)
}

#[tokio::test]
async fn merging_both_providers_finds_each_itinerary_they_sell_once_at_their_prices() {
    let svc = service();
    let settings: Vec<SimProviderSettings> = SimProviderSettings::defaults()
        .into_iter()
        .map(SimProviderSettings::calm)
        .collect();
    let running = sim_providers::start(svc.clone(), settings.clone())
        .await
        .unwrap();
    let clients: Vec<Box<dyn Provider>> = running
        .iter()
        .zip(&settings)
        .map(|(r, s)| client(r, s))
        .collect();
    let (mut offers_seen, mut codeshares, mut itineraries_sold) = (0, 0, 0);
    let (mut true_positive, mut false_positive, mut missed) = (0, 0, 0);
    for q in [
        query("LHR", "SIN", "2026-12-10", None),
        query("LHR", "JFK", "2026-12-18", None),
        query("LHR", "JFK", "2026-12-18", Some("2026-12-24")),
        query("CDG", "LHR", "2026-12-05", None),
        query("FRA", "NYC", "2026-12-12", Some("2026-12-20")),
    ] {
        let truth = truth(&svc, &q);
        let mut merged = Merged::default();
        let mut sellers: HashMap<ItineraryKey, HashSet<String>> = HashMap::new();
        for (c, s) in clients.iter().zip(&settings) {
            let Offers { offers, skipped } = c.search(&q, Duration::from_secs(30)).await.unwrap();
            assert!(skipped.is_empty(), "{skipped:?}");
            let sold: Vec<&ItineraryDto> = truth
                .iter()
                .filter(|it| {
                    it.slices
                        .iter()
                        .flat_map(|s| &s.segments)
                        .all(|g| s.sells(&g.carrier))
                })
                .collect();
            let brands = s.brands();
            let mut codeshared: HashSet<ItineraryKey> = HashSet::new();
            // Every offer is a sold itinerary at the provider's markup and brand factor.
            let by_key: HashMap<ItineraryKey, &ItineraryDto> =
                sold.iter().map(|it| (key_of(it), *it)).collect();
            for o in &offers {
                let k = spontra_providers::merge::key(o);
                let it = by_key
                    .get(&k)
                    .expect("an offer of an itinerary the provider sells");
                let brand = o.slices[0].fare_brand.as_deref().unwrap();
                let factor = brands.iter().find(|(b, _)| *b == brand).unwrap().1;
                let expected = (it.price.minor as f64 * s.markup * factor).round() as i64;
                assert_eq!(o.total.minor, expected, "{} {brand}", o.id);
                assert_eq!(o.total.currency.as_str(), "EUR");
                let first = &o.slices[0].segments[0];
                if first.marketing.carrier != first.operating_carrier {
                    codeshares += 1;
                    codeshared.insert(k.clone());
                }
                sellers.entry(k).or_default().insert(s.name.clone());
            }
            // Each itinerary it sells as each brand, and those it also sells under a
            // codeshare number once more as each brand: no more, no less.
            assert_eq!(
                offers.len(),
                brands.len() * (sold.len() + codeshared.len()),
                "{} offers for {} sold, {} codeshared",
                offers.len(),
                sold.len(),
                codeshared.len()
            );
            offers_seen += offers.len();
            merged.add(offers, |m| Some(m.minor));
        }
        // Each itinerary sold by either provider exactly once, priced by those that sell it.
        let expected: HashSet<ItineraryKey> = truth
            .iter()
            .filter(|it| {
                settings.iter().any(|s| {
                    it.slices
                        .iter()
                        .flat_map(|sl| &sl.segments)
                        .all(|g| s.sells(&g.carrier))
                })
            })
            .map(key_of)
            .collect();
        itineraries_sold += expected.len();
        for it in merged.sorted() {
            if expected.contains(&it.key) {
                true_positive += 1;
            } else {
                false_positive += 1;
            }
            let providers: HashSet<String> = it.prices.iter().map(|p| p.provider.clone()).collect();
            assert_eq!(providers, sellers[&it.key]);
            assert!(it
                .prices
                .windows(2)
                .all(|w| w[0].cheapest.total_eur <= w[1].cheapest.total_eur));
        }
        missed += expected.iter().filter(|k| merged.get(k).is_none()).count();
    }
    eprintln!(
        "{offers_seen} offers ({codeshares} under codeshare numbers) → {true_positive} itineraries of {itineraries_sold} sold; {false_positive} split, {missed} missed"
    );
    assert!(
        itineraries_sold > 20 && codeshares > 0,
        "the sample exercises merging"
    );
    assert_eq!((false_positive, missed), (0, 0));
    assert_eq!(true_positive, itineraries_sold);
}

#[tokio::test]
async fn faults_rate_limits_and_credentials_are_the_real_apis() {
    let svc = service();
    let base = SimProviderSettings::defaults();
    let (duffel, amadeus) = (base[0].clone().calm(), base[1].clone().calm());
    let variants = vec![
        SimProviderSettings {
            error_rate: 1.0,
            ..duffel.clone()
        },
        SimProviderSettings {
            garbage_rate: 1.0,
            ..amadeus.clone()
        },
        SimProviderSettings {
            rate_limit_per_second: 1,
            ..duffel.clone()
        },
        SimProviderSettings {
            hang_rate: 1.0,
            ..amadeus.clone()
        },
    ];
    let running = sim_providers::start(svc, variants.clone()).await.unwrap();
    let q = query("LHR", "JFK", "2026-12-18", None);
    let ask = |i: usize, within: u64| {
        let c = client(&running[i], &variants[i]);
        let q = q.clone();
        async move { c.search(&q, Duration::from_secs(within)).await }
    };
    assert_eq!(ask(0, 10).await.unwrap_err().code(), "provider_failed");
    assert_eq!(ask(1, 10).await.unwrap_err().code(), "provider_malformed");
    // One a second: two at once, the second is told to come back in a second, and does.
    let started = std::time::Instant::now();
    let (a, b) = tokio::join!(ask(2, 10), ask(2, 10));
    assert!(a.is_ok() && b.is_ok());
    assert!(started.elapsed() >= Duration::from_secs(1));
    let hung = ask(3, 2).await.unwrap_err();
    assert!(hung.is_timeout(), "{hung}");
    // Wrong credentials: refused, as Duffel and Amadeus refuse them.
    let wrong = SimProviderSettings {
        access_token: "nope".into(),
        ..duffel
    };
    let e = client(&running[2], &wrong)
        .search(&q, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "provider_unauthorized");
    let wrong = SimProviderSettings {
        client_secret: "nope".into(),
        ..amadeus
    };
    let e = client(&running[1], &wrong)
        .search(&q, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "provider_unauthorized");
}
