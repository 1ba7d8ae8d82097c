//! docs/openapi.json is generated from the registered routes; this test fails
//! when it is stale (regenerate with `UPDATE_DOCS=1 cargo test`), checks
//! every documented route against the real server, checks that every route
//! refuses what its declared access refuses (the registry's check, not the
//! handler's), and that no `/api/` route is served outside the registry.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use ssoplane_server::api::{self, Access, RouteSpec};
use support::{Backend, TestServer};

fn docs_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

#[test]
fn committed_openapi_document_is_current() {
    let generated = api::openapi::render(api::routes().specs()).unwrap();
    let path = docs_path();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == generated, "docs/openapi.json is stale: run `UPDATE_DOCS=1 cargo test -p ssoplane-server --test integration openapi`");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_is_served_and_answers_as_documented() {
    let s = TestServer::start(Backend::Sqlite).await;
    let routes = api::routes();
    assert!(routes.specs().len() >= 15);
    for spec in routes.specs() {
        let path = spec
            .path
            .replace("{provider}", "okta")
            .replace("{name}", "eng")
            .replace("{id}", "u-1");
        let method = Method::from_bytes(spec.method.to_uppercase().as_bytes()).unwrap();
        let resp = s.admin(method.clone(), &path).send().await.unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert_ne!(
            body["message"], "no such endpoint",
            "{method} {path} is documented but not routed"
        );
        assert_ne!(status, 405, "{method} {path}");
        let documented = status == spec.response.0
            || spec.error_statuses().contains(&status)
            || (status == 201 && spec.method == "put");
        assert!(
            documented,
            "{method} {path} answered {status}, not documented: {body}"
        );
    }
    let doc: Value = serde_json::from_str(&api::openapi::render(routes.specs()).unwrap()).unwrap();
    let props = doc["components"]["schemas"]["SamlSettings"]["properties"]
        .as_object()
        .unwrap();
    for f in ssoplane_schema::FIELDS {
        assert!(
            props.contains_key(f.name),
            "{} missing from the OpenAPI settings schema",
            f.name
        );
    }
    s.stop().await;
}

fn concrete(spec: &RouteSpec) -> (Method, String) {
    let path = spec
        .path
        .replace("{provider}", "okta")
        .replace("{name}", "eng")
        .replace("{id}", "u-1");
    let method = Method::from_bytes(spec.method.to_uppercase().as_bytes()).unwrap();
    (method, path)
}

/// Status, `error` code and message of a refusal.
async fn refusal(r: reqwest::RequestBuilder) -> (StatusCode, String, String, Option<String>) {
    // A body every write would accept if the check let it through.
    let resp = r
        .json(&json!({"login": "eve", "settings": {}}))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert!(
        body["correlation_id"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
            || !status.is_client_error(),
        "an error body with its correlation id: {body}"
    );
    (
        status,
        body["error"].as_str().unwrap_or("").to_owned(),
        body["message"].as_str().unwrap_or("").to_owned(),
        challenge,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_enforces_its_declared_access() {
    let s = TestServer::start(Backend::Sqlite).await;
    let scim = support::scim::token(&s, "entra-scim", "entra").await;
    let mut checked = [0usize; 4];
    for spec in api::routes().specs() {
        let (method, path) = concrete(spec);
        let route = format!("{method} {path}");
        let call = |token: Option<&str>| s.request(method.clone(), &path, token);
        match spec.access {
            Access::Public => {
                let (status, ..) = refusal(call(None)).await;
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{route} is public but answered {status}"
                );
                checked[0] += 1;
            }
            Access::Reader | Access::Admin => {
                let (status, code, _, challenge) = refusal(call(None)).await;
                assert_eq!(
                    (status, code.as_str()),
                    (StatusCode::UNAUTHORIZED, "unauthenticated"),
                    "{route} without a token"
                );
                assert_eq!(
                    challenge.as_deref(),
                    Some("Bearer realm=\"ssoplane\""),
                    "{route}"
                );
                let (status, code, ..) = refusal(call(Some("ssp_not-a-token"))).await;
                assert_eq!(
                    (status, code.as_str()),
                    (StatusCode::UNAUTHORIZED, "bad_token"),
                    "{route} with an unknown token"
                );
                let (status, code, message, _) = refusal(call(Some(&scim))).await;
                assert_eq!(
                    (status, code.as_str()),
                    (StatusCode::FORBIDDEN, "forbidden"),
                    "{route} with a scim token"
                );
                assert!(message.contains("/scim/v2 only"), "{route}: {message}");
                let (status, code, message, _) = refusal(call(Some(&s.reader))).await;
                if spec.access == Access::Admin {
                    assert_eq!(
                        (status, code.as_str()),
                        (StatusCode::FORBIDDEN, "forbidden"),
                        "{route} with a reader token"
                    );
                    assert!(message.contains("reader role"), "{route}: {message}");
                    checked[2] += 1;
                } else {
                    assert!(
                        status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                        "{route} is for readers but refused a reader token: {status} {message}"
                    );
                    checked[1] += 1;
                }
            }
            Access::Session => {
                // A token is no session, whatever its role.
                for token in [None, Some(s.admin.as_str()), Some(scim.as_str())] {
                    let (status, code, _, challenge) = refusal(call(token)).await;
                    assert_eq!(
                        (status, code.as_str()),
                        (StatusCode::UNAUTHORIZED, "unauthenticated"),
                        "{route} without a session"
                    );
                    assert_eq!(challenge, None, "{route}: no Bearer challenge");
                }
                let (status, code, ..) =
                    refusal(call(None).header("cookie", "ssoplane_session=not-a-session")).await;
                assert_eq!(
                    (status, code.as_str()),
                    (StatusCode::UNAUTHORIZED, "unauthenticated"),
                    "{route} with an unknown session"
                );
                checked[3] += 1;
            }
        }
    }
    // health, readyz, metrics; reads; writes; /api/v1/me
    assert!(
        checked[0] >= 3 && checked[1] >= 10 && checked[2] >= 6 && checked[3] >= 1,
        "{checked:?}"
    );
    // Nothing got through: no group, no user, no settings were written.
    for list in ["/api/v1/groups", "/api/v1/users", "/api/v1/sso-settings"] {
        let got: Value = s
            .admin(Method::GET, list)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let rows: Vec<&Value> = got
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["source"] != "system")
            .collect();
        assert!(rows.is_empty(), "{list}: {got}");
    }
    s.stop().await;
}

/// Routes under `/api/` are registered through `api::Routes` only, so each
/// has its access check and its place in the OpenAPI document: no other
/// module of the server routes such a path.
#[test]
fn no_api_route_is_served_outside_the_registry() {
    fn visit(dir: &std::path::Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                visit(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let compact: String = text.split_whitespace().collect();
                for needle in [
                    ".route(\"/api",
                    ".nest(\"/api",
                    ".route_service(\"/api",
                    ".nest_service(\"/api",
                ] {
                    if compact.contains(needle) {
                        found.push(format!("{}: {needle}", path.display()));
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    visit(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    assert!(found.is_empty(), "{found:#?}");
    let paths: Vec<&str> = api::routes().specs().iter().map(|s| s.path).collect();
    assert!(paths.contains(&"/api/v1/me"), "{paths:?}");
}
