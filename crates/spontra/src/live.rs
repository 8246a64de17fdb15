//! Live search's providers, as configuration names them: the `[[providers]]` (Duffel's or
//! Amadeus' API, wherever they are), and the simulated provider network started in this
//! process when `[simulated_providers] start` is on (the embedded default). The same clients
//! ask both: only the base URL differs.

use crate::config::{ProviderSettings, Settings};
use crate::sim_providers::{self, Format, Running};
use anyhow::Context;
use spontra_domain::SharedClock;
use spontra_providers::amadeus::{AmadeusClient, AmadeusConfig};
use spontra_providers::duffel::{DuffelClient, DuffelConfig};
use spontra_providers::fanout::{FanOut, Limits, Registered};
use spontra_providers::{Provider, Secret};
use spontra_search::live_search::{LiveSearches, ProviderLink, RedisRuns};
use spontra_search::SearchService;
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

/// Live search over the configured providers, and the simulated ones started here.
pub async fn assemble(
    settings: &Settings,
    search: &Arc<SearchService>,
    clock: SharedClock,
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
    let mut live = LiveSearches::new(
        FanOut::new(registered),
        links,
        settings.live.clone(),
        crate::world::refdata()?,
        clock,
    );
    if let Some(url) = &settings.cache.redis_url {
        let redis = RedisRuns::new(url, &settings.cache.key_prefix).map_err(|e| {
            anyhow::anyhow!("cache.redis_url {}: {e}", crate::config::redact_url(url))
        })?;
        live = live.with_l2(Arc::new(redis));
    }
    Ok((Arc::new(live), running))
}
