//! Travel preferences: what prefills searches and explore. Stored as a JSON document; every
//! field is checked here before it is stored.

use serde::{Deserialize, Serialize};
use spontra_domain::{AirportCode, Cabin, HoursRange, Passengers};
use spontra_domain::{ErrorCode, Invalid};
use spontra_refdata::RefData;
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TripHours {
    #[schema(minimum = 0, maximum = 72)]
    pub min: f64,
    #[schema(minimum = 0, maximum = 72)]
    pub max: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Notifications {
    /// Mail when a price alert fires (on by default: an alert is itself the ask; each mail
    /// also unsubscribes its alert in one click). Off: alerts keep watching, nothing is mailed.
    pub price_alerts: bool,
    pub deals: bool,
    pub newsletter: bool,
}

/// A user's preferences; `GET` returns the defaults until they are set. `PUT` replaces the
/// whole document; a field left out takes its default.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Preferences {
    /// Airport or city code, e.g. `LHR` or `LON`.
    #[schema(pattern = "^[A-Za-z]{3}$", example = "LON")]
    pub home_airport: Option<String>,
    /// ISO 4217, e.g. `EUR` (a code that is no currency is `unknown_currency`, 422).
    #[schema(pattern = "^[A-Z]{3}$", example = "EUR")]
    pub currency: String,
    #[schema(value_type = spontra_http::vocabulary::CabinName)]
    pub cabin: String,
    /// 1–9; adults and children at most 9 together (`too_many_passengers`, 422).
    #[schema(minimum = 1, maximum = 9)]
    #[serde(deserialize_with = "spontra_http::whole::u32")]
    pub adults: u32,
    #[schema(minimum = 0, maximum = 8)]
    #[serde(deserialize_with = "spontra_http::whole::u32")]
    pub children: u32,
    /// At most one per adult (`too_many_infants`, 422).
    #[schema(minimum = 0, maximum = 9)]
    #[serde(deserialize_with = "spontra_http::whole::u32")]
    pub infants: u32,
    /// Preferred journey length for explore, in hours.
    pub trip_hours: Option<TripHours>,
    /// Budget per trip in `currency`.
    #[schema(minimum = 0, maximum = 1000000)]
    pub budget: Option<f64>,
    pub notifications: Notifications,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            home_airport: None,
            currency: "EUR".into(),
            cabin: "economy".into(),
            adults: 1,
            children: 0,
            infants: 0,
            trip_hours: None,
            budget: None,
            notifications: Notifications {
                price_alerts: true,
                deals: false,
                newsletter: false,
            },
        }
    }
}

impl Preferences {
    /// Check every field, normalising codes to upper case and the cabin to its API name.
    pub fn validated(mut self, refdata: &RefData) -> Result<Preferences, Invalid> {
        let mut e = Invalid::default();
        if let Some(code) = &self.home_airport {
            match AirportCode::parse(code)
                .ok()
                .filter(|c| refdata.place(*c).is_some())
            {
                Some(c) => self.home_airport = Some(c.to_string()),
                None => e.push(
                    ErrorCode::UnknownAirport,
                    "home_airport",
                    format!("no airport or city has the code {code:?}"),
                ),
            }
        }
        match iso_currency::Currency::from_code(&self.currency) {
            Some(c) => self.currency = c.code().to_string(),
            None => e.push(
                ErrorCode::UnknownCurrency,
                "currency",
                format!("{:?} is not an ISO 4217 currency code", self.currency),
            ),
        }
        match Cabin::from_name(&self.cabin) {
            Some(c) => self.cabin = c.as_str().to_string(),
            None => e.push(
                ErrorCode::UnknownCabin,
                "cabin",
                format!(
                    "{:?} is not one of economy, premium_economy, business, first",
                    self.cabin
                ),
            ),
        }
        e.take(Passengers::new(self.adults, self.children, self.infants).map_err(Invalid::from));
        if let Some(h) = &self.trip_hours {
            if let Err(err) = HoursRange::from_hours(h.min, h.max) {
                e.push(ErrorCode::InvalidRange, "trip_hours", err.to_string());
            }
        }
        if let Some(b) = self.budget {
            if !(0.0..=1_000_000.0).contains(&b) || b.is_nan() {
                e.push(
                    ErrorCode::InvalidField,
                    "budget",
                    "must be between 0 and 1,000,000",
                );
            }
        }
        e.finish()?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spontra_domain::Coded;

    #[test]
    fn validates_and_normalises() {
        let rd = RefData::load().unwrap();
        let p = Preferences {
            home_airport: Some("lon".into()),
            currency: "GBP".into(),
            cabin: "business".into(),
            ..Preferences::default()
        };
        let v = p.validated(&rd).unwrap();
        assert_eq!(
            (
                v.home_airport.as_deref(),
                v.currency.as_str(),
                v.cabin.as_str()
            ),
            (Some("LON"), "GBP", "business")
        );
        let bad = Preferences {
            home_airport: Some("QQQ".into()),
            currency: "XYZ1".into(),
            cabin: "deluxe".into(),
            adults: 1,
            infants: 2,
            trip_hours: Some(TripHours { min: 5.0, max: 2.0 }),
            budget: Some(-1.0),
            ..Preferences::default()
        };
        let err = bad.validated(&rd).unwrap_err();
        let fields: Vec<&str> = err.problems().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "home_airport",
                "currency",
                "cabin",
                "infants",
                "trip_hours",
                "budget"
            ]
        );
        // The first error that does not match the document (400) names the answer.
        assert_eq!(err.code(), ErrorCode::UnknownCabin);
    }
}
