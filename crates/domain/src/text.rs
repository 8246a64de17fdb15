//! Free text people type: display names, search words. One line of printable characters, so
//! what someone types can neither break a mail into new lines and paragraphs, nor hide text
//! with direction overrides or invisible characters, nor put a NUL into a database (which
//! PostgreSQL refuses outright).

/// Characters refused in one-line free text: control characters (C0, DEL, C1 — newlines and
/// NUL among them), line and paragraph separators, bidirectional embeddings, overrides and
/// isolates, zero-width and other invisible format characters, the byte-order mark,
/// interlinear annotation marks and Unicode tag characters.
pub fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// Whether `text` is one line of printable characters.
pub fn is_printable_line(text: &str) -> bool {
    !text.chars().any(is_unprintable)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisplayNameError {
    #[error("give a name of 1 to {max} characters", max = DisplayName::MAX_CHARS)]
    Length,
    #[error(
        "use one line of printable characters (no line breaks, control or invisible characters)"
    )]
    Unprintable,
}

/// A person's display name: trimmed, 1–80 characters, one printable line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 80;

    pub fn parse(input: &str) -> Result<DisplayName, DisplayNameError> {
        if !is_printable_line(input) {
            return Err(DisplayNameError::Unprintable);
        }
        // The length is counted before trimming too, as the API document's maxLength does.
        if input.chars().count() > Self::MAX_CHARS {
            return Err(DisplayNameError::Length);
        }
        let name = input.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > Self::MAX_CHARS {
            return Err(DisplayNameError::Length);
        }
        Ok(DisplayName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for DisplayName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_printable_line() {
        assert_eq!(
            DisplayName::parse("  Ada Lovelace ").unwrap().as_str(),
            "Ada Lovelace"
        );
        assert!(DisplayName::parse("Zoë Ødegård-Ñúñez 李雷 🚀").is_ok());
        for bad in [
            "Ada\nClick https://evil.example",
            "Ada\r\n",
            "nul\u{0}byte",
            "tab\there",
            "del\u{7f}",
            "c1\u{85}next line",
            "rtl\u{202E}evil",
            "zero\u{200B}width",
            "line\u{2028}separator",
            "bom\u{FEFF}",
            "tag\u{E0041}",
        ] {
            assert_eq!(
                DisplayName::parse(bad),
                Err(DisplayNameError::Unprintable),
                "{bad:?}"
            );
        }
        assert_eq!(DisplayName::parse("   "), Err(DisplayNameError::Length));
        assert_eq!(
            DisplayName::parse(&"x".repeat(81)),
            Err(DisplayNameError::Length)
        );
        assert!(DisplayName::parse(&"é".repeat(80)).is_ok());
    }
}
