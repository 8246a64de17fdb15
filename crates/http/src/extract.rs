use crate::{ApiError, ErrorCode};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;
use std::time::{Duration, Instant};

/// Largest JSON body accepted.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// Request extension: the body must have arrived by this instant (set by
/// [`crate::deadlines`] when the request starts). Without it, bodies get
/// [`DEFAULT_BODY_TIMEOUT`] from the moment they are read.
#[derive(Clone, Copy, Debug)]
pub struct BodyDeadline(pub Instant);

pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(15);

/// Is the body declared as JSON? The media type is parsed: `application/json` or
/// `application/<anything>+json`, with parameters allowed (a `charset` must be UTF-8).
/// Anything else — `text/plain; charset=+json`, `application/jsonfoo`, a form — is not, so a
/// web page elsewhere cannot send JSON to the API without a CORS preflight.
pub fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Ok(media) = value.parse::<mime::Mime>() else {
        return false;
    };
    let json = media.type_() == mime::APPLICATION
        && (media.subtype() == mime::JSON || media.suffix() == Some(mime::JSON));
    let utf8 = media
        .get_param(mime::CHARSET)
        .is_none_or(|c| c == mime::UTF_8);
    json && utf8
}

/// Like `axum::Json`, but every rejection is a problem+json error naming the field at fault
/// (via `serde_path_to_error`).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as application/json",
            ));
        }
        let deadline = req
            .extensions()
            .get::<BodyDeadline>()
            .map_or_else(|| Instant::now() + DEFAULT_BODY_TIMEOUT, |d| d.0);
        let read = tokio::time::timeout_at(deadline.into(), Bytes::from_request(req, state));
        let bytes = read
            .await
            .map_err(|_| {
                ApiError::new(
                    ErrorCode::RequestTimeout,
                    "the request body did not arrive in time",
                )
            })?
            .map_err(|_| {
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
        // Every body of this API is a JSON object; serde would also read a struct from an
        // array of its fields in order (`[true, false]`), which the document does not allow.
        if bytes.trim_ascii_start().first() != Some(&b'{') {
            return Err(ApiError::new(
                ErrorCode::MalformedJson,
                "the body must be a JSON object",
            ));
        }
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(&mut *de) {
            // One JSON value and nothing after it but whitespace (`{…} garbage` and
            // `{…}{…}` are not a body this API reads).
            Ok(v) => match de.end() {
                Ok(()) => Ok(ApiJson(v)),
                Err(e) => Err(ApiError::new(
                    ErrorCode::MalformedJson,
                    format!("the body must be one JSON object with nothing after it: {e}"),
                )),
            },
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

/// Like `axum::extract::Path`, with problem+json rejections (`%ff` in a segment is not UTF-8:
/// axum's own rejection is plain text).
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|e| ApiError::new(ErrorCode::MalformedPath, e.body_text()))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn with_type(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, value.parse().unwrap());
        h
    }

    #[test]
    fn only_json_media_types_are_json() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON;charset=UTF-8",
            "application/merge-patch+json",
            "application/problem+json",
        ] {
            assert!(is_json(&with_type(ok)), "{ok}");
        }
        for refused in [
            "text/plain; charset=+json",
            "application/jsonfoo",
            "application/json-seq",
            "text/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=+json",
            "application/json; charset=latin1",
            "application/x+jsonx",
            "",
            "json",
        ] {
            assert!(!is_json(&with_type(refused)), "{refused}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }
}
