//! `spontra bench buy-wait`: the buy-or-wait model's backtest on the simulated market.
//!
//! Price series come from the market's own process (`sim::market`, what the market feeds
//! report): for a route of the world and a departure date, the lowest economy fare on sale
//! each day before departure among the route's flights that weekday (each flight's identity,
//! and so its bucket walk and bookings, is that date's), with the cheapest flight's seats and
//! how many flights are on sale.
//!
//! The model is trained on departures that left in the 150 days before the backtest's first
//! day (every price it sees is from before any traveller arrives), then travellers are
//! simulated: each picks a route and a departure in the next 120 days, arrives between 1 and
//! 90 days before it (never before the first day), and is advised at arrival and again at each
//! price change; they buy when told to buy, or on the last day. Reported against buying at
//! arrival: the net saving; the share of the clairvoyant saving (arrival price − lowest price
//! until departure) captured; the share who paid no more than their arrival price (Hopper's
//! accuracy); and, for each advice with more than 7 days to go, whether its 7-day forecast
//! (up, down, or within ±€20) came true (Kayak's).

use crate::cli::WorldArgs;
use anyhow::Context;
use chrono::{Datelike, Days, NaiveDate};
use clap::Args;
use spontra_engine::Index;
use spontra_pricing::advice::{peer_level, Model, Series, PEER_WEEKS};
use spontra_sim::market::{flight_id, FlightMarket};
use spontra_sim::rng::{code3, unit};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args)]
pub struct BuyWaitArgs {
    /// Simulated travellers.
    #[arg(long, default_value_t = 10_000)]
    travellers: usize,
    /// Routes of the world they travel on (the busiest first, then every n-th).
    #[arg(long, default_value_t = 600)]
    routes: usize,
    /// Past departures the model is trained on.
    #[arg(long, default_value_t = 12_000)]
    training: usize,
    /// Seed of the travellers' and the training sample's draws.
    #[arg(long, default_value_t = 7)]
    draw_seed: u64,
    /// Advise waiting when it is expected to save at least this share of the price.
    #[arg(long, default_value_t = spontra_pricing::advice::MARGIN)]
    margin: f64,
    /// Write the trained model (JSON) here.
    #[arg(long)]
    write_model: Option<std::path::PathBuf>,
    #[command(flatten)]
    world: WorldArgs,
}

/// Days of prices a series holds before departure.
const HORIZON: usize = 120;
/// Departures the model learns from: those of the 150 days before the first day.
const TRAINING_DAYS: i64 = 150;
/// Departures travellers take: the 120 days from the first day.
const TRAVEL_DAYS: i64 = 120;
/// Travellers arrive at most this many days before departure.
const MAX_ARRIVAL: i64 = 90;
/// Kayak's band: a 7-day forecast of "no change" is right within ±€20.
const BAND_CENTS: i64 = 2_000;
const ECONOMY_SEATS: u16 = 180;

/// A route of the world and its flights on each weekday: carrier code number, flight number,
/// base fare (cents).
pub(crate) struct RouteFlights {
    pub(crate) origin: String,
    pub(crate) destination: String,
    by_weekday: [Vec<(u64, u16, f64)>; 7],
}

/// The local departure date of leg `id`.
fn local_date(index: &Index, id: u32) -> Option<NaiveDate> {
    let v = index.leg_view(id);
    let local = (v.departure + v.departure_offset as i64).div_euclid(1440);
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_days(Days::new(u64::try_from(local).ok()?))
}

/// The world's routes with a flight every weekday (their first week of the schedule),
/// `wanted` of them spread from the busiest to the quietest.
pub(crate) fn routes(index: &Index, wanted: usize) -> Vec<RouteFlights> {
    let mut all: Vec<(usize, RouteFlights)> = vec![];
    for a in 0..index.airport_count() {
        for r in index.routes_from(a as u16) {
            let dates: Vec<Option<NaiveDate>> =
                (r.start..r.end).map(|id| local_date(index, id)).collect();
            let mut first: [Option<NaiveDate>; 7] = [None; 7];
            for d in dates.iter().flatten() {
                let w = d.weekday().num_days_from_monday() as usize;
                if first[w].is_none_or(|f| *d < f) {
                    first[w] = Some(*d);
                }
            }
            let mut by_weekday: [Vec<(u64, u16, f64)>; 7] = Default::default();
            for (id, date) in (r.start..r.end).zip(&dates) {
                let Some(d) = date else { continue };
                let w = d.weekday().num_days_from_monday() as usize;
                if first[w] == Some(*d) {
                    let v = index.leg_view(id);
                    by_weekday[w].push((
                        code3(v.carrier.as_str()),
                        v.flight_number,
                        index.leg(id).fare as f64,
                    ));
                }
            }
            if by_weekday.iter().all(|d| !d.is_empty()) {
                let size = by_weekday.iter().map(Vec::len).sum();
                all.push((
                    size,
                    RouteFlights {
                        origin: index.airport_code(r.origin).to_string(),
                        destination: index.airport_code(r.dest).to_string(),
                        by_weekday,
                    },
                ));
            }
        }
    }
    all.sort_by_key(|(size, _)| std::cmp::Reverse(*size));
    let step = (all.len() / wanted.max(1)).max(1);
    all.into_iter()
        .step_by(step)
        .take(wanted)
        .map(|(_, r)| r)
        .collect()
}

/// Each flight of `route` departing `date` at each of `times` (days before departure,
/// fractions allowed, latest first — the market's own process, `seed` its seed): its economy
/// fare and seats, `None` while sold out.
fn flight_fares(
    route: &RouteFlights,
    date: NaiveDate,
    seed: u64,
    times: &[f64],
) -> Vec<Vec<Option<(i64, u16)>>> {
    let weekday = date.weekday().num_days_from_monday() as usize;
    let day = (date - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days();
    let flights: Vec<FlightMarket> = route.by_weekday[weekday]
        .iter()
        .map(|&(carrier, number, fare)| FlightMarket {
            id: flight_id(seed, carrier, number, day, 0),
            base_cents: fare,
            capacity: ECONOMY_SEATS,
        })
        .collect();
    let mut walks: Vec<_> = flights.iter().map(FlightMarket::walk).collect();
    times
        .iter()
        .map(|&days| {
            flights
                .iter()
                .zip(walks.iter_mut())
                .map(|(f, w)| {
                    let state = f.state_on(w, days);
                    state.fare_cents.map(|fare| (fare as i64, state.seats_left))
                })
                .collect()
        })
        .collect()
}

/// The cheapest of one moment's flights (its index, fare and seats), and how many are on
/// sale.
fn cheapest(flights: &[Option<(i64, u16)>]) -> (Option<(usize, i64, u16)>, u16) {
    let mut lowest: Option<(usize, i64, u16)> = None;
    let mut count = 0;
    for (i, f) in flights.iter().enumerate() {
        if let Some((fare, seats)) = *f {
            count += 1;
            if lowest.is_none_or(|(_, p, _)| fare < p) {
                lowest = Some((i, fare, seats));
            }
        }
    }
    (lowest, count)
}

/// What is on sale on `route` for a departure on `date` at each of `times` (as
/// [`flight_fares`]): the lowest economy fare with the seats of its flight, and how many
/// flights are on sale.
pub(crate) fn on_sale(
    route: &RouteFlights,
    date: NaiveDate,
    seed: u64,
    times: &[f64],
) -> Vec<(Option<(i64, u16)>, u16)> {
    flight_fares(route, date, seed, times)
        .iter()
        .map(|flights| {
            let (lowest, count) = cheapest(flights);
            (lowest.map(|(_, p, s)| (p, s)), count)
        })
        .collect()
}

/// The series of `route` departing `date` (`seed`: the market's): each day at noon, from
/// the first day of the series to departure, with the cheapest flight's price against the
/// same flight's on the departures 1 to 4 weeks later at the same moment.
fn series(route: &RouteFlights, date: NaiveDate, seed: u64) -> Series {
    // Each flight's fares by days before departure, of this departure (0) and the later ones
    // of the same weekday (the same flights) at the same moments.
    let by_days = |week: u64| {
        let later = 7.0 * week as f64;
        let times: Vec<f64> = (0..=HORIZON)
            .rev()
            .map(|d| d as f64 + 0.5 + later)
            .collect();
        let mut fares = flight_fares(route, date + Days::new(7 * week), seed, &times);
        fares.reverse();
        fares
    };
    let weeks: Vec<_> = (0..=PEER_WEEKS).map(by_days).collect();
    let mut prices = vec![None; HORIZON + 1];
    let mut seats = vec![0u16; HORIZON + 1];
    let mut flights = vec![0u16; HORIZON + 1];
    let mut peer = vec![None; HORIZON + 1];
    for d in 0..=HORIZON {
        let (lowest, count) = cheapest(&weeks[0][d]);
        flights[d] = count;
        if let Some((i, p, s)) = lowest {
            prices[d] = Some(p);
            seats[d] = s.min(9);
            peer[d] = peer_level(p, weeks[1..].iter().filter_map(|w| w[d][i].map(|(f, _)| f)));
        }
    }
    Series {
        prices,
        seats,
        flights,
        peer,
        weekday: date.weekday().num_days_from_monday() as u8,
    }
}

#[derive(Default)]
struct Tally {
    travellers: u64,
    arrival_total: i64,
    paid_total: i64,
    clairvoyant_saving: i64,
    no_more: u64,
    waited: u64,
    advices: u64,
    forecasts: u64,
    forecasts_right: u64,
    /// By arrival window ([`WINDOWS`]): travellers, price at arrival, paid, clairvoyant
    /// saving.
    windows: [(u64, i64, i64, i64); 4],
}

/// Arrival windows the saving is broken down by: the first day of each (days before).
const WINDOWS: [usize; 4] = [1, 21, 42, 60];

fn direction(change: i64) -> i8 {
    if change > BAND_CENTS {
        1
    } else if change < -BAND_CENTS {
        -1
    } else {
        0
    }
}

pub fn run(args: BuyWaitArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.travellers > 0 && args.routes > 0 && args.training > 0,
        "give positive --travellers, --routes and --training"
    );
    let started = Instant::now();
    let world = args.world.load()?;
    let routes = routes(&world.index, args.routes);
    anyhow::ensure!(!routes.is_empty(), "the world has no route flown every day");
    let first = world.today;
    let seed = args.world.seed;
    let s = args.draw_seed;
    let pick = |n: u64, what: u64, len: usize| (unit(&[s, what, n]) * len as f64) as usize % len;

    // Training: departures that left before the first day.
    let built = Instant::now();
    let training: Vec<Series> = (0..args.training as u64)
        .map(|n| {
            let route = &routes[pick(n, 1, routes.len())];
            let back = 1 + pick(n, 2, TRAINING_DAYS as usize) as u64;
            series(route, first - Days::new(back), seed)
        })
        .collect();
    let model = Model::train(&training, args.margin);
    let trained_in = built.elapsed();

    let mut t = Tally::default();
    let mut history = Vec::new();
    for n in 0..args.travellers as u64 {
        let route = &routes[pick(n, 3, routes.len())];
        let ahead = 1 + pick(n, 4, TRAVEL_DAYS as usize) as i64;
        let departure = first + Days::new(ahead as u64);
        let s = series(route, departure, seed);
        let arrival = 1 + pick(n, 5, MAX_ARRIVAL.min(ahead) as usize);
        // Arriving when nothing is on sale: they go elsewhere; not counted.
        let Some(arrival_price) = s.prices[arrival] else {
            continue;
        };
        let best = s.prices[..=arrival]
            .iter()
            .flatten()
            .copied()
            .min()
            .unwrap_or(arrival_price);
        let mut paid = None;
        let mut waited = false;
        for d in (0..=arrival).rev() {
            if d != arrival && !s.decides(d) {
                continue;
            }
            let Some(p) = s.prices[d] else { continue };
            if d == 0 {
                paid = Some(p);
                break;
            }
            let advice = s
                .situation(d, &mut history)
                .and_then(|f| model.advise_features(&f, d as u32));
            t.advices += 1;
            if let Some(a) = advice {
                if let (Some(change), Some(Some(later))) =
                    (a.change_7d, s.prices.get(d - 7.min(d)).filter(|_| d > 7))
                {
                    let predicted = direction((p as f64 * change).round() as i64);
                    t.forecasts += 1;
                    t.forecasts_right += u64::from(predicted == direction(later - p));
                }
            }
            if !advice.is_some_and(|a| a.wait) {
                paid = Some(p);
                break;
            }
            waited = true;
        }
        let paid = paid.unwrap_or_else(|| s.sold_out_price(0));
        t.travellers += 1;
        t.arrival_total += arrival_price;
        t.paid_total += paid;
        t.clairvoyant_saving += arrival_price - best;
        t.no_more += u64::from(paid <= arrival_price);
        let w = &mut t.windows[WINDOWS.iter().rposition(|&s| arrival >= s).unwrap_or(0)];
        *w = (
            w.0 + 1,
            w.1 + arrival_price,
            w.2 + paid,
            w.3 + arrival_price - best,
        );
        t.waited += u64::from(waited);
    }

    let pct = |a: f64, b: f64| if b == 0.0 { 0.0 } else { 100.0 * a / b };
    let saving = (t.arrival_total - t.paid_total) as f64;
    let n = t.travellers.max(1) as f64;
    println!("world: {}", world.description);
    println!(
        "model: {} cells from {} past departures ({} decisions), trained in {:.1} s",
        model.size(),
        model.series,
        model.decisions,
        trained_in.as_secs_f64()
    );
    println!(
        "backtest: {} travellers on {} routes, departures {} .. {}, arriving 1–{MAX_ARRIVAL} days before",
        t.travellers,
        routes.len(),
        first + Days::new(1),
        first + Days::new(TRAVEL_DAYS as u64)
    );
    println!(
        "mean price at arrival €{:.2}; mean paid following the advice €{:.2}",
        t.arrival_total as f64 / n / 100.0,
        t.paid_total as f64 / n / 100.0
    );
    println!(
        "net saving vs buying at arrival: {:.2} % of the ticket price (€{:.2} per traveller)",
        pct(saving, t.arrival_total as f64),
        saving / n / 100.0
    );
    println!(
        "clairvoyant saving captured: {:.1} % (clairvoyant: {:.2} % of the ticket price)",
        pct(saving, t.clairvoyant_saving as f64),
        pct(t.clairvoyant_saving as f64, t.arrival_total as f64)
    );
    println!(
        "paid no more than at arrival (Hopper's accuracy): {:.1} %",
        pct(t.no_more as f64, n)
    );
    println!(
        "7-day forecast right within ±€20 (Kayak's accuracy): {:.1} % of {} forecasts",
        pct(t.forecasts_right as f64, t.forecasts as f64),
        t.forecasts
    );
    println!(
        "advised {} times; {:.1} % of travellers waited; {:.1} s in all",
        t.advices,
        pct(t.waited as f64, n),
        started.elapsed().as_secs_f64()
    );
    for (i, (n, arrival, paid, clairvoyant)) in t.windows.iter().enumerate() {
        let last = WINDOWS.get(i + 1).map_or(MAX_ARRIVAL as usize, |s| s - 1);
        println!(
            "  arriving {}–{last} days before: {n} travellers, saving {:.2} %, clairvoyant {:.2} %",
            WINDOWS[i],
            pct((arrival - paid) as f64, *arrival as f64),
            pct(*clairvoyant as f64, *arrival as f64)
        );
    }
    let ceiling_started = Instant::now();
    let (ceiling, ceiling_clairvoyant, counted) =
        known_state_ceiling(args.travellers as u64, args.draw_seed);
    println!(
        "known-state ceiling (one-flight routes, the hidden fare bucket seen, {counted} travellers): \
         {:.2} % saved, {:.1} % of the clairvoyant saving ({:.2} %), {:.1} s",
        100.0 * ceiling,
        pct(ceiling, ceiling_clairvoyant),
        100.0 * ceiling_clairvoyant,
        ceiling_started.elapsed().as_secs_f64()
    );
    if let Some(path) = &args.write_model {
        let json = serde_json::to_string(&model).context("the model as JSON")?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
        println!("model written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The known-state ceiling: what the best policy saves on a one-flight route if it could see
/// the flight's hidden fare bucket (which no real traveller can), with the travellers'
/// arrivals drawn as the backtest's. The policy is worked out by dynamic programming on the
/// market's own process — bucket changes as a Poisson process of
/// [`market::CHANGES_PER_DAY`], each a normal step of [`market::BUCKET_STEP`] pulled
/// [`market::BUCKET_PULL`] back towards 0, the rest of the fare (trend and load) read off the
/// market's flights as its mean by days to departure — then followed on flights of the
/// market. A flight that sells out before departure is left out. Returns (the saving against
/// buying at arrival, the clairvoyant saving), both as shares of the price at arrival, and
/// the travellers counted.
fn known_state_ceiling(travellers: u64, draw_seed: u64) -> (f64, f64, u64) {
    use spontra_sim::market::{BUCKET_PULL, BUCKET_STEP, CHANGES_PER_DAY};
    const BASE: f64 = 30_000.0;
    let days = MAX_ARRIVAL as usize;
    let flight = |n: u64| FlightMarket {
        id: flight_id(draw_seed, 0x4345_494c, (n % 9_000) as u16, n as i64, 0),
        base_cents: BASE,
        capacity: ECONOMY_SEATS,
    };
    // The fare ÷ (base · bucket) each day at noon, averaged over flights on sale.
    let mut rest = vec![0.0f64; days + 1];
    let mut seen = vec![0.0f64; days + 1];
    for n in 0..2_000 {
        let f = flight(1_000_000 + n);
        for (d, (r, s)) in rest.iter_mut().zip(seen.iter_mut()).enumerate() {
            let t = d as f64 + 0.5;
            if let Some(fare) = f.state(t).fare_cents {
                *r += fare as f64 / (BASE * f.bucket(t).exp());
                *s += 1.0;
            }
        }
    }
    for (r, s) in rest.iter_mut().zip(&seen) {
        *r /= s.max(1.0);
    }
    // A grid of log-buckets and one change's transition between its points.
    let grid: Vec<f64> = (0..=800).map(|i| -2.0 + i as f64 * 0.005).collect();
    let step: Vec<Vec<(usize, f64)>> = grid
        .iter()
        .map(|&x| {
            let mean = (1.0 - BUCKET_PULL) * x;
            let w: Vec<f64> = grid
                .iter()
                .map(|&y| (-0.5 * ((y - mean) / BUCKET_STEP).powi(2)).exp())
                .collect();
            let sum: f64 = w.iter().sum();
            w.iter()
                .enumerate()
                .filter(|(_, v)| **v / sum > 1e-9)
                .map(|(j, v)| (j, v / sum))
                .collect()
        })
        .collect();
    let change = |v: &[f64]| -> Vec<f64> {
        step.iter()
            .map(|row| row.iter().map(|&(j, p)| p * v[j]).sum())
            .collect()
    };
    // The value of holding on to day d (paying the best from then), and of waiting a day.
    let poisson: Vec<f64> = (0..4)
        .map(|k| {
            (-CHANGES_PER_DAY).exp() * CHANGES_PER_DAY.powi(k)
                / (1..=k).product::<i32>().max(1) as f64
        })
        .collect();
    let mut wait = vec![vec![f64::INFINITY; grid.len()]; days + 1];
    let mut value: Vec<f64> = grid.iter().map(|x| rest[0] * x.exp()).collect();
    for d in 1..=days {
        // Tomorrow's value after 0, 1, 2 or 3 bucket changes.
        let mut after = value.clone();
        let mut cont = vec![0.0; grid.len()];
        for (k, p) in poisson.iter().enumerate() {
            if k > 0 {
                after = change(&after);
            }
            for (c, a) in cont.iter_mut().zip(&after) {
                *c += p * a;
            }
        }
        value = grid
            .iter()
            .zip(&cont)
            .map(|(x, c)| (rest[d] * x.exp()).min(*c))
            .collect();
        wait[d] = cont;
    }
    let at = |x: f64| (((x + 2.0) / 0.005).round().max(0.0) as usize).min(grid.len() - 1);
    let pick =
        |n: u64, what: u64, len: usize| (unit(&[draw_seed, what, n]) * len as f64) as usize % len;
    let (mut arrival_total, mut saving, mut clairvoyant, mut counted) = (0.0, 0.0, 0.0, 0);
    for n in 0..travellers {
        let ahead = 1 + pick(n, 4, TRAVEL_DAYS as usize);
        let arrival = 1 + pick(n, 5, (MAX_ARRIVAL as usize).min(ahead));
        let f = flight(n);
        let fares: Option<Vec<f64>> = (0..=arrival)
            .map(|d| f.state(d as f64 + 0.5).fare_cents.map(|c| c as f64))
            .collect();
        let Some(fares) = fares else { continue };
        let paid = (1..=arrival)
            .rev()
            .find(|&d| {
                let x = f.bucket(d as f64 + 0.5);
                rest[d] * x.exp() <= wait[d][at(x)]
            })
            .map_or(fares[0], |d| fares[d]);
        let best = fares.iter().copied().fold(f64::INFINITY, f64::min);
        arrival_total += fares[arrival];
        saving += fares[arrival] - paid;
        clairvoyant += fares[arrival] - best;
        counted += 1;
    }
    (saving / arrival_total, clairvoyant / arrival_total, counted)
}
