//! Spontra's domain types. Once a value is one of these types it is valid: parsing happens at the
//! edge (`parse`/`TryFrom`), and everything inside works with these. No IO (but the system
//! clock behind [`Clock`]), no serde, no HTTP.

mod clock;
mod codes;
mod email;
pub mod error;
mod money;
mod text;
mod travel;

pub use clock::{Clock, FixedClock, MarketClock, SharedClock, SystemClock};
pub use codes::{AirportCode, CarrierCode, CodeError, CountryCode, CurrencyCode};
pub use email::{Email, EmailError};
pub use error::{Coded, ErrorCode, FieldProblem, Invalid, Kind};
pub use money::{is_iso_4217, minor_digits, AmountError, EuroRate, Money};
pub use text::{is_printable_line, is_unprintable, DisplayName, DisplayNameError};
pub use travel::{
    Alliance, Cabin, DateRange, DayWindow, HoursRange, Passengers, PassengersError, RangeError,
    MAX_SEATS,
};

/// Minutes since the Unix epoch, UTC. Schedules are minute-precise, so this is the one time unit
/// shared by the importer, the simulator and the engine.
pub type UtcMinute = i64;

/// Convert a date and a minute of the day in UTC to [`UtcMinute`].
pub fn utc_minute(date: chrono::NaiveDate, minute_of_day: i64) -> UtcMinute {
    let days = date.signed_duration_since(epoch_date()).num_days();
    days * 1440 + minute_of_day
}

/// The calendar date (UTC) of a [`UtcMinute`].
pub fn utc_date(minute: UtcMinute) -> chrono::NaiveDate {
    epoch_date() + chrono::Days::new(minute.div_euclid(1440) as u64)
}

fn epoch_date() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

/// Great-circle distance in kilometres between two points given in degrees (haversine, mean
/// Earth radius 6,371 km).
pub fn great_circle_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().asin()
}

/// Grams to kilograms with one decimal, for display.
pub fn co2_kg_round(grams: u64) -> f64 {
    (grams as f64 / 100.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_minutes_round_trip_dates() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 12, 18).unwrap();
        let m = utc_minute(d, 90);
        assert_eq!(utc_date(m), d);
        assert_eq!(m % 1440, 90);
    }

    #[test]
    fn great_circle_lhr_jfk_is_about_5540_km() {
        let km = great_circle_km(51.4706, -0.46194, 40.63993, -73.77869);
        assert!((km - 5540.0).abs() < 20.0, "{km}");
    }
}
