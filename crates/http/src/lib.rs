//! Shared HTTP plumbing for every Spontra service: the error-code table and problem+json
//! responses, extractors whose rejections use that format, pagination cursors, request ids and
//! request tracing.

mod auth;
mod client;
mod cursor;
mod error;
mod extract;
mod telemetry;

pub use auth::{AdminAuth, Auth, Authenticator, Principal};
pub use client::{ClientInfo, TrustForwardedFor};
pub use cursor::Cursor;
pub use error::{ApiError, ErrorCode, FieldError, FieldErrors, ProblemDetails};
pub use extract::{ApiJson, ApiQuery};
pub use telemetry::{with_common_layers, REQUEST_ID_HEADER};
