use std::fmt;
use std::str::FromStr;

/// Why a code did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("expected {expected}, got {got:?}")]
    Malformed { expected: &'static str, got: String },
}

macro_rules! code_type {
    ($name:ident, $len:expr, $what:expr, $allow_digits:expr) => {
        #[doc = concat!("A validated ", $what, ", stored as uppercase ASCII.")]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; $len]);

        impl $name {
            /// Parse a code, accepting lowercase input.
            pub fn parse(input: &str) -> Result<Self, CodeError> {
                let bytes = input.trim().as_bytes();
                let ok = bytes.len() == $len
                    && bytes
                        .iter()
                        .all(|b| b.is_ascii_alphabetic() || ($allow_digits && b.is_ascii_digit()));
                if !ok {
                    return Err(CodeError::Malformed {
                        expected: $what,
                        got: input.to_string(),
                    });
                }
                let mut out = [0u8; $len];
                for (o, b) in out.iter_mut().zip(bytes) {
                    *o = b.to_ascii_uppercase();
                }
                Ok(Self(out))
            }

            pub fn as_str(&self) -> &str {
                // Only ASCII letters and digits are ever stored.
                std::str::from_utf8(&self.0).unwrap_or("?")
            }

            pub fn bytes(&self) -> [u8; $len] {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = CodeError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.as_str())
            }
        }
    };
}

code_type!(
    AirportCode,
    3,
    "a three-letter IATA airport or city code",
    false
);
code_type!(
    CarrierCode,
    2,
    "a two-character IATA airline designator",
    true
);
code_type!(CountryCode, 2, "a two-letter ISO 3166 country code", false);
code_type!(
    CurrencyCode,
    3,
    "a three-letter ISO 4217 currency code",
    false
);

impl CurrencyCode {
    pub const EUR: CurrencyCode = CurrencyCode(*b"EUR");
    pub const USD: CurrencyCode = CurrencyCode(*b"USD");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn airport_codes_are_normalised_and_validated() {
        assert_eq!(AirportCode::parse("lhr").unwrap().as_str(), "LHR");
        assert!(AirportCode::parse("LH").is_err());
        assert!(AirportCode::parse("L1R").is_err());
        assert!(AirportCode::parse("LHRX").is_err());
    }

    #[test]
    fn carrier_codes_allow_digits() {
        assert_eq!(CarrierCode::parse("u2").unwrap().as_str(), "U2");
        assert!(CarrierCode::parse("U").is_err());
        assert!(CarrierCode::parse("U-").is_err());
    }
}
