//! Authentication shared by every service: a bearer-token extractor over whatever
//! [`Authenticator`] the application provides (the users service's, in practice).

use crate::{ApiError, ErrorCode};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use std::sync::Arc;

/// Who is calling.
#[derive(Clone, Debug, PartialEq)]
pub struct Principal {
    pub user_id: String,
    pub session_id: String,
    pub role: String,
    /// The session proved a second factor.
    pub mfa: bool,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }
}

/// Checks a bearer token: signature, expiry, and that its session and account are live.
#[async_trait::async_trait]
pub trait Authenticator: Send + Sync {
    async fn authenticate(&self, bearer: &str) -> Result<Principal, ApiError>;
}

/// A signed-in caller (401 `unauthorized` otherwise).
pub struct Auth(pub Principal);

/// A signed-in admin whose session proved a second factor (401 if not signed in, 403
/// `forbidden` for other roles, 403 `two_factor_required` without the second factor).
pub struct AdminAuth(pub Principal);

impl<S> FromRequestParts<S> for Auth
where
    Arc<dyn Authenticator>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let Some(token) = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "sign in: send `Authorization: Bearer <access token>`",
            ));
        };
        let auth = Arc::<dyn Authenticator>::from_ref(state);
        Ok(Auth(auth.authenticate(token).await?))
    }
}

impl<S> FromRequestParts<S> for AdminAuth
where
    Arc<dyn Authenticator>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Auth(p) = Auth::from_request_parts(parts, state).await?;
        if !p.is_admin() {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "this needs an administrator",
            ));
        }
        if !p.mfa {
            return Err(ApiError::new(
                ErrorCode::TwoFactorRequired,
                "administrators sign in with two-factor authentication: turn it on in your account (POST /api/v1/me/2fa/setup), then sign in again",
            ));
        }
        Ok(AdminAuth(p))
    }
}
