//! Provider clients: what live search asks of the sellers it compares.
//!
//! - [`duffel::DuffelClient`]: Duffel offer requests (`POST /air/offer_requests` with
//!   `return_offers` and `supplier_timeout`).
//! - [`amadeus::AmadeusClient`]: Amadeus Flight Offers Search v2 (`GET
//!   /v2/shopping/flight-offers`), authenticated by OAuth2 client credentials with the token
//!   kept and renewed before it expires (and once more when the API says it is no longer
//!   valid).
//!
//! Both map their answers to one [`Offer`] type; an offer that does not read is left out
//! and named in [`Offers::skipped`] (one bad offer does not lose the others), an answer that
//! is not the format at all is [`ProviderError::Malformed`]. Each call has a deadline the
//! caller gives: attempts, waits and retries all fit inside it. Only what is safe to retry is
//! retried ([`retry`]): a search by `GET` after a failure to connect, a timeout, a 5xx or a
//! 429 (after its `Retry-After`); a Duffel offer request (`POST`, which creates a search the
//! airlines are asked for and Duffel counts) only when it surely was not processed — the
//! connection never made, or a 429. Credentials come from configuration as [`Secret`]s,
//! which never print.

pub mod amadeus;
pub mod duffel;
mod error;
pub mod fanout;
pub mod merge;
mod offer;
pub mod retry;

pub use error::ProviderError;
pub use offer::{FlightNumber, Offer, OfferQuery, Offers, Segment, Slice};

use std::fmt;
use std::time::Duration;

/// A credential: its value is read only where it is sent; `Debug` and `Display` print
/// `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A seller live search asks for offers.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// The provider's name as travellers see it beside its prices.
    fn name(&self) -> &str;

    /// Offers for `query`, answered within `deadline` (or [`ProviderError::Timeout`]).
    async fn search(&self, query: &OfferQuery, deadline: Duration)
        -> Result<Offers, ProviderError>;
}

/// The HTTP client the providers share the settings of: no redirects followed (a provider's
/// API answers where it is asked), rustls, connection reuse.
pub(crate) fn http_client() -> Result<reqwest::Client, ProviderError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("spontra/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ProviderError::Config(format!("the HTTP client: {e}")))
}

/// The largest answer read from a provider (a popular route's offers run to a few MB).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// A provider's answer: status, headers, body.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

/// Send `request` with `left` to answer in, and read the answer whole; failures classified
/// ([`retry::Failure`]): a 2xx comes back, anything else is an error by its status.
pub(crate) async fn send(
    provider: &str,
    request: reqwest::RequestBuilder,
    left: Duration,
) -> Result<Answer, retry::Failure> {
    let timeout = || ProviderError::Timeout {
        provider: provider.to_string(),
        after: left,
    };
    if left.is_zero() {
        return Err(timeout().into());
    }
    let read = async {
        type Read = Result<Answer, retry::Failure>;
        let mut response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                timeout().into()
            } else {
                retry::Failure {
                    error: ProviderError::Unreachable {
                        provider: provider.to_string(),
                        detail: without_url(&e),
                    },
                    not_sent: e.is_connect(),
                }
            }
        })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > MAX_BODY_BYTES {
                        return Err(ProviderError::Malformed {
                            provider: provider.to_string(),
                            detail: format!("an answer over {MAX_BODY_BYTES} bytes"),
                        }
                        .into());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) if e.is_timeout() => return Err(timeout().into()),
                Err(e) => {
                    return Err(ProviderError::Unreachable {
                        provider: provider.to_string(),
                        detail: without_url(&e),
                    }
                    .into())
                }
            }
        }
        Read::Ok(Answer {
            status,
            headers,
            body,
        })
    };
    let answer = tokio::time::timeout(left, read)
        .await
        .map_err(|_| retry::Failure::from(timeout()))??;
    match answer.status {
        200..=299 => Ok(answer),
        status => Err(status_error(provider, &answer, status).into()),
    }
}

/// A transport error's text without the URL (whose query may carry what the caller asked).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "");
    }
    text.trim().to_string()
}

/// The error a non-2xx answer stands for, with the provider's first error message as detail.
fn status_error(provider: &str, answer: &Answer, status: u16) -> ProviderError {
    let detail = error_detail(&answer.body);
    let provider = provider.to_string();
    match status {
        401 | 403 => ProviderError::Unauthorized { provider, detail },
        429 => ProviderError::RateLimited {
            provider,
            retry_after: retry_after(&answer.headers),
        },
        400..=499 => ProviderError::Rejected {
            provider,
            status,
            detail,
        },
        _ => ProviderError::Upstream {
            provider,
            status,
            detail,
        },
    }
}

/// `Retry-After` in seconds (the form both providers use), at most a minute.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let secs: f64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(60.0)))
}

/// The first error's message in either provider's error format (`errors[0]` with `message`,
/// `detail` or `title`; OAuth's `error_description`), else the start of the body.
fn error_detail(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => {
            let first = &v["errors"][0];
            ["message", "detail", "title"]
                .iter()
                .find_map(|k| first[k].as_str())
                .or_else(|| v["error_description"].as_str())
                .or_else(|| v["error"].as_str())
                .map(str::to_string)
                .unwrap_or_default()
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    text.chars().take(200).collect()
}

/// Each of an answer's raw offers read as `R` and mapped by `offer`; one that does not read
/// is skipped with its id and why (the others are kept).
pub(crate) fn read_each<R: serde::de::DeserializeOwned>(
    provider: &str,
    raws: Vec<serde_json::Value>,
    offer: impl Fn(&str, R) -> Result<Offer, String>,
) -> Offers {
    let mut out = Offers::default();
    for raw in raws {
        let id = raw["id"].as_str().unwrap_or("?").to_string();
        match serde_json::from_value::<R>(raw)
            .map_err(|e| e.to_string())
            .and_then(|o| offer(provider, o))
        {
            Ok(o) => out.offers.push(o),
            Err(why) => out.skipped.push(format!("offer {id}: {why}")),
        }
    }
    out
}

/// A JSON answer read as `T`, or [`ProviderError::Malformed`] saying where it broke.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    provider: &str,
    body: &[u8],
) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|e| ProviderError::Malformed {
        provider: provider.to_string(),
        detail: e.to_string(),
    })
}
