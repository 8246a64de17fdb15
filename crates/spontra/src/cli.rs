use crate::application::{Application, Parts};
use crate::config::{ServiceName, Settings};
use crate::world::{self, World};
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use spontra_domain::{Coded, Kind};
use spontra_search::dto::{CalendarParams, ExploreParams, SearchBody, SliceBody};
use spontra_search::{SearchError, SearchService};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "spontra",
    version,
    about = "Spontra flight search: serve the API, search, explore, import, bench"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
pub struct WorldArgs {
    /// World scale: tiny, small, medium or full.
    #[arg(long, default_value = "full", env = "SPONTRA__WORLD__SCALE")]
    pub scale: String,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Days of departures the live inventory holds.
    #[arg(long, default_value_t = 35)]
    pub days: u32,
    /// Days on sale (those after --days are generated when a search asks for them).
    #[arg(long, default_value_t = 330)]
    pub horizon_days: u32,
    /// Pretend today is this date (YYYY-MM-DD).
    #[arg(long)]
    pub today: Option<String>,
    /// Serve an imported schedule (SSIM or CSV) instead of the simulated world.
    #[arg(long)]
    pub schedule: Option<PathBuf>,
}

impl WorldArgs {
    /// The configuration these arguments describe (defaults, then spontra.toml and
    /// `SPONTRA__` variables, then the arguments).
    pub(crate) fn settings(&self) -> anyhow::Result<Settings> {
        let mut settings = Settings::load(None)?;
        settings.world = crate::config::WorldSettings {
            scale: self.scale.clone(),
            seed: self.seed,
            days: self.days,
            horizon_days: self.horizon_days,
            today: self.today.clone(),
            schedule: self.schedule.clone(),
        };
        Ok(settings)
    }

    pub(crate) fn load(&self) -> anyhow::Result<std::sync::Arc<World>> {
        world::shared(&self.settings()?.world)
    }

    /// The search service over this world, assembled by the composition root.
    fn search_service(&self) -> anyhow::Result<(std::sync::Arc<World>, SearchService)> {
        Parts::search_only(&self.settings()?)
    }
}

#[derive(Args, Clone, Default)]
struct PartyArgs {
    #[arg(long)]
    adults: Option<u32>,
    #[arg(long)]
    children: Option<u32>,
    #[arg(long)]
    infants: Option<u32>,
    /// economy, premium_economy, business or first.
    #[arg(long)]
    cabin: Option<String>,
    #[arg(long)]
    max_stops: Option<u32>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the web app.
    Serve {
        /// A TOML configuration file (defaults, then this, then SPONTRA__ variables).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Address to listen on (overrides the configuration).
        #[arg(long)]
        bind: Option<String>,
        #[arg(long)]
        scale: Option<String>,
        #[arg(long)]
        today: Option<String>,
        #[arg(long)]
        schedule: Option<PathBuf>,
        /// The built web app to serve at / (default: web/out if present).
        #[arg(long)]
        web_dir: Option<PathBuf>,
        /// The services to run, comma-separated (default: all, or `server.services`).
        #[arg(long, value_delimiter = ',')]
        services: Vec<ServiceName>,
        /// Market time runs this many times as fast as real time (60: a market hour per
        /// minute); default 1, or `market.speed`.
        #[arg(long)]
        market_speed: Option<f64>,
    },
    /// Search itineraries: `spontra search LHR NYC 2026-12-18 --return 2026-12-22`.
    Search {
        origin: String,
        destination: String,
        date: String,
        #[arg(long = "return")]
        return_date: Option<String>,
        /// Further slices for a multi-city trip: ORIGIN:DESTINATION:DATE (repeatable).
        #[arg(long = "then")]
        then: Vec<String>,
        #[command(flatten)]
        party: PartyArgs,
        /// best, cheapest or fastest.
        #[arg(long)]
        sort: Option<String>,
        #[arg(long, default_value_t = 10)]
        limit: u32,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        world: WorldArgs,
    },
    /// Cheapest price per day: `spontra calendar LHR BCN --from 2026-12-01 --to 2026-12-31`.
    Calendar {
        origin: String,
        destination: String,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        /// Round trip lengths: N or MIN..MAX nights.
        #[arg(long)]
        nights: Option<String>,
        #[command(flatten)]
        party: PartyArgs,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        world: WorldArgs,
    },
    /// Everywhere you can go: `spontra explore LHR --depart 2026-12-18..2026-12-19 --min-hours 2 --max-hours 4 --max-price 150`.
    Explore {
        origin: String,
        /// A date or FROM..TO.
        #[arg(long)]
        depart: Option<String>,
        #[arg(long)]
        min_hours: Option<f64>,
        #[arg(long)]
        max_hours: Option<f64>,
        #[arg(long)]
        max_price: Option<f64>,
        /// country, to group by country.
        #[arg(long)]
        group_by: Option<String>,
        /// price or duration.
        #[arg(long)]
        sort: Option<String>,
        #[arg(long, default_value_t = 30)]
        limit: u32,
        #[command(flatten)]
        party: PartyArgs,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        world: WorldArgs,
    },
    /// Validate a schedule file and report bad records by line and field.
    Import {
        /// ssim or csv.
        format: String,
        file: PathBuf,
        /// First date to expand SSIM periods from (default today).
        #[arg(long)]
        from: Option<String>,
        /// Days to expand (default 35).
        #[arg(long, default_value_t = 35)]
        days: u32,
    },
    /// Create or upgrade the database schema: `spontra migrate --database-url sqlite://spontra.db`.
    Migrate {
        /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB`.
        #[arg(
            long,
            env = "SPONTRA__DATABASE__URL",
            default_value = "sqlite://spontra.db"
        )]
        database_url: String,
    },
    /// Print the OpenAPI document of `/api/v1` (what `/api/v1/openapi.json` serves) as JSON.
    Openapi,
    /// Benchmark the engine on a world with a CSV of queries (origin,destination,date).
    Bench(crate::bench::BenchArgs),
    /// Administration that needs no running server.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Ingestion: how far behind it is, its dead letters, and replaying them.
    #[command(subcommand)]
    Ingest(IngestCommand),
    /// The simulated world's servers.
    #[command(subcommand)]
    Sim(SimCommand),
}

#[derive(Subcommand)]
enum SimCommand {
    /// Run the simulated provider network on its own: SkyHub (Duffel's format) and FareFinder
    /// (Amadeus') selling the world's flights — following the market through
    /// `inventory.changed` when `events.kafka_brokers` is set — for search processes to ask
    /// (`[[providers]]` with the base URLs printed). It serves the search API at `--bind` too.
    Providers {
        /// A TOML configuration file (`[simulated_providers]` describes the providers).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Where the search API listens.
        #[arg(long)]
        bind: Option<String>,
        /// The providers' host, and their ports in order (comma-separated; 0: any free one).
        #[arg(long)]
        host: Option<String>,
        #[arg(long, value_delimiter = ',')]
        ports: Vec<u16>,
        #[arg(long)]
        scale: Option<String>,
        #[arg(long)]
        today: Option<String>,
    },
}

#[derive(Subcommand)]
enum IngestCommand {
    /// Lag of the ingesting group per partition of provider.raw, and every dead letter with
    /// its reason (the event stream and database of the configuration).
    Status {
        #[arg(long)]
        json: bool,
        /// Configuration file; default spontra.toml if present.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Send dead letters back to provider.raw as they first came: all not replayed before
    /// (`--all`), or one (`--partition P --offset O`, as `status` lists them).
    Replay {
        #[arg(long, conflicts_with_all = ["partition", "offset"])]
        all: bool,
        #[arg(long, requires = "offset")]
        partition: Option<i32>,
        #[arg(long, requires = "partition")]
        offset: Option<i64>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an account (email already verified), e.g. the first administrator:
    /// `echo "$PASSWORD" | spontra admin create-user --email ops@example.com --name Ops --admin`.
    /// The password is read from the first line of standard input.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Give the account the admin role.
        #[arg(long)]
        admin: bool,
        /// Configuration file (database URL, keys); default spontra.toml if present.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve {
            config,
            bind,
            scale,
            today,
            schedule,
            web_dir,
            services,
            market_speed,
        } => {
            let mut settings = Settings::load(config.as_deref())?;
            if !services.is_empty() {
                settings.server.services = services;
            }
            if let Some(speed) = market_speed {
                anyhow::ensure!(
                    speed.is_finite() && speed > 0.0,
                    "--market-speed: {speed} is not a positive number"
                );
                settings.market.speed = speed;
            }
            overrides(&mut settings, bind, scale, today);
            if schedule.is_some() {
                settings.world.schedule = schedule;
            }
            if web_dir.is_some() {
                settings.web.dir = web_dir;
            }
            serve(settings)
        }
        Command::Sim(SimCommand::Providers {
            config,
            bind,
            host,
            ports,
            scale,
            today,
        }) => {
            let mut settings = Settings::load(config.as_deref())?;
            settings.server.services = vec![ServiceName::Search];
            settings.simulated_providers.start = true;
            settings.web.dir = None;
            let sims = &mut settings.simulated_providers.providers;
            anyhow::ensure!(
                ports.len() <= sims.len(),
                "--ports: {} ports for {} simulated providers",
                ports.len(),
                sims.len()
            );
            for (i, sim) in sims.iter_mut().enumerate() {
                if let Some(port) = ports.get(i) {
                    sim.port = *port;
                }
                if let Some(h) = &host {
                    sim.host = h.clone();
                }
            }
            overrides(&mut settings, bind, scale, today);
            serve(settings)
        }
        Command::Search {
            origin,
            destination,
            date,
            return_date,
            then,
            party,
            sort,
            limit,
            json,
            world,
        } => {
            let (_world, svc) = world.search_service()?;
            let mut body = party_body(&party);
            if then.is_empty() {
                body.origin = Some(origin);
                body.destination = Some(destination);
                body.depart = Some(date);
                body.return_date = return_date;
            } else {
                let mut slices = vec![SliceBody {
                    origin,
                    destination,
                    date,
                }];
                for t in then {
                    let p: Vec<&str> = t.split(':').collect();
                    if p.len() != 3 {
                        anyhow::bail!("--then {t:?}: expected ORIGIN:DESTINATION:DATE");
                    }
                    slices.push(SliceBody {
                        origin: p[0].into(),
                        destination: p[1].into(),
                        date: p[2].into(),
                    });
                }
                body.slices = Some(slices);
            }
            body.sort = sort;
            body.limit = Some(limit);
            answer(
                svc.parse_search(&body).map_err(SearchError::from),
                |q| svc.search(q),
                json,
                print_search,
            )
        }
        Command::Calendar {
            origin,
            destination,
            from,
            to,
            nights,
            party,
            json,
            world,
        } => {
            let (_world, svc) = world.search_service()?;
            let params = CalendarParams {
                origin: Some(origin),
                destination: Some(destination),
                from,
                to,
                nights,
                adults: party.adults,
                children: party.children,
                infants: party.infants,
                cabin: party.cabin,
                max_stops: party.max_stops,
                currency: None,
            };
            answer(
                svc.parse_calendar(&params),
                |q| Ok(svc.calendar(q)),
                json,
                print_calendar,
            )
        }
        Command::Explore {
            origin,
            depart,
            min_hours,
            max_hours,
            max_price,
            group_by,
            sort,
            limit,
            party,
            json,
            world,
        } => {
            let (_world, svc) = world.search_service()?;
            let (from, to) = match depart.as_deref().map(|d| {
                d.split_once("..")
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .unwrap_or((d.to_string(), d.to_string()))
            }) {
                Some((a, b)) => (Some(a), Some(b)),
                None => (None, None),
            };
            let params = ExploreParams {
                origin: Some(origin),
                depart_from: from,
                depart_to: to,
                min_hours,
                max_hours,
                max_price,
                max_stops: party.max_stops,
                adults: party.adults,
                children: party.children,
                infants: party.infants,
                cabin: party.cabin,
                group_by,
                sort,
                limit: Some(limit),
                cursor: None,
                currency: None,
            };
            answer(
                svc.parse_explore(&params),
                |q| svc.explore(q),
                json,
                print_explore,
            )
        }
        Command::Import {
            format,
            file,
            from,
            days,
        } => {
            let refdata = spontra_refdata::RefData::load()?;
            let first = world::today(from.as_deref())?;
            let last = first + chrono::Days::new(days.max(1) as u64 - 1);
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let report = match format.as_str() {
                "ssim" => spontra_sim::import::parse_ssim(&refdata, &text, first, last),
                "csv" => spontra_sim::import::parse_csv(&refdata, &text),
                other => anyhow::bail!("format {other:?} is not ssim or csv"),
            };
            for e in &report.errors {
                eprintln!("{}:{e}", file.display());
            }
            println!(
                "{} records, {} dated legs from {first} to {last}, {} errors",
                report.records,
                report.legs.len(),
                report.errors.len()
            );
            Ok(if report.errors.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Migrate { database_url } => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            // Opening a store applies its migrations.
            runtime.block_on(crate::store::open(&database_url))?;
            println!(
                "{}: schema up to date",
                crate::config::redact_url(&database_url)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::app::openapi_document(&ServiceName::ALL))?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(args) => crate::bench::run(args),
        Command::Ingest(command) => ingest_command(command),
        Command::Admin(AdminCommand::CreateUser {
            email,
            name,
            admin,
            config,
        }) => {
            let settings = Settings::load(config.as_deref())?;
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(crate::accounts::create_user(
                &settings, &email, password, &name, admin,
            ))
        }
    }
}

/// Parse, run and print a query the way every read command does: bad input prints the API's
/// problem and exits 2; `--json` prints the API's JSON, otherwise a table.
fn answer<Q, R: serde::Serialize>(
    parsed: Result<Q, SearchError>,
    run: impl FnOnce(&Q) -> Result<R, SearchError>,
    json: bool,
    print: impl FnOnce(&R),
) -> anyhow::Result<ExitCode> {
    let result = match parsed.and_then(|q| run(&q)) {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print(&result);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_calendar(r: &spontra_search::dto::CalendarResponse) {
    let mut t = table(&["date", "cheapest", "duration", "stops"]);
    for d in &r.days {
        t.add_row(vec![
            d.date.clone(),
            money(d.price.as_ref()),
            d.duration_minutes.map(hm).unwrap_or_default(),
            d.stops.map(|s| s.to_string()).unwrap_or_default(),
        ]);
    }
    println!("{t}");
    if !r.grid.is_empty() {
        let mut g = table(&["depart", "nights", "return", "round trip"]);
        for c in &r.grid {
            g.add_row(vec![
                c.depart.clone(),
                c.nights.to_string(),
                c.return_date.clone(),
                money(c.price.as_ref()),
            ]);
        }
        println!("{g}");
    }
}

fn print_explore(r: &spontra_search::dto::ExploreResponse) {
    let mut t = table(&[
        "to",
        "city",
        "country",
        "from price",
        "duration",
        "stops",
        "departs",
        "flights",
    ]);
    for d in &r.destinations {
        t.add_row(vec![
            d.airport.code.clone(),
            d.airport.city.clone(),
            d.airport.country_name.clone(),
            money(Some(&d.price)),
            hm(d.duration_minutes),
            d.stops.to_string(),
            d.departure.local[..16].replace('T', " "),
            d.flights.join(" "),
        ]);
    }
    println!("{t}");
    println!(
        "{} destinations from {} (engine {} µs)",
        r.total, r.origin, r.engine_micros
    );
}

fn party_body(p: &PartyArgs) -> SearchBody {
    SearchBody {
        adults: p.adults,
        children: p.children,
        infants: p.infants,
        cabin: p.cabin.clone(),
        max_stops: p.max_stops,
        ..Default::default()
    }
}

/// Print a service's refusal as the API words it — title, code, detail and every field at
/// fault — and exit with 2; a failure of ours is the command's error instead.
pub(crate) fn refused<E>(e: E) -> anyhow::Result<ExitCode>
where
    E: Coded + Send + Sync + 'static,
{
    let code = e.code();
    if code.kind() == Kind::Internal {
        return Err(e.into());
    }
    eprintln!("error: {} ({code}): {e}", code.title());
    for f in e.fields().iter().filter(|f| !f.field.is_empty()) {
        eprintln!("  {}: {} [{}]", f.field, f.message, f.code);
    }
    Ok(ExitCode::from(2))
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(header.to_vec());
    t
}

/// A price as `149.99 EUR`, or a dash when there is none.
fn money(p: Option<&spontra_search::dto::Price>) -> String {
    p.map(|p| format!("{} {}", p.amount, p.currency))
        .unwrap_or_else(|| "—".into())
}

pub fn hm(minutes: u32) -> String {
    format!("{}h{:02}", minutes / 60, minutes % 60)
}

fn print_search(r: &spontra_search::dto::SearchResponse) {
    let mut t = table(&[
        "#", "price", "duration", "stops", "departs", "arrives", "flights", "notes",
    ]);
    for (i, it) in r.itineraries.iter().enumerate() {
        let slices: Vec<&spontra_search::dto::SliceDto> = it.slices.iter().collect();
        let dep = slices
            .iter()
            .map(|s| s.departure.local[..16].replace('T', " "))
            .collect::<Vec<_>>()
            .join("\n");
        let arr = slices
            .iter()
            .map(|s| {
                format!(
                    "{}{}",
                    &s.arrival.local[11..16],
                    if s.arrival_day_offset > 0 {
                        format!(" +{}", s.arrival_day_offset)
                    } else {
                        String::new()
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        let flights = slices
            .iter()
            .map(|s| {
                s.segments
                    .iter()
                    .map(|g| format!("{} {}-{}", g.flight, g.origin, g.destination))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect::<Vec<_>>()
            .join("\n");
        let mut notes = vec![];
        if it.slices.iter().any(|s| s.self_transfer) {
            notes.push("self-transfer");
        }
        if it.slices.iter().any(|s| s.airport_change) {
            notes.push("airport change");
        }
        t.add_row(vec![
            (i + 1).to_string(),
            money(Some(&it.price)),
            slices
                .iter()
                .map(|s| hm(s.duration_minutes))
                .collect::<Vec<_>>()
                .join("\n"),
            slices
                .iter()
                .map(|s| s.stops.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
            dep,
            arr,
            flights,
            notes.join(", "),
        ]);
    }
    println!("{t}");
    println!(
        "{} itineraries, sorted by {} (engine {} µs){}",
        r.summary.total,
        r.sort,
        r.engine_micros,
        if r.next_cursor.is_some() {
            "; more with --limit"
        } else {
            ""
        }
    );
}

/// `--bind`, `--scale` and `--today` over the configuration.
fn overrides(
    settings: &mut Settings,
    bind: Option<String>,
    scale: Option<String>,
    today: Option<String>,
) {
    if let Some(b) = bind {
        settings.server.bind = b;
    }
    if let Some(s) = scale {
        settings.world.scale = s;
    }
    if today.is_some() {
        settings.world.today = today;
    }
}

fn serve(mut settings: Settings) -> anyhow::Result<ExitCode> {
    init_logging(&settings.log);
    if settings.web.dir.is_none() {
        settings.web.dir = Some(PathBuf::from("web/out"));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let app = Application::build(settings).await?;
        let parts = app.parts();
        let services: Vec<&str> = parts.services.iter().map(|s| s.as_str()).collect();
        match &parts.world {
            Some(world) => tracing::info!(inventory = %world.description, legs = world.index.leg_count(), build_ms = world.build_ms as u64, services = ?services, "inventory loaded"),
            None => tracing::info!(services = ?services, "no inventory: this process does not run search"),
        }
        tracing::info!(address = %app.address(), "listening");
        for p in &parts.sim_providers {
            println!(
                "Simulated provider {} ({:?} format) serves {}",
                p.name,
                p.format,
                p.base_url()
            );
        }
        println!("Spontra is listening on http://{}", app.address());
        app.run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        Ok(ExitCode::SUCCESS)
    })
}

fn ingest_command(command: IngestCommand) -> anyhow::Result<ExitCode> {
    use spontra_ingest::status::{committed_per_second, replay, status, Replay};
    use std::time::Duration;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match command {
            IngestCommand::Status { json, config } => {
                let settings = Settings::load(config.as_deref())?;
                let bus = crate::application::event_bus(&settings).await?;
                let s = status(bus.as_ref()).await?;
                let rate = committed_per_second(bus.as_ref(), Duration::from_secs(1)).await?;
                if json {
                    let mut v = serde_json::to_value(&s)?;
                    v["events_per_second"] = rate.into();
                    println!("{}", serde_json::to_string_pretty(&v)?);
                    return Ok(ExitCode::SUCCESS);
                }
                let mut t = Table::new();
                t.load_preset(UTF8_FULL_CONDENSED).set_header([
                    "partition",
                    "committed",
                    "end",
                    "lag",
                ]);
                for p in &s.partitions {
                    t.add_row([p.partition as i64, p.committed, p.end, p.lag]);
                }
                println!(
                    "{} (group {}): {} behind, {rate:.0} events/s\n{t}",
                    s.topic, s.group, s.lag
                );
                let n = s.dead_letters.len();
                println!("{n} dead letter{}", if n == 1 { "" } else { "s" });
                for (code, n) in &s.dead_letters_by_code {
                    println!("  {code}: {n}");
                }
                let mut d = Table::new();
                d.load_preset(UTF8_FULL_CONDENSED)
                    .set_header(["at", "code", "field", "reason", "event"]);
                for l in s.dead_letters.iter().rev().take(20) {
                    d.add_row([
                        format!("{}:{}", l.partition, l.offset),
                        l.code.clone(),
                        l.field.clone(),
                        l.reason.clone(),
                        format!(
                            "{} {}",
                            l.source.as_deref().unwrap_or("-"),
                            l.event_id.as_deref().unwrap_or("-")
                        ),
                    ]);
                }
                if !s.dead_letters.is_empty() {
                    println!("latest:\n{d}");
                }
                Ok(ExitCode::SUCCESS)
            }
            IngestCommand::Replay {
                all,
                partition,
                offset,
                config,
            } => {
                let which = match (all, partition, offset) {
                    (true, _, _) => Replay::All,
                    (false, Some(partition), Some(offset)) => Replay::One { partition, offset },
                    _ => {
                        eprintln!(
                            "error: give --all, or --partition and --offset of one dead letter"
                        );
                        return Ok(ExitCode::from(2));
                    }
                };
                let settings = Settings::load(config.as_deref())?;
                let bus = crate::application::event_bus(&settings).await?;
                let n = replay(bus.as_ref(), which).await?;
                println!("replayed {n} dead letter{}", if n == 1 { "" } else { "s" });
                Ok(if n == 0 && !all {
                    ExitCode::from(1)
                } else {
                    ExitCode::SUCCESS
                })
            }
        }
    })
}

fn init_logging(log: &crate::config::LogSettings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&log.filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if log.format == "pretty" {
        builder.init();
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init();
    }
}
