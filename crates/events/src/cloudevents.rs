//! CloudEvents 1.0 envelopes in Kafka's binary content mode: the event's attributes travel as
//! `ce_`-prefixed headers (`ce_id`, `ce_source`, `ce_type`, `ce_specversion`, `ce_time`,
//! `ce_subject`), its `datacontenttype` as the `content-type` header, and its data as the
//! message's value; the message key is the partitioning key (a route, for provider feeds).
//! The embedded log carries the same headers, so one reader serves both.
//!
//! Reading an envelope checks what the specification requires — `id`, `source`, `type` and
//! `specversion` present and non-empty, `specversion` 1.0, `time` (when present) an RFC 3339
//! timestamp — and names the attribute at fault, for the dead-letter reason.

use crate::{Message, Record};
use chrono::{DateTime, Utc};

pub const SPEC_VERSION: &str = "1.0";

/// A CloudEvent's context attributes and its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloudEvent {
    /// Unique per `source`: (source, id) identifies the event, and a duplicate carries the same.
    pub id: String,
    /// Who produced it, a URI reference (`/providers/skyhub`).
    pub source: String,
    /// What happened, reverse-DNS style (`dev.spontra.fare.updated.v1`).
    pub type_: String,
    pub time: Option<DateTime<Utc>>,
    /// What it is about (a flight: `BA117/2026-12-10`).
    pub subject: Option<String>,
    /// The data's media type (`application/json`).
    pub datacontenttype: Option<String>,
    pub data: Vec<u8>,
}

/// Why a message is not a CloudEvent: the attribute at fault, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{attribute}: {problem}")]
pub struct EnvelopeError {
    pub attribute: &'static str,
    pub problem: String,
}

impl CloudEvent {
    /// The message carrying this event, keyed by `key`.
    pub fn to_message(&self, key: impl Into<Vec<u8>>) -> Message {
        let mut m = Message::new(key, self.data.clone())
            .header("ce_specversion", SPEC_VERSION)
            .header("ce_id", self.id.as_str())
            .header("ce_source", self.source.as_str())
            .header("ce_type", self.type_.as_str());
        if let Some(t) = self.time {
            m = m.header(
                "ce_time",
                t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            );
        }
        if let Some(s) = &self.subject {
            m = m.header("ce_subject", s.as_str());
        }
        if let Some(c) = &self.datacontenttype {
            m = m.header("content-type", c.as_str());
        }
        m
    }

    /// The event a record carries, or what makes it not one.
    pub fn from_record(record: &Record) -> Result<CloudEvent, EnvelopeError> {
        let text =
            |attribute: &'static str, header: &str| -> Result<Option<String>, EnvelopeError> {
                match record.header(header) {
                    None => Ok(None),
                    Some(bytes) => match std::str::from_utf8(bytes) {
                        Ok(s) => Ok(Some(s.to_string())),
                        Err(_) => Err(EnvelopeError {
                            attribute,
                            problem: "is not UTF-8".into(),
                        }),
                    },
                }
            };
        let required = |attribute: &'static str, header: &str| -> Result<String, EnvelopeError> {
            match text(attribute, header)? {
                Some(s) if !s.trim().is_empty() => Ok(s),
                Some(_) => Err(EnvelopeError {
                    attribute,
                    problem: "is empty".into(),
                }),
                None => Err(EnvelopeError {
                    attribute,
                    problem: format!("is missing (header {header})"),
                }),
            }
        };
        let version = required("specversion", "ce_specversion")?;
        if version != SPEC_VERSION {
            return Err(EnvelopeError {
                attribute: "specversion",
                problem: format!("{version:?} is not CloudEvents {SPEC_VERSION}"),
            });
        }
        let time = match text("time", "ce_time")? {
            None => None,
            Some(t) => Some(
                DateTime::parse_from_rfc3339(&t)
                    .map_err(|_| EnvelopeError {
                        attribute: "time",
                        problem: format!("{t:?} is not an RFC 3339 timestamp"),
                    })?
                    .with_timezone(&Utc),
            ),
        };
        Ok(CloudEvent {
            id: required("id", "ce_id")?,
            source: required("source", "ce_source")?,
            type_: required("type", "ce_type")?,
            time,
            subject: text("subject", "ce_subject")?,
            datacontenttype: text("datacontenttype", "content-type")?,
            data: record.payload.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> CloudEvent {
        CloudEvent {
            id: "fare-000042".into(),
            source: "/providers/skyhub".into(),
            type_: "dev.spontra.fare.updated.v1".into(),
            time: Some(
                DateTime::parse_from_rfc3339("2026-12-01T10:15:30.250Z")
                    .unwrap()
                    .with_timezone(&Utc),
            ),
            subject: Some("BA117/2026-12-10".into()),
            datacontenttype: Some("application/json".into()),
            data: br#"{"fare":12300}"#.to_vec(),
        }
    }

    fn as_record(m: Message) -> Record {
        Record {
            topic: "provider.raw".into(),
            partition: 0,
            offset: 0,
            key: m.key,
            headers: m.headers,
            payload: m.payload,
            timestamp_ms: 0,
        }
    }

    #[test]
    fn an_event_survives_the_binary_mode_round_trip() {
        let m = event().to_message("LHR-JFK");
        assert_eq!(m.key, b"LHR-JFK");
        let r = as_record(m);
        assert_eq!(r.header("ce_specversion"), Some(&b"1.0"[..]));
        assert_eq!(r.header("content-type"), Some(&b"application/json"[..]));
        assert_eq!(CloudEvent::from_record(&r).unwrap(), event());
    }

    #[test]
    fn what_the_specification_requires_is_checked_and_named() {
        let without = |name: &str| {
            let mut r = as_record(event().to_message("k"));
            r.headers.retain(|(n, _)| n != name);
            CloudEvent::from_record(&r).unwrap_err().attribute
        };
        assert_eq!(without("ce_id"), "id");
        assert_eq!(without("ce_source"), "source");
        assert_eq!(without("ce_type"), "type");
        assert_eq!(without("ce_specversion"), "specversion");
        let with = |name: &str, value: &[u8]| {
            let mut r = as_record(event().to_message("k"));
            for h in r.headers.iter_mut().filter(|(n, _)| n == name) {
                h.1 = value.to_vec();
            }
            CloudEvent::from_record(&r).unwrap_err().attribute
        };
        assert_eq!(with("ce_specversion", b"0.3"), "specversion");
        assert_eq!(with("ce_time", b"yesterday"), "time");
        assert_eq!(with("ce_id", b"  "), "id");
        assert_eq!(with("ce_source", &[0xff, 0xfe]), "source");
    }
}
