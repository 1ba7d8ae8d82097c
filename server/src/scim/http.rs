//! The HTTP side of `/scim/v2`: thin handlers that read the body (bounded,
//! JSON or SCIM JSON), headers (`If-Match`, `If-None-Match`) and query,
//! call the user or group service and answer `application/scim+json` with
//! `ETag` and `Location`.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::auth::ScimClient;
use super::ctx::{Ctx, IfMatch};
use super::error::{ScimError, ScimType, CONTENT_TYPE};
use super::list::{self, ListQuery, Projection};
use super::resource::etag;
use super::schema::{GROUPS, USERS};
use super::{discovery, groups, users, BODY_LIMIT};
use crate::state::AppState;
use crate::web::request_id::CorrelationId;

type Result<T> = std::result::Result<T, ScimError>;

fn base(state: &AppState) -> String {
    format!(
        "{}{}",
        state.settings.root_url().trim_end_matches('/'),
        super::PREFIX
    )
}

fn scim(status: StatusCode, body: &Value, version: Option<i64>) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Some(v) = version {
        if let Ok(tag) = HeaderValue::from_str(&etag(v)) {
            h.insert(header::ETAG, tag);
        }
    }
    if status == StatusCode::CREATED {
        if let Some(loc) = body
            .pointer("/meta/location")
            .and_then(Value::as_str)
            .and_then(|l| HeaderValue::from_str(l).ok())
        {
            h.insert(header::LOCATION, loc);
        }
    }
    resp
}

/// The request body as JSON: `application/scim+json` or `application/json`,
/// at most [`BODY_LIMIT`] bytes.
async fn json_body(headers: &HeaderMap, body: Body) -> Result<Value> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case(CONTENT_TYPE) && !mime.eq_ignore_ascii_case("application/json") {
        return Err(ScimError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
            "the body must be application/scim+json (or application/json)",
        ));
    }
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| ScimError::too_large(BODY_LIMIT))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ScimError::bad(
            ScimType::InvalidSyntax,
            format!("the body is not valid JSON: {e}"),
        )
    })
}

fn if_match(headers: &HeaderMap) -> Result<Option<IfMatch>> {
    let h = match headers.get(header::IF_MATCH) {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| {
            ScimError::bad(
                ScimType::InvalidValue,
                "If-Match must be * or ETags such as W/\"3\"",
            )
        })?),
    };
    IfMatch::parse(h)
}

/// `If-None-Match` on a GET: 304 when the client holds this version.
fn not_modified(headers: &HeaderMap, version: i64) -> Option<Response> {
    let h = headers.get(header::IF_NONE_MATCH)?.to_str().ok()?;
    let held = match IfMatch::parse(Some(h)).ok()?? {
        IfMatch::Any => true,
        IfMatch::Versions(v) => v.contains(&version),
    };
    held.then(|| {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(tag) = HeaderValue::from_str(&etag(version)) {
            r.headers_mut().insert(header::ETAG, tag);
        }
        r
    })
}

fn projection_of(kind: &super::schema::Kind, query: Option<&str>) -> Result<Projection> {
    let mut attributes = String::new();
    let mut excluded = String::new();
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "attributes" => attributes = v.into_owned(),
            "excludedAttributes" => excluded = v.into_owned(),
            other => {
                return Err(ScimError::bad(
                    ScimType::InvalidValue,
                    format!(
                        "unknown query parameter {:?} (attributes, excludedAttributes)",
                        other.chars().take(40).collect::<String>()
                    ),
                ))
            }
        }
    }
    let a: Vec<&str> = attributes.split(',').collect();
    let e: Vec<&str> = excluded.split(',').collect();
    Projection::parse(kind, &a, &e)
}

macro_rules! ctx {
    ($state:expr, $client:expr, $cid:expr, $base:ident) => {
        Ctx {
            store: &$state.store,
            client: &$client,
            correlation_id: $cid.as_str(),
            base: &$base,
        }
    };
}

pub async fn service_provider_config(State(state): State<AppState>, _: ScimClient) -> Response {
    scim(
        StatusCode::OK,
        &discovery::service_provider_config(&base(&state)),
        None,
    )
}

pub async fn resource_types(State(state): State<AppState>, _: ScimClient) -> Response {
    scim(
        StatusCode::OK,
        &discovery::list(discovery::resource_types(&base(&state))),
        None,
    )
}

pub async fn resource_type(
    State(state): State<AppState>,
    _: ScimClient,
    Path(id): Path<String>,
) -> Result<Response> {
    discovery::resource_type(&base(&state), &id)
        .map(|d| scim(StatusCode::OK, &d, None))
        .ok_or_else(|| ScimError::not_found("no such resource type (User, Group)"))
}

pub async fn schemas(State(state): State<AppState>, _: ScimClient) -> Response {
    scim(
        StatusCode::OK,
        &discovery::list(discovery::schemas(&base(&state))),
        None,
    )
}

pub async fn schema(
    State(state): State<AppState>,
    _: ScimClient,
    Path(id): Path<String>,
) -> Result<Response> {
    discovery::schema(&base(&state), &id)
        .map(|d| scim(StatusCode::OK, &d, None))
        .ok_or_else(|| ScimError::not_found("no such schema"))
}

pub async fn users_list(
    State(state): State<AppState>,
    client: ScimClient,
    cid: CorrelationId,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let q = ListQuery::from_query(&USERS, query.as_deref())?;
    user_page(&state, &client, &cid, &q).await
}

pub async fn users_search(
    State(state): State<AppState>,
    client: ScimClient,
    cid: CorrelationId,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let q = ListQuery::from_search(&USERS, &json_body(&headers, body).await?)?;
    user_page(&state, &client, &cid, &q).await
}

async fn user_page(
    state: &AppState,
    client: &ScimClient,
    cid: &CorrelationId,
    q: &ListQuery,
) -> Result<Response> {
    let base = base(state);
    let ctx = ctx!(state, client, cid, base);
    let (total, found) = users::list(&ctx, q).await?;
    let mut resources = Vec::with_capacity(found.len());
    for f in &found {
        let mut v = f.render(&base)?;
        q.projection.apply(&mut v);
        resources.push(v);
    }
    Ok(scim(
        StatusCode::OK,
        &list::response(total, q.start_index, resources),
        None,
    ))
}

pub async fn users_create(
    State(state): State<AppState>,
    client: ScimClient,
    cid: CorrelationId,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let projection = projection_of(&USERS, query.as_deref())?;
    let body = json_body(&headers, body).await?;
    let base = base(&state);
    let found = users::create(&ctx!(state, client, cid, base), &body).await?;
    user_response(StatusCode::CREATED, &found, &base, &projection)
}

fn user_response(
    status: StatusCode,
    found: &users::Found,
    base: &str,
    projection: &Projection,
) -> Result<Response> {
    let mut v = found.render(base)?;
    projection.apply(&mut v);
    Ok(scim(status, &v, Some(found.row.version)))
}

pub async fn user_get(
    State(state): State<AppState>,
    client: ScimClient,
    cid: CorrelationId,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let projection = projection_of(&USERS, query.as_deref())?;
    let base = base(&state);
    let found = users::get(&ctx!(state, client, cid, base), &id).await?;
    if let Some(r) = not_modified(&headers, found.row.version) {
        return Ok(r);
    }
    user_response(StatusCode::OK, &found, &base, &projection)
}

pub async fn user_put(
    State(state): State<AppState>,
    client: ScimClient,
    cid: CorrelationId,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let projection = projection_of(&USERS, query.as_deref())?;
    let pre = if_match(&headers)?;
    let body = json_body(&headers, body).await?;
    let base = base(&state);
    let found = users::replace(&ctx!(state, client, cid, base), &id, &body, &pre).await?;
    user_response(StatusCode::OK, &found, &base, &projection)
}

pub async fn user_patch(
    State(state): State<AppState>,
    client: ScimClient,
    cid: CorrelationId,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let projection = projection_of(&USERS, query.as_deref())?;
    let pre = if_match(&headers)?;
    let body = json_body(&headers, body).await?;
    let base = base(&state);
    let found = users::patch(&ctx!(state, client, cid, base), &id, &body, &pre).await?;
    user_response(StatusCode::OK, &found, &base, &projection)
}

pub async fn user_delete(
    State(state): State<AppState>,
    client: ScimClient,
    cid: CorrelationId,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let pre = if_match(&headers)?;
    let base = base(&state);
    users::delete(&ctx!(state, client, cid, base), &id, &pre).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn groups_list(
    State(state): State<AppState>,
    client: ScimClient,
    cid: CorrelationId,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let q = ListQuery::from_query(&GROUPS, query.as_deref())?;
    group_page(&state, &client, &cid, &q).await
}

pub async fn groups_search(
    State(state): State<AppState>,
    client: ScimClient,
    cid: CorrelationId,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let q = ListQuery::from_search(&GROUPS, &json_body(&headers, body).await?)?;
    group_page(&state, &client, &cid, &q).await
}

async fn group_page(
    state: &AppState,
    client: &ScimClient,
    cid: &CorrelationId,
    q: &ListQuery,
) -> Result<Response> {
    let base = base(state);
    let ctx = ctx!(state, client, cid, base);
    let (total, found) = groups::list(&ctx, q).await?;
    let resources = found
        .iter()
        .map(|f| {
            let mut v = f.render(&base);
            q.projection.apply(&mut v);
            v
        })
        .collect();
    Ok(scim(
        StatusCode::OK,
        &list::response(total, q.start_index, resources),
        None,
    ))
}

fn group_response(
    status: StatusCode,
    found: &groups::Found,
    base: &str,
    projection: &Projection,
) -> Response {
    let mut v = found.render(base);
    projection.apply(&mut v);
    scim(status, &v, Some(found.row.version))
}

pub async fn groups_create(
    State(state): State<AppState>,
    client: ScimClient,
    cid: CorrelationId,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let projection = projection_of(&GROUPS, query.as_deref())?;
    let body = json_body(&headers, body).await?;
    let base = base(&state);
    let found = groups::create(&ctx!(state, client, cid, base), &body).await?;
    Ok(group_response(
        StatusCode::CREATED,
        &found,
        &base,
        &projection,
    ))
}

pub async fn group_get(
    State(state): State<AppState>,
    client: ScimClient,
    cid: CorrelationId,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let projection = projection_of(&GROUPS, query.as_deref())?;
    let base = base(&state);
    let found = groups::get(
        &ctx!(state, client, cid, base),
        &id,
        projection.wants("members"),
    )
    .await?;
    if let Some(r) = not_modified(&headers, found.row.version) {
        return Ok(r);
    }
    Ok(group_response(StatusCode::OK, &found, &base, &projection))
}

pub async fn group_put(
    State(state): State<AppState>,
    client: ScimClient,
    cid: CorrelationId,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let projection = projection_of(&GROUPS, query.as_deref())?;
    let pre = if_match(&headers)?;
    let body = json_body(&headers, body).await?;
    let base = base(&state);
    let found = groups::replace(&ctx!(state, client, cid, base), &id, &body, &pre).await?;
    Ok(group_response(StatusCode::OK, &found, &base, &projection))
}

pub async fn group_patch(
    State(state): State<AppState>,
    client: ScimClient,
    cid: CorrelationId,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let projection = projection_of(&GROUPS, query.as_deref())?;
    let pre = if_match(&headers)?;
    let body = json_body(&headers, body).await?;
    let base = base(&state);
    // RFC 7644 §3.5.2 allows 204: a membership change to a large group
    // sends no member list back unless `attributes` asks for the resource.
    let asked = query.as_deref().is_some_and(|q| !q.is_empty());
    let found = groups::patch(
        &ctx!(state, client, cid, base),
        &id,
        &body,
        &pre,
        asked && projection.wants("members"),
    )
    .await?;
    if !asked {
        let mut r = StatusCode::NO_CONTENT.into_response();
        if let Ok(tag) = HeaderValue::from_str(&etag(found.row.version)) {
            r.headers_mut().insert(header::ETAG, tag);
        }
        return Ok(r);
    }
    Ok(group_response(StatusCode::OK, &found, &base, &projection))
}

pub async fn group_delete(
    State(state): State<AppState>,
    client: ScimClient,
    cid: CorrelationId,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let pre = if_match(&headers)?;
    let base = base(&state);
    groups::delete(&ctx!(state, client, cid, base), &id, &pre).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `/Me` and `/Bulk` are not offered (ServiceProviderConfig says so).
pub async fn not_implemented(_: ScimClient) -> ScimError {
    ScimError::not_implemented("this SCIM feature is not supported (see ServiceProviderConfig)")
}

/// Anything else under `/scim/v2`.
pub async fn no_endpoint(_: ScimClient) -> ScimError {
    ScimError::not_found("no such SCIM endpoint")
}
