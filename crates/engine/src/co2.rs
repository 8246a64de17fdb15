//! CO2 estimate per passenger, a documented distance- and cabin-based model.
//!
//! Per leg: `(95 kg + km · k(km)) · cabin factor · 1.08` where `k` is 0.115 kg/km up to
//! 1,500 km, 0.090 kg/km up to 4,000 km and 0.080 kg/km beyond; the 95 kg covers take-off and
//! landing; the cabin factors (economy 1.0, premium economy 1.5, business 2.9, first 4.0)
//! reflect floor space per seat; the 8 % uplift covers routing inefficiency. These follow the
//! shape of the ICAO calculator and DEFRA's conversion factors without their per-aircraft
//! tables, so figures are comparable between itineraries rather than exact.

const CABIN_FACTOR: [f64; 4] = [1.0, 1.5, 2.9, 4.0];

pub fn leg_co2_grams(distance_km: u32, cabin: usize) -> u64 {
    let km = distance_km as f64;
    let per_km = if km <= 1500.0 {
        0.115
    } else if km <= 4000.0 {
        0.090
    } else {
        0.080
    };
    let kg = (95.0 + km * per_km) * CABIN_FACTOR[cabin.min(3)] * 1.08;
    (kg * 1000.0).round() as u64
}

/// Sum over legs, per passenger.
pub fn co2_grams_per_passenger(distances_km: &[u32], cabin: usize) -> u64 {
    distances_km.iter().map(|&d| leg_co2_grams(d, cabin)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longer_and_premium_emit_more() {
        assert!(leg_co2_grams(5500, 0) > leg_co2_grams(1000, 0));
        assert!(leg_co2_grams(1000, 2) > leg_co2_grams(1000, 0));
        // London–New York in economy: roughly half a tonne.
        let g = leg_co2_grams(5540, 0);
        assert!((450_000..650_000).contains(&g), "{g}");
    }
}
