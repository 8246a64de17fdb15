//! The second level: runs shared by every search process through Redis, so that a query asked
//! of one process is not asked of the providers again by another while its results are fresh,
//! and a query asked of several processes at once is asked of the providers once.
//!
//! - `{prefix}run:{query}`: a run as it stands ([`RunRecord`]: each provider's outcome with its
//!   offers, when it started and finished), written by the process that runs it each time a
//!   provider answers, kept for as long as a run can be shown (twice its reuse time and the
//!   search's deadline).
//! - `{prefix}lock:{query}`: which process is asking the providers (`SET NX PX`, for the
//!   search's deadline and a little more; released by its holder only, by a script comparing
//!   its token). A process that finds the lock held follows the run's record until it finishes.
//!
//! Redis is a help, never a need: every call has a short deadline, and after a failure Redis
//! is left alone for a second; a call that fails or is skipped is a miss, so with Redis down
//! each process is on its own (its L1) and nothing errs.

use super::run::Status;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use spontra_domain::{AirportCode, Cabin, CarrierCode, CurrencyCode, Money};
use spontra_providers::fanout::{Answered, Outcome};
use spontra_providers::{FlightNumber, Offer, Offers, Segment, Slice};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A run as Redis keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub providers: Vec<ProviderRecord>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProviderRecord {
    pub name: String,
    pub status: String,
    pub after_ms: Option<u64>,
    pub error: Option<(String, String)>,
    pub skipped: Vec<String>,
    pub offers: Vec<OfferRecord>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OfferRecord {
    pub id: String,
    pub owner: String,
    pub total_minor: i64,
    pub currency: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub seats_left: Option<u16>,
    pub slices: Vec<SliceRecord>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SliceRecord {
    pub fare_brand: Option<String>,
    pub segments: Vec<SegmentRecord>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SegmentRecord {
    pub origin: String,
    pub destination: String,
    pub departing_at: NaiveDateTime,
    pub arriving_at: NaiveDateTime,
    pub marketing_carrier: String,
    pub marketing_number: u16,
    pub operating_carrier: String,
    pub operating_number: Option<u16>,
    pub cabin: Option<String>,
}

impl OfferRecord {
    pub fn of(o: &Offer) -> Self {
        OfferRecord {
            id: o.id.clone(),
            owner: o.owner.to_string(),
            total_minor: o.total.minor,
            currency: o.total.currency.to_string(),
            expires_at: o.expires_at,
            seats_left: o.seats_left,
            slices: o
                .slices
                .iter()
                .map(|s| SliceRecord {
                    fare_brand: s.fare_brand.clone(),
                    segments: s
                        .segments
                        .iter()
                        .map(|g| SegmentRecord {
                            origin: g.origin.to_string(),
                            destination: g.destination.to_string(),
                            departing_at: g.departing_at,
                            arriving_at: g.arriving_at,
                            marketing_carrier: g.marketing.carrier.to_string(),
                            marketing_number: g.marketing.number,
                            operating_carrier: g.operating_carrier.to_string(),
                            operating_number: g.operating_number,
                            cabin: g.cabin.map(|c| c.as_str().to_string()),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// The offer again (none when a code does not read: a record from another version).
    pub fn offer(&self, provider: &str) -> Option<Offer> {
        let carrier = |c: &str| CarrierCode::parse(c).ok();
        let airport = |c: &str| AirportCode::parse(c).ok();
        let slices = self
            .slices
            .iter()
            .map(|s| {
                let segments = s
                    .segments
                    .iter()
                    .map(|g| {
                        Some(Segment {
                            origin: airport(&g.origin)?,
                            destination: airport(&g.destination)?,
                            departing_at: g.departing_at,
                            arriving_at: g.arriving_at,
                            marketing: FlightNumber {
                                carrier: carrier(&g.marketing_carrier)?,
                                number: g.marketing_number,
                            },
                            operating_carrier: carrier(&g.operating_carrier)?,
                            operating_number: g.operating_number,
                            cabin: match &g.cabin {
                                Some(c) => Some(Cabin::parse(c)?),
                                None => None,
                            },
                        })
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(Slice {
                    segments,
                    fare_brand: s.fare_brand.clone(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Offer {
            provider: provider.to_string(),
            id: self.id.clone(),
            owner: carrier(&self.owner)?,
            slices,
            total: Money::new(self.total_minor, CurrencyCode::parse(&self.currency).ok()?),
            expires_at: self.expires_at,
            seats_left: self.seats_left,
        })
    }
}

/// A provider error's code as the fan-out names it (a code from another version reads as
/// `provider_failed`).
fn known_code(code: &str) -> &'static str {
    const CODES: [&str; 8] = [
        "provider_timeout",
        "provider_unreachable",
        "provider_unauthorized",
        "provider_rate_limited",
        "provider_rejected",
        "provider_failed",
        "provider_malformed",
        "provider_config",
    ];
    CODES
        .into_iter()
        .find(|c| *c == code)
        .unwrap_or("provider_failed")
}

impl ProviderRecord {
    /// The provider's outcome again, if it has one.
    pub fn answered(&self) -> Option<Answered> {
        let outcome = match self.status.as_str() {
            "complete" => Outcome::Complete(Offers {
                offers: self
                    .offers
                    .iter()
                    .filter_map(|o| o.offer(&self.name))
                    .collect(),
                skipped: self.skipped.clone(),
            }),
            "failed" => {
                let (code, message) = self.error.clone().unwrap_or_default();
                Outcome::Failed {
                    code: known_code(&code),
                    message,
                }
            }
            "timed_out" => Outcome::TimedOut,
            "skipped" => Outcome::Skipped,
            _ => return None,
        };
        Some(Answered {
            provider: self.name.clone(),
            outcome,
            after: Duration::from_millis(self.after_ms.unwrap_or(0)),
        })
    }

    pub fn status(&self) -> Status {
        match self.status.as_str() {
            "complete" => Status::Complete,
            "failed" => Status::Failed,
            "timed_out" => Status::TimedOut,
            "skipped" => Status::Skipped,
            _ => Status::Pending,
        }
    }
}

/// Whether this process may ask the providers for a query.
pub enum Claim {
    /// It holds the lock (released with this token).
    Ours(String),
    /// Another process does: follow its record.
    Theirs,
    /// Redis cannot say: ask alone.
    Alone,
}

/// Redis, as live search uses it.
pub struct RedisRuns {
    client: redis::Client,
    conn: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
    /// Left alone until then after a failure.
    resting: Mutex<Option<Instant>>,
    prefix: String,
    deadline: Duration,
}

/// Release a lock only if it is still the holder's.
const UNLOCK: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

impl RedisRuns {
    /// Redis at `url`, keys under `prefix`; nothing is connected until first used.
    pub fn new(url: &str, prefix: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        Ok(RedisRuns {
            client,
            conn: tokio::sync::Mutex::new(None),
            resting: Mutex::new(None),
            prefix: prefix.to_string(),
            deadline: Duration::from_millis(250),
        })
    }

    fn run_key(&self, query: &str) -> String {
        format!("{}run:{query}", self.prefix)
    }

    fn lock_key(&self, query: &str) -> String {
        format!("{}lock:{query}", self.prefix)
    }

    fn rest(&self) {
        *self.resting.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + Duration::from_secs(1));
    }

    fn resting(&self) -> bool {
        self.resting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|until| Instant::now() < until)
    }

    async fn connection(&self) -> Option<redis::aio::MultiplexedConnection> {
        if self.resting() {
            return None;
        }
        let mut held = self.conn.lock().await;
        if let Some(c) = held.as_ref() {
            return Some(c.clone());
        }
        match tokio::time::timeout(
            self.deadline,
            self.client.get_multiplexed_async_connection(),
        )
        .await
        {
            Ok(Ok(c)) => {
                *held = Some(c.clone());
                Some(c)
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "Redis unavailable: live search results kept in this process only");
                self.rest();
                None
            }
            Err(_) => {
                tracing::warn!(
                    "Redis did not answer in time: live search results kept in this process only"
                );
                self.rest();
                None
            }
        }
    }

    /// `cmd`'s answer, or none (a miss) when Redis fails or is slow.
    async fn call<T: redis::FromRedisValue>(
        &self,
        cmd: redis::Cmd,
        what: &'static str,
    ) -> Option<T> {
        let mut c = self.connection().await?;
        let answer = tokio::time::timeout(self.deadline, cmd.query_async::<T>(&mut c)).await;
        match answer {
            Ok(Ok(v)) => Some(v),
            failed => {
                match failed {
                    Ok(Err(e)) => tracing::warn!(error = %e, what, "Redis call failed"),
                    _ => tracing::warn!(what, "Redis call timed out"),
                }
                metrics::counter!("live_search_redis_failures", "call" => what).increment(1);
                *self.conn.lock().await = None;
                self.rest();
                None
            }
        }
    }

    /// The run of `query` another process (or this one) wrote.
    pub async fn get(&self, query: &str) -> Option<RunRecord> {
        let raw: Option<String> = self
            .call(redis::cmd("GET").arg(self.run_key(query)).clone(), "get")
            .await?;
        serde_json::from_str(&raw?).ok()
    }

    /// Write the run of `query`, kept for `keep`.
    pub async fn put(&self, query: &str, record: &RunRecord, keep: Duration) {
        let Ok(json) = serde_json::to_string(record) else {
            return;
        };
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.run_key(query))
            .arg(json)
            .arg("PX")
            .arg(keep.as_millis().max(1) as u64);
        let _: Option<()> = self.call(cmd, "put").await;
    }

    /// Ask to be the one process asking the providers for `query`, for `hold`.
    pub async fn claim(&self, query: &str, hold: Duration) -> Claim {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.lock_key(query))
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(hold.as_millis().max(1) as u64);
        match self.call::<Option<String>>(cmd, "lock").await {
            Some(Some(_)) => Claim::Ours(token),
            Some(None) => Claim::Theirs,
            None => Claim::Alone,
        }
    }

    /// Let go of `query`'s lock if it is still `token`'s.
    pub async fn release(&self, query: &str, token: &str) {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(UNLOCK).arg(1).arg(self.lock_key(query)).arg(token);
        let _: Option<i64> = self.call(cmd, "unlock").await;
    }
}
