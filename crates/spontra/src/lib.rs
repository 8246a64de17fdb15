//! The Spontra binary's library half: configuration, inventory loading, the HTTP app and the
//! CLI, so integration tests can build a real app and bind it to port 0.

pub mod accounts;
pub mod app;
pub mod application;
pub mod bench;
pub mod bench_buy_wait;
pub mod bench_ingest;
pub mod bench_insight;
pub mod bench_live;
pub mod cli;
pub mod config;
pub mod live;
pub mod market;
pub mod personal_data;
pub mod roll;
pub mod sim_providers;
pub mod store;
pub mod world;
