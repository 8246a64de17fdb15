//! Reference data: airports with scheduled service, metropolitan city codes, countries, airlines,
//! alliances, low-cost carriers and minimum connection times, all compiled into the binary from
//! `data/` (see `data/LICENSE.md`), plus the airport autocomplete index.

mod autocomplete;
mod tz;

pub use autocomplete::{Suggestion, SuggestionKind};
pub use tz::{offset_minutes_at, offset_transitions};

use chrono_tz::Tz;
use spontra_domain::{AirportCode, Alliance, CarrierCode, CountryCode, CurrencyCode, EuroRate};
use std::collections::HashMap;

const AIRPORTS_CSV: &str = include_str!("../../../data/airports.csv");
const CITY_CODES_CSV: &str = include_str!("../../../data/city_codes.csv");
const ECB_RATES_CSV: &str = include_str!("../../../data/ecb_rates.csv");
const AIRPORT_KEYWORDS_CSV: &str = include_str!("../../../data/airport_keywords.csv");
/// Hand-written local names travellers type (Roma, Wien), added to the keywords.
const LOCAL_NAMES_CSV: &str = include_str!("../../../data/local_names.csv");
/// Corrections to the registry's metropolitan-area table, each with its reason (see
/// `data/LICENSE.md`): airports it leaves out of their city, and a wrong country.
const CITY_CODE_OVERRIDES_CSV: &str = include_str!("../../../data/city_code_overrides.csv");
const COUNTRIES_CSV: &str = include_str!("../../../data/countries.csv");
const AIRLINES_CSV: &str = include_str!("../../../data/airlines.csv");
const ALLIANCES_CSV: &str = include_str!("../../../data/alliances.csv");
const LOW_COST_CSV: &str = include_str!("../../../data/low_cost.csv");
/// Carriers that no longer fly, with the date and who flies their services now.
const CARRIER_SUCCESSORS_CSV: &str = include_str!("../../../data/carrier_successors.csv");
/// Airports' night curfews (local time), with the rule each comes from.
const CURFEWS_CSV: &str = include_str!("../../../data/curfews.csv");
/// OpenFlights routes: `origin,destination,airlines` (space-separated carrier codes).
pub const ROUTES_CSV: &str = include_str!("../../../data/routes.csv");
/// BTS DB1B market fares for US origin–destination pairs, in USD.
pub const FARES_US_CSV: &str = include_str!("../../../data/fares_us.csv");

/// Why the embedded reference data failed to load (only a broken build can cause this).
#[derive(Debug, thiserror::Error)]
pub enum RefDataError {
    #[error("{file} line {line}: {reason}")]
    Bad {
        file: &'static str,
        line: u64,
        reason: String,
    },
}

/// How big an airport is, which drives minimum connection times, banks and frequencies.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum SizeClass {
    Small,
    Medium,
    Large,
    Hub,
}

impl SizeClass {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "small" => SizeClass::Small,
            "medium" => SizeClass::Medium,
            "large" => SizeClass::Large,
            "hub" => SizeClass::Hub,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SizeClass::Small => "small",
            SizeClass::Medium => "medium",
            SizeClass::Large => "large",
            SizeClass::Hub => "hub",
        }
    }
}

/// Minimum connection times in minutes at one airport.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Mct {
    /// Both flights domestic.
    pub domestic: u16,
    /// Either flight international.
    pub international: u16,
}

impl Mct {
    /// Defaults by airport size (the published MCTs of comparable airports cluster around these).
    pub fn for_size(size: SizeClass) -> Mct {
        match size {
            SizeClass::Hub => Mct {
                domestic: 60,
                international: 90,
            },
            SizeClass::Large => Mct {
                domestic: 45,
                international: 70,
            },
            SizeClass::Medium => Mct {
                domestic: 35,
                international: 50,
            },
            SizeClass::Small => Mct {
                domestic: 25,
                international: 40,
            },
        }
    }
}

#[derive(Clone, Debug)]
pub struct Airport {
    pub code: AirportCode,
    pub icao: String,
    pub name: String,
    pub city: String,
    /// The metropolitan city code (LON for LHR), when the airport belongs to one.
    pub city_code: Option<AirportCode>,
    pub country: CountryCode,
    pub lat: f64,
    pub lon: f64,
    pub tz: Tz,
    pub size: SizeClass,
    /// Number of (route, airline) pairs touching this airport in the OpenFlights data.
    pub routes: u32,
    pub mct: Mct,
    /// Other names people type for it or its city: local and former names, translations
    /// (München, Londres, Lisboa), from OurAirports' keywords.
    pub other_names: Vec<String>,
    /// Hours with no scheduled departures or arrivals (`data/curfews.csv`).
    pub curfew: Option<Curfew>,
}

/// A night curfew: no scheduled movement from `from` to `to`, local minutes of the day (it
/// may run past midnight).
#[derive(Clone, Debug, PartialEq)]
pub struct Curfew {
    pub from: u16,
    pub to: u16,
    /// The rule it comes from.
    pub rule: String,
}

impl Curfew {
    /// Whether a movement at `minute` of the local day (taken modulo a day) breaks it.
    pub fn covers(&self, minute: i64) -> bool {
        let m = minute.rem_euclid(1440) as u16;
        if self.from <= self.to {
            (self.from..self.to).contains(&m)
        } else {
            m >= self.from || m < self.to
        }
    }
}

/// A carrier that has stopped flying, and who flies its services now
/// (`data/carrier_successors.csv`).
#[derive(Clone, Debug)]
pub struct Succession {
    pub code: CarrierCode,
    pub name: String,
    pub ended: chrono::NaiveDate,
    /// `None`: the carrier ceased and nobody took its services over.
    pub successor: Option<CarrierCode>,
    pub note: String,
}

#[derive(Clone, Debug)]
pub struct City {
    pub code: AirportCode,
    pub name: String,
    pub country: CountryCode,
    pub airports: Vec<AirportCode>,
}

#[derive(Clone, Debug)]
pub struct Airline {
    pub code: CarrierCode,
    pub icao: String,
    pub name: String,
    pub country: String,
    pub alliance: Option<Alliance>,
    pub low_cost: bool,
}

#[derive(Clone, Debug)]
pub struct Country {
    pub code: CountryCode,
    pub name: String,
    pub continent: String,
}

/// All reference data, loaded once and shared read-only.
pub struct RefData {
    airports: Vec<Airport>,
    airport_by_code: HashMap<AirportCode, usize>,
    cities: Vec<City>,
    city_by_code: HashMap<AirportCode, usize>,
    airlines: Vec<Airline>,
    airline_by_code: HashMap<CarrierCode, usize>,
    countries: HashMap<CountryCode, Country>,
    autocomplete: autocomplete::Index,
    euro_rates: Vec<EuroRate>,
    successions: Vec<Succession>,
}

/// What a code names: an airport, or a city with several airports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    Airport(AirportCode),
    City(AirportCode, Vec<AirportCode>),
}

impl Place {
    pub fn airports(&self) -> Vec<AirportCode> {
        match self {
            Place::Airport(a) => vec![*a],
            Place::City(_, list) => list.clone(),
        }
    }
}

impl RefData {
    /// Parse the embedded data. Fails only if the committed data files are broken.
    pub fn load() -> Result<Self, RefDataError> {
        let countries = parse_countries()?;
        let mut airports = parse_airports()?;
        let cities = parse_cities(&airports)?;
        let mut city_of: HashMap<AirportCode, AirportCode> = HashMap::new();
        for city in &cities {
            for a in &city.airports {
                city_of.insert(*a, city.code);
            }
        }
        for a in &mut airports {
            a.city_code = city_of.get(&a.code).copied();
        }
        let airport_by_code = airports
            .iter()
            .enumerate()
            .map(|(i, a)| (a.code, i))
            .collect();
        let city_by_code = cities
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code, i))
            .collect();
        let mut airlines = parse_airlines()?;
        let successions = parse_successions(&mut airlines)?;
        let airline_by_code = airlines
            .iter()
            .enumerate()
            .map(|(i, a)| (a.code, i))
            .collect();
        let autocomplete = autocomplete::Index::build(&airports, &cities, &countries);
        let euro_rates = parse_euro_rates()?;
        Ok(Self {
            airports,
            airport_by_code,
            cities,
            city_by_code,
            airlines,
            airline_by_code,
            countries,
            autocomplete,
            euro_rates,
            successions,
        })
    }

    /// Carriers that have stopped flying (`data/carrier_successors.csv`).
    pub fn successions(&self) -> &[Succession] {
        &self.successions
    }

    /// Who flies `code`'s services today: itself, its successor, or nobody (it ceased).
    pub fn flying_carrier(&self, code: CarrierCode) -> Option<CarrierCode> {
        match self.successions.iter().find(|s| s.code == code) {
            Some(s) => s.successor,
            None => Some(code),
        }
    }

    /// The ECB reference rate of `currency` against the euro (`data/ecb_rates.csv`).
    pub fn euro_rate(&self, currency: CurrencyCode) -> Option<EuroRate> {
        self.euro_rates
            .iter()
            .find(|r| r.currency == currency)
            .copied()
    }

    /// `money` in euro cents at its ECB reference rate (none for a currency without one, or a
    /// negative amount).
    pub fn eur_minor(&self, money: spontra_domain::Money) -> Option<i64> {
        if money.currency.as_str() == "EUR" {
            return Some(money.minor);
        }
        let rate = self.euro_rate(money.currency)?;
        Some(rate.to_eur(u64::try_from(money.minor).ok()?) as i64)
    }

    /// Every currency prices can be shown in, by code.
    pub fn euro_rates(&self) -> &[EuroRate] {
        &self.euro_rates
    }

    pub fn airports(&self) -> &[Airport] {
        &self.airports
    }

    pub fn airport(&self, code: AirportCode) -> Option<&Airport> {
        self.airport_by_code.get(&code).map(|&i| &self.airports[i])
    }

    pub fn city(&self, code: AirportCode) -> Option<&City> {
        self.city_by_code.get(&code).map(|&i| &self.cities[i])
    }

    pub fn cities(&self) -> &[City] {
        &self.cities
    }

    /// Resolve a code to an airport or a metropolitan city. An airport code wins over a city
    /// code spelled the same (e.g. `BFS`, `DXB`), since the airport is in that city anyway.
    pub fn place(&self, code: AirportCode) -> Option<Place> {
        if let Some(city) = self.city(code) {
            if city.airports.len() > 1 || self.airport(code).is_none() {
                return Some(Place::City(code, city.airports.clone()));
            }
        }
        self.airport(code).map(|a| Place::Airport(a.code))
    }

    pub fn airlines(&self) -> &[Airline] {
        &self.airlines
    }

    pub fn airline(&self, code: CarrierCode) -> Option<&Airline> {
        self.airline_by_code.get(&code).map(|&i| &self.airlines[i])
    }

    pub fn country(&self, code: CountryCode) -> Option<&Country> {
        self.countries.get(&code)
    }

    /// Autocomplete over codes, cities, airport names and countries; prefix and typo tolerant.
    pub fn suggest(&self, query: &str, limit: usize) -> Vec<Suggestion> {
        self.autocomplete.search(self, query, limit)
    }
}

fn reader(text: &'static str) -> csv::Reader<&'static [u8]> {
    csv::ReaderBuilder::new().from_reader(text.as_bytes())
}

fn bad(file: &'static str, rec: &csv::StringRecord, reason: impl Into<String>) -> RefDataError {
    RefDataError::Bad {
        file,
        line: rec.position().map(|p| p.line()).unwrap_or(0),
        reason: reason.into(),
    }
}

fn records(file: &'static str, text: &'static str) -> Result<Vec<csv::StringRecord>, RefDataError> {
    reader(text)
        .records()
        .map(|r| {
            r.map_err(|e| RefDataError::Bad {
                file,
                line: e.position().map(|p| p.line()).unwrap_or(0),
                reason: e.to_string(),
            })
        })
        .collect()
}

fn parse_euro_rates() -> Result<Vec<EuroRate>, RefDataError> {
    const F: &str = "ecb_rates.csv";
    let mut out = Vec::new();
    for rec in records(F, ECB_RATES_CSV)? {
        let code = CurrencyCode::parse(&rec[0]).map_err(|e| bad(F, &rec, e.to_string()))?;
        let date = rec[2].parse().map_err(|_| bad(F, &rec, "date"))?;
        out.push(EuroRate::parse(code, &rec[1], date).ok_or_else(|| bad(F, &rec, "rate"))?);
    }
    Ok(out)
}

fn parse_airports() -> Result<Vec<Airport>, RefDataError> {
    const F: &str = "airports.csv";
    let mut curfews = parse_curfews()?;
    let mut other_names: HashMap<AirportCode, Vec<String>> = HashMap::new();
    for rec in records("airport_keywords.csv", AIRPORT_KEYWORDS_CSV)? {
        let code = AirportCode::parse(&rec[0])
            .map_err(|e| bad("airport_keywords.csv", &rec, e.to_string()))?;
        let names = rec[1].split(';').map(str::trim).filter(|n| !n.is_empty());
        other_names.insert(code, names.map(str::to_string).collect());
    }
    for rec in records("local_names.csv", LOCAL_NAMES_CSV)? {
        let code =
            AirportCode::parse(&rec[0]).map_err(|e| bad("local_names.csv", &rec, e.to_string()))?;
        let names = rec[1].split(';').map(str::trim).filter(|n| !n.is_empty());
        other_names
            .entry(code)
            .or_default()
            .extend(names.map(str::to_string));
    }
    let mut out = Vec::new();
    for rec in records(F, AIRPORTS_CSV)? {
        let code = AirportCode::parse(&rec[0]).map_err(|e| bad(F, &rec, e.to_string()))?;
        let country = CountryCode::parse(&rec[4]).map_err(|e| bad(F, &rec, e.to_string()))?;
        let lat: f64 = rec[5].parse().map_err(|_| bad(F, &rec, "lat"))?;
        let lon: f64 = rec[6].parse().map_err(|_| bad(F, &rec, "lon"))?;
        let tz: Tz = rec[7].parse().map_err(|_| bad(F, &rec, "tz"))?;
        let size = SizeClass::parse(&rec[8]).ok_or_else(|| bad(F, &rec, "size"))?;
        let routes: u32 = rec[9].parse().map_err(|_| bad(F, &rec, "routes"))?;
        out.push(Airport {
            code,
            icao: rec[1].to_string(),
            name: rec[2].to_string(),
            city: rec[3].to_string(),
            city_code: None,
            country,
            lat,
            lon,
            tz,
            size,
            routes,
            mct: Mct::for_size(size),
            other_names: other_names.remove(&code).unwrap_or_default(),
            curfew: curfews.remove(&code),
        });
    }
    if let Some(code) = curfews.keys().next() {
        return Err(RefDataError::Bad {
            file: "curfews.csv",
            line: 0,
            reason: format!("{code} is not an airport with scheduled service"),
        });
    }
    Ok(out)
}

fn parse_curfews() -> Result<HashMap<AirportCode, Curfew>, RefDataError> {
    const F: &str = "curfews.csv";
    let minute = |rec: &csv::StringRecord, i: usize, field: &str| {
        chrono::NaiveTime::parse_from_str(&rec[i], "%H:%M")
            .map(|t| (chrono::Timelike::hour(&t) * 60 + chrono::Timelike::minute(&t)) as u16)
            .map_err(|_| bad(F, rec, field))
    };
    let mut out = HashMap::new();
    for rec in records(F, CURFEWS_CSV)? {
        let code = AirportCode::parse(&rec[0]).map_err(|e| bad(F, &rec, e.to_string()))?;
        let curfew = Curfew {
            from: minute(&rec, 1, "from")?,
            to: minute(&rec, 2, "to")?,
            rule: rec[3].to_string(),
        };
        out.insert(code, curfew);
    }
    Ok(out)
}

/// The successions, with each carrier whose code passed to another airline renamed (AZ is
/// ITA Airways now).
fn parse_successions(airlines: &mut [Airline]) -> Result<Vec<Succession>, RefDataError> {
    const F: &str = "carrier_successors.csv";
    let mut out = Vec::new();
    for rec in records(F, CARRIER_SUCCESSORS_CSV)? {
        let code = CarrierCode::parse(&rec[0]).map_err(|e| bad(F, &rec, e.to_string()))?;
        let ended = chrono::NaiveDate::parse_from_str(&rec[2], "%Y-%m-%d")
            .map_err(|_| bad(F, &rec, "ended"))?;
        let successor = match &rec[3] {
            "" => None,
            s => Some(CarrierCode::parse(s).map_err(|e| bad(F, &rec, e.to_string()))?),
        };
        if let Some(next) = successor {
            let known = airlines.iter_mut().find(|a| a.code == next);
            let Some(airline) = known else {
                return Err(bad(F, &rec, "successor is not in airlines.csv"));
            };
            if next == code {
                airline.name = rec[4].to_string();
            }
        }
        out.push(Succession {
            code,
            name: rec[1].to_string(),
            ended,
            successor,
            note: rec[5].to_string(),
        });
    }
    Ok(out)
}

fn parse_cities(airports: &[Airport]) -> Result<Vec<City>, RefDataError> {
    const F: &str = "city_codes.csv";
    let known: HashMap<AirportCode, &Airport> = airports.iter().map(|a| (a.code, a)).collect();
    let mut out: Vec<City> = Vec::new();
    for rec in records(F, CITY_CODES_CSV)? {
        let code = AirportCode::parse(&rec[0]).map_err(|e| bad(F, &rec, e.to_string()))?;
        let airport = AirportCode::parse(&rec[3]).map_err(|e| bad(F, &rec, e.to_string()))?;
        let country = CountryCode::parse(&rec[2]).map_err(|e| bad(F, &rec, e.to_string()))?;
        if !known.contains_key(&airport) {
            continue;
        }
        match out.last_mut() {
            Some(city) if city.code == code => city.airports.push(airport),
            _ => out.push(City {
                code,
                name: rec[1].to_string(),
                country,
                airports: vec![airport],
            }),
        }
    }
    apply_city_overrides(&mut out, &known)?;
    // Largest airport first, so a city's list reads LHR, LGW, STN, ...
    for city in &mut out {
        city.airports
            .sort_by_key(|a| std::cmp::Reverse(known.get(a).map(|x| x.routes).unwrap_or(0)));
    }
    Ok(out)
}

fn apply_city_overrides(
    cities: &mut Vec<City>,
    known: &HashMap<AirportCode, &Airport>,
) -> Result<(), RefDataError> {
    const F: &str = "city_code_overrides.csv";
    for rec in records(F, CITY_CODE_OVERRIDES_CSV)? {
        let code = AirportCode::parse(&rec[1]).map_err(|e| bad(F, &rec, e.to_string()))?;
        let country = CountryCode::parse(&rec[3]).map_err(|e| bad(F, &rec, e.to_string()))?;
        let index = match cities.iter().position(|c| c.code == code) {
            Some(i) => i,
            None => {
                cities.push(City {
                    code,
                    name: rec[2].to_string(),
                    country,
                    airports: vec![],
                });
                cities.len() - 1
            }
        };
        let city = &mut cities[index];
        match &rec[0] {
            "add" => {
                let airport =
                    AirportCode::parse(&rec[4]).map_err(|e| bad(F, &rec, e.to_string()))?;
                if known.contains_key(&airport) && !city.airports.contains(&airport) {
                    city.airports.push(airport);
                }
            }
            "country" => city.country = country,
            other => return Err(bad(F, &rec, format!("unknown action {other:?}"))),
        }
    }
    cities.retain(|c| !c.airports.is_empty());
    Ok(())
}

fn parse_countries() -> Result<HashMap<CountryCode, Country>, RefDataError> {
    const F: &str = "countries.csv";
    let mut out = HashMap::new();
    for rec in records(F, COUNTRIES_CSV)? {
        // OurAirports lists Kosovo as XK and a few pseudo-codes; skip what is not two letters.
        let Ok(code) = CountryCode::parse(&rec[0]) else {
            continue;
        };
        out.insert(
            code,
            Country {
                code,
                name: rec[1].to_string(),
                continent: rec[2].to_string(),
            },
        );
    }
    Ok(out)
}

fn parse_airlines() -> Result<Vec<Airline>, RefDataError> {
    let mut alliance: HashMap<String, Alliance> = HashMap::new();
    for rec in records("alliances.csv", ALLIANCES_CSV)? {
        let a = Alliance::parse(&rec[1]).ok_or_else(|| bad("alliances.csv", &rec, "alliance"))?;
        alliance.insert(rec[0].to_string(), a);
    }
    let low_cost: std::collections::HashSet<String> = records("low_cost.csv", LOW_COST_CSV)?
        .iter()
        .map(|r| r[0].to_string())
        .collect();
    const F: &str = "airlines.csv";
    let mut out = Vec::new();
    for rec in records(F, AIRLINES_CSV)? {
        let code = CarrierCode::parse(&rec[0]).map_err(|e| bad(F, &rec, e.to_string()))?;
        out.push(Airline {
            code,
            icao: rec[1].to_string(),
            name: rec[2].to_string(),
            country: rec[4].to_string(),
            alliance: alliance.get(&rec[0]).copied(),
            low_cost: low_cost.contains(&rec[0]),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rd() -> RefData {
        RefData::load().unwrap()
    }

    #[test]
    fn defunct_carriers_name_their_successors_and_curfews_their_hours() {
        let r = rd();
        let code = |c: &str| CarrierCode::parse(c).unwrap();
        assert_eq!(r.flying_carrier(code("US")), Some(code("AA")));
        assert_eq!(r.flying_carrier(code("AB")), Some(code("EW")));
        assert_eq!(r.flying_carrier(code("4U")), Some(code("EW")));
        assert_eq!(r.flying_carrier(code("ZB")), None, "Monarch ceased");
        assert_eq!(r.flying_carrier(code("BA")), Some(code("BA")));
        assert_eq!(r.airline(code("AZ")).unwrap().name, "ITA Airways");
        let air_berlin = r
            .successions()
            .iter()
            .find(|s| s.code == code("AB"))
            .unwrap();
        assert_eq!(air_berlin.ended.to_string(), "2017-10-27");

        let lhr = r.airport(AirportCode::parse("LHR").unwrap()).unwrap();
        let curfew = lhr.curfew.as_ref().unwrap();
        // 23:30-04:30, across midnight: 01:45 and 02:20 are inside, 06:00 and 23:00 not.
        assert!(curfew.covers(105) && curfew.covers(140) && curfew.covers(23 * 60 + 45));
        assert!(!curfew.covers(360) && !curfew.covers(23 * 60) && !curfew.covers(270));
        let muc = r.airport(AirportCode::parse("MUC").unwrap()).unwrap();
        assert!(
            muc.curfew.as_ref().unwrap().covers(0) && !muc.curfew.as_ref().unwrap().covers(300)
        );
        assert!(r
            .airport(AirportCode::parse("ATL").unwrap())
            .unwrap()
            .curfew
            .is_none());
    }

    #[test]
    fn loads_thousands_of_airports_with_time_zones() {
        let r = rd();
        assert!(r.airports().len() > 3500, "{}", r.airports().len());
        let lhr = r.airport(AirportCode::parse("LHR").unwrap()).unwrap();
        assert_eq!(lhr.tz, chrono_tz::Europe::London);
        assert_eq!(lhr.size, SizeClass::Hub);
        assert_eq!(lhr.city_code, Some(AirportCode::parse("LON").unwrap()));
    }

    #[test]
    fn city_codes_resolve_to_their_airports_largest_first() {
        let r = rd();
        let place = r.place(AirportCode::parse("LON").unwrap()).unwrap();
        let airports = place.airports();
        assert_eq!(airports[0].as_str(), "LHR");
        assert!(airports.iter().any(|a| a.as_str() == "LGW"));
        assert!(airports.iter().any(|a| a.as_str() == "STN"));
        assert_eq!(
            r.place(AirportCode::parse("JFK").unwrap()),
            Some(Place::Airport(AirportCode::parse("JFK").unwrap()))
        );
        assert_eq!(r.place(AirportCode::parse("QQQ").unwrap()), None);
    }

    #[test]
    fn metropolitan_codes_cover_their_airports() {
        let r = rd();
        // IATA's metropolitan areas (corrected by data/city_code_overrides.csv).
        for (city, members) in [
            ("NYC", &["JFK", "LGA", "EWR"][..]),
            ("WAS", &["IAD", "DCA", "BWI"]),
            ("LON", &["LHR", "LGW", "STN", "LTN", "LCY", "SEN"]),
            ("STO", &["ARN", "BMA", "NYO", "VST"]),
            ("JNB", &["JNB", "HLA"]),
            ("PAR", &["CDG", "ORY"]),
            ("MIL", &["MXP", "LIN", "BGY"]),
            ("TYO", &["HND", "NRT"]),
        ] {
            let place = r.place(AirportCode::parse(city).unwrap()).unwrap();
            let codes = place.airports();
            let airports: Vec<&str> = codes.iter().map(|a| a.as_str()).collect();
            for m in members {
                assert!(airports.contains(m), "{city} lacks {m}: {airports:?}");
            }
        }
        let slu = r.city(AirportCode::parse("SLU").unwrap()).unwrap();
        assert_eq!(slu.country.as_str(), "LC", "Saint Lucia, not Sierra Leone");
        assert_eq!(
            r.airport(AirportCode::parse("EWR").unwrap())
                .unwrap()
                .city_code,
            Some(AirportCode::parse("NYC").unwrap())
        );
    }

    #[test]
    fn airlines_carry_alliances_and_low_cost_flags() {
        let r = rd();
        let ba = r.airline(CarrierCode::parse("BA").unwrap()).unwrap();
        assert_eq!(ba.alliance, Some(Alliance::Oneworld));
        assert!(!ba.low_cost);
        assert!(
            r.airline(CarrierCode::parse("FR").unwrap())
                .unwrap()
                .low_cost
        );
    }
}
