//! Circuity: how far an itinerary may fly to get from its origin to its destination.
//!
//! Modelled on IATA's maximum permitted mileage (MPM), which lets a fare's routing fly about
//! 20% beyond the ticketed point-to-point mileage (TPM): an itinerary's flown distance (the sum
//! of its legs' great-circle distances; a change of airports within a city flies nothing) may
//! be at most 1.2 × the great-circle distance from its first airport to its last, plus 800 km.
//! The fixed allowance gives short trips the room a hub needs (London–Barcelona, 1,150 km, may
//! fly 2,180 km: via Frankfurt, Zurich or Madrid, not via Lisbon or Singapore); on long trips
//! the ratio dominates (London–Sydney, 17,000 km, may fly 21,200 km: via Singapore, Dubai or
//! Los Angeles). Nonstop flights always qualify. The search prunes with the rule while it
//! enumerates (see `search`), so detours are never built.

/// Ratio of the great-circle distance allowed, in percent.
pub const MAX_RATIO_PERCENT: u32 = 120;
/// Allowance added to every trip, in km.
pub const ALLOWANCE_KM: u32 = 800;

/// The longest an itinerary between two airports `great_circle_km` apart may fly.
pub fn max_flown_km(great_circle_km: u32) -> u32 {
    great_circle_km * MAX_RATIO_PERCENT / 100 + ALLOWANCE_KM
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_trips_get_relatively_more_room() {
        assert_eq!(max_flown_km(1_150), 2_180);
        assert_eq!(max_flown_km(17_000), 21_200);
        assert!(max_flown_km(300) as f64 / 300.0 > max_flown_km(10_000) as f64 / 10_000.0);
    }
}
