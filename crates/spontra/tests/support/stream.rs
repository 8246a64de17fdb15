//! An instance that ingests provider reports and prices them, with the event stream the test
//! publishes to: on SQLite the embedded log beside the database; on PostgreSQL a
//! Kafka-protocol broker (tansu) started for the test.

use super::{spawn_app_with, Backend, Instance};
use spontra::config::{ServiceName, Settings};
use spontra_events::embedded::{beside, EmbeddedLog};
use spontra_events::kafka::Kafka;
use spontra_events::testing::Broker;
use spontra_events::{Bus, Message};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Streamed {
    pub app: Instance,
    pub bus: Arc<dyn Bus>,
    brokers: Option<String>,
    _broker: Option<Broker>,
}

impl Streamed {
    /// An instance running `services` (ingestion and pricing among them), its settings tuned
    /// by `tune`; `None` when PostgreSQL is asked for and `SPONTRA_TEST_DATABASE_URL` is unset.
    pub async fn start(
        backend: Backend,
        services: Vec<ServiceName>,
        tune: impl FnOnce(&mut Settings),
    ) -> Option<Streamed> {
        let broker = (backend == Backend::Postgres
            && std::env::var("SPONTRA_TEST_DATABASE_URL").is_ok())
        .then(Broker::start);
        let brokers = broker.as_ref().map(|b| b.address.clone());
        let kafka = brokers
            .as_ref()
            .map(|b| Kafka::connect(b).expect("kafka client"));
        if let Some(kafka) = &kafka {
            // The topics first, as an operator creates them: tansu 0.6 can leave a client's
            // topic creation unanswered while other clients create the same topics.
            for topic in [
                "provider.raw",
                "price.observed",
                "price.dead_letter",
                "search.performed",
                "search.dead_letter",
            ] {
                kafka.total_lag(topic, "setup").await.expect("topic"); // creates the topic
            }
        }
        let app = spawn_app_with(backend, |s| {
            s.server.services = services;
            s.events.kafka_brokers = brokers.clone();
            tune(s);
        })
        .await?;
        let bus: Arc<dyn Bus> = match kafka {
            Some(kafka) => Arc::new(kafka),
            None => Arc::new(
                EmbeddedLog::open(&beside(&app.settings.database.url))
                    .await
                    .expect("the embedded log"),
            ),
        };
        Some(Streamed {
            app,
            bus,
            brokers,
            _broker: broker,
        })
    }

    pub async fn publish(&self, topic: &str, messages: Vec<Message>) {
        match &self.brokers {
            // A client of its own each time: tansu 0.6 stopped acknowledging a producer
            // connected before the instance's consumers joined (a fresh one is acknowledged).
            Some(b) => Kafka::connect(b)
                .expect("kafka client")
                .publish(topic, messages)
                .await
                .expect("publish"),
            None => self.bus.publish(topic, messages).await.expect("publish"),
        }
    }

    /// Until ingestion and pricing have committed everything published, and `price.observed`
    /// holds more than `observed` records.
    pub async fn caught_up(&self, observed: i64) {
        let bus = self.bus.as_ref();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            // A broker that does not answer in time is asked again.
            let raw = bus.total_lag("provider.raw", "ingest").await.unwrap_or(-1);
            let lag = bus
                .total_lag("price.observed", "pricing")
                .await
                .unwrap_or(-1);
            let end: i64 = bus
                .lag("price.observed", "pricing")
                .await
                .map(|l| l.iter().map(|p| p.end).sum())
                .unwrap_or(0);
            if raw == 0 && lag == 0 && end > observed {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "not caught up: raw {raw}, observed {lag}, end {end}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
