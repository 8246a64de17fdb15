//! Hash-based randomness: every random choice is a pure function of the seed and the ids of
//! what it is about (route, carrier, day...), so the world does not depend on iteration order
//! and any one leg can be regenerated on its own. SplitMix64's finaliser mixes the inputs.

pub fn hash(parts: &[u64]) -> u64 {
    let mut h: u64 = 0x243F_6A88_85A3_08D3;
    for &p in parts {
        h ^= p;
        h = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = h;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h = z ^ (z >> 31);
    }
    h
}

/// Uniform in [0, 1).
pub fn unit(parts: &[u64]) -> f64 {
    (hash(parts) >> 11) as f64 / (1u64 << 53) as f64
}

pub fn code3(s: &str) -> u64 {
    s.bytes().fold(0u64, |acc, b| acc * 256 + b as u64)
}
