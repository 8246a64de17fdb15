//! The users service: registration, login (throttled), refresh-token rotation with reuse
//! detection, logout (one session or all), email verification, forgotten-password reset,
//! profile, preferences, sessions, privacy (export, deletion, consents) and administration;
//! password policy and argon2id hashing; JWT access tokens signed with a rotating key ring.

pub mod admin;
pub mod cookies;
pub mod error;
pub mod password;
pub mod policy;
pub mod preferences;
pub mod privacy;
pub mod recovery;
pub mod routes;
pub mod service;
pub mod throttle;
pub mod tokens;
pub mod two_factor;

pub use cookies::CookiePolicy;
pub use error::AccountError;
pub use policy::AccountPolicy;
pub use routes::{router, UsersState};
pub use service::{Outgoing, UsersService};

use spontra_http::openapi::BearerScheme;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    paths(routes::register, routes::login, routes::login_second_factor, routes::refresh, routes::logout, routes::logout_all, routes::me, routes::update_profile, routes::change_password, routes::preferences, routes::set_preferences, routes::sessions, routes::revoke_session,
        routes::verify_email, routes::resend_verification, routes::forgot_password, routes::reset_password,
        routes::export, routes::delete_account, routes::consents, routes::set_consents,
        routes::admin_list_users, routes::admin_get_user, routes::admin_update_user,
        routes::two_factor_status, routes::two_factor_setup, routes::two_factor_enable, routes::two_factor_disable),
    components(schemas(routes::RegisterBody, routes::LoginBody, routes::RefreshBody, routes::TokenResponse, routes::ProfileDto, routes::RegistrationAccepted, routes::SessionDto, routes::PasswordChangeBody, routes::ProfileUpdateBody, preferences::Preferences, preferences::TripHours, preferences::Notifications,
        routes::TokenBody, routes::ForgotPasswordBody, routes::ResetPasswordBody, routes::DeleteAccountBody, routes::ConsentDto, routes::ConsentsDto, routes::ConsentsBody, routes::ExportDto,
        routes::AdminUserDto, routes::AdminUserList, routes::AdminUpdateBody,
        routes::SecondFactorBody, routes::SecondFactorChallenge, routes::TwoFactorStatusDto, routes::PasswordBody, routes::TwoFactorSetupDto,
        routes::CodeBody, routes::RecoveryCodesDto, routes::DisableTwoFactorBody, routes::RoleName,
        spontra_http::vocabulary::CabinName)),
    modifiers(&BearerScheme),
    tags((name = "accounts", description = "Accounts, sign-in, email links and sessions"),
        (name = "privacy", description = "Data export, account deletion, consents"),
        (name = "admin", description = "Account administration (administrators only)"))
)]
pub struct UsersApi;
