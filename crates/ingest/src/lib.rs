//! The ingest service: consumes `provider.raw`, validates and normalises each provider event
//! ([`feed`]), applies it once in effect to the inventory store and the price observations,
//! publishes `price.observed` and `inventory.changed`, and sends what it cannot accept to
//! `provider.dead_letter` with the reason (code and field) and the original message; the
//! consumer never stops on bad input ([`worker`]).

pub mod feed;
pub mod routes;
pub mod status;
pub mod worker;

pub use feed::Rejection;
pub use worker::{BatchStats, IngestError, Ingestor};
