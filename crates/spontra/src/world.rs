//! Loading the inventory: the simulated world, or an imported schedule.

use anyhow::{bail, Context};
use chrono::NaiveDate;
use spontra_engine::Index;
use spontra_refdata::RefData;
use spontra_sim::import::{self, ImportReport};
use spontra_sim::{Scale, WorldConfig};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

pub struct World {
    pub refdata: Arc<RefData>,
    pub index: Arc<Index>,
    pub today: NaiveDate,
    pub description: String,
    pub build_ms: u128,
}

pub fn today(over: Option<&str>) -> anyhow::Result<NaiveDate> {
    match over {
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .with_context(|| format!("today: {s:?} is not YYYY-MM-DD")),
        None => Ok(chrono::Utc::now().date_naive()),
    }
}

/// Read a schedule file, SSIM if it looks like one (fixed 200-column records), else CSV.
pub fn read_schedule(
    refdata: &RefData,
    path: &Path,
    first: NaiveDate,
    last: NaiveDate,
) -> anyhow::Result<ImportReport> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let ssim = path.extension().is_some_and(|e| {
        e.eq_ignore_ascii_case("ssim")
            || e.eq_ignore_ascii_case("txt")
            || e.eq_ignore_ascii_case("dat")
    }) || text.lines().any(|l| l.len() == 200 && l.starts_with('3'));
    Ok(if ssim {
        import::parse_ssim(refdata, &text, first, last)
    } else {
        import::parse_csv(refdata, &text)
    })
}

pub fn load(
    scale: &str,
    seed: u64,
    days: u32,
    today_override: Option<&str>,
    schedule: Option<&Path>,
) -> anyhow::Result<World> {
    let started = Instant::now();
    let refdata = refdata()?;
    let today = today(today_override)?;
    let (index, description) = match schedule {
        Some(path) => {
            let last = today + chrono::Days::new(days.max(1) as u64 - 1);
            let report = read_schedule(&refdata, path, today, last)?;
            if let Some(e) = report.errors.first() {
                bail!(
                    "{}: {} bad records; first: {e} (run `spontra import` for the full list)",
                    path.display(),
                    report.errors.len()
                );
            }
            let index = import::build_index(&refdata, &report.legs, today);
            (
                index,
                format!("schedule {} ({} records)", path.display(), report.records),
            )
        }
        None => {
            let scale = self::scale(scale)?;
            let (index, stats) = spontra_sim::generate(
                &refdata,
                &WorldConfig {
                    seed,
                    scale,
                    start: today,
                    days,
                    first_day: 0,
                },
            );
            (index, format!("simulated world, scale {}, seed {seed}, {:.0} flights/day, {} days from {today}", scale.as_str(), stats.flights_per_day, days))
        }
    };
    Ok(World {
        refdata,
        index: Arc::new(index),
        today,
        description,
        build_ms: started.elapsed().as_millis(),
    })
}

/// The world scale `name` names.
pub fn scale(name: &str) -> anyhow::Result<Scale> {
    Scale::parse(name).with_context(|| format!("scale {name:?} is not tiny, small, medium or full"))
}

/// What names the world `settings` describe, whatever the day: scale, seed, days and schedule
/// file (what a search snapshot must match to be restored into it).
pub fn fingerprint(settings: &crate::config::WorldSettings) -> String {
    format!(
        "{}/{}/{}/{}",
        settings.scale,
        settings.seed,
        settings.days,
        settings
            .schedule
            .as_ref()
            .map_or_else(String::new, |p| p.display().to_string())
    )
}

/// The reference data, loaded once per process.
pub fn refdata() -> anyhow::Result<Arc<RefData>> {
    static REFDATA: OnceLock<Arc<RefData>> = OnceLock::new();
    if let Some(r) = REFDATA.get() {
        return Ok(r.clone());
    }
    let loaded = Arc::new(RefData::load().context("loading reference data")?);
    Ok(REFDATA.get_or_init(|| loaded).clone())
}

/// What identifies a loaded world: scale, seed, days, first day and schedule file.
type WorldKey = (String, u64, u32, NaiveDate, Option<PathBuf>);

/// The world `settings` describe, loaded once per process and then shared: a process builds
/// it once however many applications it assembles (the tests build many from one world).
pub fn shared(settings: &crate::config::WorldSettings) -> anyhow::Result<Arc<World>> {
    static WORLDS: Mutex<Vec<(WorldKey, Arc<World>)>> = Mutex::new(Vec::new());
    let key: WorldKey = (
        settings.scale.clone(),
        settings.seed,
        settings.days,
        today(settings.today.as_deref())?,
        settings.schedule.clone(),
    );
    let mut worlds = WORLDS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, w)) = worlds.iter().find(|(k, _)| *k == key) {
        return Ok(w.clone());
    }
    let world = Arc::new(load(
        &settings.scale,
        settings.seed,
        settings.days,
        Some(&key.3.to_string()),
        settings.schedule.as_deref(),
    )?);
    worlds.push((key, world.clone()));
    Ok(world)
}

/// The simulated world's far-off days, generated when a search asks for them (see
/// `spontra_search::horizon`). The network is built on the first such search.
pub struct FarWorld {
    refdata: Arc<RefData>,
    scale: Scale,
    seed: u64,
    generator: OnceLock<spontra_sim::Generator>,
}

impl FarWorld {
    pub fn new(refdata: Arc<RefData>, scale: Scale, seed: u64) -> Self {
        FarWorld {
            refdata,
            scale,
            seed,
            generator: OnceLock::new(),
        }
    }
}

impl spontra_search::horizon::FarDays for FarWorld {
    fn build(&self, today: NaiveDate, first: NaiveDate, last: NaiveDate) -> Index {
        let generator = self
            .generator
            .get_or_init(|| spontra_sim::Generator::new(&self.refdata, self.scale, self.seed));
        let config = WorldConfig {
            seed: self.seed,
            scale: self.scale,
            start: today,
            days: ((last - today).num_days() + 1).max(1) as u32,
            first_day: (first - today).num_days().max(0) as u32,
        };
        generator.generate(&self.refdata, &config).0
    }
}

/// The days on sale beyond the live window that `settings` describe: none for a schedule
/// file (served for `world.days` only) or when the horizon is no longer than the window.
pub fn horizon(
    settings: &crate::config::Settings,
    refdata: Arc<RefData>,
) -> anyhow::Result<Option<spontra_search::horizon::Horizon>> {
    let w = &settings.world;
    if w.schedule.is_some() || w.horizon_days <= w.days {
        return Ok(None);
    }
    let scale = scale(&w.scale)?;
    Ok(Some(spontra_search::horizon::Horizon::new(
        w.horizon_days,
        w.days,
        Arc::new(FarWorld::new(refdata, scale, w.seed)),
        settings.search.horizon(),
    )))
}
