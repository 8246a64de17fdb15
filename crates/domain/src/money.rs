use crate::CurrencyCode;
use std::fmt;

/// An amount in integer minor units (cents) of a currency. Never a float.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Money {
    pub minor: i64,
    pub currency: CurrencyCode,
}

impl Money {
    pub fn new(minor: i64, currency: CurrencyCode) -> Self {
        Self { minor, currency }
    }

    /// The amount as a decimal string with two places, e.g. `149.00`.
    pub fn decimal(&self) -> String {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.decimal(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_minor_units() {
        let eur = CurrencyCode::parse("EUR").unwrap();
        assert_eq!(Money::new(14900, eur).to_string(), "149.00 EUR");
        assert_eq!(Money::new(-5, eur).decimal(), "-0.05");
    }
}
