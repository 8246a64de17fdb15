//! Shared HTTP plumbing for every Spontra service: the error-code table and problem+json
//! responses, extractors whose rejections use that format, pagination cursors, request ids and
//! request tracing.

mod auth;
mod client;
mod cursor;
mod error;
mod extract;
mod limits;
pub mod metrics;
pub mod openapi;
mod pool;
mod price;
mod telemetry;
pub mod vocabulary;
pub mod whole;

pub use auth::{AdminAuth, Auth, Authenticator, Principal};
pub use client::{ClientInfo, TrustForwardedFor};
pub use cursor::{Cursor, Position};
pub use error::{
    status, ApiError, Coded, ErrorCode, FieldError, FieldProblem, Invalid, Kind, ProblemDetails,
};
pub use extract::{ApiJson, ApiPath, ApiQuery};
pub use limits::{with_deadlines, Deadlines};
pub use openapi::complete_error_responses;
pub use pool::{cores, Cancel, PoolError, PoolSize, WorkPool};
pub use price::{Display, Price};
pub use telemetry::{with_common_layers, REQUEST_ID_HEADER};
