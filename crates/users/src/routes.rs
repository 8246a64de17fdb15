//! The users service's HTTP routes (nested under `/api/v1`).

use crate::admin::{parse_user_id, AdminChange};
use crate::preferences::Preferences;
use crate::privacy::{self, Export, CONSENT_KINDS};
use crate::service::{Registration, TokenPair, UsersService};
use axum::extract::{FromRef, Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use spontra_http::{
    AdminAuth, ApiError, ApiJson, ApiQuery, Auth, Authenticator, ClientInfo, ErrorCode,
};
use spontra_store::{Consent, Role, Session, User};
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

pub fn router(state: UsersState) -> Router {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/logout-all", post(logout_all))
        .route("/auth/verify-email", post(verify_email))
        .route("/auth/verify-email/resend", post(resend_verification))
        .route("/auth/forgot-password", post(forgot_password))
        .route("/auth/reset-password", post(reset_password))
        .route("/me", get(me).patch(update_profile).delete(delete_account))
        .route("/me/export", get(export))
        .route("/me/consents", get(consents).put(set_consents))
        .route("/admin/users", get(admin_list_users))
        .route(
            "/admin/users/{id}",
            get(admin_get_user).patch(admin_update_user),
        )
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
    let user = s.service.register(reg).await?;
    Ok((StatusCode::CREATED, Json(profile(&user))))
}

/// Sign in: an access token and a refresh token. Repeated failures for one email or from one
/// address are slowed down: 429 with `Retry-After`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginBody,
    responses((status = 200, body = TokenResponse), (status = 401, body = spontra_http::ProblemDetails),
        (status = 429, body = spontra_http::ProblemDetails, headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn login(
    State(s): State<UsersState>,
    client: ClientInfo,
    ApiJson(b): ApiJson<LoginBody>,
) -> Result<Json<TokenResponse>, ApiError> {
    Ok(Json(
        s.service.login(&b.email, &b.password, client).await?.into(),
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// The `token` parameter of the link in the mail.
    pub token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPasswordBody {
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordBody {
    pub token: String,
    pub new_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountBody {
    /// The current password, asked again.
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct ConsentDto {
    pub kind: String,
    pub granted: bool,
    pub recorded_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct ConsentsDto {
    /// The latest decision about marketing mail (absent: never asked, so not granted).
    pub marketing: Option<ConsentDto>,
    pub analytics: Option<ConsentDto>,
    /// Every decision, oldest first.
    pub history: Vec<ConsentDto>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentsBody {
    pub marketing: Option<bool>,
    pub analytics: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct ExportDto {
    pub exported_at: String,
    pub profile: ProfileDto,
    pub preferences: Preferences,
    pub consents: Vec<ConsentDto>,
    pub sessions: Vec<SessionDto>,
}

#[derive(Serialize, ToSchema)]
pub struct AdminUserDto {
    pub id: String,
    /// Empty once the account is deleted.
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub disabled: bool,
    pub email_verified: bool,
    pub deleted: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct AdminUserList {
    pub users: Vec<AdminUserDto>,
    /// Pass as `offset` for the next page; absent on the last page.
    pub next_offset: Option<u32>,
}

#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AdminListQuery {
    /// Part of an email or display name (case-insensitive); empty lists everyone.
    #[serde(default)]
    pub q: String,
    /// 1–100, default 50.
    pub limit: Option<u32>,
    #[serde(default)]
    pub offset: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminUpdateBody {
    pub disabled: Option<bool>,
    /// `user` or `admin`.
    pub role: Option<String>,
}

fn consent_dto(c: &Consent) -> ConsentDto {
    ConsentDto {
        kind: c.kind.clone(),
        granted: c.granted,
        recorded_at: c.recorded_at.to_rfc3339(),
    }
}

fn consents_dto(history: &[Consent]) -> ConsentsDto {
    let latest = |kind| privacy::current(history, kind).as_ref().map(consent_dto);
    ConsentsDto {
        marketing: latest("marketing"),
        analytics: latest("analytics"),
        history: history.iter().map(consent_dto).collect(),
    }
}

fn admin_user_dto(u: &User) -> AdminUserDto {
    AdminUserDto {
        id: u.id.to_string(),
        email: u.email.as_ref().map(|e| e.to_string()).unwrap_or_default(),
        display_name: u.display_name.clone(),
        role: u.role.as_str().into(),
        disabled: u.disabled,
        email_verified: u.email_verified_at.is_some(),
        deleted: u.deleted_at.is_some(),
        created_at: u.created_at.to_rfc3339(),
        updated_at: u.updated_at.to_rfc3339(),
    }
}

/// Confirm the email address with the token from the verification mail.
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "accounts", request_body = TokenBody,
    responses((status = 204), (status = 400, body = spontra_http::ProblemDetails)))]
pub async fn verify_email(
    State(s): State<UsersState>,
    ApiJson(b): ApiJson<TokenBody>,
) -> Result<StatusCode, ApiError> {
    s.service.verify_email(&b.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mail a new verification link to the signed-in account (at most 3 an hour).
#[utoipa::path(post, path = "/api/v1/auth/verify-email/resend", tag = "accounts", security(("bearer" = [])),
    responses((status = 202), (status = 409, body = spontra_http::ProblemDetails), (status = 429, body = spontra_http::ProblemDetails)))]
pub async fn resend_verification(
    State(s): State<UsersState>,
    Auth(p): Auth,
) -> Result<StatusCode, ApiError> {
    s.service.resend_verification(&p).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Ask for a password reset link. The answer is the same 202 whether or not an account has
/// this email.
#[utoipa::path(post, path = "/api/v1/auth/forgot-password", tag = "accounts", request_body = ForgotPasswordBody,
    responses((status = 202), (status = 400, body = spontra_http::ProblemDetails)))]
pub async fn forgot_password(
    State(s): State<UsersState>,
    ApiJson(b): ApiJson<ForgotPasswordBody>,
) -> Result<StatusCode, ApiError> {
    s.service.forgot_password(&b.email)?;
    Ok(StatusCode::ACCEPTED)
}

/// Choose a new password with the token from the reset mail (single use, 1 hour). Every
/// session of the account ends.
#[utoipa::path(post, path = "/api/v1/auth/reset-password", tag = "accounts", request_body = ResetPasswordBody,
    responses((status = 204), (status = 400, body = spontra_http::ProblemDetails)))]
pub async fn reset_password(
    State(s): State<UsersState>,
    ApiJson(b): ApiJson<ResetPasswordBody>,
) -> Result<StatusCode, ApiError> {
    s.service.reset_password(&b.token, &b.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Everything stored about this account, as a JSON download.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "privacy", security(("bearer" = [])), responses((status = 200, body = ExportDto)))]
pub async fn export(
    State(s): State<UsersState>,
    Auth(p): Auth,
) -> Result<impl IntoResponse, ApiError> {
    let Export {
        user,
        preferences,
        consents,
        sessions,
    } = s.service.export(&p).await?;
    let body = ExportDto {
        exported_at: chrono::Utc::now().to_rfc3339(),
        profile: profile(&user),
        preferences,
        consents: consents.iter().map(consent_dto).collect(),
        sessions: sessions
            .iter()
            .map(|x| session_dto(x, &p.session_id))
            .collect(),
    };
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"spontra-export.json\"",
        )],
        Json(body),
    ))
}

/// Delete this account: personal data is erased, the record is anonymised. Needs the password.
#[utoipa::path(delete, path = "/api/v1/me", tag = "privacy", security(("bearer" = [])), request_body = DeleteAccountBody,
    responses((status = 204), (status = 400, body = spontra_http::ProblemDetails)))]
pub async fn delete_account(
    State(s): State<UsersState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<DeleteAccountBody>,
) -> Result<StatusCode, ApiError> {
    s.service.delete_account(&p, &b.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Consent decisions (marketing, analytics) and their history.
#[utoipa::path(get, path = "/api/v1/me/consents", tag = "privacy", security(("bearer" = [])), responses((status = 200, body = ConsentsDto)))]
pub async fn consents(
    State(s): State<UsersState>,
    Auth(p): Auth,
) -> Result<Json<ConsentsDto>, ApiError> {
    Ok(Json(consents_dto(&s.service.consents(&p).await?)))
}

/// Record consent decisions; each is kept with its time.
#[utoipa::path(put, path = "/api/v1/me/consents", tag = "privacy", security(("bearer" = [])), request_body = ConsentsBody,
    responses((status = 200, body = ConsentsDto), (status = 400, body = spontra_http::ProblemDetails)))]
pub async fn set_consents(
    State(s): State<UsersState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<ConsentsBody>,
) -> Result<Json<ConsentsDto>, ApiError> {
    let decisions: Vec<(&str, bool)> = CONSENT_KINDS
        .into_iter()
        .zip([b.marketing, b.analytics])
        .filter_map(|(kind, v)| v.map(|v| (kind, v)))
        .collect();
    if decisions.is_empty() {
        return Err(ApiError::new(
            ErrorCode::MissingField,
            "give `marketing` and/or `analytics` as true or false",
        ));
    }
    Ok(Json(consents_dto(
        &s.service.record_consents(&p, &decisions).await?,
    )))
}

/// Find accounts (administrators only).
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])), params(AdminListQuery),
    responses((status = 200, body = AdminUserList), (status = 403, body = spontra_http::ProblemDetails)))]
pub async fn admin_list_users(
    State(s): State<UsersState>,
    AdminAuth(_admin): AdminAuth,
    ApiQuery(q): ApiQuery<AdminListQuery>,
) -> Result<Json<AdminUserList>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::field(
            ErrorCode::InvalidLimit,
            "limit",
            "give a limit from 1 to 100",
        ));
    }
    // One extra row tells whether another page exists.
    let mut users = s.service.find_users(&q.q, limit + 1, q.offset).await?;
    let more = users.len() > limit as usize;
    users.truncate(limit as usize);
    Ok(Json(AdminUserList {
        users: users.iter().map(admin_user_dto).collect(),
        next_offset: more.then(|| q.offset + limit),
    }))
}

/// One account (administrators only).
#[utoipa::path(get, path = "/api/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = AdminUserDto), (status = 403, body = spontra_http::ProblemDetails), (status = 404, body = spontra_http::ProblemDetails)))]
pub async fn admin_get_user(
    State(s): State<UsersState>,
    AdminAuth(_admin): AdminAuth,
    Path(id): Path<String>,
) -> Result<Json<AdminUserDto>, ApiError> {
    let user = s.service.user(parse_user_id(&id)?).await?;
    Ok(Json(admin_user_dto(&user)))
}

/// Disable or enable an account, or change its role (administrators only). Disabling ends its
/// sessions at once.
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])), request_body = AdminUpdateBody,
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = AdminUserDto), (status = 400, body = spontra_http::ProblemDetails), (status = 403, body = spontra_http::ProblemDetails), (status = 404, body = spontra_http::ProblemDetails)))]
pub async fn admin_update_user(
    State(s): State<UsersState>,
    AdminAuth(admin): AdminAuth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AdminUpdateBody>,
) -> Result<Json<AdminUserDto>, ApiError> {
    let role = match b.role.as_deref() {
        None => None,
        Some(r) => Some(Role::parse(r).ok_or_else(|| {
            ApiError::field(
                ErrorCode::InvalidField,
                "role",
                "the role is `user` or `admin`",
            )
        })?),
    };
    if b.disabled.is_none() && role.is_none() {
        return Err(ApiError::new(
            ErrorCode::MissingField,
            "give `disabled` and/or `role`",
        ));
    }
    let change = AdminChange {
        disabled: b.disabled,
        role,
    };
    let user = s
        .service
        .administer(&admin, parse_user_id(&id)?, change)
        .await?;
    Ok(Json(admin_user_dto(&user)))
}
