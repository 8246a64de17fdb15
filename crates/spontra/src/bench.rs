//! `spontra bench`: engine latency percentiles and index memory on a loaded world.

use crate::cli::WorldArgs;
use anyhow::{bail, Context};
use chrono::{Days, NaiveDate};
use clap::Args;
use spontra_domain::{AirportCode, DateRange};
use spontra_engine::{Filters, Index, SliceQuery};
use spontra_refdata::RefData;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    what: Option<BenchWhat>,
    /// CSV of `origin,destination,date` (date as YYYY-MM-DD or +N days from today).
    #[arg(long)]
    queries: Option<PathBuf>,
    /// Write a query file of popular airport pairs instead of benchmarking.
    #[arg(long)]
    write_queries: Option<PathBuf>,
    #[arg(long, default_value_t = 1000)]
    count: usize,
    /// Origins used for the explore benchmarks and queries used for calendars.
    #[arg(long, default_value_t = 50)]
    samples: usize,
    #[command(flatten)]
    world: WorldArgs,
}

#[derive(clap::Subcommand)]
enum BenchWhat {
    /// Ingestion end to end on the embedded profile: events per second from the provider
    /// topic to the store and the change stream.
    Ingest(crate::bench_ingest::IngestBenchArgs),
    /// The buy-or-wait model's backtest on the simulated market: simulated travellers who
    /// follow the advice against buying at arrival.
    BuyWait(crate::bench_buy_wait::BuyWaitArgs),
    /// Price insights on a month of history: the low / typical / high label against the
    /// market's true bands, and how fast insights are answered.
    Insight(crate::bench_insight::InsightBenchArgs),
    /// Live search on the simulated provider network over HTTP: first results, offers by
    /// 10 s, de-duplication, cache hits, one call per provider for a crowd.
    Live(crate::bench_live::LiveBenchArgs),
}

pub(crate) struct Query {
    pub(crate) origins: Vec<u16>,
    pub(crate) destinations: Vec<u16>,
    pub(crate) date: NaiveDate,
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(crate) fn report(name: &str, mut micros: Vec<f64>) {
    micros.sort_by(f64::total_cmp);
    let mean = micros.iter().sum::<f64>() / micros.len().max(1) as f64;
    println!(
        "{name:<34} n={:<5} p50={:>9.3} ms  p90={:>9.3} ms  p99={:>9.3} ms  max={:>9.3} ms  mean={:>9.3} ms",
        micros.len(),
        percentile(&micros, 0.5) / 1000.0,
        percentile(&micros, 0.9) / 1000.0,
        percentile(&micros, 0.99) / 1000.0,
        micros.last().copied().unwrap_or(0.0) / 1000.0,
        mean / 1000.0
    );
}

/// A scratch directory's path, unique to this run, under the system's temporary directory
/// (not created).
pub(crate) fn scratch_dir(what: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "spontra-bench-{what}-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ))
}

pub(crate) fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace()
        .nth(1)?
        .parse::<u64>()
        .ok()
        .map(|kb| kb * 1024)
}

pub(crate) fn read_queries(
    path: &PathBuf,
    refdata: &RefData,
    index: &Index,
    today: NaiveDate,
) -> anyhow::Result<Vec<Query>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = vec![];
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || (n == 1 && line.starts_with("origin")) {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() != 3 {
            bail!("{}:{n}: expected origin,destination,date", path.display());
        }
        let place = |field: &str, s: &str| -> anyhow::Result<Vec<u16>> {
            let code = AirportCode::parse(s)
                .map_err(|e| anyhow::anyhow!("{}:{n}, field {field}: {e}", path.display()))?;
            let p = refdata.place(code).with_context(|| {
                format!(
                    "{}:{n}, field {field}: unknown airport {code}",
                    path.display()
                )
            })?;
            Ok(p.airports()
                .into_iter()
                .filter_map(|a| index.airport_id(a))
                .collect())
        };
        let date = match f[2].strip_prefix('+') {
            Some(d) => {
                today
                    + Days::new(d.parse::<u64>().with_context(|| {
                        format!("{}:{n}, field date: {:?}", path.display(), f[2])
                    })?)
            }
            None => NaiveDate::parse_from_str(f[2], "%Y-%m-%d").with_context(|| {
                format!(
                    "{}:{n}, field date: {:?} is not YYYY-MM-DD or +N",
                    path.display(),
                    f[2]
                )
            })?,
        };
        out.push(Query {
            origins: place("origin", f[0])?,
            destinations: place("destination", f[1])?,
            date,
        });
    }
    Ok(out)
}

/// Popular pairs: airports drawn in proportion to their departures.
fn write_queries(path: &PathBuf, index: &Index, count: usize, seed: u64) -> anyhow::Result<()> {
    let weights: Vec<(u16, u64)> = (0..index.airport_count() as u16)
        .map(|a| {
            (
                a,
                index
                    .routes_from(a)
                    .iter()
                    .map(|r| (r.end - r.start) as u64)
                    .sum(),
            )
        })
        .filter(|(_, w)| *w > 0)
        .collect();
    let total: u64 = weights.iter().map(|w| w.1).sum();
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state >> 11
    };
    let pick = |next: &mut dyn FnMut() -> u64| {
        let mut x = next() % total.max(1);
        for (a, w) in &weights {
            if x < *w {
                return *a;
            }
            x -= w;
        }
        weights[0].0
    };
    let mut text = String::from("origin,destination,date\n");
    let mut n = 0;
    while n < count {
        let (o, d) = (pick(&mut next), pick(&mut next));
        if o == d
            || index
                .airport_city(o)
                .is_some_and(|c| index.airport_city(d) == Some(c))
        {
            continue;
        }
        let days = 1 + next() % 30;
        text.push_str(&format!(
            "{},{},+{days}\n",
            index.airport_code(o),
            index.airport_code(d)
        ));
        n += 1;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    match args.what {
        Some(BenchWhat::Ingest(a)) => return crate::bench_ingest::run(a),
        Some(BenchWhat::BuyWait(a)) => return crate::bench_buy_wait::run(a),
        Some(BenchWhat::Insight(a)) => return crate::bench_insight::run(a),
        Some(BenchWhat::Live(a)) => return crate::bench_live::run(a),
        None => {}
    }
    let started = Instant::now();
    let w = args.world.load()?;
    let load_ms = started.elapsed().as_millis();
    let index = &w.index;
    if let Some(path) = &args.write_queries {
        write_queries(path, index, args.count, args.world.seed)?;
        println!("wrote {} queries to {}", args.count, path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let Some(path) = &args.queries else {
        bail!("give --queries FILE (or --write-queries FILE to make one)");
    };
    let queries = read_queries(path, &w.refdata, index, w.today)?;
    println!("inventory: {}", w.description);
    println!(
        "index: {} legs, {} routes, {} bytes in the hot index = {:.1} bytes per dated leg (leg record {} bytes); process RSS {:.0} MiB; load {} ms",
        index.leg_count(),
        index.route_count(),
        index.memory_bytes(),
        index.memory_bytes() as f64 / index.leg_count().max(1) as f64,
        spontra_engine::LEG_BYTES,
        rss_bytes().unwrap_or(0) as f64 / 1048576.0,
        load_ms
    );
    let filters = Filters::default();
    // Warm up caches and the scratch space.
    for q in queries.iter().take(20) {
        let _ = index.search_trip(
            &[SliceQuery {
                origins: q.origins.clone(),
                destinations: q.destinations.clone(),
                date: q.date,
            }],
            &filters,
        );
    }
    let mut p2p = vec![];
    let mut results = 0usize;
    for q in &queries {
        let s = SliceQuery {
            origins: q.origins.clone(),
            destinations: q.destinations.clone(),
            date: q.date,
        };
        let t = Instant::now();
        let r = index.search_trip(std::slice::from_ref(&s), &filters);
        p2p.push(t.elapsed().as_secs_f64() * 1e6);
        results += r.len();
    }
    report("point-to-point, <=2 stops", p2p);
    println!(
        "{:<34} mean {:.1} itineraries per query",
        "",
        results as f64 / queries.len().max(1) as f64
    );
    let mut origins: Vec<Vec<u16>> = vec![];
    for q in &queries {
        if !origins.contains(&q.origins) {
            origins.push(q.origins.clone());
        }
        if origins.len() >= args.samples {
            break;
        }
    }
    let day = w.today + Days::new(7);
    for (name, days, stops) in [
        ("explore 1 day, <=1 stop", 1u64, 1u8),
        ("explore 7 days, <=1 stop", 7, 1),
        ("explore 1 day, 2-4 h, direct+1", 1, 1),
    ] {
        let mut f = Filters {
            max_stops: stops,
            ..Filters::default()
        };
        if name.contains("2-4 h") {
            f.duration_range = spontra_domain::HoursRange::from_hours(2.0, 4.0).ok();
        }
        let range =
            DateRange::new(day, day + Days::new(days - 1), 31).unwrap_or(DateRange::single(day));
        let mut times = vec![];
        for o in &origins {
            let t = Instant::now();
            let hits = index.explore(o, range, &f);
            times.push(t.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(hits);
        }
        report(name, times);
    }
    let mut cal = vec![];
    for q in queries.iter().take(args.samples) {
        let s = SliceQuery {
            origins: q.origins.clone(),
            destinations: q.destinations.clone(),
            date: w.today,
        };
        let range = DateRange::new(w.today + Days::new(1), w.today + Days::new(31), 31)
            .unwrap_or(DateRange::single(w.today));
        let t = Instant::now();
        std::hint::black_box(index.calendar(&s, &filters, range));
        cal.push(t.elapsed().as_secs_f64() * 1e6);
    }
    report("calendar, 31 days", cal);
    if args.world.schedule.is_none() {
        far_days(&args.world, &w.refdata, &queries, w.today)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The horizon beyond the live window: a week of far-off days generated (as the first search
/// of it does), its size, and point-to-point searches on it.
fn far_days(
    world: &WorldArgs,
    refdata: &Arc<RefData>,
    queries: &[Query],
    today: NaiveDate,
) -> anyhow::Result<()> {
    use spontra_search::horizon::FarDays;
    let scale = crate::world::scale(&world.scale)?;
    let far = crate::world::FarWorld::new(refdata.clone(), scale, world.seed);
    let first = today + Days::new(200);
    let t = Instant::now();
    // The first block also builds the network; the next one shows a block alone.
    let _ = far.build(today, first - Days::new(7), first - Days::new(1));
    let network_and_block_ms = t.elapsed().as_millis();
    let mut builds = vec![];
    let mut block = None;
    for _ in 0..3 {
        let t = Instant::now();
        block = Some(far.build(today, first, first + Days::new(6)));
        builds.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let block = block.context("a block")?;
    println!(
        "far days: a week from +200 days, {} legs, {:.1} MB; first block with the network {} ms",
        block.leg_count(),
        block.memory_bytes() as f64 / 1e6,
        network_and_block_ms
    );
    report("far days: a week's block built", builds);
    let filters = Filters::default();
    let mut p2p = vec![];
    for q in queries {
        let s = SliceQuery {
            origins: q.origins.clone(),
            destinations: q.destinations.clone(),
            date: first + Days::new((q.date - today).num_days().rem_euclid(5) as u64 + 1),
        };
        let t = Instant::now();
        std::hint::black_box(block.search_trip(std::slice::from_ref(&s), &filters));
        p2p.push(t.elapsed().as_secs_f64() * 1e6);
    }
    report("far days: point-to-point", p2p);
    println!(
        "{:<34} process RSS {:.0} MiB",
        "",
        rss_bytes().unwrap_or(0) as f64 / 1048576.0
    );
    Ok(())
}
