//! Break-glass local administrator at /login?noSSO=true: off by default,
//! argon2-checked, throttled, refused cross-site.

use crate::support;

use reqwest::StatusCode;
use ssoplane_server::identity::local_admin;
use support::{Backend, TestServer};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn post(
    s: &TestServer,
    user: &str,
    password: &str,
    origin: Option<&str>,
) -> reqwest::Response {
    let mut req = client().post(format!("{}/login/local", s.url)).form(&[
        ("username", user),
        ("password", password),
        ("redirect_to", "/app"),
    ]);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_glass_login() {
    let s = TestServer::start_with(Backend::Sqlite, |c| c.server.local_login = true).await;
    let store = s.store().await;
    assert!(matches!(
        local_admin::set_password(&store, "admin", "short").await,
        Err(local_admin::LocalAdminError::WeakPassword)
    ));
    local_admin::set_password(&store, "admin", "correct horse battery staple")
        .await
        .unwrap();
    store.close().await;

    let r = client()
        .get(format!("{}/login?noSSO=true", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("action=\"/login/local\""));

    let r = post(&s, "admin", "wrong password here", None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get("set-cookie").is_none());
    let r = post(
        &s,
        "admin",
        "correct horse battery staple",
        Some("https://evil.example.net"),
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "cross-site posts are refused"
    );

    let r = post(
        &s,
        "admin",
        "correct horse battery staple",
        Some("https://sso.example.com"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/app");
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let v = client()
        .get(format!("{}/auth/verify", s.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(v.status(), StatusCode::OK, "{cookie} {:?}", v.headers());
    assert_eq!(v.headers()["x-auth-user"], "local:admin");
    assert_eq!(v.headers()["x-auth-role"], "admin");

    // Brute force: after five failures even the right password waits.
    for _ in 0..5 {
        post(&s, "admin", "guess guess guess", None).await;
    }
    let r = post(&s, "admin", "correct horse battery staple", None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("too many failed attempts"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_by_default() {
    let s = TestServer::start(Backend::Sqlite).await;
    let r = post(&s, "admin", "correct horse battery staple", None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    s.stop().await;
}
