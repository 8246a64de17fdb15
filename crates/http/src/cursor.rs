use crate::{ApiError, ErrorCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// An opaque pagination cursor: the offset of the next page, tied to the query it came from
/// by a fingerprint, so a cursor from another search is refused instead of paging nonsense.
/// Offsets beyond [`Cursor::MAX_OFFSET`] are never issued, so a forged one is refused.
pub struct Cursor;

impl Cursor {
    pub const MAX_OFFSET: usize = 1_000_000;
}

impl Cursor {
    pub fn encode(offset: usize, fingerprint: u64) -> String {
        URL_SAFE_NO_PAD.encode(format!("v1:{offset}:{fingerprint:x}"))
    }

    pub fn decode(cursor: &str, fingerprint: u64) -> Result<usize, ApiError> {
        let bad = || {
            ApiError::field(
                ErrorCode::InvalidCursor,
                "cursor",
                "not a cursor from this search; start again without it",
            )
        };
        let raw = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(raw).map_err(|_| bad())?;
        let mut parts = text.split(':');
        if parts.next() != Some("v1") {
            return Err(bad());
        }
        let offset: usize = parts
            .next()
            .and_then(|p| p.parse().ok())
            .filter(|o| *o <= Cursor::MAX_OFFSET)
            .ok_or_else(bad)?;
        let fp = parts
            .next()
            .and_then(|p| u64::from_str_radix(p, 16).ok())
            .ok_or_else(bad)?;
        if fp != fingerprint {
            return Err(bad());
        }
        Ok(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_foreign_cursors() {
        let c = Cursor::encode(40, 7);
        assert_eq!(Cursor::decode(&c, 7).unwrap(), 40);
        assert!(Cursor::decode(&c, 8).is_err());
        assert!(Cursor::decode("garbage!", 7).is_err());
        let forged = URL_SAFE_NO_PAD.encode(format!("v1:{}:7", u64::MAX));
        assert!(Cursor::decode(&forged, 7).is_err(), "2^64-1 is refused");
    }
}
