use crate::{ErrorCode, Invalid};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// An opaque pagination cursor: the offset of the next page, tied to the query it came from
/// by a fingerprint, so a cursor from another search is refused instead of paging nonsense.
/// Offsets beyond [`Cursor::MAX_OFFSET`] are never issued, so a forged one is refused.
pub struct Cursor;

/// Where a page starts, and what it continues: the inventory version the first page came
/// from and a digest of the whole ordered list it showed. A later page is served only when
/// its list is the same one (same version, or a later version that left the list alone).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    pub offset: usize,
    pub version: u64,
    pub list: u64,
}

impl Cursor {
    pub const MAX_OFFSET: usize = 1_000_000;
}

impl Cursor {
    pub fn encode(at: Position, fingerprint: u64) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "v2:{}:{fingerprint:x}:{}:{:x}",
            at.offset, at.version, at.list
        ))
    }

    pub fn decode(cursor: &str, fingerprint: u64) -> Result<Position, Invalid> {
        let bad = || {
            Invalid::field(
                ErrorCode::InvalidCursor,
                "cursor",
                "not a cursor from this search; start again without it",
            )
        };
        let raw = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(raw).map_err(|_| bad())?;
        let mut parts = text.split(':');
        if parts.next() != Some("v2") {
            return Err(bad());
        }
        let offset: usize = parts
            .next()
            .and_then(|p| p.parse().ok())
            .filter(|o| *o <= Cursor::MAX_OFFSET)
            .ok_or_else(bad)?;
        let mut hex = || parts.next().and_then(|p| u64::from_str_radix(p, 16).ok());
        let fp = hex().ok_or_else(bad)?;
        if fp != fingerprint {
            return Err(bad());
        }
        let version = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let list = parts
            .next()
            .and_then(|p| u64::from_str_radix(p, 16).ok())
            .ok_or_else(bad)?;
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(Position {
            offset,
            version,
            list,
        })
    }

    /// The error for a cursor whose list has changed since (a different answer now).
    pub fn stale() -> Invalid {
        Invalid::field(
            ErrorCode::StaleCursor,
            "cursor",
            "prices or seats changed since the first page, so its list is not the one this page would continue; search again without the cursor",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_foreign_cursors() {
        let at = Position {
            offset: 40,
            version: 12,
            list: u64::MAX,
        };
        let c = Cursor::encode(at, 7);
        assert_eq!(Cursor::decode(&c, 7).unwrap(), at);
        assert!(Cursor::decode(&c, 8).is_err());
        assert!(Cursor::decode("garbage!", 7).is_err());
        let old = URL_SAFE_NO_PAD.encode("v1:40:7");
        assert!(
            Cursor::decode(&old, 7).is_err(),
            "a cursor naming no version"
        );
        let forged = URL_SAFE_NO_PAD.encode(format!("v2:{}:7:1:1", u64::MAX));
        assert!(Cursor::decode(&forged, 7).is_err(), "2^64-1 is refused");
    }
}
