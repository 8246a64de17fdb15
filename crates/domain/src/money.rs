use crate::CurrencyCode;
use std::fmt;

/// An amount in integer minor units of a currency (cents; yen have none). Never a float.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Money {
    pub minor: i64,
    pub currency: CurrencyCode,
}

/// Digits after the decimal point in `currency`'s minor unit (ISO 4217): 2 for EUR, 0 for
/// JPY, 3 for KWD; 2 for a code ISO 4217 does not list.
pub fn minor_digits(currency: CurrencyCode) -> u32 {
    iso_currency::Currency::from_code(currency.as_str())
        .and_then(|c| c.exponent())
        .map_or(2, u32::from)
}

/// Whether ISO 4217 lists `currency`.
pub fn is_iso_4217(currency: CurrencyCode) -> bool {
    iso_currency::Currency::from_code(currency.as_str()).is_some()
}

/// Why a decimal amount is not money.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("{0:?} is not a decimal amount")]
    NotDecimal(String),
    #[error("{amount:?} has more decimals than {currency} has minor digits ({digits})")]
    TooPrecise {
        amount: String,
        currency: String,
        digits: u32,
    },
    #[error("{0:?} is too large")]
    TooLarge(String),
}

impl Money {
    pub fn new(minor: i64, currency: CurrencyCode) -> Self {
        Self { minor, currency }
    }

    /// Parse a decimal string (`"459.99"`, `"17568"`, `"-3.5"`) exactly into minor units of
    /// `currency`: no floating point, and no more decimals than the currency has.
    pub fn parse_decimal(amount: &str, currency: CurrencyCode) -> Result<Money, AmountError> {
        let text = amount.trim();
        let (negative, digits_text) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits_text.split_once('.').unwrap_or((digits_text, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !all_digits(whole)
            || !all_digits(fraction)
            || (digits_text.contains('.') && fraction.is_empty())
        {
            return Err(AmountError::NotDecimal(amount.to_string()));
        }
        let digits = minor_digits(currency);
        if fraction.len() as u32 > digits {
            return Err(AmountError::TooPrecise {
                amount: amount.to_string(),
                currency: currency.as_str().to_string(),
                digits,
            });
        }
        let padded = format!("{whole}{fraction:0<width$}", width = digits as usize);
        let minor: i64 = padded
            .parse()
            .map_err(|_| AmountError::TooLarge(amount.to_string()))?;
        Ok(Money::new(if negative { -minor } else { minor }, currency))
    }

    /// The amount as a decimal string with the currency's minor digits, e.g. `149.00` EUR,
    /// `17568` JPY.
    pub fn decimal(&self) -> String {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let digits = minor_digits(self.currency);
        if digits == 0 {
            return format!("{sign}{abs}");
        }
        let unit = 10u64.pow(digits);
        format!(
            "{sign}{}.{:0width$}",
            abs / unit,
            abs % unit,
            width = digits as usize
        )
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.decimal(), self.currency)
    }
}

/// A reference exchange rate: units of a currency per one euro, in millionths (ECB rates have
/// at most five significant decimals), on the day the ECB published it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EuroRate {
    pub currency: CurrencyCode,
    pub per_eur_millionths: u64,
    pub date: chrono::NaiveDate,
}

impl EuroRate {
    /// Parse an ECB decimal such as `0.83380` or `20275.17`.
    pub fn parse(
        currency: CurrencyCode,
        decimal: &str,
        date: chrono::NaiveDate,
    ) -> Option<EuroRate> {
        let (whole, frac) = decimal
            .trim()
            .split_once('.')
            .unwrap_or((decimal.trim(), ""));
        if frac.len() > 6 || whole.is_empty() {
            return None;
        }
        let whole: u64 = whole.parse().ok()?;
        let frac: u64 = if frac.is_empty() {
            0
        } else {
            frac.parse::<u64>().ok()? * 10u64.pow(6 - frac.len() as u32)
        };
        let per_eur_millionths = whole.checked_mul(1_000_000)?.checked_add(frac)?;
        (per_eur_millionths > 0).then_some(EuroRate {
            currency,
            per_eur_millionths,
            date,
        })
    }

    /// `eur_minor` euro cents in this currency's minor units, rounded half up.
    pub fn convert(&self, eur_minor: u64) -> u64 {
        let scale = 10u128.pow(minor_digits(self.currency));
        // eur_minor / 100 € × rate × 10^digits, in integers.
        let num = eur_minor as u128 * self.per_eur_millionths as u128 * scale;
        let den = 100u128 * 1_000_000;
        ((num + den / 2) / den).min(u64::MAX as u128) as u64
    }

    /// `minor` units of this currency in euro cents, rounded half up.
    pub fn to_eur(&self, minor: u64) -> u64 {
        let scale = 10u128.pow(minor_digits(self.currency));
        let num = minor as u128 * 100 * 1_000_000;
        let den = self.per_eur_millionths as u128 * scale;
        ((num + den / 2) / den).min(u64::MAX as u128) as u64
    }

    /// The most euro cents whose conversion is at most `minor` (to filter by a price given in
    /// this currency exactly as the converted prices show).
    pub fn max_eur_within(&self, minor: u64) -> u64 {
        let scale = 10u128.pow(minor_digits(self.currency));
        let den = 100u128 * 1_000_000;
        let per = self.per_eur_millionths as u128 * scale;
        // convert(x) ≤ minor ⇔ x·per + den/2 < (minor + 1)·den.
        let bound = ((minor as u128 + 1) * den - den / 2).saturating_sub(1) / per;
        bound.min(u64::MAX as u128) as u64
    }

    /// The rate as the ECB writes it, e.g. `0.8338`.
    pub fn decimal(&self) -> String {
        let s = format!(
            "{}.{:06}",
            self.per_eur_millionths / 1_000_000,
            self.per_eur_millionths % 1_000_000
        );
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_eur_inverts_convert_within_rounding() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let gbp = EuroRate::parse(CurrencyCode::parse("GBP").unwrap(), "0.8338", d).unwrap();
        let jpy = EuroRate::parse(CurrencyCode::parse("JPY").unwrap(), "162.5", d).unwrap();
        assert_eq!(gbp.to_eur(8338), 10_000);
        assert_eq!(jpy.to_eur(16_250), 10_000);
        for eur in [1u64, 99, 12_345, 987_654] {
            let back = gbp.to_eur(gbp.convert(eur));
            assert!(back.abs_diff(eur) <= 1, "{eur} -> {back}");
        }
    }

    #[test]
    fn decimal_amounts_parse_exactly_by_minor_digits() {
        let c = |s| CurrencyCode::parse(s).unwrap();
        assert_eq!(
            Money::parse_decimal("459.99", c("EUR")).unwrap().minor,
            45_999
        );
        assert_eq!(
            Money::parse_decimal("459.9", c("EUR")).unwrap().minor,
            45_990
        );
        assert_eq!(
            Money::parse_decimal("17568", c("JPY")).unwrap().minor,
            17_568
        );
        assert_eq!(
            Money::parse_decimal("1.234", c("KWD")).unwrap().minor,
            1_234
        );
        assert_eq!(Money::parse_decimal("-3.5", c("EUR")).unwrap().minor, -350);
        for bad in ["", "12.", ".5", "1e3", "12,50", "NaN", "--1", " 1 2"] {
            assert!(Money::parse_decimal(bad, c("EUR")).is_err(), "{bad:?}");
        }
        assert!(matches!(
            Money::parse_decimal("1.5", c("JPY")),
            Err(AmountError::TooPrecise { .. })
        ));
        assert!(matches!(
            Money::parse_decimal("99999999999999999999", c("EUR")),
            Err(AmountError::TooLarge(_))
        ));
        assert!(is_iso_4217(c("EUR")) && !is_iso_4217(c("XYZ")));
    }

    fn code(c: &str) -> CurrencyCode {
        CurrencyCode::parse(c).unwrap()
    }

    #[test]
    fn formats_minor_units_by_iso_4217_digits() {
        assert_eq!(Money::new(14900, code("EUR")).to_string(), "149.00 EUR");
        assert_eq!(Money::new(-5, code("EUR")).decimal(), "-0.05");
        assert_eq!(Money::new(17568, code("JPY")).decimal(), "17568");
        assert_eq!(Money::new(1234, code("KWD")).decimal(), "1.234");
    }

    #[test]
    fn converts_with_integer_arithmetic_rounding_half_up() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 10, 30).unwrap();
        let gbp = EuroRate::parse(code("GBP"), "0.83380", day).unwrap();
        assert_eq!(gbp.per_eur_millionths, 833_800);
        assert_eq!(gbp.convert(10_000), 8_338); // €100.00 → £83.38
        assert_eq!(gbp.convert(7_699), 6_419); // 64.194... → 64.19
        assert_eq!(gbp.decimal(), "0.8338");
        let jpy = EuroRate::parse(code("JPY"), "175.68", day).unwrap();
        assert_eq!(jpy.convert(7_699), 13_526); // 13525.8 → ¥13,526
        let idr = EuroRate::parse(code("IDR"), "20275.17", day).unwrap();
        assert_eq!(idr.convert(100), 2_027_517);
        assert!(EuroRate::parse(code("GBP"), "abc", day).is_none());
        assert!(EuroRate::parse(code("GBP"), "0", day).is_none());
    }

    #[test]
    fn the_euro_bound_of_a_price_cap_matches_conversion() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 10, 30).unwrap();
        for (c, r) in [("GBP", "0.8338"), ("JPY", "175.68"), ("USD", "1.1172")] {
            let rate = EuroRate::parse(code(c), r, day).unwrap();
            for cap in [0u64, 1, 99, 15_000, 123_456] {
                let x = rate.max_eur_within(cap);
                assert!(rate.convert(x) <= cap || x == 0, "{c} {cap}");
                assert!(rate.convert(x + 1) > cap, "{c} {cap}: {x} is the most");
            }
        }
    }
}
