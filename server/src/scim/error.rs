//! SCIM errors (RFC 7644 §3.12): `{"schemas": [Error], "status", "scimType",
//! "detail"}` as `application/scim+json`, the detail precise and never
//! echoing stored data or server-side causes (those are logged with the
//! correlation id). Errors produced outside the SCIM handlers (body limit,
//! timeout) are rewritten into this shape for `/scim/` paths.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const CONTENT_TYPE: &str = "application/scim+json";

/// RFC 7644 table 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    InvalidFilter,
    TooMany,
    Uniqueness,
    Mutability,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
    InvalidVers,
}

impl ScimType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{detail}")]
pub struct ScimError {
    pub status: StatusCode,
    pub scim_type: Option<ScimType>,
    pub detail: String,
    /// Logged, never sent.
    pub cause: Option<String>,
}

impl ScimError {
    pub fn new(status: StatusCode, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
            cause: None,
        }
    }

    /// 400 with a scimType.
    pub fn bad(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, detail)
    }

    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, Some(ScimType::Uniqueness), detail)
    }

    pub fn precondition(current: i64) -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            None,
            format!(
                "the resource is at version W/\"{current}\", not the one If-Match names; read it again and retry"
            ),
        )
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
            format!("the request body is larger than {limit} bytes"),
        )
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            None,
            "a scim bearer token is required (Authorization: Bearer <token>)",
        )
    }

    pub fn bad_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            None,
            "the token is unknown or revoked",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, None, detail)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            None,
            "this method is not supported on this endpoint",
        )
    }

    pub fn not_implemented(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_IMPLEMENTED, None, detail)
    }

    pub fn unavailable(cause: impl Into<String>) -> Self {
        ScimError {
            cause: Some(cause.into()),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "the service is not ready",
            )
        }
    }

    pub fn internal(cause: impl Into<String>) -> Self {
        ScimError {
            cause: Some(cause.into()),
            ..Self::new(StatusCode::INTERNAL_SERVER_ERROR, None, "internal error")
        }
    }
}

impl From<StoreError> for ScimError {
    fn from(e: StoreError) -> Self {
        ScimError::internal(e.to_string())
    }
}

/// Carried on the response for the logging middleware ([`super::log_errors`]).
#[derive(Debug, Clone)]
pub struct Logged(pub ScimError);

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t.as_str());
        }
        let mut resp = (self.status, body.to_string()).into_response();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if self.status == StatusCode::UNAUTHORIZED {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ssoplane-scim\""),
            );
        }
        resp.extensions_mut().insert(Logged(self));
        resp
    }
}

/// Rewrites an error response a layer outside the SCIM handlers produced
/// (body limit, timeout, no such route) into a SCIM error; SCIM bodies and
/// successes pass unchanged.
pub fn rewrite_foreign(resp: Response, body_limit: usize) -> Response {
    let status = resp.status();
    let is_scim = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == CONTENT_TYPE.as_bytes());
    if is_scim || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let e = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ScimError::too_large(body_limit),
        StatusCode::NOT_FOUND => ScimError::not_found("no such SCIM endpoint"),
        StatusCode::METHOD_NOT_ALLOWED => ScimError::method_not_allowed(),
        StatusCode::SERVICE_UNAVAILABLE => ScimError::unavailable("request timed out"),
        s => ScimError::new(s, None, s.canonical_reason().unwrap_or("error")),
    };
    e.into_response()
}

/// The last step of every `/scim/` response: errors from outside the SCIM
/// handlers rewritten as SCIM errors, and every error logged (inside the
/// request's span, with its correlation id; server-side causes only in the
/// log).
pub fn finish(resp: Response) -> Response {
    let mut resp = rewrite_foreign(resp, super::BODY_LIMIT);
    if let Some(Logged(e)) = resp.extensions_mut().remove::<Logged>() {
        let status = e.status.as_u16();
        let scim_type = e.scim_type.map(ScimType::as_str).unwrap_or("");
        if e.status.is_server_error() {
            tracing::error!(
                status,
                cause = e.cause.as_deref().unwrap_or(""),
                "scim request failed"
            );
        } else {
            tracing::warn!(status, scim_type, detail = e.detail, "scim request refused");
        }
    }
    resp
}
