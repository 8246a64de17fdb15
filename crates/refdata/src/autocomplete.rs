//! Airport and city autocomplete: codes, city names, airport names, other names (local and
//! former names, translations: München, Londres) and country names, by prefix, with typo
//! tolerance (Damerau–Levenshtein on the prefix), ranked by match quality then size.
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
    /// The text names this place and no other of note: the first suggestion, matching the
    /// text exactly (code, city or other name), and every other exact match is one of its
    /// airports or at most a tenth its size (London is LON, not London, Ontario).
    pub unambiguous: bool,
}

struct Entry {
    kind: SuggestionKind,
    code: AirportCode,
    code_folded: String,
    city: String,
    name_words: Vec<String>,
    name: String,
    /// Other names, whole and word by word (folded).
    other_names: Vec<String>,
    other_words: Vec<String>,
    country: String,
    weight: u32,
}

/// Words of other names that name no place (Flughafen München: "munchen" names the place).
const GENERIC_WORDS: [&str; 16] = [
    "airport",
    "international",
    "regional",
    "municipal",
    "national",
    "county",
    "field",
    "airfield",
    "aeroport",
    "aeropuerto",
    "aeroporto",
    "flughafen",
    "lotnisko",
    "letiste",
    "havalimani",
    "intl",
];

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
        let others: HashMap<AirportCode, &Vec<String>> =
            airports.iter().map(|a| (a.code, &a.other_names)).collect();
        // Whole names and their words, folded.
        let folded = |names: &mut dyn Iterator<Item = &String>| {
            let whole: Vec<String> = names.map(|n| fold(n)).filter(|n| !n.is_empty()).collect();
            let mut words: Vec<String> = whole
                .iter()
                .flat_map(|n| n.split(' '))
                .filter(|w| w.len() >= 3)
                .map(str::to_string)
                .collect();
            words.sort();
            words.dedup();
            (whole, words)
        };
        for c in cities.iter().filter(|c| c.airports.len() > 1) {
            // A city is also called what its airports' other names call their city: the whole
            // names only (Londres), not airport names' words.
            let (other_names, _) = folded(
                &mut c
                    .airports
                    .iter()
                    .filter_map(|a| others.get(a))
                    .flat_map(|names| names.iter()),
            );
            entries.push(Entry {
                kind: SuggestionKind::City,
                code: c.code,
                code_folded: c.code.as_str().to_ascii_lowercase(),
                city: fold(&c.name),
                name_words: vec![],
                name: fold(&c.name),
                other_names,
                other_words: vec![],
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
            let (other_names, other_words) = folded(&mut a.other_names.iter());
            entries.push(Entry {
                kind: SuggestionKind::Airport,
                code: a.code,
                code_folded: a.code.as_str().to_ascii_lowercase(),
                city: fold(&a.city),
                name_words: name.split(' ').map(str::to_string).collect(),
                name,
                other_names,
                other_words,
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
        if entry.city == q
            || entry.other_names.iter().any(|n| n == q)
            || (q.len() >= 4
                && !GENERIC_WORDS.contains(&q)
                && entry.other_words.iter().any(|w| w == q))
        {
            return Some(1);
        }
        if entry.city.starts_with(q) {
            return Some(2);
        }
        if entry.name.starts_with(q) || entry.name_words.iter().any(|w| w.starts_with(q)) {
            return Some(3);
        }
        if q.len() >= 3
            && (entry.other_names.iter().any(|n| n.starts_with(q))
                || entry.other_words.iter().any(|w| w.starts_with(q)))
        {
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
        // Umlauts fold both ways: "München" folds to "munchen", and "muenchen" (how German is
        // typed without them) is also read as "munchen".
        let digraphs = q.replace("ae", "a").replace("oe", "o").replace("ue", "u");
        let variants: Vec<&str> = if digraphs != q {
            vec![&q, &digraphs]
        } else {
            vec![&q]
        };
        let mut hits: Vec<(u8, u32, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                let tier = variants.iter().filter_map(|v| Self::tier(e, v)).min()?;
                Some((tier, e.weight, i))
            })
            .collect();
        hits.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let unambiguous = hits.first().is_some_and(|&(tier, weight, top)| {
            let members: Vec<AirportCode> = match self.entries[top].kind {
                SuggestionKind::City => data
                    .city(self.entries[top].code)
                    .map(|c| c.airports.clone())
                    .unwrap_or_default(),
                SuggestionKind::Airport => vec![],
            };
            tier <= 1
                && hits[1..]
                    .iter()
                    .filter(|h| h.0 <= 1 && !members.contains(&self.entries[h.2].code))
                    .all(|h| h.1.saturating_mul(10) <= weight)
        });
        let mut out: Vec<Suggestion> = hits
            .into_iter()
            .take(limit)
            .filter_map(|(tier, _, i)| self.suggestion(data, &self.entries[i], tier))
            .collect();
        if let Some(first) = out.first_mut() {
            first.unambiguous = unambiguous;
        }
        out
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
                    unambiguous: false,
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
                    unambiguous: false,
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

    /// Local names and translations come first, ahead of spelling-alike places (issue #9:
    /// "München" suggested Manchester).
    #[test]
    fn other_names_match_before_lookalikes() {
        assert_eq!(codes("München")[0], "MUC");
        assert_eq!(codes("Munchen")[0], "MUC");
        assert_eq!(codes("Londres")[0], "LON");
        assert_eq!(codes("Lisboa")[0], "LIS");
        assert_eq!(codes("København")[0], "CPH");
        // The lookalike still matches, after.
        assert!(codes("Manchester")[0] == "MAN");
    }

    /// Umlauts typed as digraphs, local names, and a city's main airports before small
    /// airports with a like name (issue #25: "muenchen" found nothing, "Roma" put Ciampino
    /// first, "Wien" put Ralph Wien Memorial in Alaska above Vienna).
    #[test]
    fn local_names_and_digraphs_find_the_city() {
        assert_eq!(codes("muenchen")[0], "MUC");
        assert_eq!(codes("Zuerich")[0], "ZRH");
        assert_eq!(codes("Koeln")[0], "CGN");
        let rome = codes("Roma");
        assert_eq!(&rome[..2], ["ROM", "FCO"], "{rome:?}");
        assert!(rome.contains(&"CIA".to_string()));
        assert_eq!(codes("Wien")[0], "VIE");
        assert_eq!(codes("Praha")[0], "PRG");
        // Words with those letters that are no umlaut still match as typed.
        assert_eq!(codes("Queenstown")[0], "ZQN");
    }

    #[test]
    fn local_names_are_of_known_airports() {
        let r = RefData::load().unwrap();
        for line in include_str!("../../../data/local_names.csv")
            .lines()
            .skip(1)
        {
            let code = &line[..3];
            assert!(
                r.airport(code.parse().unwrap()).is_some(),
                "local_names.csv: {code} is not an airport"
            );
        }
    }

    #[test]
    fn unambiguous_text_names_one_place() {
        let r = RefData::load().unwrap();
        let first = |q: &str| r.suggest(q, 8).into_iter().next().unwrap();
        for (text, code) in [
            ("London", "LON"),
            ("München", "MUC"),
            ("lhr", "LHR"),
            ("Paris", "PAR"),
        ] {
            let s = first(text);
            assert_eq!((s.code.as_str(), s.unambiguous), (code, true), "{text}");
        }
        // A prefix, or a typo, names nothing for sure.
        assert!(!first("Lond").unambiguous);
        assert!(!first("Londn").unambiguous);
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
