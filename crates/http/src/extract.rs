use crate::{ApiError, ErrorCode};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// Largest JSON body accepted.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// Like `axum::Json`, but every rejection is a problem+json error naming the field at fault
/// (via `serde_path_to_error`).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
        if !json {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("the body must be at most {MAX_JSON_BYTES} bytes"),
            )
        })?;
        if bytes.len() > MAX_JSON_BYTES {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("the body must be at most {MAX_JSON_BYTES} bytes"),
            ));
        }
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(de) {
            Ok(v) => Ok(ApiJson(v)),
            Err(e) => {
                let path = e.path().to_string();
                let message = e.inner().to_string();
                if path.is_empty() || path == "." {
                    Err(ApiError::new(ErrorCode::MalformedJson, message))
                } else {
                    Err(ApiError::field(ErrorCode::MalformedJson, path, message))
                }
            }
        }
    }
}

/// Like `axum::extract::Query`, with problem+json rejections naming the parameter at fault.
/// Use `#[serde(deny_unknown_fields)]` on `T` so a misspelt parameter is an error, not ignored.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                let message = e.inner().to_string();
                if path.is_empty() || path == "." {
                    ApiError::new(ErrorCode::MalformedQuery, message)
                } else {
                    ApiError::field(ErrorCode::MalformedQuery, path, message)
                }
            })
    }
}
