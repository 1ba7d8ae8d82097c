//! `/api/v1/sso-settings`: list, get, full-replace put, delete and history of
//! each provider's SAML settings.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use ssoplane_schema::api::{HistoryEntry, PutSsoSettings, SsoSettingsDoc, MANAGED_BY_HEADER};

use super::auth::Authorized;
use super::error::ApiError;
use super::json::{Json, Path, Query};
use super::{body, Access, RouteSpec, Routes};
use crate::settings::{Actor, Precondition};
use crate::state::AppState;
use crate::web::request_id::CorrelationId;

const LIST: RouteSpec = RouteSpec {
    response: (200, Some(body::<Vec<SsoSettingsDoc>>)),
    ..RouteSpec::new(
        "get",
        "/api/v1/sso-settings",
        "listSsoSettings",
        "List every provider's settings with their source",
    )
};
const GET: RouteSpec = RouteSpec {
    response: (200, Some(body::<SsoSettingsDoc>)),
    errors: &[400, 404],
    versioned: true,
    ..RouteSpec::new(
        "get",
        "/api/v1/sso-settings/{provider}",
        "getSsoSettings",
        "Get one provider's settings (secrets masked, with fingerprints)",
    )
};
const PUT: RouteSpec = RouteSpec {
    access: Access::Admin,
    request: Some(body::<PutSsoSettings>),
    response: (200, Some(body::<SsoSettingsDoc>)),
    errors: &[400, 409, 412, 413],
    versioned: true,
    ..RouteSpec::new(
        "put",
        "/api/v1/sso-settings/{provider}",
        "putSsoSettings",
        "Replace one provider's settings (validated; If-Match honoured)",
    )
};
const DELETE: RouteSpec = RouteSpec {
    access: Access::Admin,
    response: (204, None),
    errors: &[400, 404, 409, 412],
    versioned: true,
    ..RouteSpec::new(
        "delete",
        "/api/v1/sso-settings/{provider}",
        "deleteSsoSettings",
        "Remove the API settings; the provider falls back to file/env/defaults",
    )
};
const HISTORY: RouteSpec = RouteSpec {
    response: (200, Some(body::<Vec<HistoryEntry>>)),
    errors: &[400, 404],
    query: &[(
        "limit",
        "Most recent entries to return (1-1000, default 100).",
    )],
    ..RouteSpec::new(
        "get",
        "/api/v1/sso-settings/{provider}/history",
        "getSsoSettingsHistory",
        "Audit trail: who changed what and when (secrets redacted)",
    )
};

pub fn register(r: Routes) -> Routes {
    r.add(LIST, get(list))
        .add(GET, get(get_one))
        .add(PUT, axum::routing::put(put))
        .add(DELETE, axum::routing::delete(delete))
        .add(HISTORY, get(history))
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

fn with_etag(doc: SsoSettingsDoc) -> Response {
    let tag = etag(doc.version);
    let mut resp = axum::Json(doc).into_response();
    resp.headers_mut().insert(header::ETAG, tag);
    resp
}

/// The write's precondition: `If-Match: "3"` (also `3`, `W/"3"`) or
/// `If-Match: *`, or `If-None-Match: *` (create only: refused with 412 when
/// the row exists). Both headers at once, or any other `If-None-Match`, are
/// refused rather than guessed at.
pub fn precondition(headers: &HeaderMap) -> Result<Precondition, ApiError> {
    let text = |name: &header::HeaderName| -> Result<Option<String>, ApiError> {
        headers
            .get(name)
            .map(|v| {
                v.to_str()
                    .map(|t| t.trim().to_owned())
                    .map_err(|_| ApiError::BadRequest(format!("{name} is not ASCII")))
            })
            .transpose()
    };
    match (text(&header::IF_MATCH)?, text(&header::IF_NONE_MATCH)?) {
        (None, None) => Ok(Precondition::None),
        (Some(_), Some(_)) => Err(ApiError::BadRequest(
            "send either If-Match or If-None-Match, not both".into(),
        )),
        (None, Some(t)) if t == "*" => Ok(Precondition::Absent),
        (None, Some(t)) => Err(ApiError::BadRequest(format!(
            "If-None-Match on a write must be *, got {:?}",
            truncate(&t)
        ))),
        (Some(t), None) if t == "*" => Ok(Precondition::Exists),
        (Some(t), None) => t
            .trim_start_matches("W/")
            .trim_matches('"')
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 0)
            .map(Precondition::Version)
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "If-Match must be a version ETag such as \"3\" or *, got {:?}",
                    truncate(&t)
                ))
            }),
    }
}

/// `X-Ssoplane-Managed-By`: which client claims the row (`terraform`);
/// absent means "not managed by a tool", and the stored marker is cleared.
/// 1-32 of `[a-z0-9_-]`, so the console can show it as it is.
pub fn managed_by(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(v) = headers.get(MANAGED_BY_HEADER) else {
        return Ok(String::new());
    };
    match v.to_str().map(str::trim) {
        Ok(t)
            if (1..=32).contains(&t.len())
                && t
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-') =>
        {
            Ok(t.to_owned())
        }
        _ => Err(ApiError::BadRequest(format!(
            "{MANAGED_BY_HEADER} must be 1-32 characters of a-z, 0-9, _ and -, such as \"terraform\""
        ))),
    }
}

fn truncate(t: &str) -> String {
    t.chars().take(64).collect()
}

async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(axum::Json(state.settings.list().await?).into_response())
}

async fn get_one(
    State(state): State<AppState>,
    Path(provider): Path<String>,
) -> Result<Response, ApiError> {
    let (version, json) = state.settings.get_json(&provider).await?;
    let mut resp = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        axum::body::Bytes::from_owner(json),
    )
        .into_response();
    resp.headers_mut().insert(header::ETAG, etag(version));
    Ok(resp)
}

async fn put(
    State(state): State<AppState>,
    Authorized(caller): Authorized,
    cid: CorrelationId,
    Path(provider): Path<String>,
    headers: HeaderMap,
    Json(body): Json<PutSsoSettings>,
) -> Result<Response, ApiError> {
    if let Some(named) = body.provider.as_deref().filter(|p| *p != provider) {
        return Err(ApiError::BadRequest(format!(
            "body names provider {named:?} but the path names {provider:?}"
        )));
    }
    let pre = precondition(&headers)?;
    let managed_by = managed_by(&headers)?;
    let actor = Actor {
        name: &caller.name,
        correlation_id: cid.as_str(),
        managed_by: &managed_by,
    };
    let doc = state
        .settings
        .put(&provider, &body.settings, pre, &actor)
        .await?;
    tracing::info!(
        provider,
        version = doc.version,
        actor = caller.name,
        "sso settings written"
    );
    Ok(with_etag(doc))
}

async fn delete(
    State(state): State<AppState>,
    Authorized(caller): Authorized,
    cid: CorrelationId,
    Path(provider): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pre = precondition(&headers)?;
    if pre == Precondition::Absent {
        return Err(ApiError::BadRequest(
            "If-None-Match: * on DELETE can never hold; use If-Match".into(),
        ));
    }
    state
        .settings
        .delete(
            &provider,
            pre,
            &Actor {
                name: &caller.name,
                correlation_id: cid.as_str(),
                managed_by: "",
            },
        )
        .await?;
    tracing::info!(
        provider,
        actor = caller.name,
        "sso settings deleted; falling back to file/env/defaults"
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    limit: Option<i64>,
}

async fn history(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 1000".into(),
        ));
    }
    Ok(axum::Json(state.settings.history(&provider, limit).await?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(precondition(&h).unwrap(), Precondition::None);
        for (text, want) in [
            ("\"3\"", Precondition::Version(3)),
            ("3", Precondition::Version(3)),
            ("W/\"4\"", Precondition::Version(4)),
            ("*", Precondition::Exists),
        ] {
            h.insert(header::IF_MATCH, HeaderValue::from_static(text));
            assert_eq!(precondition(&h).unwrap(), want);
        }
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"abc\""));
        assert!(precondition(&h).is_err());
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"-1\""));
        assert!(precondition(&h).is_err());
        // both headers, or a non-* If-None-Match, are refused, not guessed at
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"3\""));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(precondition(&h).is_err());
        h.remove(header::IF_MATCH);
        assert_eq!(precondition(&h).unwrap(), Precondition::Absent);
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"3\""));
        assert!(precondition(&h).is_err());
    }

    #[test]
    fn managed_by_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(managed_by(&h).unwrap(), "");
        h.insert(MANAGED_BY_HEADER, HeaderValue::from_static("terraform"));
        assert_eq!(managed_by(&h).unwrap(), "terraform");
        for bad in ["", "Terraform", "a b", "<script>", &"x".repeat(33)] {
            h.insert(MANAGED_BY_HEADER, HeaderValue::from_str(bad).unwrap());
            assert!(managed_by(&h).is_err(), "{bad:?}");
        }
    }
}
