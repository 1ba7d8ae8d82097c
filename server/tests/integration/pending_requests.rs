//! Pending SAML requests under abuse: what one unauthenticated client can
//! make the server store is bounded per browser and per client address (as
//! the connection, or a trusted proxy, shows it), other clients keep
//! signing in, expired requests are ignored and purged, and creation racing
//! the purge and the ACS loses nothing (PostgreSQL).

use crate::support;

use std::io::Read;

use base64::Engine;
use reqwest::StatusCode;
use serde_json::json;
use ssoplane_server::saml::login;
use ssoplane_server::store::{SamlRequestRow, Store};
use ssoplane_server::web::client::Clients;
use support::idp::{cookie, no_redirects, Env, Provider};
use support::{Backend, TestServer};

/// Starts a login as a client would: with `browser` as its cookie (or
/// none) and, when given, an `X-Forwarded-For` header. Returns the status,
/// the browser cookie set and the AuthnRequest ID.
async fn start(
    s: &TestServer,
    browser: Option<&str>,
    forwarded_for: Option<&str>,
) -> (StatusCode, Option<String>, Option<String>) {
    let mut req = no_redirects().get(format!("{}/saml/okta/login", s.url));
    if let Some(b) = browser {
        req = req.header("cookie", format!("ssoplane_browser={b}"));
    }
    if let Some(x) = forwarded_for {
        req = req.header("x-forwarded-for", x);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    if status != StatusCode::SEE_OTHER {
        return (status, None, None);
    }
    let browser = cookie(&r, "ssoplane_browser");
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let (_, request) = location
        .query_pairs()
        .find(|(k, _)| k == "SAMLRequest")
        .unwrap();
    let deflated = base64::engine::general_purpose::STANDARD
        .decode(request.as_bytes())
        .unwrap();
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(&deflated[..])
        .read_to_string(&mut xml)
        .unwrap();
    let id = xml
        .split(" ID=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    (status, browser, Some(id.to_owned()))
}

async fn pending(store: &Store, browser: &str) -> usize {
    store
        .pending_saml_requests(
            "okta",
            browser,
            ssoplane_server::identity::sessions::now_secs(),
        )
        .await
        .unwrap()
        .len()
}

async fn one_browser_keeps_only_its_newest(b: Backend) {
    let env = Env::new(b, json!({})).await;
    let p: Provider = env.provider();
    let store = env.s.store().await;
    // Another client's sign-in, started before the flood.
    let (_, other_browser, other_id) = start(&env.s, None, None).await;
    let (other_browser, other_id) = (other_browser.unwrap(), other_id.unwrap());

    let browser = "_flooding_browser_0123456789";
    let mut ids = Vec::new();
    for _ in 0..(login::PENDING_PER_BROWSER + 12) {
        let (status, _, id) = start(&env.s, Some(browser), None).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        ids.push(id.unwrap());
    }
    assert_eq!(
        pending(&store, browser).await,
        login::PENDING_PER_BROWSER as usize,
        "one browser holds its bound, not every request it started"
    );
    let responses = p.responses(&[
        (Some(ids[0].as_str()), json!({"sign_assertion": true})),
        (
            Some(ids.last().unwrap().as_str()),
            json!({"sign_assertion": true}),
        ),
        (Some(other_id.as_str()), json!({"sign_assertion": true})),
    ]);
    // The oldest was forgotten; the newest and the other client's work.
    let r = p.post_acs(&env.s, &responses[0], "", Some(browser)).await;
    p.assert_refused(&env.s, r, "in_response_to").await;
    let r = p.post_acs(&env.s, &responses[1], "", Some(browser)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(cookie(&r, "ssoplane_session").is_some());
    let r = p
        .post_acs(&env.s, &responses[2], "", Some(&other_browser))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(cookie(&r, "ssoplane_session").is_some());
    env.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_browser_keeps_only_its_newest_sqlite() {
    one_browser_keeps_only_its_newest(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_browser_keeps_only_its_newest_postgres() {
    one_browser_keeps_only_its_newest(Backend::Postgres).await;
}

const CAP: usize = 5;

async fn capped_server(b: Backend, proxies: &[&str]) -> Env {
    let s = TestServer::start_with(b, |c| {
        c.server.pending_logins_per_address = CAP;
        c.server.trusted_proxies = proxies.iter().map(|p| p.to_string()).collect();
    })
    .await;
    let p = Provider::add(&s, "okta", support::idp::IDP, json!({})).await;
    Env {
        s,
        idp: p.idp,
        sp_metadata: p.sp_metadata,
    }
}

/// Fresh cookieless starts from `xff` until refused; returns how many were stored.
async fn flood(s: &TestServer, xff: Option<&str>) -> usize {
    for n in 0..(CAP * 3) {
        let (status, _, _) = start(s, None, xff).await;
        if status != StatusCode::SEE_OTHER {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
            return n;
        }
    }
    panic!("{xff:?} was never capped");
}

async fn one_address_is_capped_behind_a_trusted_proxy(b: Backend) {
    let env = capped_server(b, &["127.0.0.1"]).await;
    // Cookieless requests mint a new browser each time: only the address bounds them.
    assert_eq!(flood(&env.s, Some("198.51.100.7")).await, CAP);
    let r = no_redirects()
        .get(format!("{}/saml/okta/login", env.s.url))
        .header("x-forwarded-for", "198.51.100.7")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "60");
    let cid = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let page = r.text().await.unwrap();
    assert!(page.contains("Too many sign-ins") && page.contains(&cid));
    // Entries left of the proxy's own are the client's claims: prefixing
    // another address does not escape the bound.
    let (status, _, _) = start(&env.s, None, Some("203.0.113.1, 198.51.100.7")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Every address of one IPv6 /64 is one client.
    assert_eq!(flood(&env.s, Some("2001:db8:1:2::1")).await, CAP);
    let (status, _, _) = start(&env.s, None, Some("2001:db8:1:2:ffff::9")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // Other clients are unaffected, and their logins complete.
    let (status, browser, id) = start(&env.s, None, Some("198.51.100.8")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = start(&env.s, None, Some("2001:db8:1:3::1")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let p = env.provider();
    let resp = p.response(id.as_deref(), json!({"sign_assertion": true}));
    let r = p.post_acs(&env.s, &resp, "", browser.as_deref()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(cookie(&r, "ssoplane_session").is_some());
    env.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_is_capped_behind_a_trusted_proxy_sqlite() {
    one_address_is_capped_behind_a_trusted_proxy(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_is_capped_behind_a_trusted_proxy_postgres() {
    one_address_is_capped_behind_a_trusted_proxy(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    // No trusted proxies: the header is the client's own claim, so varying
    // it mints nothing; the connection's address (127.0.0.1) is the client.
    let env = capped_server(Backend::Sqlite, &[]).await;
    for n in 0..CAP {
        let (status, _, _) = start(&env.s, None, Some(&format!("198.51.100.{n}"))).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    let (status, _, _) = start(&env.s, None, Some("198.51.100.200")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _, _) = start(&env.s, None, None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    env.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_and_expired_requests_free_the_address() {
    let env = capped_server(Backend::Sqlite, &[]).await;
    let store = env.s.store().await;
    let clients = Clients {
        proxies: Vec::new(),
        pending_per_address: CAP,
    };
    let row = |id: &str| SamlRequestRow {
        id: id.into(),
        provider: "okta".into(),
        browser: format!("_browser_{id}_0123456789"),
        relay_state: "/".into(),
        expires_at: 0,
        source: "192.0.2.9".into(),
    };
    // Stored an hour ago: expired ten minutes later, ignored since.
    let hour_ago = ssoplane_server::identity::sessions::now_secs() - 3600;
    for i in 0..CAP {
        assert!(
            login::remember(&store, &clients, row(&format!("_old{i}")), hour_ago)
                .await
                .unwrap()
        );
    }
    assert_eq!(pending(&store, "_browser__old0_0123456789").await, 0);
    let now = ssoplane_server::identity::sessions::now_secs();
    for i in 0..CAP {
        assert!(
            login::remember(&store, &clients, row(&format!("_new{i}")), now)
                .await
                .unwrap()
        );
    }
    assert!(!login::remember(&store, &clients, row("_over"), now)
        .await
        .unwrap());
    // A finished login frees its slot.
    assert!(store.take_saml_request("_new0").await.unwrap());
    assert!(login::remember(&store, &clients, row("_again"), now)
        .await
        .unwrap());
    // The purge deletes exactly the expired ones.
    assert_eq!(store.purge_expired(now, 0).await.unwrap(), CAP as u64);
    assert_eq!(pending(&store, "_browser__new1_0123456789").await, 1);
    env.s.stop().await;
}

/// The once-seen PostgreSQL loss (freshly created requests missing before
/// their ACS POSTs): requests created concurrently from many clients while
/// purges and ACS consumption run beside them must all be found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creation_racing_purge_and_acs_loses_nothing_postgres() {
    let s = TestServer::start(Backend::Postgres).await;
    let store = s.store().await;
    let clients = std::sync::Arc::new(Clients {
        proxies: Vec::new(),
        pending_per_address: 100_000,
    });
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let purger = {
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let now = ssoplane_server::identity::sessions::now_secs();
                store.purge_expired(now, 0).await.unwrap();
            }
        })
    };
    let mut tasks = Vec::new();
    for c in 0..16 {
        let (store, clients) = (store.clone(), clients.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..125 {
                let id = format!("_c{c}r{i}");
                let browser = format!("_browser_{c}_0123456789");
                let row = SamlRequestRow {
                    id: id.clone(),
                    provider: "okta".into(),
                    browser: browser.clone(),
                    relay_state: "/".into(),
                    expires_at: 0,
                    source: format!("198.51.100.{c}"),
                };
                let now = ssoplane_server::identity::sessions::now_secs();
                assert!(login::remember(&store, &clients, row, now).await.unwrap());
                // Half are consumed at once (an ACS), the rest are left to the purge.
                let found = store
                    .pending_saml_requests("okta", &browser, now)
                    .await
                    .unwrap();
                assert!(
                    found.iter().any(|r| r.id == id),
                    "request {id} missing right after its creation"
                );
                if i % 2 == 0 {
                    assert!(store.take_saml_request(&id).await.unwrap());
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    purger.await.unwrap();
    s.stop().await;
}
