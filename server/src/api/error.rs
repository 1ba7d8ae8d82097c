//! API errors: one type for every failure a handler can return, rendered as
//! `{"error", "message", "errors", "correlation_id"}` and logged inside the
//! request's span, which carries the same correlation id. Server-side causes
//! are logged, never sent to the client.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ssoplane_schema::api::ErrorBody;
use ssoplane_schema::FieldError;

use crate::settings::SettingsError;
use crate::web::request_id::CorrelationId;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    #[error("a bearer token is required (Authorization: Bearer <token>)")]
    Unauthenticated,
    #[error("the token is unknown or revoked")]
    BadToken,
    #[error("no valid session: sign in first")]
    NoSession,
    #[error("this token has the reader role; writing needs an admin token")]
    Forbidden,
    #[error("this token has the scim role, which reaches /scim/v2 only")]
    ScimOnly,
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed on this endpoint")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    #[error("precondition failed: the resource is at version {current}; re-read it and retry with If-Match: \"{current}\"")]
    PreconditionFailed { current: i64 },
    #[error("precondition failed: it already exists (version {current}) and If-None-Match: * only creates; read it and update it with If-Match: \"{current}\" instead")]
    AlreadyExists { current: i64 },
    #[error("request body too large")]
    TooLarge,
    #[error("the service is not ready: {0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated | ApiError::BadToken | ApiError::NoSession => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::Forbidden | ApiError::ScimOnly => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed { .. } | ApiError::AlreadyExists { .. } => {
                StatusCode::PRECONDITION_FAILED
            }
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid(_) => "invalid",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthenticated | ApiError::NoSession => "unauthenticated",
            ApiError::BadToken => "bad_token",
            ApiError::Forbidden | ApiError::ScimOnly => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::PreconditionFailed { .. } => "precondition_failed",
            ApiError::AlreadyExists { .. } => "already_exists",
            ApiError::TooLarge => "too_large",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }
}

/// Carried from `into_response` to the rendering middleware, which knows the correlation id.
#[derive(Clone)]
struct Rendered {
    body: ErrorBody,
    /// Logged, never sent.
    detail: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let code = self.code().to_owned();
        // A session cookie is no bearer token: no Bearer challenge for it.
        let bearer = status == StatusCode::UNAUTHORIZED && !matches!(self, ApiError::NoSession);
        let message = match &self {
            ApiError::Invalid(errors) => format!(
                "{} invalid field{}: {}",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" },
                errors
                    .iter()
                    .map(|e| e.field.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ApiError::Unavailable(_) => "the service is not ready".to_owned(),
            other => other.to_string(),
        };
        let (errors, detail) = match self {
            ApiError::Invalid(errors) => (errors, None),
            ApiError::Internal(d) | ApiError::Unavailable(d) => (Vec::new(), Some(d)),
            _ => (Vec::new(), None),
        };
        let body = ErrorBody {
            error: code,
            message,
            errors,
            correlation_id: String::new(),
        };
        let mut resp = status.into_response();
        if bearer {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ssoplane\""),
            );
        }
        resp.extensions_mut().insert(Rendered { body, detail });
        resp
    }
}

impl From<SettingsError> for ApiError {
    fn from(e: SettingsError) -> Self {
        match e {
            SettingsError::Invalid(errors) => ApiError::Invalid(errors),
            SettingsError::BadProvider(e) => ApiError::BadRequest(e.to_string()),
            SettingsError::NotFound(_) => ApiError::NotFound(e.to_string()),
            SettingsError::NothingToDelete(_) => ApiError::Conflict(e.to_string()),
            SettingsError::VersionMismatch { current } => ApiError::PreconditionFailed { current },
            SettingsError::AlreadyExists { current } => ApiError::AlreadyExists { current },
            SettingsError::Contended(_) => ApiError::Conflict(e.to_string()),
            SettingsError::Store(_)
            | SettingsError::Secret(_)
            | SettingsError::Corrupt(_)
            | SettingsError::WriterStopped => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::BytesRejection(_) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::TooLarge
            }
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

fn rendered(e: ApiError) -> Rendered {
    let mut resp = e.into_response();
    resp.extensions_mut()
        .remove::<Rendered>()
        .unwrap_or_else(|| Rendered {
            body: ErrorBody {
                error: "internal".into(),
                message: "internal error".into(),
                errors: Vec::new(),
                correlation_id: String::new(),
            },
            detail: None,
        })
}

/// Renders `ApiError`s with the request's correlation id (from the response,
/// where `PropagateRequestIdLayer` put it) and logs them.
pub async fn render(req: Request, next: Next) -> Response {
    let scim = crate::scim::is_scim_path(req.uri().path());
    let mut resp = next.run(req).await;
    if scim {
        return crate::scim::error::finish(resp);
    }
    let Rendered { mut body, detail } = match resp.extensions_mut().remove::<Rendered>() {
        Some(r) => r,
        // An error produced by a tower layer (body limit, timeout) rather than a handler.
        None if resp.status() == StatusCode::PAYLOAD_TOO_LARGE => rendered(ApiError::TooLarge),
        None if resp.status() == StatusCode::SERVICE_UNAVAILABLE => {
            rendered(ApiError::Unavailable("request timed out".into()))
        }
        None => return resp,
    };
    body.correlation_id = CorrelationId::of(resp.extensions()).as_str().to_owned();
    let status = resp.status();
    let fields: Vec<&str> = body.errors.iter().map(|e| e.field.as_str()).collect();
    if status.is_server_error() {
        tracing::error!(
            status = status.as_u16(),
            code = body.error,
            detail = detail.as_deref().unwrap_or(""),
            "request failed"
        );
    } else {
        tracing::warn!(status = status.as_u16(), code = body.error, fields = ?fields, message = body.message, "request refused");
    }
    let json = serde_json::to_vec(&body).unwrap_or_default();
    let mut out = (status, json).into_response();
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (name, value) in resp.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}
