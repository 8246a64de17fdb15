//! Airport and city autocomplete: codes, city names, airport names and country names, by prefix,
//! with typo tolerance (Damerau–Levenshtein on the prefix), ranked by match quality then size.
//!
//! A linear scan over ~4,000 pre-folded entries answers in well under a millisecond, which is
//! why there is no trie or external search index here.

use crate::{Airport, City, Country, RefData};
use spontra_domain::{AirportCode, CountryCode};
use std::collections::HashMap;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SuggestionKind {
    City,
    Airport,
}

/// One autocomplete answer.
#[derive(Clone, Debug)]
pub struct Suggestion {
    pub kind: SuggestionKind,
    pub code: AirportCode,
    /// Airport name, or city name for a city.
    pub name: String,
    pub city: String,
    pub country: CountryCode,
    pub country_name: String,
    /// For a city: its airports, largest first. For an airport: empty.
    pub airports: Vec<AirportCode>,
    /// How well it matched: 0 is best.
    pub tier: u8,
}

struct Entry {
    kind: SuggestionKind,
    code: AirportCode,
    code_folded: String,
    city: String,
    name_words: Vec<String>,
    name: String,
    country: String,
    weight: u32,
}

pub(crate) struct Index {
    entries: Vec<Entry>,
}

fn fold(s: &str) -> String {
    deunicode::deunicode(s)
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl Index {
    pub(crate) fn build(
        airports: &[Airport],
        cities: &[City],
        countries: &HashMap<CountryCode, Country>,
    ) -> Self {
        let country_name =
            |c: CountryCode| countries.get(&c).map(|x| fold(&x.name)).unwrap_or_default();
        let mut entries = Vec::with_capacity(airports.len() + cities.len());
        let weight_of: HashMap<AirportCode, u32> =
            airports.iter().map(|a| (a.code, a.routes + 1)).collect();
        for c in cities.iter().filter(|c| c.airports.len() > 1) {
            entries.push(Entry {
                kind: SuggestionKind::City,
                code: c.code,
                code_folded: c.code.as_str().to_ascii_lowercase(),
                city: fold(&c.name),
                name_words: vec![],
                name: fold(&c.name),
                country: country_name(c.country),
                // A city outranks its own largest airport.
                weight: c
                    .airports
                    .iter()
                    .filter_map(|a| weight_of.get(a))
                    .sum::<u32>()
                    + 1,
            });
        }
        for a in airports {
            let name = fold(&a.name);
            entries.push(Entry {
                kind: SuggestionKind::Airport,
                code: a.code,
                code_folded: a.code.as_str().to_ascii_lowercase(),
                city: fold(&a.city),
                name_words: name.split(' ').map(str::to_string).collect(),
                name,
                country: country_name(a.country),
                weight: a.routes + 1,
            });
        }
        Self { entries }
    }

    fn tier(entry: &Entry, q: &str) -> Option<u8> {
        if entry.code_folded == q {
            return Some(0);
        }
        if entry.city == q {
            return Some(1);
        }
        if entry.city.starts_with(q) {
            return Some(2);
        }
        if entry.name.starts_with(q) || entry.name_words.iter().any(|w| w.starts_with(q)) {
            return Some(3);
        }
        if q.len() >= 3 && entry.country.starts_with(q) {
            return Some(4);
        }
        if q.len() >= 4 {
            let allowed = if q.len() <= 6 { 1 } else { 2 };
            let close = |field: &str| {
                // Compare with the field's prefix of the query's length, and one longer or
                // shorter, so a dropped or doubled letter still matches.
                (q.len().saturating_sub(1)..=q.len() + 1).any(|n| {
                    let prefix: String = field.chars().take(n).collect();
                    prefix.len() + 1 >= q.len()
                        && strsim::damerau_levenshtein(&prefix, q) <= allowed
                })
            };
            if close(&entry.city) {
                return Some(5);
            }
            if entry.name_words.iter().any(|w| w.len() >= 4 && close(w)) {
                return Some(6);
            }
        }
        None
    }

    pub(crate) fn search(&self, data: &RefData, query: &str, limit: usize) -> Vec<Suggestion> {
        let q = fold(query);
        if q.is_empty() || limit == 0 {
            return vec![];
        }
        let mut hits: Vec<(u8, u32, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Self::tier(e, &q).map(|t| (t, e.weight, i)))
            .collect();
        hits.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        hits.into_iter()
            .take(limit)
            .filter_map(|(tier, _, i)| self.suggestion(data, &self.entries[i], tier))
            .collect()
    }

    fn suggestion(&self, data: &RefData, e: &Entry, tier: u8) -> Option<Suggestion> {
        match e.kind {
            SuggestionKind::City => {
                let c = data.city(e.code)?;
                Some(Suggestion {
                    kind: e.kind,
                    code: c.code,
                    name: c.name.clone(),
                    city: c.name.clone(),
                    country: c.country,
                    country_name: data
                        .country(c.country)
                        .map(|x| x.name.clone())
                        .unwrap_or_default(),
                    airports: c.airports.clone(),
                    tier,
                })
            }
            SuggestionKind::Airport => {
                let a = data.airport(e.code)?;
                Some(Suggestion {
                    kind: e.kind,
                    code: a.code,
                    name: a.name.clone(),
                    city: a.city.clone(),
                    country: a.country,
                    country_name: data
                        .country(a.country)
                        .map(|x| x.name.clone())
                        .unwrap_or_default(),
                    airports: vec![],
                    tier,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{RefData, SuggestionKind};

    fn codes(q: &str) -> Vec<String> {
        let r = RefData::load().unwrap();
        r.suggest(q, 8)
            .iter()
            .map(|s| s.code.as_str().to_string())
            .collect()
    }

    #[test]
    fn exact_code_first() {
        assert_eq!(codes("lhr")[0], "LHR");
        assert_eq!(codes("JFK")[0], "JFK");
    }

    #[test]
    fn city_prefix_returns_city_code_then_airports_by_size() {
        let c = codes("lond");
        assert_eq!(c[0], "LON");
        assert_eq!(c[1], "LHR");
        assert!(c.contains(&"LGW".to_string()));
    }

    #[test]
    fn typos_are_tolerated() {
        assert!(
            codes("londn").contains(&"LON".to_string()),
            "{:?}",
            codes("londn")
        );
        assert!(
            codes("barcleona").contains(&"BCN".to_string()),
            "{:?}",
            codes("barcleona")
        );
        assert!(codes("frankfrut").contains(&"FRA".to_string()));
    }

    #[test]
    fn accents_fold_and_names_match() {
        assert!(codes("zurich").contains(&"ZRH".to_string()));
        assert!(codes("heathrow").contains(&"LHR".to_string()));
        assert!(codes("charles de gaulle").contains(&"CDG".to_string()));
    }

    #[test]
    fn city_suggestions_list_their_airports() {
        let r = RefData::load().unwrap();
        let s = r.suggest("NYC", 1);
        assert_eq!(s[0].kind, SuggestionKind::City);
        assert!(s[0].airports.iter().any(|a| a.as_str() == "JFK"));
    }

    #[test]
    fn nonsense_finds_nothing() {
        assert!(codes("qqqqqqqq").is_empty());
        assert!(codes("").is_empty());
    }
}
