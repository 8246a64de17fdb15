//! Money as every service's API shows it, converted from the inventory's euros at the ECB
//! reference rate.

use serde::Serialize;
use spontra_domain::{CurrencyCode, EuroRate, Money};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema, Clone, Debug, PartialEq, Eq)]
pub struct Price {
    /// Decimal amount, e.g. `"149.99"`.
    pub amount: String,
    pub currency: String,
    /// Integer minor units (cents).
    pub minor: u64,
}

/// The currency prices are shown in, and its rate from the euro (none: euros).
#[derive(Clone, Copy, Debug)]
pub struct Display {
    pub currency: CurrencyCode,
    pub rate: Option<EuroRate>,
}

impl Display {
    /// `eur_minor` euro cents in this currency.
    pub fn price(&self, eur_minor: u64) -> Price {
        let minor = self.rate.map_or(eur_minor, |r| r.convert(eur_minor));
        Price {
            amount: Money::new(minor as i64, self.currency).decimal(),
            currency: self.currency.to_string(),
            minor,
        }
    }

    /// The most euro cents a price given in this currency stands for: exactly the prices
    /// whose converted amount is within it.
    pub fn index_cap(&self, display_minor: u64) -> u64 {
        self.rate
            .map_or(display_minor, |r| r.max_eur_within(display_minor))
    }
}
