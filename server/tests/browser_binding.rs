//! The browser binding of SP-initiated logins (the InResponseTo must answer
//! a request *this browser* started, proven by a cookie) in a real headless
//! Chromium, with SP and IdP on different sites, over plain http (where the
//! cookie is `SameSite=Lax` and the IdP's cross-site POST arrives without
//! it) and over https (behind a real nginx terminating TLS). The IdP is
//! pysaml2 behind a small web front that answers the AuthnRequest with an
//! auto-submitting form, as real IdPs do.

mod support;

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Html;
use reqwest::Method;
use serde_json::{json, Value};
use support::browser::{self, Browser};
use support::idp::pysaml2;
use support::{key_and_cert, Backend, TestServer};

struct IdpFront {
    base: Value,
}

/// GET /sso/redirect: pysaml2 checks the AuthnRequest (and its signature)
/// and signs a response; the browser is sent on with a self-posting form.
async fn sso(
    State(front): State<Arc<IdpFront>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Html<String> {
    let mut input = front.base.clone();
    input["saml_request"] = json!(q["SAMLRequest"]);
    input["binding"] = json!("redirect");
    input["relay_state"] = json!(q.get("RelayState"));
    input["sig_alg"] = json!(q.get("SigAlg"));
    input["signature"] = json!(q.get("Signature"));
    input["want_signed_requests"] = json!(true);
    let base = front.base.clone();
    let relay = q.get("RelayState").cloned().unwrap_or_default();
    let (acs, saml_response) = tokio::task::spawn_blocking(move || {
        let parsed = pysaml2("parse-request", input);
        let mut r = base;
        r["in_response_to"] = parsed["id"].clone();
        r["destination"] = parsed["acs_url"].clone();
        r["sp_entity_id"] = parsed["issuer"].clone();
        r["name_id"] = json!("ada-nameid");
        r["identity"] = json!({"uid": ["ada"], "mail": ["ada@example.com"]});
        r["sign_assertion"] = json!(true);
        let resp = pysaml2("response", r);
        (
            parsed["acs_url"].as_str().unwrap().to_owned(),
            resp["saml_response"].as_str().unwrap().to_owned(),
        )
    })
    .await
    .unwrap();
    let esc = |v: &str| html_escape::encode_double_quoted_attribute(v).into_owned();
    Html(format!(
        "<!doctype html><form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"SAMLResponse\" value=\"{}\"><input type=\"hidden\" name=\"RelayState\" value=\"{}\"></form><script>document.forms[0].submit()</script>",
        esc(&acs),
        esc(&saml_response),
        esc(&relay)
    ))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// SP at `root_url`, IdP front at http://idp.test:{port}; logs in through
/// the browser and returns the page the browser ends on.
async fn login_through(root_url: String, server: &TestServer, browser: &Browser) -> String {
    let idp_port = free_port();
    let entity = format!("http://idp.test:{idp_port}");
    let (idp_key, idp_cert) = key_and_cert();
    let (sp_key, sp_cert) = key_and_cert();
    let r = server
        .admin(Method::PUT, "/api/v1/sso-settings/okta")
        .json(&json!({"settings": {
            "enabled": true, "idp_entity_id": entity, "idp_sso_url": format!("{entity}/sso/redirect"),
            "idp_certificates": [idp_cert], "certificate": sp_cert, "private_key": sp_key, "sign_requests": true}}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let sp_metadata = server
        .request(Method::GET, "/saml/okta/metadata", None)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let front = Arc::new(IdpFront {
        base: json!({"sp_metadata": sp_metadata, "idp_key": idp_key, "idp_cert": idp_cert, "entity_id": entity}),
    });
    let app = axum::Router::new()
        .route("/sso/redirect", axum::routing::get(sso))
        .with_state(front);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", idp_port))
        .await
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    browser
        .client
        .goto(&format!("{root_url}/saml/okta/login?redirect_to=/"))
        .await
        .unwrap();
    let home = format!("{root_url}/");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let url = browser.client.current_url().await.unwrap().to_string();
        if url == home {
            return browser.text().await;
        }
        if std::time::Instant::now() > deadline {
            let cookies = browser.client.get_all_cookies().await.unwrap_or_default();
            eprintln!("cookies: {cookies:?}");
            let source = browser.client.source().await.unwrap_or_default();
            panic!(
                "the login did not end at {home}: at {url}\n{}",
                &source[..source.len().min(3000)]
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sp_initiated_login_over_plain_http_in_a_real_browser() {
    if !browser::available() {
        return;
    }
    let port_holder = std::sync::Mutex::new(String::new());
    let server = TestServer::start_with(Backend::Sqlite, |c| {
        let port = c.server.listen.rsplit(':').next().unwrap_or("0").to_owned();
        c.server.root_url = format!("http://sp.test:{port}");
        *port_holder.lock().unwrap() = c.server.root_url.clone();
    })
    .await;
    let root_url = port_holder.lock().unwrap().clone();
    let browser = Browser::start(&["sp.test", "idp.test"]).await;
    let page = login_through(root_url, &server, &browser).await;
    assert!(page.contains("You are signed in as ada"), "{page}");
    browser.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sp_initiated_login_over_https_in_a_real_browser() {
    if !browser::available() {
        return;
    }
    let Some(nginx) = support::nginx::binary() else {
        return;
    };
    let tls_port = free_port();
    let root_url = format!("https://sp.test:{tls_port}");
    let server = TestServer::start_with(Backend::Sqlite, |c| {
        c.server.root_url = root_url.clone();
    })
    .await;
    // TLS in front of the server, as a production deployment has it.
    let (key, cert) = key_and_cert();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("key.pem"), key).unwrap();
    std::fs::write(dir.path().join("cert.pem"), cert).unwrap();
    let d = dir.path().display();
    let upstream = server.url.trim_start_matches("http://");
    let site = format!(
        "server {{ listen 127.0.0.1:{tls_port} ssl; ssl_certificate {d}/cert.pem; ssl_certificate_key {d}/key.pem;\n\
         location / {{ proxy_pass http://{upstream}; proxy_set_header Host $host:$server_port; }} }}\n"
    );
    let _proxy = support::nginx::Nginx::start(nginx, &site, tls_port).await;
    let browser = Browser::start(&["sp.test", "idp.test"]).await;
    let page = login_through(root_url, &server, &browser).await;
    assert!(page.contains("You are signed in as ada"), "{page}");
    browser.close().await;
    server.stop().await;
}
