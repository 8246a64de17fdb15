//! The users service's HTTP routes (nested under `/api/v1`). Every answer carries
//! `Cache-Control: no-store`: they are personal, and some carry tokens.

use crate::admin::{parse_user_id, AdminChange};
use crate::cookies::{self, CookiePolicy};
use crate::preferences::Preferences;
use crate::privacy::{self, Export, CONSENT_KINDS};
use crate::service::{Registration, SignIn, TokenPair, UsersService};
use axum::extract::{FromRef, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use spontra_http::{
    AdminAuth, ApiError, ApiJson, ApiPath, ApiQuery, Auth, Authenticator, ClientInfo, ErrorCode,
};
use spontra_store::{Consent, Role, Session, User};
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::ToSchema;

#[derive(Clone)]
pub struct UsersState {
    pub service: Arc<UsersService>,
    pub auth: Arc<dyn Authenticator>,
    /// How the browser's refresh cookie is set and checked.
    pub cookies: CookiePolicy,
}

impl FromRef<UsersState> for Arc<dyn Authenticator> {
    fn from_ref(s: &UsersState) -> Self {
        s.auth.clone()
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    #[schema(format = Email, max_length = 254, example = "ada@example.com")]
    pub email: String,
    /// 12–128 characters, not a common password (`weak_password`, 422, otherwise).
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
    /// One line of printable text, 1–80 characters (`invalid_text`, 422, otherwise).
    #[schema(min_length = 1, max_length = 80, example = "Ada")]
    pub display_name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    #[schema(format = Email, max_length = 254, example = "ada@example.com")]
    pub email: String,
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
    /// Browsers: keep the refresh token in an `HttpOnly` cookie instead of the answer.
    #[serde(default)]
    pub session_cookie: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorBody {
    /// The `challenge` of the password step's 202 answer.
    pub challenge: String,
    /// The six digits from the authenticator app, or a recovery code.
    #[schema(min_length = 1, max_length = 64)]
    pub code: String,
    #[serde(default)]
    pub session_cookie: bool,
}

/// The password was right; send the second factor to `/auth/login/2fa` with this challenge.
#[derive(Serialize, ToSchema)]
pub struct SecondFactorChallenge {
    pub two_factor_required: bool,
    pub challenge: String,
    /// Seconds the challenge stays valid.
    pub expires_in: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    /// The refresh token; leave it out to use the session cookie (then `X-CSRF-Token` must
    /// repeat the `spontra_csrf` cookie).
    pub refresh_token: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeBody {
    #[schema(min_length = 1, max_length = 1024)]
    pub current_password: String,
    /// As at registration: 12–128 characters, not a common password.
    #[schema(min_length = 12, max_length = 128)]
    pub new_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdateBody {
    #[schema(min_length = 1, max_length = 80, example = "Ada")]
    pub display_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// JWT, valid 15 minutes; send as `Authorization: Bearer …`.
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    /// Opaque, single use: trade it at `/auth/refresh` for a new pair. Absent when it was
    /// set as an `HttpOnly` cookie instead (`session_cookie`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub session_id: String,
}

/// A registration was taken: the mail tells the rest (see `/auth/register`).
#[derive(Serialize, ToSchema)]
pub struct RegistrationAccepted {
    /// The address as it was read.
    pub email: String,
    pub message: String,
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

/// The tokens as JSON, or with the refresh token in cookies when the client asked for that.
fn token_response(t: TokenPair, policy: &CookiePolicy, in_cookie: Option<String>) -> Response {
    let body = |refresh_token| TokenResponse {
        access_token: t.access_token.clone(),
        token_type: "Bearer".into(),
        expires_in: t.expires_in,
        refresh_token,
        session_id: t.session_id.to_string(),
    };
    match in_cookie {
        None => Json(body(Some(t.refresh_token.clone()))).into_response(),
        Some(csrf) => with_cookies(
            Json(body(None)).into_response(),
            policy.session_cookies(
                &t.refresh_token,
                &csrf,
                (t.session_expires_at - t.issued_at).num_seconds(),
            ),
        ),
    }
}

fn cleared_cookies(policy: &CookiePolicy) -> Response {
    with_cookies(StatusCode::NO_CONTENT.into_response(), policy.cleared())
}

fn with_cookies(mut response: Response, cookies: Vec<String>) -> Response {
    for cookie in cookies {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
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
        .route("/auth/login/2fa", post(login_second_factor))
        .route("/me/2fa", get(two_factor_status))
        .route("/me/2fa/setup", post(two_factor_setup))
        .route("/me/2fa/enable", post(two_factor_enable))
        .route("/me/2fa/disable", post(two_factor_disable))
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
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(state)
}

/// Create an account. The answer is the same whether or not the address has an account
/// already (it tells no one which addresses are registered): a new account gets a mail with a
/// link to confirm the address; the owner of an existing one gets a mail saying someone tried.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "accounts", request_body = RegisterBody,
    responses((status = 422, body = spontra_http::ProblemDetails, content_type = "application/problem+json", description = "`weak_password`, `invalid_email`, `invalid_text`: a rule beyond the document"), (status = 202, body = RegistrationAccepted,
        links(("SignIn" = (operation_id = "login", description = "Sign in to the new account",
            request_body = json!({"email": "$request.body#/email", "password": "$request.body#/password"}))))),
        (status = 400, body = spontra_http::ProblemDetails)))]
pub async fn register(
    State(s): State<UsersState>,
    client: ClientInfo,
    ApiJson(b): ApiJson<RegisterBody>,
) -> Result<(StatusCode, Json<RegistrationAccepted>), ApiError> {
    let reg = Registration::parse(&b.email, &b.password, &b.display_name)?;
    let email = reg.email.to_string();
    s.service.register(reg, &client).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RegistrationAccepted {
            email,
            message: "Check your inbox: a mail is on its way to this address.".into(),
        }),
    ))
}

/// Sign in: an access token and a refresh token (in the answer, or with `session_cookie` in an
/// `HttpOnly` cookie). With two-factor authentication on, the answer is 202 with a challenge
/// for `/auth/login/2fa`. Repeated failures for one email or from one address are slowed
/// down: 429 with `Retry-After`; a burst of simultaneous guesses gets no more checks than the
/// free failures.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginBody,
    responses((status = 200, body = TokenResponse,
            links(("Profile" = (operation_id = "me", description = "The signed-in account")),
                ("EndThisSession" = (operation_id = "revoke_session", description = "Sign this session out",
                    parameters(("id" = "$response.body#/session_id")))))),
        (status = 202, body = SecondFactorChallenge),
        (status = 401, body = spontra_http::ProblemDetails, content_type = "application/problem+json"),
        (status = 429, body = spontra_http::ProblemDetails, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds to wait"))),
        (status = 503, body = spontra_http::ProblemDetails, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn login(
    State(s): State<UsersState>,
    client: ClientInfo,
    ApiJson(b): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    match s.service.login(&b.email, &b.password, client).await? {
        SignIn::Tokens(pair) => Ok(token_response(
            pair,
            &s.cookies,
            b.session_cookie.then(cookies::new_csrf_token),
        )),
        SignIn::SecondFactor {
            challenge,
            expires_in,
        } => Ok((
            StatusCode::ACCEPTED,
            Json(SecondFactorChallenge {
                two_factor_required: true,
                challenge,
                expires_in,
            }),
        )
            .into_response()),
    }
}

/// The second step of a sign-in with two-factor authentication: the challenge and a code from
/// the authenticator app (or a recovery code). Throttled like the password.
#[utoipa::path(post, path = "/api/v1/auth/login/2fa", tag = "accounts", request_body = SecondFactorBody,
    responses((status = 200, body = TokenResponse),
        (status = 401, body = spontra_http::ProblemDetails, content_type = "application/problem+json"),
        (status = 429, body = spontra_http::ProblemDetails, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn login_second_factor(
    State(s): State<UsersState>,
    client: ClientInfo,
    ApiJson(b): ApiJson<SecondFactorBody>,
) -> Result<Response, ApiError> {
    let pair = s
        .service
        .login_second_factor(&b.challenge, &b.code, client)
        .await?;
    Ok(token_response(
        pair,
        &s.cookies,
        b.session_cookie.then(cookies::new_csrf_token),
    ))
}

/// Trade a refresh token for a new pair (the old one is spent). Browsers leave the token out
/// and send the session cookie with `X-CSRF-Token`.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "accounts", request_body = RefreshBody,
    responses((status = 200, body = TokenResponse),
        (status = 401, body = spontra_http::ProblemDetails, content_type = "application/problem+json"),
        (status = 403, body = spontra_http::ProblemDetails, content_type = "application/problem+json")))]
pub async fn refresh(
    State(s): State<UsersState>,
    client: ClientInfo,
    headers: HeaderMap,
    ApiJson(b): ApiJson<RefreshBody>,
) -> Result<Response, ApiError> {
    match b.refresh_token {
        Some(token) => Ok(token_response(
            s.service.refresh(&token, &client).await?,
            &s.cookies,
            None,
        )),
        None => {
            let (token, csrf) = s.cookies.check_refresh_request(&headers)?;
            let pair = s.service.refresh(&token, &client).await?;
            Ok(token_response(pair, &s.cookies, Some(csrf)))
        }
    }
}

/// End this session (and clear the session cookies).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts", security(("bearer" = [])), responses((status = 204)))]
pub async fn logout(State(s): State<UsersState>, Auth(p): Auth) -> Result<Response, ApiError> {
    s.service.logout(&p).await?;
    Ok(cleared_cookies(&s.cookies))
}

/// End every session of this account.
#[utoipa::path(post, path = "/api/v1/auth/logout-all", tag = "accounts", security(("bearer" = [])), responses((status = 204)))]
pub async fn logout_all(State(s): State<UsersState>, Auth(p): Auth) -> Result<Response, ApiError> {
    s.service.logout_everywhere(&p).await?;
    Ok(cleared_cookies(&s.cookies))
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])), responses((status = 200, body = ProfileDto), (status = 401, body = spontra_http::ProblemDetails)))]
pub async fn me(State(s): State<UsersState>, Auth(p): Auth) -> Result<Json<ProfileDto>, ApiError> {
    Ok(Json(profile(&s.service.me(&p).await?)))
}

/// Change the display name.
#[utoipa::path(patch, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])), request_body = ProfileUpdateBody,
    responses((status = 422, body = spontra_http::ProblemDetails, content_type = "application/problem+json", description = "`invalid_text`: not one printable line"), (status = 200, body = ProfileDto), (status = 400, body = spontra_http::ProblemDetails)))]
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
    responses((status = 403, body = spontra_http::ProblemDetails, content_type = "application/problem+json", description = "`wrong_password`: the current password is wrong"), (status = 422, body = spontra_http::ProblemDetails, content_type = "application/problem+json", description = "`weak_password`"), (status = 204), (status = 400, body = spontra_http::ProblemDetails)))]
pub async fn change_password(
    State(s): State<UsersState>,
    Auth(p): Auth,
    client: ClientInfo,
    ApiJson(b): ApiJson<PasswordChangeBody>,
) -> Result<StatusCode, ApiError> {
    s.service
        .change_password(&p, &b.current_password, &b.new_password, &client)
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
    responses((status = 422, body = spontra_http::ProblemDetails, content_type = "application/problem+json", description = "`unknown_airport`, `too_many_infants`, `too_many_passengers`, `invalid_range`: a rule beyond the document"), (status = 200, body = Preferences), (status = 400, body = spontra_http::ProblemDetails)))]
pub async fn set_preferences(
    State(s): State<UsersState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<Preferences>,
) -> Result<Json<Preferences>, ApiError> {
    Ok(Json(s.service.set_preferences(&p, b).await?))
}

/// Live sessions of this account.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "accounts", security(("bearer" = [])), responses((status = 200, body = [SessionDto],
        links(("EndSession" = (operation_id = "revoke_session", description = "Sign the first listed session out",
            parameters(("id" = "$response.body#/0/id"))))))))]
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
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    s.service.revoke_session(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// The `token` parameter of the link in the mail.
    #[schema(min_length = 1, max_length = 1024)]
    pub token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPasswordBody {
    #[schema(format = Email, max_length = 254, example = "ada@example.com")]
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordBody {
    #[schema(min_length = 1, max_length = 1024)]
    pub token: String,
    #[schema(min_length = 12, max_length = 128)]
    pub new_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountBody {
    /// The current password, asked again.
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
    /// With two-factor authentication on: a code from the app, or a recovery code.
    #[schema(max_length = 64)]
    #[serde(default)]
    pub code: Option<String>,
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
    /// Price alerts, as `GET /alerts` shows them.
    pub alerts: Vec<serde_json::Value>,
    /// Webhooks, as `GET /webhooks` shows them (never their secrets).
    pub webhooks: Vec<serde_json::Value>,
    /// What was sent (mail and webhook deliveries) and how delivery went, as
    /// `GET /notifications` shows it.
    pub notifications: Vec<serde_json::Value>,
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
#[into_params(parameter_in = Query)]
pub struct AdminListQuery {
    /// Part of an email or display name (case-insensitive); empty lists everyone.
    #[serde(default)]
    #[param(max_length = 200)]
    pub q: String,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    #[serde(default)]
    #[param(maximum = 1000000)]
    pub offset: u32,
}

/// The furthest `offset` of the account list.
const MAX_ADMIN_OFFSET: u32 = 1_000_000;

/// An account's role.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum RoleName {
    User,
    Admin,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminUpdateBody {
    pub disabled: Option<bool>,
    #[schema(value_type = Option<RoleName>)]
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
    responses((status = 403, body = spontra_http::ProblemDetails, content_type = "application/problem+json", description = "`invalid_link_token`: invalid, expired or already used"), (status = 204), (status = 400, body = spontra_http::ProblemDetails)))]
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
    client: ClientInfo,
) -> Result<StatusCode, ApiError> {
    s.service.resend_verification(&p, &client).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Ask for a password reset link. The answer is the same 202 whether or not an account has
/// this email.
#[utoipa::path(post, path = "/api/v1/auth/forgot-password", tag = "accounts", request_body = ForgotPasswordBody,
    responses((status = 422, body = spontra_http::ProblemDetails, content_type = "application/problem+json", description = "`invalid_email`"), (status = 202), (status = 400, body = spontra_http::ProblemDetails)))]
pub async fn forgot_password(
    State(s): State<UsersState>,
    client: ClientInfo,
    ApiJson(b): ApiJson<ForgotPasswordBody>,
) -> Result<StatusCode, ApiError> {
    s.service.forgot_password(&b.email, &client)?;
    Ok(StatusCode::ACCEPTED)
}

/// Choose a new password with the token from the reset mail (single use, 1 hour). Every
/// session of the account ends.
#[utoipa::path(post, path = "/api/v1/auth/reset-password", tag = "accounts", request_body = ResetPasswordBody,
    responses((status = 403, body = spontra_http::ProblemDetails, content_type = "application/problem+json", description = "`invalid_link_token`: invalid, expired or already used"), (status = 422, body = spontra_http::ProblemDetails, content_type = "application/problem+json", description = "`weak_password`"), (status = 204), (status = 400, body = spontra_http::ProblemDetails)))]
pub async fn reset_password(
    State(s): State<UsersState>,
    client: ClientInfo,
    ApiJson(b): ApiJson<ResetPasswordBody>,
) -> Result<StatusCode, ApiError> {
    s.service
        .reset_password(&b.token, &b.new_password, &client)
        .await?;
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
        sections,
    } = s.service.export(&p).await?;
    let body = ExportDto {
        exported_at: s.service.clock().now().to_rfc3339(),
        profile: profile(&user),
        preferences,
        consents: consents.iter().map(consent_dto).collect(),
        sessions: sessions
            .iter()
            .map(|x| session_dto(x, &p.session_id))
            .collect(),
        alerts: section(&sections, "alerts"),
        webhooks: section(&sections, "webhooks"),
        notifications: section(&sections, "notifications"),
    };
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"spontra-export.json\"",
        )],
        Json(body),
    ))
}

/// The named section of an export as a list (empty when no service gave it).
fn section(sections: &[(&'static str, serde_json::Value)], name: &str) -> Vec<serde_json::Value> {
    sections
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, v)| v.as_array().cloned())
        .unwrap_or_default()
}

/// Delete this account: personal data is erased, the record is anonymised. Needs the password,
/// and with two-factor authentication on a code (`code`: `missing_field` without one,
/// `wrong_code` for a wrong one).
#[utoipa::path(delete, path = "/api/v1/me", tag = "privacy", security(("bearer" = [])), request_body = DeleteAccountBody,
    responses((status = 204), (status = 400, body = spontra_http::ProblemDetails),
        (status = 403, body = spontra_http::ProblemDetails, description = "`wrong_password`")))]
pub async fn delete_account(
    State(s): State<UsersState>,
    Auth(p): Auth,
    client: ClientInfo,
    ApiJson(b): ApiJson<DeleteAccountBody>,
) -> Result<Response, ApiError> {
    s.service
        .delete_account(&p, &b.password, b.code.as_deref(), &client)
        .await?;
    Ok(cleared_cookies(&s.cookies))
}

/// Consent decisions (marketing, analytics) and their history.
#[utoipa::path(get, path = "/api/v1/me/consents", tag = "privacy", security(("bearer" = [])), responses((status = 200, body = ConsentsDto)))]
pub async fn consents(
    State(s): State<UsersState>,
    Auth(p): Auth,
) -> Result<Json<ConsentsDto>, ApiError> {
    Ok(Json(consents_dto(&s.service.consents(&p).await?)))
}

/// Record consent decisions; each is kept with its time. A field left out (or null) keeps
/// its decision.
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
    // No decision in the body changes nothing (a PUT of the same document is idempotent).
    let consents = if decisions.is_empty() {
        s.service.consents(&p).await?
    } else {
        s.service.record_consents(&p, &decisions).await?
    };
    Ok(Json(consents_dto(&consents)))
}

/// Find accounts (administrators only).
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])), params(AdminListQuery),
    responses((status = 422, body = spontra_http::ProblemDetails, content_type = "application/problem+json", description = "`invalid_text`: `q` is not one printable line"), (status = 200, body = AdminUserList,
        links(("Account" = (operation_id = "admin_get_user", parameters(("id" = "$response.body#/users/0/id")))),
            ("ChangeAccount" = (operation_id = "admin_update_user", parameters(("id" = "$response.body#/users/0/id")))))),
        (status = 403, body = spontra_http::ProblemDetails)))]
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
    if q.offset > MAX_ADMIN_OFFSET {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "offset",
            format!("give an offset from 0 to {MAX_ADMIN_OFFSET}"),
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
    ApiPath(id): ApiPath<String>,
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
    ApiPath(id): ApiPath<String>,
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

#[derive(Serialize, ToSchema)]
pub struct TwoFactorStatusDto {
    pub enabled: bool,
    pub recovery_codes_left: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    /// The current password, asked again.
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TwoFactorSetupDto {
    /// Base32 secret, for typing into an authenticator app by hand.
    pub secret: String,
    /// `otpauth://totp/…` URI: show it as a QR code.
    pub otpauth_uri: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    /// Six digits from the authenticator app.
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodesDto {
    /// Single-use codes for when the device is lost. Shown only now.
    pub recovery_codes: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableTwoFactorBody {
    pub password: String,
    /// A current code from the app, or a recovery code.
    pub code: String,
}

/// Whether two-factor authentication is on, and how many recovery codes are left.
#[utoipa::path(get, path = "/api/v1/me/2fa", tag = "accounts", security(("bearer" = [])), responses((status = 200, body = TwoFactorStatusDto)))]
pub async fn two_factor_status(
    State(s): State<UsersState>,
    Auth(p): Auth,
) -> Result<Json<TwoFactorStatusDto>, ApiError> {
    let status = s.service.two_factor_status(&p).await?;
    Ok(Json(TwoFactorStatusDto {
        enabled: status.enabled,
        recovery_codes_left: status.recovery_codes_left,
    }))
}

/// Start setting up two-factor authentication (password asked again): a new secret and its
/// `otpauth://` URI. It is on only after `/me/2fa/enable` confirms a code.
#[utoipa::path(post, path = "/api/v1/me/2fa/setup", tag = "accounts", security(("bearer" = [])), request_body = PasswordBody,
    responses((status = 403, body = spontra_http::ProblemDetails, content_type = "application/problem+json", description = "`wrong_password`"), (status = 200, body = TwoFactorSetupDto), (status = 400, body = spontra_http::ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = spontra_http::ProblemDetails, content_type = "application/problem+json")))]
pub async fn two_factor_setup(
    State(s): State<UsersState>,
    Auth(p): Auth,
    client: ClientInfo,
    ApiJson(b): ApiJson<PasswordBody>,
) -> Result<Json<TwoFactorSetupDto>, ApiError> {
    let e = s.service.setup_two_factor(&p, &b.password, &client).await?;
    Ok(Json(TwoFactorSetupDto {
        secret: e.secret,
        otpauth_uri: e.otpauth_uri,
    }))
}

/// Turn two-factor authentication on with a code from the app; returns the recovery codes
/// (shown once). This session counts as having proved the second factor.
#[utoipa::path(post, path = "/api/v1/me/2fa/enable", tag = "accounts", security(("bearer" = [])), request_body = CodeBody,
    responses((status = 403, body = spontra_http::ProblemDetails, content_type = "application/problem+json", description = "`wrong_code`"), (status = 200, body = RecoveryCodesDto), (status = 400, body = spontra_http::ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = spontra_http::ProblemDetails, content_type = "application/problem+json")))]
pub async fn two_factor_enable(
    State(s): State<UsersState>,
    Auth(p): Auth,
    client: ClientInfo,
    ApiJson(b): ApiJson<CodeBody>,
) -> Result<Json<RecoveryCodesDto>, ApiError> {
    let codes = s.service.enable_two_factor(&p, &b.code, &client).await?;
    Ok(Json(RecoveryCodesDto {
        recovery_codes: codes,
    }))
}

/// Turn two-factor authentication off (password and a code asked; not for administrators).
#[utoipa::path(post, path = "/api/v1/me/2fa/disable", tag = "accounts", security(("bearer" = [])), request_body = DisableTwoFactorBody,
    responses((status = 204), (status = 400, body = spontra_http::ProblemDetails, content_type = "application/problem+json"),
        (status = 403, body = spontra_http::ProblemDetails, content_type = "application/problem+json")))]
pub async fn two_factor_disable(
    State(s): State<UsersState>,
    Auth(p): Auth,
    client: ClientInfo,
    ApiJson(b): ApiJson<DisableTwoFactorBody>,
) -> Result<StatusCode, ApiError> {
    s.service
        .disable_two_factor(&p, &b.password, &b.code, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
