//! The one composition root. [`Application::build`] assembles from [`Settings`] whatever this
//! process runs — the services `server.services` lists, each with what it needs and nothing
//! else (a users-only process builds no world; a search-only one opens no database) — binds
//! the listener, and [`Application::run`] serves until shutdown with the services' background
//! work started. `spontra serve`, the CLI commands (through [`Parts`]) and every test build
//! through here; nothing else wires services together.

use crate::app::App;
use crate::config::{ServiceName, Settings};
use crate::market::MarketFeed;
use crate::roll::Roller;
use crate::world::{self, World};
use anyhow::Context;
use spontra_domain::{MarketClock, SharedClock, SystemClock};
use spontra_events::embedded::EmbeddedLog;
use spontra_events::kafka::Kafka;
use spontra_events::Bus;
use spontra_http::Authenticator;
use spontra_ingest::Ingestor;
use spontra_notifications::outbox::{Outbox, OutboxSettings};
use spontra_notifications::webhook::Sender;
use spontra_notifications::webhooks::WebhookService;
use spontra_notifications::NotificationsState;
use spontra_pricing::evaluate::Evaluator;
use spontra_pricing::observe::Recorder;
use spontra_pricing::popular::SearchCounter;
use spontra_pricing::watchlist::AlertService;
use spontra_pricing::{AlertsState, PricingService};
use spontra_search::analytics::SearchTally;
use spontra_search::live::{Follower, Snapshots};
use spontra_search::SearchService;
use spontra_users::{UsersService, UsersState};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// The assembled services of a process, ready to mount or to call.
pub struct Parts {
    /// The services run, in a stable order.
    pub services: Vec<ServiceName>,
    /// The inventory (search only).
    pub world: Option<Arc<World>>,
    pub search: Option<Arc<SearchService>>,
    /// Live search across providers (with search).
    pub live: Option<Arc<spontra_search::live_search::LiveSearches>>,
    /// The simulated providers started in this process.
    pub sim_providers: Vec<crate::sim_providers::Running>,
    pub users: Option<UsersState>,
    /// The ingesting consumer, started by [`Application::run`].
    pub ingest: Option<Ingestor>,
    /// The simulated market's feeds, started by [`Application::run`].
    pub market: Option<Arc<MarketFeed>>,
    /// The pricing service, and its consumer of `price.observed` and its retention, started
    /// by [`Application::run`].
    pub pricing: Option<Pricing>,
    /// The notifications service and its outbox worker, started by [`Application::run`].
    pub notifications: Option<Notifications>,
    /// Search following `inventory.changed`, started by [`Application::run`].
    pub follower: Option<Follower>,
    /// Rolls search's and the market's window on at the market's midnight, started by
    /// [`Application::run`].
    pub roller: Option<Roller>,
    /// The embedded event log and how many minutes it keeps records, and dead letters (none
    /// on Kafka, or when `events.retention_minutes` is 0).
    pub retention: Option<(EmbeddedLog, u64, u64)>,
    /// Market time: the world's "today" at this time of day, running `market.speed` times as
    /// fast as real time.
    pub market_clock: SharedClock,
    /// Search's counts for popular routes and the stream they are published on, published by
    /// [`Application::run`].
    pub search_tally: Option<(
        Arc<SearchTally>,
        Arc<dyn spontra_events::Bus>,
        std::time::Duration,
    )>,
}

/// The pricing service's parts.
pub struct Pricing {
    pub service: Arc<PricingService>,
    pub recorder: Recorder,
    pub store: Arc<dyn spontra_store::PriceStore>,
    pub retention: crate::config::PricingSettings,
    /// The alerts API, and the evaluator the sweep runs.
    pub alerts: AlertsState,
    pub evaluator: Arc<Evaluator>,
    /// The consumer of `search.performed` (popular routes).
    pub searches: SearchCounter,
}

/// The notifications service's parts.
pub struct Notifications {
    pub state: NotificationsState,
    pub outbox: Arc<Outbox>,
}

impl Parts {
    /// Assemble the services `settings` list. `public_url`: where links in mails point when
    /// `server.public_url` is not set (the bound address).
    pub async fn assemble(
        settings: &Settings,
        public_url: &str,
        clock: SharedClock,
    ) -> anyhow::Result<Parts> {
        let mut services = settings.server.services.clone();
        services.sort();
        services.dedup();
        anyhow::ensure!(
            !services.is_empty(),
            "server.services lists no service (choose from search, users, ingest, market, pricing, notifications)"
        );
        let needs_world =
            settings.server.runs(ServiceName::Search) || settings.server.runs(ServiceName::Market);
        let world = if needs_world {
            let w = settings.world.clone();
            Some(tokio::task::spawn_blocking(move || world::shared(&w)).await??)
        } else {
            None
        };
        let market_clock = market_clock(settings, clock.clone())?;
        // The world may be loaded for the market alone: search only where it runs.
        // Searches are counted for popular routes where a pricing service will read them:
        // beside it, or anywhere on Kafka.
        let search_tally = (settings.server.runs(ServiceName::Search)
            && (settings.events.kafka_brokers.is_some()
                || settings.server.runs(ServiceName::Pricing)))
        .then(|| Arc::new(SearchTally::default()));
        let search = world
            .as_deref()
            .filter(|_| settings.server.runs(ServiceName::Search))
            .map(|w| {
                search_service(settings, w).map(|s| {
                    let s = s.with_clock(market_clock.clone());
                    Arc::new(match &search_tally {
                        Some(t) => s.with_tally(t.clone()),
                        None => s,
                    })
                })
            })
            .transpose()?;
        // Search follows the changes ingestion publishes: on Kafka from any process, on the
        // embedded log (a file of this process's database) when ingestion runs beside it.
        let follows = search.is_some()
            && (settings.events.kafka_brokers.is_some()
                || settings.server.runs(ServiceName::Ingest));
        let streams = follows
            || settings.server.runs(ServiceName::Ingest)
            || settings.server.runs(ServiceName::Market)
            || settings.server.runs(ServiceName::Pricing);
        // The database once for every service that needs it (opening it migrates it), before
        // the embedded event log opens its tables in the same file. The market and search
        // need only the stream.
        let stores = if settings.server.runs(ServiceName::Ingest)
            || settings.server.runs(ServiceName::Users)
            || settings.server.runs(ServiceName::Pricing)
            || settings.server.runs(ServiceName::Notifications)
        {
            Some(crate::accounts::open_stores(settings).await?)
        } else {
            None
        };
        let users = match &stores {
            Some(stores) if settings.server.runs(ServiceName::Users) => {
                Some(crate::accounts::users_state(
                    settings,
                    stores.users.clone(),
                    world::refdata()?,
                    public_url,
                    clock.clone(),
                    crate::personal_data::parts(
                        settings,
                        stores,
                        market_clock.clone(),
                        clock.clone(),
                    )?,
                )?)
            }
            _ => None,
        };
        let (bus, log) = if streams {
            let (bus, log) = event_stream(settings).await?;
            (Some(bus), log)
        } else {
            (None, None)
        };
        let ingest = if settings.server.runs(ServiceName::Ingest) {
            Some(Ingestor {
                bus: bus.clone().context("the event stream")?,
                store: stores.as_ref().context("the database")?.inventory.clone(),
                // The one reference data of the process (a world holds the same).
                refdata: world::refdata()?,
                clock: market_clock.clone(),
                throughput: Default::default(),
            })
        } else {
            None
        };
        // Who checks bearer tokens: the users service here, or one over the same accounts
        // (the same database and signing keys) for a process that serves alerts without it.
        let auth: Option<Arc<dyn Authenticator>> = match (&users, &stores) {
            (Some(users), _) => Some(users.auth.clone()),
            (None, Some(stores))
                if settings.server.runs(ServiceName::Pricing)
                    || settings.server.runs(ServiceName::Notifications) =>
            {
                Some(crate::accounts::users_service(
                    settings,
                    stores.users.clone(),
                    world::refdata()?,
                    public_url,
                    clock.clone(),
                    vec![],
                )?)
            }
            _ => None,
        };
        let pricing = if settings.server.runs(ServiceName::Pricing) {
            let stores = stores.as_ref().context("the database")?;
            let store = stores.prices.clone();
            let refdata = world::refdata()?;
            let evaluator = Arc::new(Evaluator::new(
                store.clone(),
                stores.alerts.clone(),
                refdata.clone(),
                market_clock.clone(),
                clock.clone(),
                settings.pricing.alerts_daily_cap,
            ));
            Some(Pricing {
                service: Arc::new(PricingService::new(
                    store.clone(),
                    refdata.clone(),
                    market_clock.clone(),
                )),
                recorder: Recorder::new(
                    bus.clone().context("the event stream")?,
                    store.clone(),
                    refdata,
                )
                .with_alerts(evaluator.clone()),
                searches: SearchCounter {
                    bus: bus.clone().context("the event stream")?,
                    store: store.clone(),
                },
                store,
                retention: settings.pricing.clone(),
                alerts: AlertsState {
                    service: Arc::new(AlertService {
                        alerts: stores.alerts.clone(),
                        evaluator: evaluator.clone(),
                    }),
                    auth: auth.clone().context("an authenticator")?,
                },
                evaluator,
            })
        } else {
            None
        };
        let notifications = if settings.server.runs(ServiceName::Notifications) {
            let stores = stores.as_ref().context("the database")?;
            let signer = Arc::new(crate::accounts::notification_signer(settings)?);
            let n = &settings.notifications;
            let policy = spontra_notifications::target::Policy {
                allow_loopback: n.webhook_allow_loopback,
            };
            let public_url = settings
                .server
                .public_url
                .clone()
                .unwrap_or_else(|| public_url.to_string());
            Some(Notifications {
                state: NotificationsState {
                    alerts: stores.alerts.clone(),
                    signer: signer.clone(),
                    auth: auth.clone().context("an authenticator")?,
                    webhooks: Arc::new(WebhookService {
                        store: stores.alerts.clone(),
                        policy,
                        clock: clock.clone(),
                    }),
                    clock: clock.clone(),
                },
                outbox: Arc::new(Outbox {
                    alerts: stores.alerts.clone(),
                    users: stores.users.clone(),
                    mailer: crate::accounts::mailer(settings)?,
                    signer,
                    webhooks: Sender {
                        policy,
                        timeout: std::time::Duration::from_secs(
                            n.webhook_timeout_seconds.clamp(1, 60),
                        ),
                        public_url: public_url.clone(),
                    },
                    public_url,
                    clock: clock.clone(),
                    settings: OutboxSettings {
                        lease_seconds: n.lease_seconds,
                        max_attempts: n.max_attempts,
                        backoff_seconds: n.backoff_seconds,
                        poll_millis: n.poll_millis,
                        ..OutboxSettings::default()
                    },
                }),
            })
        } else {
            None
        };
        let market = match (&world, &bus) {
            (Some(world), Some(bus)) if settings.server.runs(ServiceName::Market) => {
                Some(Arc::new(MarketFeed::new(
                    world.clone(),
                    bus.clone(),
                    market_clock.clone(),
                    settings.market.clone(),
                    settings.world.seed,
                )))
            }
            _ => None,
        };
        let follower = match (&search, &bus) {
            (Some(search), Some(bus)) if follows => {
                Some(follower(settings, search, bus.clone(), market.is_some()).await?)
            }
            _ => None,
        };
        let (live, sim_providers) = match &search {
            Some(search) => {
                let (live, running) =
                    crate::live::assemble(settings, search, market_clock.clone(), bus.clone())
                        .await?;
                (Some(live), running)
            }
            None => (None, vec![]),
        };
        let roller = world.as_ref().map(|w| Roller {
            world: settings.world.clone(),
            clock: market_clock.clone(),
            search: search.clone(),
            market: market.clone(),
            today: w.today,
        });
        Ok(Parts {
            services,
            world,
            search,
            live,
            sim_providers,
            users,
            ingest,
            market,
            pricing,
            notifications,
            roller,
            retention: log
                .filter(|_| settings.events.retention_minutes > 0)
                .map(|log| {
                    let e = &settings.events;
                    (log, e.retention_minutes, e.dead_letter_retention_minutes)
                }),
            follower,
            market_clock,
            search_tally: search_tally.zip(bus.clone()).map(|(t, b)| {
                let every =
                    std::time::Duration::from_secs(settings.search.analytics_seconds.max(1));
                (t, b, every)
            }),
        })
    }

    /// The search service alone over the world `settings` describe (the CLI's searches).
    pub fn search_only(settings: &Settings) -> anyhow::Result<(Arc<World>, SearchService)> {
        let world = world::shared(&settings.world)?;
        let service = search_service(settings, &world)?;
        Ok((world, service))
    }
}

/// Search's follower of `inventory.changed`. With the market in this process the index built
/// now is the market now: changes of earlier runs are skipped. Otherwise (a search process
/// following another's ingestion) it writes snapshots every `search.snapshot_seconds` to the
/// data directory and starts from the last one, resuming its consumer group where that
/// snapshot left it (see `search::snapshot`); without one it starts a new group at the start
/// of the topic.
async fn follower(
    settings: &Settings,
    search: &SearchService,
    bus: Arc<dyn Bus>,
    market_here: bool,
) -> anyhow::Result<Follower> {
    let live = search.live().clone();
    let mut follower = Follower {
        live: live.clone(),
        bus,
        group: Follower::group_for_this_process(),
        since_ms: market_here.then(|| chrono::Utc::now().timestamp_millis()),
        snapshots: None,
    };
    let every = settings.search.snapshot_seconds;
    if market_here || every == 0 {
        return Ok(follower);
    }
    crate::accounts::private_data_dir(settings)?;
    let path = settings.data.dir.join("search-snapshot.bin");
    let world = world::fingerprint(&settings.world);
    let started = std::time::Instant::now();
    let (p, w) = (path.clone(), world.clone());
    let restored = tokio::task::spawn_blocking(move || {
        let saved = spontra_search::snapshot::read(&p, &w)?;
        Ok::<_, spontra_search::snapshot::SnapshotError>(saved.map(|saved| {
            let legs = live.restore(&saved);
            (saved.group, saved.version, legs)
        }))
    })
    .await?;
    match restored {
        Ok(Some((group, version, legs))) => {
            tracing::info!(
                %group, version, legs,
                ms = started.elapsed().as_millis() as u64,
                "search restored from its snapshot"
            );
            // Recorded from the start of the process (the edge installs the same recorder).
            let _ = spontra_http::metrics::prometheus();
            metrics::gauge!("search_snapshot_restored_legs").set(legs as f64);
            follower.group = group;
        }
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %e, "the search snapshot is not used; following from the start")
        }
    }
    follower.snapshots = Some(Snapshots::new(
        path,
        std::time::Duration::from_secs(every),
        world,
    ));
    Ok(follower)
}

/// Market time: it starts at the world's "today" (`world.today`, else the real date) at the
/// real time of day, and runs `market.speed` times as fast as `base`.
pub fn market_clock(settings: &Settings, base: SharedClock) -> anyhow::Result<SharedClock> {
    let now = base.now();
    let today = world::today(settings.world.today.as_deref())?;
    let start = today.and_time(now.time()).and_utc();
    Ok(Arc::new(MarketClock::new(
        base,
        start,
        settings.market.speed,
    )))
}

/// The event stream the settings name: Kafka, or the embedded log beside the SQLite database.
pub async fn event_bus(settings: &Settings) -> anyhow::Result<Arc<dyn Bus>> {
    Ok(event_stream(settings).await?.0)
}

/// The event stream the settings name, and the embedded log itself when it is that.
async fn event_stream(settings: &Settings) -> anyhow::Result<(Arc<dyn Bus>, Option<EmbeddedLog>)> {
    if let Some(brokers) = &settings.events.kafka_brokers {
        return Ok((
            Arc::new(
                Kafka::connect(brokers)
                    .context("events.kafka_brokers")?
                    .with_session_timeout(std::time::Duration::from_millis(
                        settings.events.kafka_session_timeout_ms.max(1),
                    )),
            ),
            None,
        ));
    }
    anyhow::ensure!(
        settings.database.url.starts_with("sqlite:"),
        "the embedded event log lives beside the SQLite database; with PostgreSQL set events.kafka_brokers"
    );
    // The database file usually lives in the data directory.
    crate::accounts::private_data_dir(settings)?;
    let log = EmbeddedLog::open(&spontra_events::embedded::beside(&settings.database.url))
        .await
        .context("opening the embedded event log")?;
    Ok((Arc::new(log.clone()), Some(log)))
}

/// Delete the embedded log's records older than `minutes` (dead letters: `dead_letters`
/// minutes), once a minute. Publish times are the log's own real time, not market time.
fn spawn_retention(log: EmbeddedLog, minutes: u64, dead_letters: u64) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            let now = chrono::Utc::now().timestamp_millis();
            let cutoff = |topic: &str| {
                let kept = if topic == spontra_events::topics::DEAD_LETTER
                    || topic == spontra_events::topics::PRICE_DEAD_LETTER
                {
                    dead_letters
                } else {
                    minutes
                };
                now - kept as i64 * 60_000
            };
            match log.delete_older_than(cutoff).await {
                Ok(n) => {
                    metrics::counter!("events_log_records_deleted_total").increment(n);
                }
                Err(e) => tracing::warn!(error = %e, "event log retention failed; will retry"),
            }
        }
    });
}

fn search_service(settings: &Settings, world: &World) -> anyhow::Result<SearchService> {
    let service = SearchService::new(world.refdata.clone(), world.index.clone(), world.today);
    Ok(match world::horizon(settings, world.refdata.clone())? {
        Some(horizon) => service.with_horizon(horizon),
        None => service,
    })
}

/// A process: its services assembled and mounted, its listener bound.
pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    app: App,
    parts: Parts,
}

impl Application {
    /// Bind `server.bind` (port 0 picks a free port) and assemble the services, on real time.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Application::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// As [`Application::build`], with the services' clock given (tests fix and step it).
    pub async fn build_with_clock(
        settings: Settings,
        clock: SharedClock,
    ) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(&settings.server.bind)
            .await
            .with_context(|| format!("binding {}", settings.server.bind))?;
        let address = listener.local_addr()?;
        let parts = Parts::assemble(&settings, &format!("http://{address}"), clock).await?;
        let app = App::build(&parts, settings.web.dir.clone(), &settings.search)
            .with_limits(settings.server.edge_limits())
            .strict_transport_security(crate::accounts::public_https(&settings))
            .trust_forwarded_for(settings.server.trust_forwarded_for)
            .allow_origins(&settings.server.cors_origins)?;
        Ok(Application {
            listener,
            address,
            app,
            parts,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn parts(&self) -> &Parts {
        &self.parts
    }

    /// The users service, when this process runs it.
    pub fn users(&self) -> Option<Arc<UsersService>> {
        self.parts.users.as_ref().map(|u| u.service.clone())
    }

    /// The whole HTTP application, for requests without a socket.
    pub fn router(&self) -> axum::Router {
        self.app.router()
    }

    /// Start the services' background work and serve until `shutdown` resolves.
    pub async fn run(
        mut self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        if let Some(users) = &self.parts.users {
            spawn_pruning(users.service.clone());
        }
        if let Some((log, minutes, dead_letters)) = self.parts.retention.take() {
            spawn_retention(log, minutes, dead_letters);
        }
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut background = vec![];
        if let Some(ingestor) = self.parts.ingest.clone() {
            background.push(tokio::spawn(ingestor.run(stopped.clone())));
        }
        if let Some(pricing) = &self.parts.pricing {
            background.push(tokio::spawn(pricing.recorder.clone().run(stopped.clone())));
            background.push(tokio::spawn(pricing.searches.clone().run(stopped.clone())));
            background.push(tokio::spawn(sweep_alerts(
                pricing.evaluator.clone(),
                pricing.retention.alerts_sweep_seconds,
                stopped.clone(),
            )));
            spawn_price_retention(
                pricing.store.clone(),
                pricing.retention.clone(),
                self.parts.market_clock.clone(),
            );
        }
        if let Some(n) = &self.parts.notifications {
            background.push(tokio::spawn(n.outbox.clone().run(stopped.clone())));
        }
        if let Some(follower) = self.parts.follower.take() {
            background.push(tokio::spawn(follower.run(stopped.clone())));
        }
        if let Some((tally, bus, every)) = self.parts.search_tally.clone() {
            background.push(tokio::spawn(tally.run(
                bus,
                self.parts.market_clock.clone(),
                every,
                stopped.clone(),
            )));
        }
        if let Some(roller) = self.parts.roller.take() {
            background.push(tokio::spawn(roller.run(stopped.clone())));
        }
        if let Some(market) = self.parts.market.clone() {
            background.push(tokio::spawn(async move {
                market.run(stopped).await;
            }));
        }
        let served = self.app.run(self.listener, shutdown).await;
        let _ = stop.send(true);
        for task in background {
            let _ = task.await;
        }
        served?;
        Ok(())
    }
}

/// Every live alert evaluated every `seconds` (the first sweep right away), until `stop`.
async fn sweep_alerts(
    evaluator: Arc<Evaluator>,
    seconds: u64,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let every = std::time::Duration::from_secs(seconds.max(1));
    while !*stop.borrow() {
        match evaluator.sweep().await {
            Ok(told) => {
                metrics::counter!("pricing_alert_sweeps_total").increment(1);
                if told > 0 {
                    tracing::info!(told, "alert sweep");
                }
            }
            Err(e) => tracing::warn!(error = %e, "alert sweep failed; the next one will retry"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Price history retention (`[pricing]`), at start and then hourly: raw observations older
/// than `observations_days` of market time, roll-ups of departures gone more than
/// `daily_days`, the flights and routes of departures gone (the day before yesterday).
fn spawn_price_retention(
    store: Arc<dyn spontra_store::PriceStore>,
    keep: crate::config::PricingSettings,
    clock: SharedClock,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let now = clock.now();
            let today = now.date_naive();
            let days = |n: u64| chrono::Days::new(n);
            let pruned = store
                .prune_prices(
                    now,
                    now - chrono::Duration::days(keep.observations_days as i64),
                    today - days(keep.daily_days),
                    today - days(2),
                )
                .await;
            match pruned {
                Ok(p) => {
                    metrics::counter!("pricing_pruned_total", "what" => "observations")
                        .increment(p.observations);
                    metrics::counter!("pricing_pruned_total", "what" => "daily").increment(p.daily);
                    metrics::counter!("pricing_pruned_total", "what" => "departed")
                        .increment(p.departed);
                }
                Err(e) => tracing::warn!(error = %e, "price history retention failed; will retry"),
            }
        }
    });
}

/// Delete expired sessions and tokens now and then (`accounts.prune_every_minutes`).
fn spawn_pruning(service: Arc<UsersService>) {
    let every = std::time::Duration::from_secs(service.policy().prune_every_minutes.max(1) * 60);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = service.prune_expired().await {
                tracing::warn!(error = %e, "pruning expired sessions failed; will retry");
            }
        }
    });
}
