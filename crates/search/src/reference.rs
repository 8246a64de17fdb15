//! Reference data as the API shows it: airports and cities (autocomplete, by code), airlines
//! and the currencies prices can be shown in. Separate from the inventory: it never changes
//! while the process runs.

use crate::dto::{AirlineDto, AirlineQuery, AirportDto, AirportQuery, CurrencyDto};
use crate::parse;
use spontra_domain::{ErrorCode, Invalid};
use spontra_refdata::{RefData, SuggestionKind};
use std::sync::Arc;

/// Airports, cities, airlines and currencies for the API.
pub struct Reference {
    refdata: Arc<RefData>,
}

impl Reference {
    pub fn new(refdata: Arc<RefData>) -> Self {
        Reference { refdata }
    }

    /// Every currency with an ECB reference rate, by code.
    pub fn currencies(&self) -> Vec<CurrencyDto> {
        let mut out: Vec<CurrencyDto> = self
            .refdata
            .euro_rates()
            .iter()
            .map(|r| CurrencyDto {
                code: r.currency.to_string(),
                name: iso_currency::Currency::from_code(r.currency.as_str())
                    .map_or_else(|| r.currency.to_string(), |c| c.name().to_string()),
                digits: spontra_domain::minor_digits(r.currency),
                per_eur: r.decimal(),
                date: r.date.to_string(),
            })
            .collect();
        out.sort_by(|a, b| a.code.cmp(&b.code));
        out
    }

    pub fn airport_dto(&self, code: spontra_domain::AirportCode) -> Option<AirportDto> {
        let a = self.refdata.airport(code)?;
        Some(AirportDto {
            kind: "airport".into(),
            code: a.code.to_string(),
            name: a.name.clone(),
            city: a.city.clone(),
            city_code: a.city_code.map(|c| c.to_string()),
            country: a.country.to_string(),
            country_name: self
                .refdata
                .country(a.country)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            lat: Some(a.lat),
            lon: Some(a.lon),
            time_zone: Some(a.tz.name().to_string()),
            size: Some(a.size.as_str().to_string()),
            airports: vec![],
            best_match: false,
        })
    }

    pub fn place_dto(&self, raw: &str) -> Result<AirportDto, Invalid> {
        let not_found = || {
            Invalid::field(
                ErrorCode::NotFound,
                "code",
                format!("no airport or city has the code {raw:?}"),
            )
        };
        let code = spontra_domain::AirportCode::parse(raw).map_err(|_| not_found())?;
        match self.refdata.place(code).ok_or_else(not_found)? {
            spontra_refdata::Place::Airport(a) => self.airport_dto(a).ok_or_else(not_found),
            spontra_refdata::Place::City(c, _) => self.city_dto(c).ok_or_else(not_found),
        }
    }

    /// A metropolitan city with its airports, largest first.
    pub fn city_dto(&self, code: spontra_domain::AirportCode) -> Option<AirportDto> {
        let city = self.refdata.city(code)?;
        Some(AirportDto {
            kind: "city".into(),
            code: code.to_string(),
            name: city.name.clone(),
            city: city.name.clone(),
            city_code: Some(code.to_string()),
            country: city.country.to_string(),
            country_name: self
                .refdata
                .country(city.country)
                .map(|x| x.name.clone())
                .unwrap_or_default(),
            lat: None,
            lon: None,
            time_zone: None,
            size: None,
            airports: city.airports.iter().map(|a| a.to_string()).collect(),
            best_match: false,
        })
    }

    pub fn suggest(&self, q: &AirportQuery) -> Result<Vec<AirportDto>, Invalid> {
        let limit = parse::limit(q.limit, 10, 50)?;
        let Some(text) = q.q.clone().filter(|t| !t.is_empty()) else {
            return Err(Invalid::field(
                ErrorCode::MissingField,
                "q",
                "type part of a code, city, airport or country",
            ));
        };
        if text.trim().is_empty() {
            return Ok(vec![]);
        }
        Ok(self
            .refdata
            .suggest(&text, limit)
            .into_iter()
            .filter_map(|s| {
                let dto = match s.kind {
                    SuggestionKind::City => self.city_dto(s.code),
                    SuggestionKind::Airport => self.airport_dto(s.code),
                };
                dto.map(|d| AirportDto {
                    best_match: s.unambiguous,
                    ..d
                })
            })
            .collect())
    }

    fn airline_dto(a: &spontra_refdata::Airline) -> AirlineDto {
        AirlineDto {
            code: a.code.to_string(),
            icao: a.icao.clone(),
            name: a.name.clone(),
            country: a.country.clone(),
            alliance: a.alliance.map(|x| x.as_str().to_string()),
            low_cost: a.low_cost,
        }
    }

    pub fn airlines(&self, q: &AirlineQuery) -> Result<Vec<AirlineDto>, Invalid> {
        let limit = parse::limit(q.limit, 100, 1000)?;
        let alliance = match &q.alliance {
            Some(a) => Some(parse::alliances("alliance", std::slice::from_ref(a))?[0]),
            None => None,
        };
        let needle = q.q.as_deref().unwrap_or("").trim().to_lowercase();
        Ok(self
            .refdata
            .airlines()
            .iter()
            .filter(|a| alliance.is_none() || a.alliance == alliance)
            .filter(|a| {
                needle.is_empty()
                    || a.code.as_str().eq_ignore_ascii_case(&needle)
                    || a.name.to_lowercase().contains(&needle)
            })
            .take(limit)
            .map(Self::airline_dto)
            .collect())
    }

    pub fn airline(&self, raw: &str) -> Result<AirlineDto, Invalid> {
        let not_found = || {
            Invalid::field(
                ErrorCode::NotFound,
                "code",
                format!("no airline has the code {raw:?}"),
            )
        };
        let code = spontra_domain::CarrierCode::parse(raw).map_err(|_| not_found())?;
        self.refdata
            .airline(code)
            .map(Self::airline_dto)
            .ok_or_else(not_found)
    }
}
