//! `/api/v1/sso-settings`: list, get, full-replace put, delete and history of
//! each provider's SAML settings.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use serde::Deserialize;
use ssoplane_schema::api::{PutSsoSettings, SsoSettingsDoc};

use super::auth::{Admin, Reader};
use super::error::ApiError;
use super::json::{Json, Path, Query};
use super::request_id::RequestId;
use super::{Access, AppState, RouteSpec, Routes};
use crate::settings::{Actor, Precondition};

const LIST: RouteSpec = RouteSpec {
    response: (200, Some("SsoSettingsList")),
    errors: &[401],
    ..RouteSpec::new(
        "get",
        "/api/v1/sso-settings",
        "listSsoSettings",
        "List every provider's settings with their source",
    )
};
const GET: RouteSpec = RouteSpec {
    response: (200, Some("SsoSettings")),
    errors: &[400, 401, 404],
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
    request: Some("PutSsoSettings"),
    response: (200, Some("SsoSettings")),
    errors: &[400, 401, 403, 409, 412, 413],
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
    errors: &[400, 401, 403, 404, 409, 412],
    versioned: true,
    ..RouteSpec::new(
        "delete",
        "/api/v1/sso-settings/{provider}",
        "deleteSsoSettings",
        "Remove the API settings; the provider falls back to file/env/defaults",
    )
};
const HISTORY: RouteSpec = RouteSpec {
    response: (200, Some("HistoryList")),
    errors: &[400, 401, 404],
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

/// `If-Match: "3"`, `If-Match: 3`, `If-Match: W/"3"` or `If-Match: *`.
pub fn precondition(headers: &HeaderMap) -> Result<Precondition, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(Precondition::None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::BadRequest("If-Match is not ASCII".into()))?
        .trim();
    if text == "*" {
        return Ok(Precondition::Exists);
    }
    let unquoted = text.trim_start_matches("W/").trim_matches('"');
    unquoted
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .map(Precondition::Version)
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "If-Match must be a version ETag such as \"3\" or *, got {text:?}"
            ))
        })
}

async fn list(State(state): State<AppState>, _: Reader) -> Result<Response, ApiError> {
    Ok(axum::Json(state.settings.list().await?).into_response())
}

async fn get_one(
    State(state): State<AppState>,
    _: Reader,
    Path(provider): Path<String>,
) -> Result<Response, ApiError> {
    Ok(with_etag(state.settings.get(&provider).await?))
}

async fn put(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Extension(cid): Extension<RequestId>,
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
    let actor = Actor {
        name: &caller.name,
        correlation_id: &cid.0,
    };
    let doc = state
        .settings
        .put(&provider, &body.settings, pre, &actor)
        .await?;
    tracing::info!(correlation_id = %cid.0, provider, version = doc.version, actor = caller.name, "sso settings written");
    Ok(with_etag(doc))
}

async fn delete(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Extension(cid): Extension<RequestId>,
    Path(provider): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pre = precondition(&headers)?;
    state
        .settings
        .delete(
            &provider,
            pre,
            &Actor {
                name: &caller.name,
                correlation_id: &cid.0,
            },
        )
        .await?;
    tracing::info!(correlation_id = %cid.0, provider, actor = caller.name, "sso settings deleted; falling back to file/env/defaults");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    limit: Option<i64>,
}

async fn history(
    State(state): State<AppState>,
    _: Reader,
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
    }
}
