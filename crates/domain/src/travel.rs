use chrono::NaiveDate;
use std::fmt;

/// Most seats one booking may hold (adults plus children; lap infants take no seat).
pub const MAX_SEATS: u8 = 9;

/// Cabin class, ordered from economy up.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Cabin {
    Economy = 0,
    PremiumEconomy = 1,
    Business = 2,
    First = 3,
}

impl Cabin {
    pub const ALL: [Cabin; 4] = [
        Cabin::Economy,
        Cabin::PremiumEconomy,
        Cabin::Business,
        Cabin::First,
    ];

    /// Accepts the API names (`economy`, `premium_economy`, `business`, `first`) and the IATA
    /// cabin letters (`Y`, `W`, `J`/`C`, `F`).
    /// Exactly the API name (`economy`, `premium_economy`, `business`, `first`); the API
    /// accepts no other spelling, as its document says.
    pub fn from_name(name: &str) -> Option<Cabin> {
        Cabin::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Lenient: any case, surrounding spaces, and booking-class letters (for the CLI).
    pub fn parse(input: &str) -> Option<Cabin> {
        match input.trim().to_ascii_lowercase().as_str() {
            "economy" | "y" => Some(Cabin::Economy),
            "premium_economy" | "premium-economy" | "premium" | "w" => Some(Cabin::PremiumEconomy),
            "business" | "j" | "c" => Some(Cabin::Business),
            "first" | "f" => Some(Cabin::First),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Cabin::Economy => "economy",
            Cabin::PremiumEconomy => "premium_economy",
            Cabin::Business => "business",
            Cabin::First => "first",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Cabin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The three global airline alliances.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Alliance {
    StarAlliance,
    Oneworld,
    SkyTeam,
}

impl Alliance {
    pub const ALL: [Alliance; 3] = [
        Alliance::StarAlliance,
        Alliance::Oneworld,
        Alliance::SkyTeam,
    ];

    /// Exactly the API name (`star_alliance`, `oneworld`, `skyteam`).
    pub fn from_name(name: &str) -> Option<Alliance> {
        Alliance::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// Lenient: any case, spaces, dashes or underscores (reference data files, the CLI).
    pub fn parse(input: &str) -> Option<Alliance> {
        match input
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '_', '-'], "")
            .as_str()
        {
            "star" | "staralliance" => Some(Alliance::StarAlliance),
            "oneworld" => Some(Alliance::Oneworld),
            "skyteam" => Some(Alliance::SkyTeam),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Alliance::StarAlliance => "star_alliance",
            Alliance::Oneworld => "oneworld",
            Alliance::SkyTeam => "skyteam",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Alliance::StarAlliance => "Star Alliance",
            Alliance::Oneworld => "oneworld",
            Alliance::SkyTeam => "SkyTeam",
        }
    }
}

/// Why a passenger mix is not bookable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassengersError {
    #[error("at least one adult must travel")]
    NoAdult,
    #[error("at most {MAX_SEATS} seated passengers (adults and children) per booking, got {0}")]
    TooMany(u32),
    #[error("each lap infant needs an adult: {infants} infants for {adults} adults")]
    TooManyInfants { adults: u8, infants: u8 },
}

/// A valid passenger mix: 1–9 seats, lap infants no more than adults.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Passengers {
    adults: u8,
    children: u8,
    infants: u8,
}

impl Passengers {
    pub fn new(adults: u32, children: u32, infants: u32) -> Result<Self, PassengersError> {
        if adults == 0 {
            return Err(PassengersError::NoAdult);
        }
        let seats = adults.saturating_add(children);
        if seats > MAX_SEATS as u32 {
            return Err(PassengersError::TooMany(seats));
        }
        if infants > adults {
            return Err(PassengersError::TooManyInfants {
                adults: adults as u8,
                infants: infants.min(255) as u8,
            });
        }
        Ok(Self {
            adults: adults as u8,
            children: children as u8,
            infants: infants as u8,
        })
    }

    pub fn one_adult() -> Self {
        Self {
            adults: 1,
            children: 0,
            infants: 0,
        }
    }

    pub fn adults(&self) -> u8 {
        self.adults
    }
    pub fn children(&self) -> u8 {
        self.children
    }
    pub fn infants(&self) -> u8 {
        self.infants
    }
    /// Seats needed on every leg.
    pub fn seats(&self) -> u8 {
        self.adults + self.children
    }

    /// Total price in minor units for a per-adult fare: children pay 75 %, lap infants 10 %
    /// (the usual IATA-style ratios; documented in ARCHITECTURE.md).
    pub fn total_for(&self, adult_fare: u64) -> u64 {
        if self.children == 0 && self.infants == 0 {
            return adult_fare.saturating_mul(self.adults as u64);
        }
        // Saturating: search bounds pass "infinite" fares through here.
        adult_fare
            .saturating_mul(self.adults as u64)
            .saturating_add((self.children as u64).saturating_mul(Self::child_fare(adult_fare)))
            .saturating_add((self.infants as u64).saturating_mul(Self::infant_fare(adult_fare)))
    }

    pub fn child_fare(adult_fare: u64) -> u64 {
        adult_fare / 100 * 75 + adult_fare % 100 * 75 / 100
    }

    pub fn infant_fare(adult_fare: u64) -> u64 {
        adult_fare / 10
    }
}

/// Why a range was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("the range ends before it starts")]
    Inverted,
    #[error("the range spans {got} days; at most {max} are allowed")]
    TooLong { got: i64, max: i64 },
    #[error("values must lie between {min} and {max}")]
    OutOfBounds { min: i64, max: i64 },
}

/// An inclusive range of calendar dates.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct DateRange {
    first: NaiveDate,
    last: NaiveDate,
}

impl DateRange {
    pub fn new(first: NaiveDate, last: NaiveDate, max_days: i64) -> Result<Self, RangeError> {
        if last < first {
            return Err(RangeError::Inverted);
        }
        let days = (last - first).num_days() + 1;
        if days > max_days {
            return Err(RangeError::TooLong {
                got: days,
                max: max_days,
            });
        }
        Ok(Self { first, last })
    }

    pub fn single(date: NaiveDate) -> Self {
        Self {
            first: date,
            last: date,
        }
    }

    pub fn first(&self) -> NaiveDate {
        self.first
    }
    pub fn last(&self) -> NaiveDate {
        self.last
    }
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> {
        self.first.iter_days().take_while({
            let last = self.last;
            move |d| *d <= last
        })
    }
    pub fn len(&self) -> i64 {
        (self.last - self.first).num_days() + 1
    }
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// A range of whole-journey durations, in minutes, parsed from hours.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct HoursRange {
    pub min_minutes: u32,
    pub max_minutes: u32,
}

impl HoursRange {
    pub const LIMIT_HOURS: f64 = 72.0;

    pub fn from_hours(min: f64, max: f64) -> Result<Self, RangeError> {
        let bounds = RangeError::OutOfBounds {
            min: 0,
            max: Self::LIMIT_HOURS as i64,
        };
        if !(0.0..=Self::LIMIT_HOURS).contains(&min) || !(0.0..=Self::LIMIT_HOURS).contains(&max) {
            return Err(bounds);
        }
        if max < min {
            return Err(RangeError::Inverted);
        }
        Ok(Self {
            min_minutes: (min * 60.0).round() as u32,
            max_minutes: (max * 60.0).round() as u32,
        })
    }

    pub fn contains(&self, minutes: u32) -> bool {
        (self.min_minutes..=self.max_minutes).contains(&minutes)
    }
}

/// A window of local clock time within a day, in minutes after midnight, inclusive.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct DayWindow {
    pub from_minute: u16,
    pub to_minute: u16,
}

impl DayWindow {
    pub const ALL_DAY: DayWindow = DayWindow {
        from_minute: 0,
        to_minute: 1439,
    };

    /// Parse `HH:MM-HH:MM`; the end may be `24:00`. A window that wraps midnight is refused.
    pub fn parse(input: &str) -> Result<Self, RangeError> {
        let bad = RangeError::OutOfBounds { min: 0, max: 1440 };
        let (a, b) = input.split_once('-').ok_or(bad.clone())?;
        let from = parse_clock(a).ok_or(bad.clone())?;
        let to = parse_clock(b).ok_or(bad)?;
        if to < from {
            return Err(RangeError::Inverted);
        }
        Ok(Self {
            from_minute: from,
            to_minute: to.min(1439),
        })
    }

    pub fn contains(&self, minute_of_day: u16) -> bool {
        (self.from_minute..=self.to_minute).contains(&minute_of_day)
    }
}

fn parse_clock(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passenger_rules() {
        assert!(Passengers::new(1, 0, 0).is_ok());
        assert_eq!(Passengers::new(0, 1, 0), Err(PassengersError::NoAdult));
        assert_eq!(Passengers::new(5, 5, 0), Err(PassengersError::TooMany(10)));
        assert!(matches!(
            Passengers::new(1, 0, 2),
            Err(PassengersError::TooManyInfants { .. })
        ));
        let p = Passengers::new(2, 1, 1).unwrap();
        assert_eq!(p.seats(), 3);
        assert_eq!(p.total_for(10000), 20000 + 7500 + 1000);
    }

    #[test]
    fn ranges_refuse_inversion_and_excess() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 12, day).unwrap();
        assert_eq!(DateRange::new(d(5), d(4), 31), Err(RangeError::Inverted));
        assert!(matches!(
            DateRange::new(d(1), d(31), 7),
            Err(RangeError::TooLong { .. })
        ));
        assert_eq!(DateRange::new(d(1), d(3), 7).unwrap().days().count(), 3);
        assert_eq!(HoursRange::from_hours(4.0, 2.0), Err(RangeError::Inverted));
        assert!(HoursRange::from_hours(2.0, 4.0).unwrap().contains(180));
    }

    #[test]
    fn day_windows_parse() {
        let w = DayWindow::parse("06:00-12:30").unwrap();
        assert_eq!((w.from_minute, w.to_minute), (360, 750));
        assert!(DayWindow::parse("12:00-06:00").is_err());
        assert!(DayWindow::parse("25:00-26:00").is_err());
        assert_eq!(DayWindow::parse("00:00-24:00").unwrap(), DayWindow::ALL_DAY);
    }

    #[test]
    fn cabins_and_alliances_parse() {
        assert_eq!(Cabin::parse("premium_economy"), Some(Cabin::PremiumEconomy));
        assert_eq!(Cabin::parse("J"), Some(Cabin::Business));
        assert_eq!(Cabin::parse("deluxe"), None);
        assert_eq!(
            Alliance::parse("Star Alliance"),
            Some(Alliance::StarAlliance)
        );
    }
}
