//! `spontra bench insight`: the low / typical / high label against the simulated market's
//! true price bands, and how fast insights are answered on a month of history.
//!
//! **History.** For routes of the world (those flown every weekday), every departure from a
//! month ago to `--ahead` days out is observed once a day at noon for the last `--history-days` days,
//! as a feed reporting the route's lowest economy fare would be: one price per route,
//! departure and day, recorded through the store's own `record_prices` (so the roll-ups are
//! the ones pricing keeps), in a scratch SQLite file or the PostgreSQL database given.
//!
//! **Speed.** Random departures of those routes are asked through [`PricingService`] as the
//! API asks it: the metrics with a price to label, the 60-day history graph, and the labels
//! of a month's 31 days at once (a calendar). Percentiles of each.
//!
//! **Agreement.** Held-out prices: for a random route and departure date, a departure within
//! three days of it and an instant of the observed month drawn at random (not the noon
//! observations the store holds), the lowest fare on sale then, from the market's own
//! process. Its label from the service is compared with its label against the market's true
//! band: the quartiles of the route's lowest fare every hour of the same month for the
//! departures within three days of the date (the sample the typical range stands for).

use crate::bench::percentile;
use crate::bench_buy_wait::{on_sale, routes, RouteFlights};
use crate::cli::WorldArgs;
use anyhow::Context;
use chrono::{Days, NaiveDate, TimeZone, Utc};
use clap::Args;
use spontra_domain::{CurrencyCode, FixedClock};
use spontra_http::Display;
use spontra_pricing::dto::{LabelsBody, PriceLabel, PriceToLabel};
use spontra_pricing::insight::{quartiles, Label};
use spontra_pricing::service::{DepartureQuery, RouteQuery};
use spontra_pricing::PricingService;
use spontra_sim::rng::unit;
use spontra_store::{FlightPrice, PriceStore, RouteCabin};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

#[derive(Args)]
pub struct InsightBenchArgs {
    /// Routes whose history is loaded (the busiest first, then every n-th; 0: every route
    /// flown every weekday).
    #[arg(long, default_value_t = 2_000)]
    routes: usize,
    /// Days of history up to today.
    #[arg(long, default_value_t = 30)]
    history_days: u64,
    /// Departures up to this many days after today are observed.
    #[arg(long, default_value_t = 60)]
    ahead: u64,
    /// Timed queries of each kind.
    #[arg(long, default_value_t = 2_000)]
    queries: usize,
    /// Held-out prices whose labels are checked against the market's true bands.
    #[arg(long, default_value_t = 5_000)]
    sample: usize,
    /// A PostgreSQL database to load into (its pricing tables get the history); default a
    /// scratch SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    /// Seed of the queries' and the sample's draws.
    #[arg(long, default_value_t = 7)]
    draw_seed: u64,
    #[command(flatten)]
    world: WorldArgs,
}

/// A route's lowest fare and its flight's seats (`None`: nothing on sale).
type Lowest = Option<(i64, u16)>;

/// The synthetic flight the route's lowest fare is reported as.
const LOWEST: (&str, u16) = ("ZZ", 1);
/// Prices per `record_prices` call (one transaction).
const BATCH: usize = 5_000;
/// Departure dates either side of a date whose prices form its band.
const SPREAD: i64 = 3;

fn economy(route: &RouteFlights) -> RouteCabin {
    RouteCabin {
        origin: route.origin.clone(),
        destination: route.destination.clone(),
        cabin: "economy".into(),
    }
}

fn euros() -> anyhow::Result<Display> {
    Ok(Display {
        currency: CurrencyCode::parse("EUR").context("EUR")?,
        rate: None,
    })
}

fn decimal(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn print_timings(name: &str, mut micros: Vec<f64>) {
    micros.sort_by(f64::total_cmp);
    println!(
        "{name:<28} n={:<5} p50={:>7.2} ms  p95={:>7.2} ms  p99={:>7.2} ms  max={:>7.2} ms",
        micros.len(),
        percentile(&micros, 0.5) / 1000.0,
        percentile(&micros, 0.95) / 1000.0,
        percentile(&micros, 0.99) / 1000.0,
        micros.last().copied().unwrap_or(0.0) / 1000.0,
    );
}

pub fn run(args: InsightBenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.history_days > 0
            && args.ahead > 2 * SPREAD as u64
            && args.queries > 0
            && args.sample > 0,
        "give positive --history-days, --queries and --sample, and --ahead above 6"
    );
    let world = args.world.load()?;
    let wanted = if args.routes == 0 {
        usize::MAX
    } else {
        args.routes
    };
    let routes = routes(&world.index, wanted);
    anyhow::ensure!(!routes.is_empty(), "the world has no route flown every day");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let scratch = crate::bench::scratch_dir("insight");
    let result = runtime.block_on(async {
        let url = match &args.database_url {
            Some(url) => url.clone(),
            None => {
                std::fs::create_dir_all(&scratch)?;
                format!("sqlite://{}/spontra.db", scratch.display())
            }
        };
        let store = crate::store::open(&url).await?.prices;
        bench(&args, &world, &routes, store).await
    });
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

async fn bench(
    args: &InsightBenchArgs,
    world: &crate::world::World,
    routes: &[RouteFlights],
    store: Arc<dyn PriceStore>,
) -> anyhow::Result<ExitCode> {
    let today = world.today;
    let seed = args.world.seed;
    let first_day = today - Days::new(args.history_days - 1);
    let departures: Vec<NaiveDate> = (0..args.history_days + args.ahead)
        .map(|i| first_day + Days::new(i))
        .collect();
    println!(
        "history: {} routes (of the world's routes flown every weekday), departures {} to {}, observed daily {} to {}",
        routes.len(),
        departures[0],
        departures[departures.len() - 1],
        first_day,
        today
    );

    // Each route's noon lowest fares, by departure and sale day.
    let started = Instant::now();
    let mut fares: Vec<Vec<Vec<Lowest>>> = Vec::with_capacity(routes.len());
    for route in routes {
        let by_departure = departures
            .iter()
            .map(|&d| {
                let times: Vec<f64> = (0..args.history_days)
                    .map(|k| (d - (first_day + Days::new(k))).num_days() as f64 + 0.5)
                    .collect();
                on_sale(route, d, seed, &times)
                    .into_iter()
                    .map(|(lowest, _)| lowest)
                    .collect()
            })
            .collect();
        fares.push(by_departure);
    }
    let computed = started.elapsed();

    // Recorded day by day, as a feed would report them.
    let started = Instant::now();
    let mut recorded = 0u64;
    let mut batch = Vec::with_capacity(BATCH);
    for k in 0..args.history_days {
        let day = first_day + Days::new(k);
        let at = Utc.from_utc_datetime(&day.and_hms_opt(12, 0, 0).unwrap_or_default());
        for (route, by_departure) in routes.iter().zip(&fares) {
            for (&d, by_day) in departures.iter().zip(by_departure) {
                if d < day {
                    continue;
                }
                let Some((fare, seats)) = by_day[k as usize] else {
                    continue;
                };
                batch.push(FlightPrice {
                    route: economy(route),
                    departure_date: d,
                    carrier: LOWEST.0.into(),
                    flight_number: LOWEST.1,
                    fare_minor: fare,
                    seats_left: seats as i32,
                    observed_at: at,
                });
                if batch.len() == BATCH {
                    store.record_prices(&batch).await?;
                    recorded += batch.len() as u64;
                    batch.clear();
                }
            }
        }
    }
    if !batch.is_empty() {
        store.record_prices(&batch).await?;
        recorded += batch.len() as u64;
    }
    let loaded = started.elapsed();
    println!(
        "loaded {recorded} daily prices (one roll-up row each) in {:.1} s: {:.0} prices/s (market computed in {:.1} s)",
        loaded.as_secs_f64(),
        recorded as f64 / loaded.as_secs_f64().max(1e-9),
        computed.as_secs_f64()
    );

    let clock = Arc::new(FixedClock::new(
        Utc.from_utc_datetime(&today.and_hms_opt(18, 0, 0).unwrap_or_default()),
    ));
    let service = PricingService::new(store, world.refdata.clone(), clock);
    let display = euros()?;
    let s = args.draw_seed;
    let pick = |n: u64, what: u64, len: usize| (unit(&[s, what, n]) * len as f64) as usize % len;
    let query = |route: &RouteFlights, date: NaiveDate, price: Option<i64>| DepartureQuery {
        route: RouteQuery {
            route: economy(route),
            display,
        },
        departure_date: date,
        price: price.map(|p| (p, decimal(p))),
    };

    // Speed.
    let (mut metrics, mut history, mut calendars) = (vec![], vec![], vec![]);
    for n in 0..args.queries as u64 {
        let route = &routes[pick(n, 1, routes.len())];
        let date = today + Days::new(1 + pick(n, 2, args.ahead as usize) as u64);
        let q = query(route, date, Some(10_000));
        let t = Instant::now();
        let _ = service.metrics(&q).await;
        metrics.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        let _ = service.history(&q).await;
        history.push(t.elapsed().as_secs_f64() * 1e6);
        let body = LabelsBody {
            currency: None,
            cabin: None,
            prices: (0..31)
                .map(|i| PriceToLabel {
                    origin: route.origin.clone(),
                    destination: route.destination.clone(),
                    departure_date: (date + Days::new(i)).to_string(),
                    price: "100.00".into(),
                })
                .collect(),
        };
        let t = Instant::now();
        let parsed = service.parse_labels(&body);
        if let Ok(labels) = parsed {
            let _ = service.labels(&labels).await;
        }
        calendars.push(t.elapsed().as_secs_f64() * 1e6);
    }
    print_timings("metrics (with a label)", metrics);
    print_timings("history (60-day graph)", history);
    print_timings("labels of 31 days", calendars);

    // Agreement with the market's true bands.
    let hours: Vec<f64> = (0..args.history_days * 24)
        .map(|h| h as f64 / 24.0)
        .collect();
    let (mut agree, mut asked, mut no_label) = (0u64, 0u64, 0u64);
    let mut confusion = [[0u64; 3]; 3];
    let index = |l: Label| match l {
        Label::Low => 0,
        Label::Typical => 1,
        Label::High => 2,
    };
    for n in 0..args.sample as u64 {
        let route = &routes[pick(n, 3, routes.len())];
        let ahead =
            1 + SPREAD as u64 + pick(n, 4, args.ahead as usize - 2 * SPREAD as usize) as u64;
        let date = today + Days::new(ahead);
        // The true band: every hour of the observed month, departures within 3 days.
        let mut truth = vec![];
        for offset in -SPREAD..=SPREAD {
            let d = date + chrono::Duration::days(offset);
            let since_first = (d - first_day).num_days() as f64;
            let times: Vec<f64> = hours.iter().map(|h| since_first - h).collect();
            truth.extend(
                on_sale(route, d, seed, &times)
                    .into_iter()
                    .filter_map(|(l, _)| l.map(|(p, _)| p)),
            );
        }
        let Some(band) = quartiles(&truth) else {
            continue;
        };
        // A held-out price: a departure near the date, at a random instant of the month.
        let d = date + chrono::Duration::days(pick(n, 5, 2 * SPREAD as usize + 1) as i64 - SPREAD);
        let instant = unit(&[s, 6, n]) * args.history_days as f64;
        let before = (d - first_day).num_days() as f64 - instant;
        let Some((Some((price, _)), _)) = on_sale(route, d, seed, &[before]).into_iter().next()
        else {
            continue;
        };
        asked += 1;
        let answer = service.metrics(&query(route, date, Some(price))).await;
        let Some(label) = answer
            .ok()
            .and_then(|m| m.data.into_iter().next())
            .and_then(|m| m.price)
            .map(|p| p.label)
        else {
            no_label += 1;
            continue;
        };
        let ours = match label {
            PriceLabel::Low => Label::Low,
            PriceLabel::Typical => Label::Typical,
            PriceLabel::High => Label::High,
        };
        let true_label = band.label(price);
        confusion[index(true_label)][index(ours)] += 1;
        if ours == true_label {
            agree += 1;
        }
    }
    let labelled = asked - no_label;
    println!(
        "labels: {agree} of {labelled} held-out prices agree with the market's true band: {:.1} % ({no_label} without enough history)",
        100.0 * agree as f64 / labelled.max(1) as f64
    );
    for (i, name) in ["low", "typical", "high"].iter().enumerate() {
        let row = confusion[i];
        println!(
            "  truly {name:<8} {:>6} → labelled low {:>6}, typical {:>6}, high {:>6}",
            row.iter().sum::<u64>(),
            row[0],
            row[1],
            row[2]
        );
    }
    Ok(ExitCode::SUCCESS)
}
