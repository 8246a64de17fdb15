//! Price insights: the quartiles of a sample of prices and the low / typical / high label of
//! a price against them (below the first quartile / between / above the third), as Google
//! Flights labels prices and Amadeus' Flight Price Analysis ranks them.

/// Minimum, quartiles and maximum of a sample, in euro cents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quartiles {
    pub minimum: i64,
    pub first: i64,
    pub median: i64,
    pub third: i64,
    pub maximum: i64,
    /// Prices in the sample.
    pub size: usize,
}

/// Where a price stands against what the route usually costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    /// Below the first quartile.
    Low,
    /// Between the first and third quartiles (the typical range), both included.
    Typical,
    /// Above the third quartile.
    High,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Low => "low",
            Label::Typical => "typical",
            Label::High => "high",
        }
    }
}

/// The sample's quartiles by linear interpolation between order statistics (Hyndman and Fan's
/// type 7, the default of R and NumPy), rounded to the cent; `None` for an empty sample.
pub fn quartiles(sample: &[i64]) -> Option<Quartiles> {
    if sample.is_empty() {
        return None;
    }
    let mut sorted = sample.to_vec();
    sorted.sort_unstable();
    let at = |p: f64| -> i64 {
        let h = (sorted.len() - 1) as f64 * p;
        let (lo, frac) = (h.floor() as usize, h - h.floor());
        let hi = (lo + 1).min(sorted.len() - 1);
        let v = sorted[lo] as f64 + frac * (sorted[hi] - sorted[lo]) as f64;
        v.round() as i64
    };
    Some(Quartiles {
        minimum: sorted[0],
        first: at(0.25),
        median: at(0.5),
        third: at(0.75),
        maximum: sorted[sorted.len() - 1],
        size: sorted.len(),
    })
}

impl Quartiles {
    pub fn label(&self, price: i64) -> Label {
        if price < self.first {
            Label::Low
        } else if price > self.third {
            Label::High
        } else {
            Label::Typical
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quartiles_interpolate_as_r_and_numpy_do() {
        // numpy.percentile([10, 20, 30, 40], [25, 50, 75]) = 17.5, 25, 32.5
        let q = quartiles(&[40, 10, 30, 20]).unwrap();
        assert_eq!(
            (q.minimum, q.first, q.median, q.third, q.maximum, q.size),
            (10, 18, 25, 33, 40, 4)
        );
        let one = quartiles(&[7]).unwrap();
        assert_eq!(
            (one.minimum, one.first, one.third, one.maximum),
            (7, 7, 7, 7)
        );
        assert_eq!(quartiles(&[]), None);
    }

    #[test]
    fn labels_split_at_the_quartiles() {
        let q = quartiles(&(1..=101).collect::<Vec<_>>()).unwrap();
        assert_eq!((q.first, q.median, q.third), (26, 51, 76));
        assert_eq!(q.label(25), Label::Low);
        assert_eq!(q.label(26), Label::Typical);
        assert_eq!(q.label(76), Label::Typical);
        assert_eq!(q.label(77), Label::High);
    }

    proptest! {
        #[test]
        fn quartiles_are_ordered_and_split_the_sample(sample in prop::collection::vec(1i64..1_000_000, 1..200)) {
            let q = quartiles(&sample).unwrap();
            prop_assert!(q.minimum <= q.first && q.first <= q.median);
            prop_assert!(q.median <= q.third && q.third <= q.maximum);
            // At most a quarter (and one order statistic) of the sample is labelled low, as
            // many high.
            let low = sample.iter().filter(|&&p| q.label(p) == Label::Low).count();
            let high = sample.iter().filter(|&&p| q.label(p) == Label::High).count();
            prop_assert!(low as f64 <= sample.len() as f64 * 0.25 + 1.0);
            prop_assert!(high as f64 <= sample.len() as f64 * 0.25 + 1.0);
        }
    }
}
