//! Ranked lists: cheapest, fastest and best.
//!
//! The `best` score (lower is better) of an option, relative to the cheapest price `p_min` and
//! shortest duration `d_min` among the options shown:
//!
//! ```text
//! score = price / p_min + 0.8 · duration / d_min + 0.25 · stops
//!       + 0.3 · self_transfers + 0.3 · airport_changes + 0.1 · night_departures
//! ```
//!
//! A night departure leaves between 00:00 and 05:59 local time. The weights make a 25 % price
//! difference worth about a 30 % duration difference or one stop, which is how travellers trade
//! them in published choice studies, and they are easy to explain on the results page.

/// The ingredients of a score, one per option.
#[derive(Clone, Copy, Debug)]
pub struct ScoreInput {
    pub price: u64,
    pub duration: u32,
    pub stops: u32,
    pub self_transfers: u32,
    pub airport_changes: u32,
    pub night_departures: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortOrder {
    Best,
    Cheapest,
    Fastest,
}

impl SortOrder {
    pub fn parse(s: &str) -> Option<SortOrder> {
        match s {
            "best" => Some(SortOrder::Best),
            "cheapest" | "price" => Some(SortOrder::Cheapest),
            "fastest" | "duration" => Some(SortOrder::Fastest),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Best => "best",
            SortOrder::Cheapest => "cheapest",
            SortOrder::Fastest => "fastest",
        }
    }
}

pub fn best_scores(items: &[ScoreInput]) -> Vec<f64> {
    let p_min = items.iter().map(|i| i.price).min().unwrap_or(1).max(1) as f64;
    let d_min = items.iter().map(|i| i.duration).min().unwrap_or(1).max(1) as f64;
    items
        .iter()
        .map(|i| {
            i.price as f64 / p_min
                + 0.8 * i.duration as f64 / d_min
                + 0.25 * i.stops as f64
                + 0.3 * i.self_transfers as f64
                + 0.3 * i.airport_changes as f64
                + 0.1 * i.night_departures as f64
        })
        .collect()
}

/// Indices of `items` in the order of `order`; ties fall back to price, duration, then index.
pub fn sort_by(items: &[ScoreInput], order: SortOrder) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..items.len()).collect();
    match order {
        SortOrder::Cheapest => idx.sort_by_key(|&i| (items[i].price, items[i].duration, i)),
        SortOrder::Fastest => idx.sort_by_key(|&i| (items[i].duration, items[i].price, i)),
        SortOrder::Best => {
            let s = best_scores(items);
            idx.sort_by(|&a, &b| {
                s[a].total_cmp(&s[b])
                    .then(items[a].price.cmp(&items[b].price))
                    .then(a.cmp(&b))
            });
        }
    }
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(price: u64, duration: u32, stops: u32) -> ScoreInput {
        ScoreInput {
            price,
            duration,
            stops,
            self_transfers: 0,
            airport_changes: 0,
            night_departures: 0,
        }
    }

    #[test]
    fn orders_differ_as_documented() {
        let items = [item(100, 600, 1), item(110, 300, 0), item(300, 280, 0)];
        assert_eq!(sort_by(&items, SortOrder::Cheapest), vec![0, 1, 2]);
        assert_eq!(sort_by(&items, SortOrder::Fastest), vec![2, 1, 0]);
        // 10 % dearer but half the time and direct: best.
        assert_eq!(sort_by(&items, SortOrder::Best)[0], 1);
    }
}
