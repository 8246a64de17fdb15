//! Live search's providers, as configuration names them: the `[[providers]]` (Duffel's or
//! Amadeus' API, wherever they are), and the simulated provider network started in this
//! process when `[simulated_providers] start` is on (the embedded default). The same clients
//! ask both: only the base URL differs.

use crate::config::{ProviderSettings, Settings};
use crate::sim_providers::{self, Format, Running};
use anyhow::Context;
use chrono::NaiveDate;
use spontra_domain::CarrierCode;
use spontra_domain::SharedClock;
use spontra_events::Bus;
use spontra_ingest::feed::{quote_event, LiveQuote};
use spontra_ingest::worker::RAW;
use spontra_providers::amadeus::{AmadeusClient, AmadeusConfig};
use spontra_providers::duffel::{DuffelClient, DuffelConfig};
use spontra_providers::fanout::{FanOut, Limits, Registered};
use spontra_providers::{Offer, OfferQuery};
use spontra_providers::{Provider, Secret};
use spontra_refdata::RefData;
use spontra_search::live_search::{LiveSearches, ProviderLink, QuoteSink, RedisRuns};
use spontra_search::SearchService;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A provider client for `p`.
pub fn client(p: &ProviderSettings) -> anyhow::Result<Arc<dyn Provider>> {
    let base_url = url::Url::parse(&p.base_url)
        .with_context(|| format!("provider {}: base_url {:?}", p.name, p.base_url))?;
    Ok(match p.format {
        Format::Duffel => Arc::new(DuffelClient::new(DuffelConfig {
            name: p.name.clone(),
            base_url,
            access_token: Secret::new(p.access_token.clone()),
        })?),
        Format::Amadeus => Arc::new(AmadeusClient::new(AmadeusConfig {
            name: p.name.clone(),
            base_url,
            client_id: p.client_id.clone(),
            client_secret: Secret::new(p.client_secret.clone()),
        })?),
    })
}

/// How live search reaches a running simulated provider (its own credentials, its booking
/// page as the deep link).
pub fn simulated(running: &Running, sim: &sim_providers::SimProviderSettings) -> ProviderSettings {
    ProviderSettings {
        name: running.name.clone(),
        format: running.format,
        base_url: running.base_url(),
        access_token: sim.access_token.clone(),
        client_id: sim.client_id.clone(),
        client_secret: sim.client_secret.clone(),
        deadline_seconds: 20,
        concurrency: 16,
        deep_link: Some(format!("{}book/{{offer_id}}", running.base_url())),
    }
}

/// Live quotes to `provider.raw`: for each flight quoted alone (one way, one flight, adults
/// only — the unit the inventory and price history keep), each provider's cheapest fare, as a
/// [`LiveQuote`] event from `/live/{provider}` at market time.
pub struct StreamQuotes {
    pub bus: Arc<dyn Bus>,
    pub refdata: Arc<RefData>,
    pub clock: SharedClock,
}

impl StreamQuotes {
    /// The quotes `offers` give for `query`, cheapest per provider and flight.
    pub fn quotes_of(&self, query: &OfferQuery, offers: &[Offer]) -> Vec<(String, LiveQuote)> {
        let p = query.passengers;
        if query.return_date.is_some() || p.children() > 0 || p.infants() > 0 {
            return vec![];
        }
        let mut cheapest: HashMap<(String, CarrierCode, u16, NaiveDate), &Offer> = HashMap::new();
        for o in offers {
            let [slice] = o.slices.as_slice() else {
                continue;
            };
            let [g] = slice.segments.as_slice() else {
                continue;
            };
            let (carrier, Some(number), date) = g.flown() else {
                continue;
            };
            let e = cheapest
                .entry((o.provider.clone(), carrier, number, date))
                .or_insert(o);
            if o.total.minor < e.total.minor {
                *e = o;
            }
        }
        cheapest
            .into_iter()
            .filter_map(|((provider, carrier, number, date), o)| {
                let g = &o.slices[0].segments[0];
                let tz = self.refdata.airport(g.origin)?.tz;
                let at = g.departing_at.and_local_timezone(tz).earliest()?;
                let source: String = provider
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect::<String>()
                    .to_lowercase();
                Some((
                    format!("/live/{source}"),
                    LiveQuote {
                        provider,
                        offer_id: o.id.clone(),
                        carrier: carrier.to_string(),
                        flight_number: number.to_string(),
                        origin: g.origin.to_string(),
                        destination: g.destination.to_string(),
                        departure_date: date.to_string(),
                        departing_at: at
                            .with_timezone(&chrono::Utc)
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        cabin: query.cabin.as_str().to_string(),
                        total_amount: o.total.decimal(),
                        total_currency: o.total.currency.to_string(),
                        adults: u32::from(p.adults()),
                        available_seats: o.seats_left.map(i64::from),
                    },
                ))
            })
            .collect()
    }
}

impl QuoteSink for StreamQuotes {
    fn quotes(&self, query: &OfferQuery, offers: Vec<Offer>) {
        let now = self.clock.now();
        let messages: Vec<_> = self
            .quotes_of(query, &offers)
            .iter()
            .map(|(source, q)| {
                let id = uuid::Uuid::new_v4().simple().to_string();
                quote_event(source, &id, now, q)
                    .to_message(format!("{}-{}", q.origin, q.destination))
            })
            .collect();
        if messages.is_empty() {
            return;
        }
        let bus = self.bus.clone();
        tokio::spawn(async move {
            if let Err(e) = bus.publish(RAW, messages).await {
                tracing::warn!(error = %e, "live quotes not published");
            }
        });
    }
}

/// Live search over the configured providers, and the simulated ones started here; with
/// `bus`, its quotes go to `provider.raw`.
pub async fn assemble(
    settings: &Settings,
    search: &Arc<SearchService>,
    clock: SharedClock,
    bus: Option<Arc<dyn Bus>>,
) -> anyhow::Result<(Arc<LiveSearches>, Vec<Running>)> {
    let mut providers = settings.providers.clone();
    let mut running = vec![];
    let sims = &settings.simulated_providers;
    if sims.start && !sims.providers.is_empty() {
        running = sim_providers::start(search.clone(), sims.providers.clone()).await?;
        for (r, s) in running.iter().zip(&sims.providers) {
            providers.push(simulated(r, s));
        }
    }
    let mut registered = vec![];
    let mut links = vec![];
    for p in &providers {
        anyhow::ensure!(
            !links.iter().any(|l: &ProviderLink| l.name == p.name),
            "two providers are named {:?}",
            p.name
        );
        registered.push(Registered::new(
            client(p)?,
            Limits {
                deadline: Duration::from_secs(p.deadline_seconds),
                concurrency: p.concurrency.max(1),
                ..Limits::default()
            },
        ));
        links.push(ProviderLink {
            name: p.name.clone(),
            deep_link: p.deep_link.clone(),
        });
    }
    let refdata = crate::world::refdata()?;
    let mut live = LiveSearches::new(
        FanOut::new(registered),
        links,
        settings.live.clone(),
        refdata.clone(),
        clock.clone(),
    );
    if let Some(bus) = bus {
        live = live.with_sink(Arc::new(StreamQuotes {
            bus,
            refdata,
            clock,
        }));
    }
    if let Some(url) = &settings.cache.redis_url {
        let redis = RedisRuns::new(url, &settings.cache.key_prefix).map_err(|e| {
            anyhow::anyhow!("cache.redis_url {}: {e}", crate::config::redact_url(url))
        })?;
        live = live.with_l2(Arc::new(redis));
    }
    Ok((Arc::new(live), running))
}
