//! Whole numbers in JSON bodies as JSON Schema counts them: `2` and `2.0` are the same
//! integer, so a field documented as an integer takes both (serde's `u32` refuses `2.0`).
//! Use with `#[serde(default, deserialize_with = "spontra_http::whole::opt_u32")]`, or
//! `whole::u32` for a required field.

use serde::de::{Deserializer, Error};
use serde::Deserialize;

fn to_u32<E: Error>(n: serde_json::Number) -> Result<u32, E> {
    let whole = n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u32::MAX))
            .map(|f| f as u64)
    });
    whole
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| E::custom(format!("{n} is not a whole number from 0 to {}", u32::MAX)))
}

pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    to_u32(serde_json::Number::deserialize(d)?)
}

pub fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Option::<serde_json::Number>::deserialize(d)?
        .map(to_u32)
        .transpose()
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "super::opt_u32")]
        n: Option<u32>,
    }

    fn n(json: &str) -> Result<Option<u32>, serde_json::Error> {
        serde_json::from_str::<Body>(json).map(|b| b.n)
    }

    #[test]
    fn integral_floats_are_whole_numbers() {
        assert_eq!(n(r#"{"n": 2}"#).unwrap(), Some(2));
        assert_eq!(n(r#"{"n": 2.0}"#).unwrap(), Some(2));
        assert_eq!(n(r#"{"n": null}"#).unwrap(), None);
        assert_eq!(n("{}").unwrap(), None);
        for bad in [
            r#"{"n": 2.5}"#,
            r#"{"n": -1}"#,
            r#"{"n": 5e9}"#,
            r#"{"n": "2"}"#,
        ] {
            assert!(n(bad).is_err(), "{bad}");
        }
    }
}
