//! Who is on the other end of a request, for session lists and per-address throttling.
//!
//! The peer address comes from the connection (`ConnectInfo`). `X-Forwarded-For` is spoofable,
//! so it is only believed when the application says it runs behind a proxy, by adding the
//! [`TrustForwardedFor`] extension; then the right-most entry (the one our proxy appended) is
//! the client.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::SocketAddr;

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
            .and_then(|_| parts.headers.get("x-forwarded-for"))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
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

    #[tokio::test]
    async fn forwarded_for_only_behind_a_trusted_proxy() {
        assert_eq!(info(false).await.ip, "10.0.0.2");
        let behind = info(true).await;
        assert_eq!(behind.ip, "203.0.113.9");
        assert_eq!(behind.user_agent, "curl/8");
    }
}
