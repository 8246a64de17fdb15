use std::fmt;

/// Why an email address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("an email address looks like name@example.com")]
    Malformed,
    #[error("an email address has at most 254 characters")]
    TooLong,
    /// Letters of several scripts in one part ("frаnk" with a Cyrillic "а"): a look-alike of
    /// another address.
    #[error("an email address mixes letters of different scripts (such as Latin and Cyrillic) in one part")]
    MixedScripts,
}

/// A syntactically valid email address, trimmed, NFKC-normalised (full-width "ａ" is "a") and
/// lowercased: addresses are compared case-insensitively everywhere in Spontra, so one person
/// cannot register twice by case or width. A part mixing scripts (a Cyrillic "а" among Latin
/// letters) is refused: it could only be a look-alike.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        use unicode_normalization::UnicodeNormalization;
        let s: String = input.trim().nfkc().collect::<String>().to_lowercase();
        if s.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = s.split_once('@').ok_or(EmailError::Malformed)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !local_ok || !domain_ok {
            return Err(EmailError::Malformed);
        }
        if !single_script(local) || labels.iter().any(|l| !single_script(l)) {
            return Err(EmailError::MixedScripts);
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether the letters of `part` are of one script, or of scripts written together (UTS #39's
/// "highly restrictive" level: Latin with Han and kana for Japanese, with Han and Hangul for
/// Korean, with Han and Bopomofo for Chinese). Digits and punctuation are of none.
fn single_script(part: &str) -> bool {
    use unicode_script::{Script, UnicodeScript};
    let mut seen: Vec<Script> = Vec::new();
    for c in part.chars() {
        let script = match c.script() {
            Script::Common | Script::Inherited | Script::Unknown => continue,
            Script::Hiragana | Script::Katakana | Script::Hangul | Script::Bopomofo => Script::Han,
            s => s,
        };
        if !seen.contains(&script) {
            seen.push(script);
        }
    }
    match seen.as_slice() {
        [] | [_] => true,
        [a, b] => [*a, *b].contains(&Script::Han) && [*a, *b].contains(&Script::Latin),
        _ => false,
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_validates() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@@example.com",
            "ada@-x.com",
            ".ada@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Email::parse(&format!("{}@example.com", "a".repeat(250))),
            Err(EmailError::TooLong)
        );
    }

    /// Look-alikes are one address or none (issue #25: "frаnk@…" with a Cyrillic "а" and
    /// full-width letters were accounts of their own).
    #[test]
    fn look_alikes_are_the_same_address_or_refused() {
        assert_eq!(
            Email::parse("ｆｒａｎｋ@ｅｘａｍｐｌｅ.ｃｏｍ")
                .unwrap()
                .as_str(),
            "frank@example.com"
        );
        assert_eq!(
            Email::parse("fr\u{0430}nk@example.com"),
            Err(EmailError::MixedScripts)
        );
        assert_eq!(
            Email::parse("frank@ex\u{0430}mple.com"),
            Err(EmailError::MixedScripts)
        );
        // One script, whatever it is, is an address.
        assert!(Email::parse("müller@example.de").is_ok());
        assert!(Email::parse("\u{0438}\u{0432}\u{0430}\u{043d}@example.ru").is_ok());
        // Scripts written together are one: Japanese kanji with kana.
        assert!(Email::parse("\u{5c71}\u{7530}\u{305f}\u{308d}\u{3046}@example.jp").is_ok());
    }
}
