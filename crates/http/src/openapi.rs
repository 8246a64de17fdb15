//! The error half of the OpenAPI document, completed in one place for every route.
//!
//! Handlers declare their own successes and the errors particular to them; what the shared
//! plumbing can answer on any route is added here, from what the operation is: every error is
//! `application/problem+json` (never `application/json`); an operation with a body can answer
//! 400, 408, 413 and 415; one with query parameters 400; a signed-in one 401 and 403 (a
//! disabled account, an administrator without the second factor); one with path parameters
//! 404; the account routes 429 with `Retry-After`; and any route 503 `overloaded` with
//! `Retry-After`, which is how load is shed.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

const PROBLEM: &str = "application/problem+json";

fn retry_after() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::Integer)
                .minimum(Some(1)),
        )
        .description(Some("Seconds to wait before trying again"))
        .build()
}

fn problem_content() -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ProblemDetails")))
        .build()
}

/// Add `status` unless the operation already declares it.
fn ensure(op: &mut Operation, status: &str, description: &str) {
    if op.responses.responses.contains_key(status) {
        return;
    }
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(PROBLEM, problem_content());
    if status == "429" || status == "503" {
        response = response.header("Retry-After", retry_after());
    }
    op.responses
        .responses
        .insert(status.to_string(), RefOr::T(response.build()));
}

/// Complete every operation of `doc` (see the module documentation).
pub fn complete_error_responses(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let account_route = path.starts_with("/api/v1/auth") || path.starts_with("/api/v1/me");
        let admin_route = path.starts_with("/api/v1/admin");
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let params = op.parameters.as_deref().unwrap_or_default();
            let in_query = params
                .iter()
                .any(|p| matches!(p.parameter_in, ParameterIn::Query));
            let in_path = params
                .iter()
                .any(|p| matches!(p.parameter_in, ParameterIn::Path));
            let signed_in = op.security.as_ref().is_some_and(|s| !s.is_empty());
            // Errors are problem+json, whatever a handler's annotation said.
            for (status, response) in op.responses.responses.iter_mut() {
                if let (true, RefOr::T(r)) =
                    (status.starts_with('4') || status.starts_with('5'), response)
                {
                    let schema = r.content.values().next().and_then(|c| c.schema.clone());
                    r.content.clear();
                    let mut content = problem_content();
                    if schema.is_some() {
                        content.schema = schema;
                    }
                    r.content.insert(PROBLEM.to_string(), content);
                    if (status == "429" || status == "503")
                        && !r.headers.contains_key("Retry-After")
                    {
                        r.headers.insert("Retry-After".into(), retry_after());
                    }
                }
            }
            if op.request_body.is_some() {
                ensure(
                    op,
                    "400",
                    "The body is malformed or a field is invalid (`errors` names it)",
                );
                ensure(
                    op,
                    "408",
                    "`request_timeout`: the body did not arrive in time",
                );
                ensure(op, "413", "`payload_too_large`: bodies are at most 64 KiB");
                ensure(op, "415", "`unsupported_media_type`: send application/json");
            }
            if in_query {
                ensure(
                    op,
                    "400",
                    "A query parameter is malformed or invalid (`errors` names it)",
                );
            }
            if signed_in {
                ensure(
                    op,
                    "401",
                    "`unauthorized`: no valid access token, or the session ended",
                );
                ensure(
                    op,
                    "403",
                    "`account_disabled`, `forbidden` or `two_factor_required`",
                );
            }
            if admin_route {
                ensure(
                    op,
                    "403",
                    "`forbidden` (not an administrator) or `two_factor_required`",
                );
            }
            if in_path {
                ensure(op, "404", "`not_found`");
            }
            if account_route {
                ensure(op, "429", "`too_many_attempts`: wait `Retry-After` seconds");
            }
            ensure(
                op,
                "503",
                "`overloaded`: shedding load; retry after `Retry-After` seconds",
            );
        }
    }
}

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::Modify;

/// Declares the `bearer` security scheme (a JWT access token) that signed-in routes name.
pub struct BearerScheme;

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
