//! docs/openapi.json is generated from the registered routes; this test fails
//! when it is stale (regenerate with `UPDATE_DOCS=1 cargo test`), and checks
//! every documented route against the real server.

mod support;

use reqwest::Method;
use serde_json::Value;
use ssoplane_server::api;
use support::{Backend, TestServer};

fn docs_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

#[test]
fn committed_openapi_document_is_current() {
    let generated = api::openapi::render(api::routes().specs());
    let path = docs_path();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == generated, "docs/openapi.json is stale: run `UPDATE_DOCS=1 cargo test -p ssoplane-server --test openapi`");
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
            || spec.errors.contains(&status)
            || (status == 201 && spec.method == "put");
        assert!(
            documented,
            "{method} {path} answered {status}, not documented: {body}"
        );
    }
    let doc: Value = serde_json::from_str(&api::openapi::render(routes.specs())).unwrap();
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
