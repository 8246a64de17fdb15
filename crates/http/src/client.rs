//! Who is on the other end of a request, for session lists and per-address throttling.
//!
//! The peer address comes from the connection (`ConnectInfo`). `X-Forwarded-For` is spoofable,
//! so it is only believed when the application says it runs behind a proxy, by adding the
//! [`TrustForwardedFor`] extension; then the right-most entry over *every* header line (a proxy
//! may append its own line rather than extend the client's) is the client, if it parses as an
//! IP address; otherwise the connection's address is used.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

/// Request extension: believe the right-most `X-Forwarded-For` entry.
#[derive(Clone, Copy, Debug)]
pub struct TrustForwardedFor;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClientInfo {
    /// The client's IP address, or empty when unknown (in-process tests).
    pub ip: String,
    /// At most 200 characters of `User-Agent`.
    pub user_agent: String,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let forwarded = parts
            .extensions
            .get::<TrustForwardedFor>()
            .and_then(|_| rightmost_forwarded_for(&parts.headers))
            .map(|ip| ip.to_string());
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(200)
            .collect();
        Ok(ClientInfo {
            ip: forwarded.or(peer).unwrap_or_default(),
            user_agent,
        })
    }
}

/// The last entry of the last `X-Forwarded-For` line (what the nearest proxy appended), if it
/// is an IP address (optionally in brackets or with a port, as some proxies write it).
pub fn rightmost_forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let last_line = headers.get_all("x-forwarded-for").iter().next_back()?;
    let entry = last_line.to_str().ok()?.rsplit(',').next()?.trim();
    parse_ip(entry)
}

fn parse_ip(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    // `[2001:db8::1]:443` or `203.0.113.9:51000`.
    entry
        .parse::<SocketAddr>()
        .ok()
        .map(|s| s.ip())
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .and_then(|e| e.parse().ok())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    async fn info(trust: bool) -> ClientInfo {
        let mut req = Request::builder()
            .header("x-forwarded-for", "6.6.6.6, 203.0.113.9")
            .header(USER_AGENT, "curl/8")
            .body(())
            .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 2], 4000))));
        if trust {
            req.extensions_mut().insert(TrustForwardedFor);
        }
        let (mut parts, _) = req.into_parts();
        ClientInfo::from_request_parts(&mut parts, &())
            .await
            .unwrap()
    }

    fn lines(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn every_line_is_read_and_the_rightmost_address_wins() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(
            rightmost_forwarded_for(&lines(&["6.6.6.6", "203.0.113.9"])),
            ip("203.0.113.9"),
            "a proxy that appends its own line"
        );
        assert_eq!(
            rightmost_forwarded_for(&lines(&["1.1.1.1, 6.6.6.6", "7.7.7.7,203.0.113.9 "])),
            ip("203.0.113.9")
        );
        assert_eq!(
            rightmost_forwarded_for(&lines(&["[2001:db8::1]:443"])),
            ip("2001:db8::1")
        );
        assert_eq!(
            rightmost_forwarded_for(&lines(&["203.0.113.9:5100"])),
            ip("203.0.113.9")
        );
        assert_eq!(
            rightmost_forwarded_for(&lines(&["1.2.3.4", "unknown"])),
            None
        );
        assert_eq!(rightmost_forwarded_for(&lines(&["1.2.3.4, "])), None);
        assert_eq!(rightmost_forwarded_for(&HeaderMap::new()), None);
    }

    #[tokio::test]
    async fn forwarded_for_only_behind_a_trusted_proxy() {
        assert_eq!(info(false).await.ip, "10.0.0.2");
        let behind = info(true).await;
        assert_eq!(behind.ip, "203.0.113.9");
        assert_eq!(behind.user_agent, "curl/8");
    }
}
