#![allow(clippy::unwrap_used, clippy::expect_used)] // test and benchmark code may panic
//! Print the figures of a generated world: `cargo run --release -p spontra-sim --example worldstats -- full`
fn main() {
    let scale = std::env::args()
        .nth(1)
        .and_then(|s| spontra_sim::Scale::parse(&s))
        .unwrap_or(spontra_sim::Scale::Full);
    let refdata = match spontra_refdata::RefData::load() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let start = chrono::Utc::now().date_naive();
    let (index, stats) =
        spontra_sim::generate(&refdata, &spontra_sim::WorldConfig::new(start, scale));
    println!("{stats:?}");
    println!(
        "routes {} legs {} memory {} bytes ({:.1} per leg)",
        index.route_count(),
        index.leg_count(),
        index.memory_bytes(),
        index.memory_bytes() as f64 / index.leg_count().max(1) as f64
    );
}
