//! Shared HTTP plumbing for every Spontra service: the error-code table and problem+json
//! responses, extractors whose rejections use that format, pagination cursors, request ids and
//! request tracing.

mod auth;
mod cursor;
mod error;
mod extract;
mod telemetry;

pub use auth::{AdminAuth, Auth, Authenticator, Principal};
pub use cursor::Cursor;
pub use error::{ApiError, ErrorCode, FieldError, FieldErrors, ProblemDetails};
pub use extract::ApiJson;
pub use telemetry::{with_common_layers, REQUEST_ID_HEADER};
