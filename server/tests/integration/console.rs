//! The admin console in a real headless Chromium against a real server and
//! the pysaml2 IdP (behind a web front): an administrator signs in through
//! SSO, creates a provider through the form (an inline validation error
//! first, then a fix), runs a test sign-in and reads the mapped identity,
//! finds a refused login in the login events, hits a stale save; a
//! read-only user can change nothing (in the UI or by posting anyway); a
//! request without the CSRF token is refused; someone without console
//! access gets a 403 page. Every page is checked by axe-core and
//! photographed under target/console-screenshots.

use crate::support;

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;
use ssoplane_testkit::browser::{self, Browser};
use support::idp_front::IdpFront;
use support::{Backend, TestServer};

/// Pages checked for accessibility, named for their screenshot.
async fn check_page(b: &Browser, name: &str) {
    b.screenshot(name).await;
    let violations = b.accessibility_violations().await;
    assert!(
        violations.is_empty(),
        "{name}: accessibility violations: {violations:#?}"
    );
}

async fn sign_in(b: &Browser, root: &str, back_to: &str) {
    b.goto(&format!("{root}/logout")).await;
    b.goto(&format!("{root}{back_to}")).await;
    // The console sends the browser to the login page and back.
    b.wait_for_url(|u| u.contains("/login")).await;
    b.click("a.button").await;
    let target = format!("{root}{back_to}");
    b.wait_for_url(|u| u == target || (back_to != "/" && u.starts_with(&target)))
        .await;
}

fn cookie_header(cookies: &[fantoccini::cookies::Cookie<'static>]) -> String {
    cookies
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The value of the first hidden input named `name` on the current page.
async fn hidden(b: &Browser, name: &str) -> String {
    b.find(&format!("input[name={name}]"))
        .await
        .attr("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_configure_test_and_troubleshoot_in_the_browser() {
    if !browser::available() {
        return;
    }
    let root_holder = std::sync::Mutex::new(String::new());
    let s = TestServer::start_with(Backend::Sqlite, |c| {
        let port = c.server.listen.rsplit(':').next().unwrap_or("0").to_owned();
        c.server.root_url = format!("http://sp.test:{port}");
        c.server.console_reader_groups = vec!["auditors".into()];
        *root_holder.lock().unwrap() = c.server.root_url.clone();
    })
    .await;
    let root = root_holder.lock().unwrap().clone();
    let idp = IdpFront::start("idp.test", &s.url, &root).await;
    for g in ["admins", "auditors"] {
        s.admin(Method::PUT, &format!("/api/v1/groups/{g}"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
    }
    let mut okta = idp.settings();
    for (k, v) in [
        ("enabled", json!(true)),
        ("name", json!("Test IdP")),
        ("assertion_attribute_groups", json!("groups")),
        ("admin_groups", json!(["admins"])),
    ] {
        okta[k] = v;
    }
    let r = s
        .admin(Method::PUT, "/api/v1/sso-settings/okta")
        .json(&json!({ "settings": okta }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    let b = Browser::start(&["sp.test", "idp.test"]).await;

    // Someone without console access: a clear 403 page.
    idp.assert_identity(json!({"uid": ["ned"], "mail": ["ned@example.com"], "groups": []}));
    sign_in(&b, &root, "/").await;
    b.goto(&format!("{root}/admin/providers")).await;
    assert!(b.text().await.contains("No access to the console"));
    check_page(&b, "forbidden").await;

    // An administrator signs in through SSO.
    idp.assert_identity(json!({"uid": ["ada"], "mail": ["ada@example.com"], "displayName": ["Ada Lovelace"], "groups": ["admins"]}));
    sign_in(&b, &root, "/admin/providers").await;
    let text = b.text().await;
    assert!(
        text.contains("Providers") && text.contains("Test IdP"),
        "{text}"
    );
    check_page(&b, "providers").await;

    b.goto(&format!("{root}/admin/providers/okta")).await;
    let text = b.text().await;
    assert!(
        text.contains(&format!("{root}/saml/okta/acs")),
        "the wiring panel: {text}"
    );
    check_page(&b, "provider").await;

    // A new provider through the form: an invalid URL first, shown at its field.
    b.goto(&format!("{root}/admin/new-provider")).await;
    check_page(&b, "provider-new").await;
    b.fill("#slug", "entra").await;
    b.fill("#name", "Entra ID").await;
    b.fill("#idp_entity_id", &idp.entity).await;
    b.fill("#idp_sso_url", "not a url").await;
    b.fill("#idp_certificates", &idp.cert).await;
    b.fill("#assertion_attribute_groups", "groups").await;
    b.click("form button[type=submit]").await;
    b.wait_for_url(|u| u.ends_with("/admin/new-provider")).await;
    assert!(
        b.has(".field.invalid #idp_sso_url").await,
        "the error sits at the field"
    );
    let error = b.find("#idp_sso_url-error").await.text().await.unwrap();
    assert!(!error.is_empty());
    check_page(&b, "provider-form-error").await;
    b.fill("#idp_sso_url", &format!("{}/sso/redirect", idp.entity))
        .await;
    b.click("form button[type=submit]").await;
    b.wait_for_url(|u| u.contains("/admin/providers/entra?saved="))
        .await;
    assert!(b.text().await.contains("Saved"));
    let stored: serde_json::Value = s
        .reader(Method::GET, "/api/v1/sso-settings/entra")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["settings"]["enabled"], false);
    assert_eq!(stored["updated_by"], "console:ada");

    // Test sign-in of the (disabled) provider, in a new tab: a report, no session.
    let before = b.client.windows().await.unwrap();
    b.click("form[action$='/test'] button").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let tab = loop {
        let now = b.client.windows().await.unwrap();
        if let Some(w) = now.into_iter().find(|w| !before.contains(w)) {
            break w;
        }
        assert!(Instant::now() < deadline, "no new tab");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    b.client.switch_to_window(tab).await.unwrap();
    b.wait_for_url(|u| u.contains("/admin/tests/")).await;
    let report = b.text().await;
    assert!(
        report.contains("A real login would be accepted"),
        "{report}"
    );
    assert!(
        report.contains("ada@example.com") && report.contains("admins"),
        "{report}"
    );
    assert!(
        report.contains("verified on the Response and Assertion"),
        "{report}"
    );
    check_page(&b, "test-sign-in").await;
    b.client.close_window().await.unwrap();
    b.client.switch_to_window(before[0].clone()).await.unwrap();

    // A forged response is refused; the login events show it and why.
    idp.forge(true);
    b.goto(&format!("{root}/saml/okta/login")).await;
    b.wait_for_url(|u| u.contains("/saml/okta/acs")).await;
    idp.forge(false);
    b.goto(&format!("{root}/admin/providers")).await;
    b.wait_for_url(|u| u.contains("/login") || u.ends_with("/admin/providers"))
        .await;
    if b.client
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains("/login")
    {
        sign_in(&b, &root, "/admin/providers").await;
    }
    b.goto(&format!(
        "{root}/admin/events?provider=okta&outcome=failure"
    ))
    .await;
    let text = b.text().await;
    assert!(text.contains("validation"), "{text}");
    check_page(&b, "events").await;
    b.click("tbody tr td a").await;
    b.wait_for_url(|u| u.contains("/admin/events/")).await;
    let text = b.text().await;
    assert!(text.contains("does not verify against the IdP"), "{text}");
    check_page(&b, "event").await;

    // A stale save: the form was loaded, then the settings changed.
    b.goto(&format!("{root}/admin/providers/entra/edit")).await;
    check_page(&b, "provider-edit").await;
    let mut changed = stored["settings"].clone();
    changed["name"] = json!("Entra ID (renamed by the API)");
    let r = s
        .admin(Method::PUT, "/api/v1/sso-settings/entra")
        .json(&json!({ "settings": changed }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    b.fill("#allowed_groups", "admins").await;
    b.click("form button[type=submit]").await;
    b.wait_for_url(|u| u.ends_with("/admin/providers/entra/edit"))
        .await;
    let text = b.text().await;
    assert!(
        text.contains("Not saved: the settings changed since you opened this form"),
        "{text}"
    );
    assert!(text.contains("test-admin"), "who changed it: {text}");
    check_page(&b, "provider-conflict").await;
    let after: serde_json::Value = s
        .reader(Method::GET, "/api/v1/sso-settings/entra")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after["settings"]["name"], "Entra ID (renamed by the API)");
    assert_eq!(after["settings"]["allowed_groups"], json!([]));

    // Users, groups and tokens.
    b.goto(&format!("{root}/admin/users")).await;
    assert!(b.text().await.contains("ned"));
    check_page(&b, "users").await;
    b.click("tbody a").await;
    b.wait_for_url(|u| u.contains("/admin/users/")).await;
    assert!(b.text().await.contains("Identity links"));
    check_page(&b, "user").await;
    b.goto(&format!("{root}/admin/groups")).await;
    b.fill("#group-name", "on call").await;
    b.fill("#group-description", "Paged at night").await;
    b.click("form[action='/admin/groups'] button").await;
    b.wait_for_text("on call").await;
    check_page(&b, "groups").await;
    b.goto(&format!("{root}/admin/groups/admins")).await;
    let text = b.text().await;
    assert!(
        text.contains("ada") && text.contains("okta"),
        "members and their source: {text}"
    );
    check_page(&b, "group").await;
    b.goto(&format!("{root}/admin/tokens")).await;
    b.fill("#token-name", "ci-drift").await;
    b.click("form[action='/admin/tokens'] button").await;
    for _ in 0..300 {
        if b.has("#new-token").await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let shown = b.find("#new-token").await.text().await.unwrap();
    assert!(
        shown.starts_with("ssp_"),
        "the token is shown once: {shown}"
    );
    check_page(&b, "tokens").await;
    let r = s
        .request(Method::GET, "/api/v1/sso-settings", Some(&shown))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the new reader token works");
    b.goto(&format!("{root}/admin/tokens")).await;
    assert!(!b.text().await.contains(&shown), "never shown again");
    // A phone-sized window: the same pages, readable.
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&format!("{root}/admin/providers/okta")).await;
    check_page(&b, "provider-phone").await;
    b.client.set_window_size(1280, 900).await.unwrap();

    // Without the CSRF token (a forged form), nothing changes.
    let cookies = cookie_header(&b.client.get_all_cookies().await.unwrap());
    let version = after["version"].as_i64().unwrap();
    let forged = s
        .client
        .post(format!("{}/admin/providers/entra/enabled", s.url))
        .header("cookie", &cookies)
        .form(&[
            ("version", version.to_string()),
            ("enabled", "true".into()),
            ("csrf", "guess".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // ...nor from another origin, even with the token.
    b.goto(&format!("{root}/admin/providers/entra")).await;
    let csrf = hidden(&b, "csrf").await;
    let cross = s
        .client
        .post(format!("{}/admin/providers/entra/enabled", s.url))
        .header("cookie", &cookies)
        .header("origin", "https://evil.example")
        .form(&[
            ("version", version.to_string()),
            ("enabled", "true".into()),
            ("csrf", csrf.clone()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let same = s
        .reader(Method::GET, "/api/v1/sso-settings/entra")
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(
        same["version"], version,
        "the refused requests changed nothing"
    );

    // A reader sees everything and can change nothing.
    idp.assert_identity(
        json!({"uid": ["rita"], "mail": ["rita@example.com"], "groups": ["auditors"]}),
    );
    sign_in(&b, &root, "/admin/providers/entra").await;
    let text = b.text().await;
    assert!(text.contains("read-only"), "{text}");
    assert!(
        !b.has("form[action$='/enabled']").await,
        "no buttons that change things"
    );
    b.goto(&format!("{root}/admin/providers/entra/edit")).await;
    assert!(!b.has("form button[type=submit]").await);
    check_page(&b, "provider-reader").await;
    let cookies = cookie_header(&b.client.get_all_cookies().await.unwrap());
    let csrf = hidden(&b, "csrf").await;
    let r = s
        .client
        .post(format!("{}/admin/providers/entra/enabled", s.url))
        .header("cookie", &cookies)
        .form(&[
            ("version", version.to_string()),
            ("enabled", "true".into()),
            ("csrf", csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "the server refuses a reader's write too"
    );
    let same = s
        .reader(Method::GET, "/api/v1/sso-settings/entra")
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(same["version"], version);

    b.close().await;
    s.stop().await;
}
