//! The admin API against a real server on SQLite and on PostgreSQL: CRUD,
//! validation that changes nothing, optimistic concurrency, secrets at rest,
//! precedence, auth, groups, users, history, health and errors.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use ssoplane_schema::secrets;
use support::{idp_metadata_b64, key_and_cert, Backend, TestServer};

on_both_backends!(
    put_get_list_delete_round_trip,
    invalid_settings_return_field_errors_and_change_nothing,
    idp_metadata_is_checked_at_write_time_on_the_servers_reader,
    stale_if_match_is_refused_and_writes_nothing,
    concurrent_writes_are_never_lost,
    secrets_are_masked_fingerprinted_and_encrypted_at_rest,
    api_overrides_file_and_delete_falls_back,
    tokens_and_roles,
    groups_crud,
    users_read_and_disable,
    history_is_an_audit_trail,
    health_metrics_and_error_shapes,
    if_none_match_creates_only_and_takes_over_file_settings,
    managed_by_marker_is_stored_and_cleared,
    group_versions_refuse_stale_writes,
);

/// PostgreSQL replicas cache settings; a write on one must reach the others' reads promptly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_replicas_see_each_others_writes() {
    let a = TestServer::start(Backend::Postgres).await;
    let b = a.replica().await;
    put(&a, "okta", json!({"name": "v1"})).await;
    assert_eq!(get(&b, "okta").await.1["settings"]["name"], "v1");
    put(&a, "okta", json!({"name": "v2"})).await;
    let started = std::time::Instant::now();
    loop {
        let (_, doc, etag) = get(&b, "okta").await;
        if doc["settings"]["name"] == "v2" {
            assert_eq!(etag.as_deref(), Some("\"2\""));
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "replica still serves the old settings"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // A write on B based on the version A produced succeeds even if B's cache lagged.
    let r = b
        .admin(Method::PUT, "/api/v1/sso-settings/okta")
        .header("if-match", "\"2\"")
        .json(&json!({"settings": {"name": "v3"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Blind writes through both replicas at once: none lost, versions unique.
    let mut tasks = Vec::new();
    for i in 0..10 {
        for s in [&a, &b] {
            let req = s
                .admin(Method::PUT, "/api/v1/sso-settings/okta")
                .json(&json!({"settings": {"name": format!("w{i}")}}));
            tasks.push(tokio::spawn(async move {
                let r = req.send().await.unwrap();
                assert_eq!(r.status(), StatusCode::OK);
                r.json::<Value>().await.unwrap()["version"]
                    .as_i64()
                    .unwrap()
            }));
        }
    }
    let mut versions = Vec::new();
    for t in tasks {
        versions.push(t.await.unwrap());
    }
    versions.sort_unstable();
    assert_eq!(versions, (4..=23).collect::<Vec<_>>());
    // DELETE on A reaches B's reads too.
    a.admin(Method::DELETE, "/api/v1/sso-settings/okta")
        .send()
        .await
        .unwrap();
    let started = std::time::Instant::now();
    while get(&b, "okta").await.0 != StatusCode::NOT_FOUND {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "replica still serves deleted settings"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    b.stop().await;
    a.stop().await;
}

/// Every replica hears each settings write with the version written (so the
/// writer keeps its cache instead of reading its own write back) and each
/// delete without one (so every replica drops what it holds).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_settings_notices_carry_the_version_written() {
    use ssoplane_server::store::notify::Notice;
    let s = TestServer::start(Backend::Postgres).await;
    let store = s.store().await;
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let _watch = {
        let heard = heard.clone();
        store.watch_changes(move |n| heard.lock().unwrap().push(n.clone()))
    };
    // Listening once this process hears its own heartbeat back.
    let started = std::time::Instant::now();
    while !store.bus().trusted() {
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    put(&s, "okta", json!({"name": "v1"})).await;
    put(&s, "okta", json!({"name": "v2"})).await;
    s.admin(Method::DELETE, "/api/v1/sso-settings/okta")
        .send()
        .await
        .unwrap();
    let expected = vec![
        Notice::Settings {
            provider: "okta".into(),
            version: Some(1),
        },
        Notice::Settings {
            provider: "okta".into(),
            version: Some(2),
        },
        Notice::Settings {
            provider: "okta".into(),
            version: None,
        },
    ];
    let started = std::time::Instant::now();
    loop {
        let got: Vec<Notice> = heard
            .lock()
            .unwrap()
            .iter()
            .filter(|n| matches!(n, Notice::Settings { .. }))
            .cloned()
            .collect();
        if got.len() >= expected.len() {
            assert_eq!(got, expected);
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "heard only {got:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    s.stop().await;
}

async fn put(s: &TestServer, provider: &str, settings: Value) -> reqwest::Response {
    s.admin(Method::PUT, &format!("/api/v1/sso-settings/{provider}"))
        .json(&json!({ "settings": settings }))
        .send()
        .await
        .unwrap()
}

async fn get(s: &TestServer, provider: &str) -> (StatusCode, Value, Option<String>) {
    let r = s
        .reader(Method::GET, &format!("/api/v1/sso-settings/{provider}"))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let etag = r
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, r.json().await.unwrap(), etag)
}

async fn put_get_list_delete_round_trip(b: Backend) {
    let s = TestServer::start(b).await;
    let (status, body, _) = get(&s, "okta").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let r = put(
        &s,
        "okta",
        json!({"enabled": true, "name": "Okta", "idp_metadata": idp_metadata_b64()}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["etag"], "\"1\"");
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["source"], "database");
    assert_eq!(
        doc["settings"]["max_issue_delay"], "90s",
        "defaults are filled in"
    );
    assert_eq!(
        doc["sp"]["entity_id"],
        "https://sso.example.com/saml/okta/metadata"
    );
    assert_eq!(
        doc["sp"]["acs_url"],
        "https://sso.example.com/saml/okta/acs"
    );
    assert_eq!(doc["updated_by"], "test-admin");

    // Several providers at once.
    let r = put(&s, "microsoft_ad", json!({"name": "Entra ID"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let list: Value = s
        .reader(Method::GET, "/api/v1/sso-settings")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["provider"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["microsoft_ad", "okta"]);

    let (_, doc, etag) = get(&s, "okta").await;
    assert_eq!(etag.as_deref(), Some("\"1\""));
    assert_eq!(doc["settings"]["name"], "Okta");

    // Full replace: fields left out go back to their defaults.
    let r = put(&s, "okta", json!({"enabled": false})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["settings"]["name"], "SAML");

    let r = s
        .admin(Method::DELETE, "/api/v1/sso-settings/okta")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(get(&s, "okta").await.0, StatusCode::NOT_FOUND);
    let r = s
        .admin(Method::DELETE, "/api/v1/sso-settings/okta")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Re-created after a delete, the version continues: an old ETag never matches again.
    let r = put(&s, "okta", json!({})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["version"], 4);
    s.stop().await;
}

async fn invalid_settings_return_field_errors_and_change_nothing(b: Backend) {
    let s = TestServer::start(b).await;
    put(&s, "okta", json!({"name": "Before"})).await;
    let before = get(&s, "okta").await.1;

    let r = put(
        &s,
        "okta",
        json!({
            "enabled": true, "name": "After",
            "idp_metadata": idp_metadata_b64(), "idp_metadata_url": "https://idp.example.com/metadata",
            "max_issue_delay": "ninety", "certificate": "not a pem", "private_key": key_and_cert().0,
            "name_id_format": "email", "idp_metadat_path": "/x"
        }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let cid = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid");
    assert_eq!(body["correlation_id"], cid.as_str());
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["saml.idp_metadat_path"],
        "type/unknown-field errors come first: {body}"
    );

    let r = put(
        &s,
        "okta",
        json!({
            "enabled": true, "name": "After",
            "idp_metadata": idp_metadata_b64(), "idp_metadata_url": "https://idp.example.com/metadata",
            "max_issue_delay": "ninety", "certificate": "not a pem", "private_key": key_and_cert().0,
            "name_id_format": "email",
        }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "saml.certificate",
            "saml.name_id_format",
            "saml.max_issue_delay",
            "saml.idp_metadata_url"
        ],
        "{body}"
    );
    assert!(
        !body.to_string().contains("PRIVATE KEY"),
        "errors never echo secrets"
    );

    // Malformed JSON and wrong types are 400s with the same shape.
    let r = s
        .admin(Method::PUT, "/api/v1/sso-settings/okta")
        .header("content-type", "application/json")
        .body("{\"settings\": {\"enabled\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "bad_request");
    let r = s
        .admin(Method::PUT, "/api/v1/sso-settings/okta")
        .json(&json!({"settings": {"enabled": "yes"}}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "saml.enabled");
    let r = s
        .admin(Method::PUT, "/api/v1/sso-settings/Not-A-Slug")
        .json(&json!({"settings": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = s
        .admin(Method::PUT, "/api/v1/sso-settings/okta")
        .json(&json!({"provider": "other", "settings": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Oversized: refused from the Content-Length alone, before the body is read.
    // (Raw TCP, because a client still writing the body races the early answer.)
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = s.url.trim_start_matches("http://");
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "PUT /api/v1/sso-settings/okta HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            s.admin,
            5 * 1024 * 1024
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        let mut answer = String::new();
        let _ = tcp.read_to_string(&mut answer).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("\"too_large\""), "{answer}");
    }

    let after = get(&s, "okta").await.1;
    assert_eq!(before, after, "nothing changed");
    s.stop().await;
}

/// The server checks metadata on its own libxml2 reader (it links no
/// second XML parser) and answers with the schema's field errors: the
/// messages the provider shows at plan time.
async fn idp_metadata_is_checked_at_write_time_on_the_servers_reader(b: Backend) {
    use base64::Engine;
    use ssoplane_schema::validate::metadata_message as msg;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let s = TestServer::start(b).await;
    put(&s, "okta", json!({"name": "Before"})).await;
    let before = get(&s, "okta").await.1;
    let md = "xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"";
    let bomb = format!(
        r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><md:EntityDescriptor {md} entityID="a">&lol2;</md:EntityDescriptor>"#
    );
    let external = format!(
        r#"<!DOCTYPE x SYSTEM "file:///etc/passwd"><md:EntityDescriptor {md} entityID="a"/>"#
    );
    let bad_cert = format!(
        r#"<md:EntityDescriptor {md} entityID="a"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>bm90IGEgY2VydA==</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor></md:IDPSSODescriptor></md:EntityDescriptor>"#
    );
    let cases: [(&str, String); 6] = [
        (bomb.as_str(), format!("{}: ", msg::NOT_XML)),
        (external.as_str(), format!("{}: ", msg::NOT_XML)),
        ("<md:EntityDescriptor", format!("{}: ", msg::NOT_XML)),
        ("<a/>", msg::not_metadata()),
        (
            &format!("<md:EntityDescriptor {md} entityID=\"a\"/>"),
            msg::NO_IDP.to_owned(),
        ),
        (bad_cert.as_str(), "is not usable IdP metadata: ".to_owned()),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (xml, message) in &cases {
        let r = put(
            &s,
            "okta",
            json!({"enabled": true, "name": "After", "idp_metadata": b64(xml)}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{xml}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["field"], "saml.idp_metadata", "{body}");
        let got = body["errors"][0]["message"].as_str().unwrap();
        assert!(got.starts_with(message.as_str()), "{xml}: {got}");
        assert!(!got.contains("root:"), "no file content leaks: {got}");

        let path = dir.path().join("idp.xml");
        std::fs::write(&path, xml).unwrap();
        let r = put(
            &s,
            "okta",
            json!({"enabled": true, "idp_metadata_path": path.to_str().unwrap()}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{xml}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["field"], "saml.idp_metadata_path",
            "{body}"
        );
        let got = body["errors"][0]["message"].as_str().unwrap();
        assert!(
            got.starts_with(&format!("the file {message}")),
            "{xml}: {got}"
        );
    }
    assert_eq!(get(&s, "okta").await.1, before, "nothing changed");
    let r = put(
        &s,
        "okta",
        json!({"enabled": true, "idp_metadata": idp_metadata_b64()}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    s.stop().await;
}

async fn stale_if_match_is_refused_and_writes_nothing(b: Backend) {
    let s = TestServer::start(b).await;
    let r = s
        .admin(Method::PUT, "/api/v1/sso-settings/okta")
        .header("if-match", "\"0\"")
        .json(&json!({"settings": {"name": "v1"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "If-Match \"0\" creates");
    put(&s, "okta", json!({"name": "v2"})).await;

    let r = s
        .admin(Method::PUT, "/api/v1/sso-settings/okta")
        .header("if-match", "\"1\"")
        .json(&json!({"settings": {"name": "stale"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("version 2"),
        "{body}"
    );
    let (_, doc, etag) = get(&s, "okta").await;
    assert_eq!(doc["settings"]["name"], "v2");
    assert_eq!(etag.as_deref(), Some("\"2\""));

    let r = s
        .admin(Method::PUT, "/api/v1/sso-settings/okta")
        .header("if-match", "\"2\"")
        .json(&json!({"settings": {"name": "v3"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .admin(Method::DELETE, "/api/v1/sso-settings/okta")
        .header("if-match", "\"2\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(get(&s, "okta").await.1["settings"]["name"], "v3");
    let r = s
        .admin(Method::PUT, "/api/v1/sso-settings/new")
        .header("if-match", "*")
        .json(&json!({"settings": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::PRECONDITION_FAILED,
        "If-Match: * needs existing settings"
    );
    let r = s
        .admin(Method::PUT, "/api/v1/sso-settings/okta")
        .header("if-match", "yesterday")
        .json(&json!({"settings": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    s.stop().await;
}

async fn concurrent_writes_are_never_lost(b: Backend) {
    let s = TestServer::start(b).await;
    put(&s, "okta", json!({"name": "start"})).await;

    // 20 writers with the same If-Match: exactly one wins, the rest get 412.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let req = s
            .admin(Method::PUT, "/api/v1/sso-settings/okta")
            .header("if-match", "\"1\"")
            .json(&json!({"settings": {"name": format!("writer {i}")}}));
        tasks.push(tokio::spawn(
            async move { req.send().await.unwrap().status() },
        ));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::PRECONDITION_FAILED => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 1);

    // 20 writers without If-Match: all succeed, each with its own version and history entry.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let req = s
            .admin(Method::PUT, "/api/v1/sso-settings/okta")
            .json(&json!({"settings": {"name": format!("blind {i}")}}));
        tasks.push(tokio::spawn(async move {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()["version"]
                .as_i64()
                .unwrap()
        }));
    }
    let mut versions = Vec::new();
    for t in tasks {
        versions.push(t.await.unwrap());
    }
    versions.sort_unstable();
    assert_eq!(versions, (3..=22).collect::<Vec<_>>());
    let history: Value = s
        .reader(Method::GET, "/api/v1/sso-settings/okta/history?limit=1000")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(history.as_array().unwrap().len(), 22);
    let (_, doc, _) = get(&s, "okta").await;
    assert_eq!(doc["version"], 22);
    assert_eq!(
        history[0]["changes"][0]["new"], doc["settings"]["name"],
        "the newest history entry is what is stored"
    );
    s.stop().await;
}

async fn secrets_are_masked_fingerprinted_and_encrypted_at_rest(b: Backend) {
    let s = TestServer::start(b).await;
    let (key, cert) = key_and_cert();
    let r = put(
        &s,
        "okta",
        json!({"certificate": cert, "private_key": key, "sign_requests": true}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (_, doc, _) = get(&s, "okta").await;
    assert_eq!(doc["settings"]["private_key"], secrets::MASK);
    assert_eq!(
        doc["settings"]["private_key_fingerprint"],
        secrets::fingerprint(&key)
    );
    assert_eq!(doc["settings"]["encryption_private_key"], "");
    assert!(!doc.to_string().contains("PRIVATE KEY"));

    // Not in the database in plaintext either.
    let store = s.store().await;
    let row = store.get_settings("okta").await.unwrap().unwrap();
    assert!(
        !row.settings_json.contains("PRIVATE KEY") && !row.secrets_json.contains("PRIVATE KEY")
    );
    assert!(row.secrets_json.contains(&secrets::fingerprint(&key)));
    store.close().await;

    // GET → PUT round trip with the mask keeps the secret.
    let mut settings = doc["settings"].clone();
    settings["name"] = json!("renamed");
    let r = s
        .admin(Method::PUT, "/api/v1/sso-settings/okta")
        .json(&json!({"settings": settings}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let (_, doc, _) = get(&s, "okta").await;
    assert_eq!(
        doc["settings"]["private_key_fingerprint"],
        secrets::fingerprint(&key)
    );

    // The mask with nothing stored behind it is an error, not a stored "********".
    let r = put(
        &s,
        "fresh",
        json!({"encryption_private_key": secrets::MASK}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["field"],
        "saml.encryption_private_key"
    );

    // A different secret changes the fingerprint (drift detection).
    let (key2, cert2) = key_and_cert();
    put(
        &s,
        "okta",
        json!({"certificate": cert2, "private_key": key2}),
    )
    .await;
    assert_eq!(
        get(&s, "okta").await.1["settings"]["private_key_fingerprint"],
        secrets::fingerprint(&key2)
    );
    s.stop().await;
}

async fn api_overrides_file_and_delete_falls_back(b: Backend) {
    let s = TestServer::start_with(b, |c| {
        c.saml.insert(
            "microsoft_ad".into(),
            json!({"enabled": "true", "name": "From file", "idp_metadata": idp_metadata_b64(), "admin_groups": "admins, ops"})
                .as_object()
                .cloned()
                .unwrap(),
        );
    })
    .await;
    let (status, doc, etag) = get(&s, "microsoft_ad").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["source"], "system");
    assert_eq!(doc["version"], 0);
    assert_eq!(etag.as_deref(), Some("\"0\""));
    assert_eq!(doc["settings"]["admin_groups"], json!(["admins", "ops"]));

    let r = s
        .admin(Method::DELETE, "/api/v1/sso-settings/microsoft_ad")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CONFLICT,
        "nothing set through the API to delete"
    );

    let r = s
        .admin(Method::PUT, "/api/v1/sso-settings/microsoft_ad")
        .header("if-match", "\"0\"")
        .json(&json!({"settings": {"name": "From API"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, doc, _) = get(&s, "microsoft_ad").await;
    assert_eq!(doc["source"], "database");
    assert_eq!(doc["settings"]["name"], "From API");

    s.admin(Method::DELETE, "/api/v1/sso-settings/microsoft_ad")
        .send()
        .await
        .unwrap();
    let (_, doc, _) = get(&s, "microsoft_ad").await;
    assert_eq!(doc["source"], "system");
    assert_eq!(doc["settings"]["name"], "From file");
    s.stop().await;
}

async fn tokens_and_roles(b: Backend) {
    let s = TestServer::start(b).await;
    let r = s
        .request(Method::GET, "/api/v1/sso-settings", None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let r = s
        .request(Method::GET, "/api/v1/sso-settings", Some("ssp_forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = s
        .client
        .get(format!("{}/api/v1/sso-settings", s.url))
        .header("authorization", "Basic YTpi")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let r = s
        .reader(Method::GET, "/api/v1/sso-settings")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .reader(Method::PUT, "/api/v1/sso-settings/okta")
        .json(&json!({"settings": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = s
        .reader(Method::PUT, "/api/v1/groups/admins")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        get(&s, "okta").await.0,
        StatusCode::NOT_FOUND,
        "the refused write wrote nothing"
    );

    // Tokens are stored hashed only.
    let store = s.store().await;
    assert!(
        store.find_token(&s.admin).await.unwrap().is_none(),
        "the plaintext is not a key"
    );
    assert!(store
        .find_token(&ssoplane_server::tokens::hash(&s.admin))
        .await
        .unwrap()
        .is_some());
    // Revocation takes effect (after the short cache).
    store
        .revoke_token("test-reader", "2026-01-01T00:00:00Z")
        .await
        .unwrap();
    store.close().await;
    s.clock
        .advance(ssoplane_server::tokens::CACHE_TTL.as_secs() as i64 + 1);
    let r = s
        .reader(Method::GET, "/api/v1/sso-settings")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    s.stop().await;
}

async fn groups_crud(b: Backend) {
    let s = TestServer::start(b).await;
    let r = s
        .admin(Method::PUT, "/api/v1/groups/Platform Admins")
        .json(&json!({"description": "ops"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = s
        .admin(Method::PUT, "/api/v1/groups/Platform Admins")
        .json(&json!({"description": "ops team"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let g: Value = r.json().await.unwrap();
    assert_eq!(g["description"], "ops team");
    assert_eq!(g["members"], 0);
    let list: Value = s
        .reader(Method::GET, "/api/v1/groups")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    // The schema's rule (ssoplane_schema::group), the one the provider checks at plan time.
    for bad in [
        "%20bad",
        "bad%20",
        "a%2Fb",
        "ad%0Amins",
        "ad%C2%85mins",
        &"a".repeat(256),
    ] {
        let r = s
            .admin(Method::PUT, &format!("/api/v1/groups/{bad}"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["field"], "name", "{bad}: {body}");
        assert_eq!(
            body["errors"][0]["message"],
            ssoplane_schema::group::NAME_RULE,
            "{bad}"
        );
    }
    let r = s
        .admin(Method::PUT, "/api/v1/groups/x")
        .json(&json!({"description": "d".repeat(ssoplane_schema::group::MAX_DESCRIPTION + 1)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["field"],
        "description"
    );
    let r = s
        .admin(Method::PUT, "/api/v1/groups/x")
        .json(&json!({"colour": "red"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = s
        .admin(Method::DELETE, "/api/v1/groups/Platform Admins")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = s
        .reader(Method::GET, "/api/v1/groups/Platform Admins")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    s.stop().await;
}

async fn users_read_and_disable(b: Backend) {
    let s = TestServer::start(b).await;
    let store = s.store().await;
    store
        .put_group(
            &ssoplane_server::store::GroupWrite {
                name: "eng",
                description: "",
                at: "2026-01-01T00:00:00Z",
                actor: "test",
                managed_by: "",
            },
            ssoplane_server::store::Precondition::None,
        )
        .await
        .unwrap();
    let user = ssoplane_server::store::UserRow {
        id: "u-1".into(),
        login: "ada".into(),
        email: "ada@example.com".into(),
        name: "Ada".into(),
        external_uid: "oid-1".into(),
        provider: "okta".into(),
        role: "editor".into(),
        is_admin: false,
        disabled: false,
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
        last_login_at: None,
        organizations: vec![ssoplane_server::store::OrgMembership {
            name: "org 1".into(),
            role: "editor".into(),
        }],
        created_by: String::new(),
    };
    store.insert_user(&user, &["eng".to_owned()]).await.unwrap();
    store.close().await;

    let list: Value = s
        .reader(Method::GET, "/api/v1/users")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["login"], "ada");
    assert_eq!(list[0]["groups"], json!(["eng"]));
    assert_eq!(
        list[0]["organizations"],
        json!([{"name": "org 1", "role": "editor"}])
    );
    let r = s
        .reader(Method::GET, "/api/v1/users?limit=0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = s
        .reader(Method::GET, "/api/v1/users?limit=ten")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = s
        .reader(Method::PATCH, "/api/v1/users/u-1")
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = s
        .admin(Method::PATCH, "/api/v1/users/u-1")
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["disabled"], true);
    let r = s
        .admin(Method::PATCH, "/api/v1/users/nobody")
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let group: Value = s
        .reader(Method::GET, "/api/v1/groups/eng")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(group["members"], 1);
    s.stop().await;
}

async fn history_is_an_audit_trail(b: Backend) {
    let s = TestServer::start(b).await;
    let (key, cert) = key_and_cert();
    put(&s, "okta", json!({"name": "A"})).await;
    let r = s
        .admin(Method::PUT, "/api/v1/sso-settings/okta")
        .header("x-request-id", "change-42")
        .json(&json!({"settings": {"name": "B", "certificate": cert, "private_key": key}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    s.admin(Method::DELETE, "/api/v1/sso-settings/okta")
        .send()
        .await
        .unwrap();

    let h: Value = s
        .reader(Method::GET, "/api/v1/sso-settings/okta/history")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = h.as_array().unwrap();
    assert_eq!(
        entries
            .iter()
            .map(|e| e["version"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [3, 2, 1]
    );
    assert_eq!(entries[0]["action"], "delete");
    assert_eq!(entries[1]["actor"], "test-admin");
    assert_eq!(entries[1]["correlation_id"], "change-42");
    let changed: Vec<&str> = entries[1]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["name", "certificate", "private_key"]);
    assert_eq!(entries[1]["changes"][2]["new"], secrets::fingerprint(&key));
    assert!(
        !h.to_string().contains("PRIVATE KEY"),
        "history never holds secrets"
    );
    let r = s
        .reader(Method::GET, "/api/v1/sso-settings/never/history")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    s.stop().await;
}

async fn health_metrics_and_error_shapes(b: Backend) {
    let s = TestServer::start(b).await;
    let r = s
        .request(Method::GET, "/healthz", None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r: Value = s
        .request(Method::GET, "/readyz", None)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        r["store"],
        if b == Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        }
    );
    s.reader(Method::GET, "/api/v1/sso-settings")
        .send()
        .await
        .unwrap();
    let metrics = s
        .request(Method::GET, "/metrics", None)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("http_requests_total{"), "{metrics}");
    assert!(metrics.contains("route=\"/api/v1/sso-settings\""));
    assert!(metrics.contains("http_request_duration_seconds_bucket"));

    let r = s
        .reader(Method::GET, "/api/v1/nothing-here")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
    assert!(!body["correlation_id"].as_str().unwrap().is_empty());
    let r = s
        .admin(Method::POST, "/api/v1/sso-settings/okta")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "method_not_allowed"
    );
    // A client's unsafe request id is replaced, a safe one kept.
    let r = s
        .reader(Method::GET, "/healthz")
        .header("x-request-id", "abc 123")
        .send()
        .await
        .unwrap();
    assert_ne!(r.headers()["x-request-id"], "abc 123");
    let r = s
        .reader(Method::GET, "/healthz")
        .header("x-request-id", "trace-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-1");
    s.stop().await;
}

async fn if_none_match_creates_only_and_takes_over_file_settings(b: Backend) {
    let s = TestServer::start_with(b, |c| {
        c.saml.insert(
            "fromfile".into(),
            json!({"name": "From file"}).as_object().cloned().unwrap(),
        );
    })
    .await;
    let create = |provider: &str, name: &str| {
        s.admin(Method::PUT, &format!("/api/v1/sso-settings/{provider}"))
            .header("if-none-match", "*")
            .json(&json!({"settings": {"name": name}}))
            .send()
    };
    assert_eq!(
        create("okta", "first").await.unwrap().status(),
        StatusCode::OK
    );
    // a second create finds the row: 412, and nothing changes
    let r = create("okta", "second").await.unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("version 1"),
        "{body}"
    );
    let (_, doc, etag) = get(&s, "okta").await;
    assert_eq!(doc["settings"]["name"], "first");
    assert_eq!(etag.as_deref(), Some("\"1\""));
    // 20 concurrent creates of one new provider: exactly one wins
    let mut tasks = Vec::new();
    for i in 0..20 {
        let req = s
            .admin(Method::PUT, "/api/v1/sso-settings/race")
            .header("if-none-match", "*")
            .json(&json!({"settings": {"name": format!("w{i}")}}));
        tasks.push(tokio::spawn(
            async move { req.send().await.unwrap().status() },
        ));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::PRECONDITION_FAILED => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(get(&s, "race").await.1["version"], 1);
    // settings from the config file only: a create takes them over
    assert_eq!(
        create("fromfile", "taken over").await.unwrap().status(),
        StatusCode::OK
    );
    let (_, doc, _) = get(&s, "fromfile").await;
    assert_eq!(doc["source"], "database");
    assert_eq!(doc["settings"]["name"], "taken over");
    // hostile forms: both headers, an If-None-Match other than *, on DELETE
    for (h, v) in [("if-none-match", "\"1\""), ("if-none-match", "W/\"1\"")] {
        let r = s
            .admin(Method::PUT, "/api/v1/sso-settings/okta")
            .header(h, v)
            .json(&json!({"settings": {"name": "x"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{h}: {v}");
    }
    let r = s
        .admin(Method::PUT, "/api/v1/sso-settings/okta")
        .header("if-none-match", "*")
        .header("if-match", "\"1\"")
        .json(&json!({"settings": {"name": "x"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = s
        .admin(Method::DELETE, "/api/v1/sso-settings/okta")
        .header("if-none-match", "*")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(get(&s, "okta").await.1["settings"]["name"], "first");
    s.stop().await;
}

async fn managed_by_marker_is_stored_and_cleared(b: Backend) {
    let s = TestServer::start(b).await;
    let r = s
        .admin(Method::PUT, "/api/v1/sso-settings/okta")
        .header("x-ssoplane-managed-by", "terraform")
        .json(&json!({"settings": {"name": "tf"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["managed_by"], "terraform");
    assert_eq!(get(&s, "okta").await.1["managed_by"], "terraform");
    // a bad marker is refused and stores nothing
    for bad in ["Terraform", "a b", "x".repeat(33).as_str()] {
        let r = s
            .admin(Method::PUT, "/api/v1/sso-settings/okta")
            .header("x-ssoplane-managed-by", bad)
            .json(&json!({"settings": {"name": "bad"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("x-ssoplane-managed-by"),
            "{body}"
        );
    }
    assert_eq!(get(&s, "okta").await.1["version"], 1);
    // another client's write clears it
    put(&s, "okta", json!({"name": "console"})).await;
    let doc = get(&s, "okta").await.1;
    assert!(doc.get("managed_by").is_none(), "{doc}");
    // groups too
    let r = s
        .admin(Method::PUT, "/api/v1/groups/ops")
        .header("x-ssoplane-managed-by", "terraform")
        .json(&json!({"description": "d"}))
        .send()
        .await
        .unwrap();
    let g: Value = r.json().await.unwrap();
    assert_eq!(g["managed_by"], "terraform");
    assert_eq!(g["updated_by"], "test-admin");
    let r = s
        .admin(Method::PUT, "/api/v1/groups/ops")
        .json(&json!({"description": "d2"}))
        .send()
        .await
        .unwrap();
    let g: Value = r.json().await.unwrap();
    assert!(g.get("managed_by").is_none(), "{g}");
    s.stop().await;
}

async fn group_versions_refuse_stale_writes(b: Backend) {
    let s = TestServer::start(b).await;
    let put_group = |name: &str, desc: &str, h: Option<(&str, String)>| {
        let mut r = s
            .admin(Method::PUT, &format!("/api/v1/groups/{name}"))
            .json(&json!({ "description": desc }));
        if let Some((k, v)) = h {
            r = r.header(k, v);
        }
        r.send()
    };
    let etag = |r: &reqwest::Response| {
        r.headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap()
    };
    let r = put_group("ops", "v1", Some(("if-none-match", "*".into())))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v1 = etag(&r);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(format!("\"{}\"", doc["version"]), v1);
    // create-only again: 412, unchanged
    let r = put_group("ops", "again", Some(("if-none-match", "*".into())))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    // update on the current version, then the old one is stale
    let r = put_group("ops", "v2", Some(("if-match", v1.clone())))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v2 = etag(&r);
    assert_ne!(v1, v2);
    let r = put_group("ops", "stale", Some(("if-match", v1.clone())))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    let body: Value = r.json().await.unwrap();
    let current = v2.trim_matches('"');
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains(&format!("version {current}")),
        "{body}"
    );
    let r = s
        .reader(Method::GET, "/api/v1/groups/ops")
        .send()
        .await
        .unwrap();
    assert_eq!(etag(&r), v2);
    assert_eq!(r.json::<Value>().await.unwrap()["description"], "v2");
    // stale delete: 412 and the group stays
    let r = s
        .admin(Method::DELETE, "/api/v1/groups/ops")
        .header("if-match", v1.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    // If-Match on a missing group: 412 on PUT (nothing created), 404 on DELETE
    let r = put_group("nope", "x", Some(("if-match", v2.clone())))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        s.reader(Method::GET, "/api/v1/groups/nope")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    // deleted and created again: never the old version
    let r = s
        .admin(Method::DELETE, "/api/v1/groups/ops")
        .header("if-match", v2.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = put_group("ops", "reborn", None).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v3 = etag(&r);
    assert!(v3 != v1 && v3 != v2, "{v1} {v2} {v3}");
    let r = put_group("ops", "stale", Some(("if-match", v2.clone())))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    // malformed headers are refused
    for (h, v) in [("if-match", "yesterday"), ("if-none-match", "\"3\"")] {
        let r = put_group("ops", "x", Some((h, v.into()))).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{h}: {v}");
    }
    // concurrent updates on one version: exactly one wins
    let mut tasks = Vec::new();
    for i in 0..10 {
        let req = s
            .admin(Method::PUT, "/api/v1/groups/ops")
            .header("if-match", v3.clone())
            .json(&json!({ "description": format!("w{i}") }));
        tasks.push(tokio::spawn(
            async move { req.send().await.unwrap().status() },
        ));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::PRECONDITION_FAILED => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 1);
    s.stop().await;
}
