//! Restarting a search process from where it was, not from the start of the stream.
//!
//! A following process writes a snapshot of its inventory every `search.snapshot_seconds`:
//! the fare, economy seats and observation time of every flight the market has reported on
//! (named by carrier, number, route and departure, so a snapshot restores into any window
//! that shares the flights), the schedule changes applied, and the consumer group it follows
//! with. Only after the file is in place (written aside, then renamed over the old one) does
//! the follower commit the offsets of what the snapshot holds, so the group's committed
//! offsets always match the last snapshot: a process restarted (or killed) builds its world,
//! restores the snapshot, and resumes the stream at those offsets — what it reads again is
//! harmless (late fares are ignored per flight; a schedule change already made finds nothing
//! to change). Without a usable snapshot it starts a new group from the start of the topic.
//! The encoding is `postcard` (compact serde); a snapshot of another world (scale, seed,
//! days, schedule file) or format is not restored.

use crate::live::{LiveIndex, ScheduleNotice};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use spontra_domain::{AirportCode, CarrierCode};
use spontra_engine::FareUpdate;
use std::path::Path;

/// Bumped when what a snapshot holds changes meaning.
const FORMAT: u32 = 1;

/// What a snapshot holds.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Saved {
    pub format: u32,
    /// The consumer group whose committed offsets are this state's.
    pub group: String,
    /// The world it was taken of (see `World::fingerprint`).
    pub world: String,
    pub today: NaiveDate,
    pub version: u64,
    pub observed_until: Option<DateTime<Utc>>,
    pub schedule: Vec<ScheduleNotice>,
    pub legs: Vec<SavedLeg>,
}

/// One flight's state as the market last reported it.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavedLeg {
    pub origin: [u8; 3],
    pub destination: [u8; 3],
    /// Two or three characters, space-padded.
    pub carrier: [u8; 3],
    pub flight_number: u16,
    /// UTC minutes since the Unix epoch.
    pub departure: i64,
    pub fare: u32,
    pub seats: u8,
    /// Seconds since the Unix epoch.
    pub observed: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("reading or writing the snapshot: {0}")]
    Io(#[from] std::io::Error),
    #[error("the snapshot is not readable: {0}")]
    Format(String),
    #[error("the snapshot is of another world ({0})")]
    OtherWorld(String),
}

fn code3(s: &str) -> [u8; 3] {
    let mut out = [b' '; 3];
    for (o, b) in out.iter_mut().zip(s.bytes()) {
        *o = b;
    }
    out
}

fn text(code: &[u8; 3]) -> &str {
    std::str::from_utf8(code).unwrap_or("").trim_end()
}

impl LiveIndex {
    /// The current version as a snapshot, for `group` and the world named `world`.
    pub fn save(&self, group: &str, world: &str) -> Saved {
        let (snap, schedule) = self.current_with_schedule();
        let ix = &snap.index;
        let legs = (0..ix.leg_count() as u32)
            .filter_map(|id| {
                let observed = ix.observed_at(id)?;
                let v = ix.leg_view(id);
                let leg = ix.leg(id);
                Some(SavedLeg {
                    origin: code3(v.origin.as_str()),
                    destination: code3(v.destination.as_str()),
                    carrier: code3(v.carrier.as_str()),
                    flight_number: v.flight_number,
                    departure: v.departure,
                    fare: leg.fare,
                    seats: leg.seats_left(0),
                    observed,
                })
            })
            .collect();
        Saved {
            format: FORMAT,
            group: group.to_string(),
            world: world.to_string(),
            today: snap.today,
            version: snap.version,
            observed_until: snap.observed_until,
            schedule,
            legs,
        }
    }

    /// Make the current version what `saved` says (the schedule changes, then every flight's
    /// state it holds that this window has) as version `saved.version`. Returns the flights
    /// restored.
    pub fn restore(&self, saved: &Saved) -> usize {
        let schedule: Vec<ScheduleNotice> = saved.schedule.clone();
        self.replace_with(saved.version, saved.observed_until, schedule, |ix| {
            saved
                .legs
                .iter()
                .filter_map(|l| {
                    let airport = |c: &[u8; 3]| {
                        AirportCode::parse(text(c))
                            .ok()
                            .and_then(|a| ix.airport_id(a))
                    };
                    let carrier = CarrierCode::parse(text(&l.carrier))
                        .ok()
                        .and_then(|c| ix.carrier_id(c))?;
                    let leg = ix.find_leg(
                        airport(&l.origin)?,
                        airport(&l.destination)?,
                        l.departure,
                        carrier,
                        l.flight_number,
                    )?;
                    Some(FareUpdate {
                        leg,
                        fare: l.fare,
                        seats: l.seats as u16,
                        observed: l.observed,
                    })
                })
                .collect()
        })
    }
}

/// Write `saved` to `path`: aside first, then renamed over the old one, so a crash leaves the
/// old snapshot or the new one, never half of one.
pub fn write(path: &Path, saved: &Saved) -> Result<(), SnapshotError> {
    let bytes = postcard::to_stdvec(saved).map_err(|e| SnapshotError::Format(e.to_string()))?;
    let aside = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&aside)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&aside, path)?;
    Ok(())
}

/// The snapshot at `path`, if there is one of `world` in this format.
pub fn read(path: &Path, world: &str) -> Result<Option<Saved>, SnapshotError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let saved: Saved =
        postcard::from_bytes(&bytes).map_err(|e| SnapshotError::Format(e.to_string()))?;
    if saved.format != FORMAT {
        return Err(SnapshotError::Format(format!("format {}", saved.format)));
    }
    if saved.world != world {
        return Err(SnapshotError::OtherWorld(saved.world));
    }
    Ok(Some(saved))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use spontra_engine::Index;
    use spontra_sim::{generate, Scale, WorldConfig};
    use std::sync::Arc;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    fn tiny() -> Arc<Index> {
        let mut config = WorldConfig::new(today(), Scale::Tiny);
        config.days = 3;
        let refdata = spontra_refdata::RefData::load().unwrap();
        Arc::new(generate(&refdata, &config).0)
    }

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(minute * 60, 0).unwrap()
    }

    /// A notice of `kind` for leg `id` of `ix`, leaving `shift` minutes from `from`.
    fn notice(ix: &Index, id: u32, kind: &str, from: i64, shift: i64) -> ScheduleNotice {
        let v = ix.leg_view(id);
        ScheduleNotice {
            kind: kind.into(),
            carrier: v.carrier.to_string(),
            flight_number: v.flight_number,
            origin: v.origin.to_string(),
            destination: v.destination.to_string(),
            departure_at: at(v.departure + from + shift),
            arrival_at: at(v.arrival + from + shift),
            previous_departure_at: (kind == "retimed").then(|| at(v.departure + from)),
            fare_minor: None,
            currency: None,
            seats_left: None,
            observed_at: at(v.departure - 2 * 1440),
        }
    }

    /// Every flight's state, by what names it.
    fn states(ix: &Index) -> std::collections::BTreeMap<String, (u32, u16, Option<i64>)> {
        (0..ix.leg_count() as u32)
            .map(|id| {
                let v = ix.leg_view(id);
                let l = ix.leg(id);
                (
                    format!(
                        "{}{} {}-{} {}",
                        v.carrier, v.flight_number, v.origin, v.destination, v.departure
                    ),
                    (l.fare, l.seats, ix.observed_at(id)),
                )
            })
            .collect()
    }

    /// A process restored from a snapshot holds what the one that wrote it held: the same
    /// flights (a retimed one later cancelled at its new time, too) with the same fares,
    /// seats and observation times, at the same version.
    #[test]
    fn a_restored_snapshot_is_the_state_it_was_taken_of() {
        let live = LiveIndex::new(tiny(), today());
        let ix = live.current().index.clone();
        let updates: Vec<FareUpdate> = (0..ix.leg_count() as u32)
            .step_by(5)
            .map(|leg| FareUpdate {
                leg,
                fare: ix.leg(leg).fare / 2 + 1,
                seats: (leg % 10) as u16,
                observed: 1_796_100_000 + leg as i64,
            })
            .collect();
        live.apply(updates);
        let ix = live.current().index.clone();
        let n = ix.leg_count() as u32;
        let (a, b, c) = (n / 3, n / 2, 2 * n / 3);
        let applied = live.apply_schedule(vec![
            notice(&ix, a, "retimed", 0, 25),
            // Cancelled at its new time: resolved after the retime is made.
            notice(&ix, a, "cancelled", 25, 0),
            notice(&ix, b, "retimed", 0, -15),
            notice(&ix, c, "cancelled", 0, 0),
        ]);
        assert_eq!(
            (applied.outcome.retimed, applied.outcome.cancelled),
            (2, 2),
            "{applied:?}"
        );
        let before = live.current();

        let dir = std::env::temp_dir().join(format!("spontra-snapshot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("search-snapshot.bin");
        let saved = live.save("search-42", "tiny/42/3");
        write(&path, &saved).unwrap();
        assert_eq!(read(&path, "tiny/42/3").unwrap(), Some(saved.clone()));
        assert!(matches!(
            read(&path, "full/42/35"),
            Err(SnapshotError::OtherWorld(_))
        ));
        assert!(read(&dir.join("none.bin"), "tiny/42/3").unwrap().is_none());

        let restarted = LiveIndex::new(tiny(), today());
        let restored = restarted.restore(&read(&path, "tiny/42/3").unwrap().unwrap());
        assert_eq!(restored, saved.legs.len());
        let after = restarted.current();
        assert_eq!(after.version, before.version);
        assert_eq!(after.observed_until, before.observed_until);
        assert_eq!(after.index.leg_count(), before.index.leg_count());
        assert_eq!(states(&after.index), states(&before.index));

        std::fs::write(&path, b"not a snapshot").unwrap();
        assert!(matches!(
            read(&path, "tiny/42/3"),
            Err(SnapshotError::Format(_))
        ));
        std::fs::remove_dir_all(&dir).ok();
    }
}
