//! The browser binding of SP-initiated logins (the InResponseTo must answer
//! a request *this browser* started, proven by a cookie) in a real headless
//! Chromium, with SP and IdP on different sites, over plain http (where the
//! cookie is `SameSite=Lax` and the IdP's cross-site POST arrives without
//! it) and over https (behind a real nginx terminating TLS). The IdP is
//! pysaml2 behind a small web front that answers the AuthnRequest with an
//! auto-submitting form, as real IdPs do.

use crate::support;

use reqwest::Method;
use serde_json::json;
use ssoplane_testkit::browser::{self, Browser};
use ssoplane_testkit::ports::free_port;
use support::idp_front::IdpFront;
use support::{key_and_cert, Backend, TestServer};

/// SP at `root_url`, IdP front at http://idp.test:{port}; logs in through
/// the browser and returns the page the browser ends on.
async fn login_through(root_url: String, server: &TestServer, browser: &Browser) -> String {
    let idp = IdpFront::start("idp.test", &server.url, &root_url).await;
    let (sp_key, sp_cert) = key_and_cert();
    let mut settings = idp.settings();
    for (k, v) in [
        ("enabled", json!(true)),
        ("certificate", json!(sp_cert)),
        ("private_key", json!(sp_key)),
        ("sign_requests", json!(true)),
    ] {
        settings[k] = v;
    }
    let r = server
        .admin(Method::PUT, "/api/v1/sso-settings/okta")
        .json(&json!({ "settings": settings }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

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
    let Some(nginx) = ssoplane_testkit::nginx::binary() else {
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
    let _proxy = ssoplane_testkit::nginx::Nginx::start(nginx, &site, tls_port);
    let browser = Browser::start(&["sp.test", "idp.test"]).await;
    let page = login_through(root_url, &server, &browser).await;
    assert!(page.contains("You are signed in as ada"), "{page}");
    browser.close().await;
    server.stop().await;
}
