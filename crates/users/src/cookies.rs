//! The browser's session: the refresh token in an `HttpOnly`, `SameSite=Strict` cookie scoped
//! to `/api/v1/auth` (script on the page cannot read it, and no other site can make the
//! browser send it), and a CSRF token in a second, readable cookie that the web app repeats
//! in `X-CSRF-Token` (double submit). A cookie-authenticated refresh is accepted only when
//! both match and, if the browser says where the request comes from (`Origin`), it comes from
//! this site or an allowed origin. With an `https` public URL the cookies are `Secure` and the
//! CSRF cookie takes the `__Host-` prefix, so a sibling subdomain cannot plant one.
//!
//! Non-browser clients keep using the JSON refresh API; it needs no CSRF defence because no
//! browser attaches its body automatically.

use axum::http::{header, HeaderMap};
use cookie::{Cookie, SameSite};
use spontra_http::{ApiError, ErrorCode};

pub const REFRESH_PATH: &str = "/api/v1/auth";
pub const CSRF_HEADER: &str = "x-csrf-token";

#[derive(Clone, Debug, Default)]
pub struct CookiePolicy {
    /// The public URL is https: cookies are `Secure` (and the CSRF cookie `__Host-`).
    pub secure: bool,
    /// Other origins allowed to call the API (the CORS list), besides this site itself.
    pub allowed_origins: Vec<String>,
}

/// A fresh CSRF token (256 random bits).
pub fn new_csrf_token() -> String {
    crate::tokens::opaque()
}

impl CookiePolicy {
    pub fn refresh_name(&self) -> &'static str {
        if self.secure {
            "__Secure-spontra_refresh"
        } else {
            "spontra_refresh"
        }
    }

    pub fn csrf_name(&self) -> &'static str {
        if self.secure {
            "__Host-spontra_csrf"
        } else {
            "spontra_csrf"
        }
    }

    fn build(
        &self,
        name: &'static str,
        value: String,
        http_only: bool,
        max_age_secs: i64,
    ) -> String {
        let path = if http_only { REFRESH_PATH } else { "/" };
        Cookie::build((name, value))
            .path(path)
            .http_only(http_only)
            .secure(self.secure)
            .same_site(SameSite::Strict)
            .max_age(cookie::time::Duration::seconds(max_age_secs.max(0)))
            .build()
            .to_string()
    }

    /// `Set-Cookie` values for a session whose refresh token ends in `max_age` seconds.
    pub fn session_cookies(&self, refresh: &str, csrf: &str, max_age: i64) -> Vec<String> {
        vec![
            self.build(self.refresh_name(), refresh.to_string(), true, max_age),
            self.build(self.csrf_name(), csrf.to_string(), false, max_age),
        ]
    }

    /// `Set-Cookie` values that delete both cookies.
    pub fn cleared(&self) -> Vec<String> {
        vec![
            self.build(self.refresh_name(), String::new(), true, 0),
            self.build(self.csrf_name(), String::new(), false, 0),
        ]
    }

    /// For a cookie-authenticated refresh: the refresh token and the CSRF token, once the
    /// header repeats the cookie and the origin is ours.
    pub fn check_refresh_request(&self, headers: &HeaderMap) -> Result<(String, String), ApiError> {
        let csrf_failed = |why: &str| ApiError::new(ErrorCode::CsrfFailed, why.to_string());
        let mut refresh = None;
        let mut csrf = None;
        for value in headers.get_all(header::COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            for c in Cookie::split_parse(text).flatten() {
                if c.name() == self.refresh_name() {
                    refresh = Some(c.value().to_string());
                } else if c.name() == self.csrf_name() {
                    csrf = Some(c.value().to_string());
                }
            }
        }
        let Some(refresh) = refresh.filter(|r| !r.is_empty()) else {
            return Err(ApiError::new(
                ErrorCode::InvalidToken,
                "no refresh token: send `refresh_token`, or sign in again",
            ));
        };
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let Some(csrf) =
            csrf.filter(|c| !c.is_empty() && constant_time_eq(c.as_bytes(), sent.as_bytes()))
        else {
            return Err(csrf_failed(
                "send the spontra_csrf cookie's value in X-CSRF-Token",
            ));
        };
        if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            if !self.origin_allowed(origin, headers) {
                return Err(csrf_failed("this origin may not use the session cookie"));
            }
        }
        Ok((refresh, csrf))
    }

    /// This site (the origin's host is the request's `Host`) or an allowed origin.
    fn origin_allowed(&self, origin: &str, headers: &HeaderMap) -> bool {
        let origin = origin.trim_end_matches('/');
        if self
            .allowed_origins
            .iter()
            .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
        {
            return true;
        }
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let authority = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        !host.is_empty() && authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(cookies: &str, csrf: Option<&str>, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, cookies.parse().unwrap());
        h.insert(header::HOST, "spontra.test:8080".parse().unwrap());
        if let Some(c) = csrf {
            h.insert(CSRF_HEADER, c.parse().unwrap());
        }
        if let Some(o) = origin {
            h.insert(header::ORIGIN, o.parse().unwrap());
        }
        h
    }

    #[test]
    fn cookies_are_http_only_strict_and_scoped() {
        let p = CookiePolicy::default();
        let set = p.session_cookies("r1", "c1", 30 * 86_400);
        assert!(set[0].starts_with("spontra_refresh=r1"), "{}", set[0]);
        for attr in [
            "HttpOnly",
            "SameSite=Strict",
            "Path=/api/v1/auth",
            "Max-Age=",
        ] {
            assert!(set[0].contains(attr), "{attr}: {}", set[0]);
        }
        assert!(!set[0].contains("Secure"));
        assert!(set[1].starts_with("spontra_csrf=c1") && !set[1].contains("HttpOnly"));
        let secure = CookiePolicy {
            secure: true,
            ..Default::default()
        };
        let set = secure.session_cookies("r1", "c1", 86_400);
        assert!(set[0].starts_with("__Secure-spontra_refresh=") && set[0].contains("Secure"));
        assert!(set[1].starts_with("__Host-spontra_csrf=") && set[1].contains("Path=/"));
        assert!(p.cleared()[0].contains("Max-Age=0"));
    }

    #[test]
    fn a_cookie_refresh_needs_the_matching_header_and_our_origin() {
        let p = CookiePolicy {
            secure: false,
            allowed_origins: vec!["https://app.example".into()],
        };
        let jar = "spontra_refresh=r1; spontra_csrf=c1";
        assert_eq!(
            p.check_refresh_request(&request(jar, Some("c1"), None))
                .unwrap(),
            ("r1".to_string(), "c1".to_string())
        );
        assert!(p
            .check_refresh_request(&request(jar, Some("c1"), Some("http://spontra.test:8080")))
            .is_ok());
        assert!(p
            .check_refresh_request(&request(jar, Some("c1"), Some("https://app.example")))
            .is_ok());
        for (headers, code) in [
            (request(jar, None, None), ErrorCode::CsrfFailed),
            (request(jar, Some("c2"), None), ErrorCode::CsrfFailed),
            (
                request(jar, Some("c1"), Some("https://evil.example")),
                ErrorCode::CsrfFailed,
            ),
            (
                request("spontra_refresh=r1", Some(""), None),
                ErrorCode::CsrfFailed,
            ),
            (
                request("spontra_csrf=c1", Some("c1"), None),
                ErrorCode::InvalidToken,
            ),
        ] {
            assert_eq!(p.check_refresh_request(&headers).unwrap_err().code(), code);
        }
    }
}
