//! The users service, in progress (issue #3): registration, login, refresh-token rotation
//! with reuse detection, logout (one session or all), the profile and session list; password
//! policy and argon2id hashing; JWT access tokens signed with a rotating key ring.
//! Verification and reset emails, preferences, privacy, admin routes and login throttling
//! follow.

pub mod password;
pub mod preferences;
pub mod routes;
pub mod service;
pub mod tokens;

pub use routes::{router, UsersState};
pub use service::UsersService;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(routes::register, routes::login, routes::refresh, routes::logout, routes::logout_all, routes::me, routes::update_profile, routes::change_password, routes::preferences, routes::set_preferences, routes::sessions, routes::revoke_session),
    components(schemas(routes::RegisterBody, routes::LoginBody, routes::RefreshBody, routes::TokenResponse, routes::ProfileDto, routes::SessionDto, routes::PasswordChangeBody, routes::ProfileUpdateBody, preferences::Preferences, preferences::TripHours, preferences::Notifications)),
    modifiers(&BearerScheme),
    tags((name = "accounts", description = "Accounts, sign-in and sessions"))
)]
pub struct UsersApi;
