//! The simulated market's provider feeds (the `market` service): what providers would send
//! about the world's flights, published to `provider.raw` as they would send it.
//!
//! Every tick (a tenth of a second) the feed picks `events_per_second / 10` of the world's
//! dated legs, works out each one's economy fare and seats at the market clock's time with
//! `sim::market` (the flight's base fare is the world's fare for it), and publishes them as
//! the provider that sells the carrier would: carriers are split between two simulated
//! providers, `/providers/skyhub` (Duffel's vocabulary) and `/providers/farefinder` (Amadeus'),
//! and a third of them are sold by both. A share `fault_rate` of what is sent carries the faults
//! real feeds carry: a message sent twice, one delivered late (observed minutes before), JSON
//! cut short, an unknown airport, a zero price, an unknown currency, a departure already gone,
//! an unknown schema version. A sold-out cabin is not reported.

use crate::world::World;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use spontra_domain::SharedClock;
use spontra_events::Bus;
use spontra_ingest::feed::{event_for, AMADEUS_FARE_V1, DUFFEL_FARE_V1};
use spontra_ingest::worker::RAW;
use spontra_sim::market::{flight_id, FlightMarket};
use spontra_sim::rng::{code3, unit};
use spontra_store::FareObservation;
use std::sync::Arc;

/// `[market]` settings.
#[derive(Debug, Clone, Deserialize)]
pub struct MarketSettings {
    /// Market time runs this many times as fast as real time (`--market-speed 60`: a market
    /// hour per real minute).
    #[serde(default = "one")]
    pub speed: f64,
    /// Fare observations the providers send per (real) second.
    #[serde(default = "events_per_second")]
    pub events_per_second: u32,
    /// Share of messages that carry a fault.
    #[serde(default = "fault_rate")]
    pub fault_rate: f64,
}

fn one() -> f64 {
    1.0
}
fn events_per_second() -> u32 {
    200
}
fn fault_rate() -> f64 {
    0.02
}

impl Default for MarketSettings {
    fn default() -> Self {
        MarketSettings {
            speed: one(),
            events_per_second: events_per_second(),
            fault_rate: fault_rate(),
        }
    }
}

/// Seats in an economy cabin (the world's legs keep only a capped count of seats left).
const ECONOMY_SEATS: u16 = 180;

/// Which simulated providers sell `carrier`: (Duffel-shaped, Amadeus-shaped).
pub fn providers_of(carrier: &str) -> (bool, bool) {
    match code3(carrier) % 3 {
        0 => (true, false),
        1 => (false, true),
        _ => (true, true),
    }
}

pub struct MarketFeed {
    pub world: Arc<World>,
    pub bus: Arc<dyn Bus>,
    pub clock: SharedClock,
    pub settings: MarketSettings,
    pub seed: u64,
}

impl MarketFeed {
    /// What providers would report now about leg `id`, if it is on sale and not sold out
    /// (the same for every provider: the caller names the source and event).
    fn observe(&self, id: u32, now: DateTime<Utc>) -> Option<FareObservation> {
        let index = &self.world.index;
        let leg = index.leg(id);
        let view = index.leg_view(id);
        let departure_at = DateTime::<Utc>::from_timestamp(view.departure * 60, 0)?;
        let days = (departure_at - now).num_seconds() as f64 / 86_400.0;
        if days <= 0.0 {
            return None;
        }
        let local = departure_at + Duration::minutes(view.departure_offset as i64);
        let market = FlightMarket {
            id: flight_id(
                self.seed,
                code3(view.carrier.as_str()),
                view.flight_number,
                local
                    .date_naive()
                    .signed_duration_since(chrono::NaiveDate::default())
                    .num_days(),
                0,
            ),
            base_cents: leg.fare as f64,
            capacity: ECONOMY_SEATS,
        };
        let state = market.state(days);
        Some(FareObservation {
            source: String::new(),
            event_id: String::new(),
            carrier: view.carrier.as_str().to_string(),
            flight_number: view.flight_number,
            departure_date: local.date_naive(),
            origin: view.origin.as_str().to_string(),
            destination: view.destination.as_str().to_string(),
            cabin: "economy".into(),
            fare_minor: state.fare_cents? as i64,
            currency: index.currency().as_str().to_string(),
            seats_left: state.seats_left as i32,
            departure_at,
            observed_at: now,
        })
    }

    /// The messages of tick `tick` at market time `now`.
    pub fn tick(&self, tick: u64, now: DateTime<Utc>) -> Vec<spontra_events::Message> {
        let per_tick = (self.settings.events_per_second / 10).max(1) as u64;
        let legs = self.world.index.leg_count() as u64;
        let mut out = vec![];
        if legs == 0 {
            return out;
        }
        for i in 0..per_tick {
            let leg = (unit(&[self.seed, tick, i, 1]) * legs as f64) as u32;
            let Some(observed) = self.observe(leg, now) else {
                continue;
            };
            let (duffel, amadeus) = providers_of(&observed.carrier);
            for (sells, type_, source) in [
                (duffel, DUFFEL_FARE_V1, "/providers/skyhub"),
                (amadeus, AMADEUS_FARE_V1, "/providers/farefinder"),
            ] {
                if !sells {
                    continue;
                }
                let o = FareObservation {
                    source: source.to_string(),
                    event_id: format!("{tick}-{i}"),
                    ..observed.clone()
                };
                let fault = unit(&[self.seed, tick, i, 2]) < self.settings.fault_rate;
                out.extend(self.messages(type_, o, fault.then(|| unit(&[self.seed, tick, i, 3]))));
            }
        }
        out
    }

    /// `o` as `type_`'s provider sends it, with the fault `which` picks (if any).
    fn messages(
        &self,
        type_: &str,
        mut o: FareObservation,
        which: Option<f64>,
    ) -> Vec<spontra_events::Message> {
        let key = format!("{}-{}", o.origin, o.destination);
        let Some(which) = which else {
            return vec![event_for(type_, &o).to_message(key)];
        };
        let mut event = event_for(type_, &o);
        match (which * 8.0) as u32 {
            0 => return vec![event.to_message(key.clone()), event.to_message(key)],
            1 => {
                o.observed_at -= Duration::minutes(1 + (which * 997.0) as i64 % 120);
                event = event_for(type_, &o);
            }
            2 => event.data.truncate(event.data.len() / 2),
            3 => {
                o.origin = "XQX".into();
                event = event_for(type_, &o);
            }
            4 => {
                o.fare_minor = 0;
                event = event_for(type_, &o);
            }
            5 => {
                o.currency = "XYZ".into();
                event = event_for(type_, &o);
            }
            6 => {
                o.departure_at = o.observed_at - Duration::hours(3);
                o.departure_date = o.departure_at.date_naive();
                event = event_for(type_, &o);
            }
            _ => event.type_ = event.type_.replace(".v1", ".v9"),
        }
        vec![event.to_message(key)]
    }

    /// Publish a tick every tenth of a second until `stop`.
    pub async fn run(&self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut every = tokio::time::interval(std::time::Duration::from_millis(100));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut tick = 0u64;
        while !*stop.borrow() {
            tokio::select! {
                _ = every.tick() => {}
                _ = stop.changed() => break,
            }
            let messages = self.tick(tick, self.clock.now());
            tick += 1;
            if let Err(e) = self.bus.publish(RAW, messages).await {
                tracing::warn!(error = %e, "the market could not publish; it goes on");
            }
        }
    }
}
