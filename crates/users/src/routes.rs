//! The users service's HTTP routes (nested under `/api/v1`).

use crate::preferences::Preferences;
use crate::service::{ClientInfo, Registration, TokenPair, UsersService};
use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use spontra_http::{ApiError, ApiJson, Auth, Authenticator};
use spontra_store::{Role, Session, User};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Clone)]
pub struct UsersState {
    pub service: Arc<UsersService>,
    pub auth: Arc<dyn Authenticator>,
}

impl FromRef<UsersState> for Arc<dyn Authenticator> {
    fn from_ref(s: &UsersState) -> Self {
        s.auth.clone()
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    pub email: String,
    /// 8–128 characters, not a common password.
    pub password: String,
    pub display_name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    pub refresh_token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeBody {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdateBody {
    pub display_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// JWT, valid 15 minutes; send as `Authorization: Bearer …`.
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    /// Opaque, single use: trade it at `/auth/refresh` for a new pair.
    pub refresh_token: String,
    pub session_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProfileDto {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub email_verified: bool,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionDto {
    pub id: String,
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
    pub user_agent: String,
    pub ip: String,
    /// The session of the token making this request.
    pub current: bool,
}

impl From<TokenPair> for TokenResponse {
    fn from(t: TokenPair) -> Self {
        TokenResponse {
            access_token: t.access_token,
            token_type: "Bearer".into(),
            expires_in: t.expires_in,
            refresh_token: t.refresh_token,
            session_id: t.session_id.to_string(),
        }
    }
}

pub fn profile(u: &User) -> ProfileDto {
    ProfileDto {
        id: u.id.to_string(),
        email: u.email.as_ref().map(|e| e.to_string()).unwrap_or_default(),
        display_name: u.display_name.clone(),
        role: u.role.as_str().into(),
        email_verified: u.email_verified_at.is_some(),
        created_at: u.created_at.to_rfc3339(),
    }
}

fn session_dto(s: &Session, current: &str) -> SessionDto {
    SessionDto {
        id: s.id.to_string(),
        created_at: s.created_at.to_rfc3339(),
        last_used_at: s.last_used_at.to_rfc3339(),
        expires_at: s.expires_at.to_rfc3339(),
        user_agent: s.user_agent.clone(),
        ip: s.ip.clone(),
        current: s.id.to_string() == current,
    }
}

fn client(headers: &HeaderMap) -> ClientInfo {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let forwarded = get("x-forwarded-for");
    ClientInfo {
        user_agent: get("user-agent"),
        ip: forwarded.split(',').next().unwrap_or("").trim().to_string(),
    }
}

pub fn router(state: UsersState) -> Router {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/logout-all", post(logout_all))
        .route("/me", get(me).patch(update_profile))
        .route("/me/password", post(change_password))
        .route("/me/preferences", get(preferences).put(set_preferences))
        .route("/me/sessions", get(sessions))
        .route("/me/sessions/{id}", delete(revoke_session))
        .with_state(state)
}

/// Create an account.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "accounts", request_body = RegisterBody,
    responses((status = 201, body = ProfileDto), (status = 400, body = spontra_http::ProblemDetails), (status = 409, body = spontra_http::ProblemDetails)))]
pub async fn register(
    State(s): State<UsersState>,
    ApiJson(b): ApiJson<RegisterBody>,
) -> Result<(StatusCode, Json<ProfileDto>), ApiError> {
    let reg = Registration::parse(&b.email, &b.password, &b.display_name)?;
    let user = s.service.register(reg, Role::User).await?;
    Ok((StatusCode::CREATED, Json(profile(&user))))
}

/// Sign in: an access token and a refresh token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginBody,
    responses((status = 200, body = TokenResponse), (status = 401, body = spontra_http::ProblemDetails)))]
pub async fn login(
    State(s): State<UsersState>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<LoginBody>,
) -> Result<Json<TokenResponse>, ApiError> {
    Ok(Json(
        s.service
            .login(&b.email, &b.password, client(&headers))
            .await?
            .into(),
    ))
}

/// Trade a refresh token for a new pair (the old one is spent).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "accounts", request_body = RefreshBody,
    responses((status = 200, body = TokenResponse), (status = 401, body = spontra_http::ProblemDetails)))]
pub async fn refresh(
    State(s): State<UsersState>,
    ApiJson(b): ApiJson<RefreshBody>,
) -> Result<Json<TokenResponse>, ApiError> {
    Ok(Json(s.service.refresh(&b.refresh_token).await?.into()))
}

/// End this session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts", security(("bearer" = [])), responses((status = 204)))]
pub async fn logout(State(s): State<UsersState>, Auth(p): Auth) -> Result<StatusCode, ApiError> {
    s.service.logout(&p).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// End every session of this account.
#[utoipa::path(post, path = "/api/v1/auth/logout-all", tag = "accounts", security(("bearer" = [])), responses((status = 204)))]
pub async fn logout_all(
    State(s): State<UsersState>,
    Auth(p): Auth,
) -> Result<StatusCode, ApiError> {
    s.service.logout_everywhere(&p).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])), responses((status = 200, body = ProfileDto), (status = 401, body = spontra_http::ProblemDetails)))]
pub async fn me(State(s): State<UsersState>, Auth(p): Auth) -> Result<Json<ProfileDto>, ApiError> {
    Ok(Json(profile(&s.service.me(&p).await?)))
}

/// Change the display name.
#[utoipa::path(patch, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])), request_body = ProfileUpdateBody,
    responses((status = 200, body = ProfileDto), (status = 400, body = spontra_http::ProblemDetails)))]
pub async fn update_profile(
    State(s): State<UsersState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<ProfileUpdateBody>,
) -> Result<Json<ProfileDto>, ApiError> {
    Ok(Json(profile(
        &s.service.update_profile(&p, &b.display_name).await?,
    )))
}

/// Change the password (needs the current one); every other session ends.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "accounts", security(("bearer" = [])), request_body = PasswordChangeBody,
    responses((status = 204), (status = 400, body = spontra_http::ProblemDetails)))]
pub async fn change_password(
    State(s): State<UsersState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<PasswordChangeBody>,
) -> Result<StatusCode, ApiError> {
    s.service
        .change_password(&p, &b.current_password, &b.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Travel preferences (defaults until set).
#[utoipa::path(get, path = "/api/v1/me/preferences", tag = "accounts", security(("bearer" = [])), responses((status = 200, body = Preferences)))]
pub async fn preferences(
    State(s): State<UsersState>,
    Auth(p): Auth,
) -> Result<Json<Preferences>, ApiError> {
    Ok(Json(s.service.preferences(&p).await?))
}

/// Replace the travel preferences (every field checked: airport or city code, ISO 4217
/// currency, cabin, passengers, hours range, budget).
#[utoipa::path(put, path = "/api/v1/me/preferences", tag = "accounts", security(("bearer" = [])), request_body = Preferences,
    responses((status = 200, body = Preferences), (status = 400, body = spontra_http::ProblemDetails)))]
pub async fn set_preferences(
    State(s): State<UsersState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<Preferences>,
) -> Result<Json<Preferences>, ApiError> {
    Ok(Json(s.service.set_preferences(&p, b).await?))
}

/// Live sessions of this account.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "accounts", security(("bearer" = [])), responses((status = 200, body = [SessionDto])))]
pub async fn sessions(
    State(s): State<UsersState>,
    Auth(p): Auth,
) -> Result<Json<Vec<SessionDto>>, ApiError> {
    let list = s.service.sessions(&p).await?;
    Ok(Json(
        list.iter().map(|x| session_dto(x, &p.session_id)).collect(),
    ))
}

/// End one of this account's sessions.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")), responses((status = 204), (status = 404, body = spontra_http::ProblemDetails)))]
pub async fn revoke_session(
    State(s): State<UsersState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.service.revoke_session(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
