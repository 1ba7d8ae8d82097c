//! Sessions and the forward-auth cache: timeouts still end cached sessions
//! (a hand-moved clock, no sleeps), the idle timeout slides without a write
//! per request, and every change that ends access (logout, single logout,
//! a disabled user, `end_all_for_user`, a grant change) reaches every
//! replica within the stated bound (`store::notify::STALE_AFTER`) — on
//! both stores, and across two replicas on one PostgreSQL.

use crate::support;

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;
use ssoplane_server::identity::sessions::{
    end_all_for_user, CacheLimits, Clock, Sessions, Timeouts,
};
use ssoplane_server::store::notify::STALE_AFTER;
use ssoplane_server::store::{OrgMembership, Store, UserRow};
use support::idp::{cookie, no_redirects, pysaml2, Env, IDP};
use support::{database_url, Backend, TestServer};

const T0: i64 = 1_800_000_000;
const IDLE: i64 = 600;
const ABSOLUTE: i64 = 3600;

fn timeouts() -> Timeouts {
    Timeouts {
        idle: Duration::from_secs(IDLE as u64),
        absolute: Duration::from_secs(ABSOLUTE as u64),
    }
}

fn limits() -> CacheLimits {
    CacheLimits {
        entries: 1000,
        bytes: 1 << 24,
    }
}

fn user(id: &str) -> UserRow {
    UserRow {
        id: id.into(),
        login: format!("{id}-login"),
        email: format!("{id}@example.com"),
        name: "Test".into(),
        external_uid: String::new(),
        provider: "okta".into(),
        role: "Editor".into(),
        is_admin: false,
        disabled: false,
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
        last_login_at: None,
        organizations: vec![OrgMembership {
            name: "org 1".into(),
            role: "Editor".into(),
        }],
        created_by: String::new(),
    }
}

async fn stored_last_seen(store: &Store, token: &str) -> i64 {
    store
        .get_session(&ssoplane_server::identity::sessions::hash(token))
        .await
        .unwrap()
        .expect("session row")
        .last_seen_at
}

/// Polls `check` until it holds, for at most STALE_AFTER plus scheduling
/// slack on a loaded machine; returns how long it took.
async fn within_bound(what: &str, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    let deadline = STALE_AFTER * 3;
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < deadline,
            "{what}: not seen within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn cached_sessions_still_time_out(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&database_url(b, dir.path()).await)
        .await
        .unwrap();
    store.start_listening();
    store.insert_user(&user("u1"), &[]).await.unwrap();
    let clock = Clock::manual(T0);
    let sessions = Sessions::new(store.clone(), timeouts(), limits(), clock.clone());
    let u = store.get_user("u1").await.unwrap().unwrap();
    // The cache is used once the bus is current (PostgreSQL: first heartbeat).
    within_bound("bus trusted", async || store.bus().trusted()).await;

    // Idle: used every 5 minutes the session lives on, with one write a minute at most.
    let token = sessions
        .create(&u, "okta", &Default::default(), "")
        .await
        .unwrap();
    let p = sessions.verify(&token).await.unwrap().expect("live");
    assert_eq!(p.login, "u1-login");
    assert_eq!(p.orgs, "org 1:Editor");
    assert_eq!(sessions.cache().len(), 1, "cached");
    for _ in 0..50 {
        sessions.verify(&token).await.unwrap().expect("live");
    }
    clock.advance(59);
    sessions.verify(&token).await.unwrap().expect("live");
    sessions.flush_touches().await.unwrap();
    assert_eq!(
        stored_last_seen(&store, &token).await,
        T0,
        "no write within the minute"
    );
    clock.advance(1);
    sessions.verify(&token).await.unwrap().expect("live");
    sessions.flush_touches().await.unwrap();
    assert_eq!(
        stored_last_seen(&store, &token).await,
        T0 + 60,
        "one batched write"
    );
    for _ in 0..6 {
        clock.advance(IDLE - 60);
        assert!(
            sessions.verify(&token).await.unwrap().is_some(),
            "idle slides"
        );
    }
    clock.advance(IDLE);
    assert!(
        sessions.verify(&token).await.unwrap().is_none(),
        "idle timeout ends a cached session"
    );
    assert!(
        store
            .get_session(&ssoplane_server::identity::sessions::hash(&token))
            .await
            .unwrap()
            .is_none(),
        "and deletes it"
    );

    // Absolute: used constantly, it still ends at created + absolute.
    let token = sessions
        .create(&u, "okta", &Default::default(), "")
        .await
        .unwrap();
    let mut used = 0;
    while used + 300 < ABSOLUTE {
        clock.advance(300);
        used += 300;
        assert!(sessions.verify(&token).await.unwrap().is_some());
    }
    clock.advance(ABSOLUTE - used);
    assert!(
        sessions.verify(&token).await.unwrap().is_none(),
        "absolute timeout ends a cached session"
    );

    // Another replica's (or process's) use keeps it alive: a session idle
    // here but touched in the store is not ended.
    let token = sessions
        .create(&u, "okta", &Default::default(), "")
        .await
        .unwrap();
    sessions.verify(&token).await.unwrap().expect("live");
    clock.advance(IDLE - 10);
    store
        .touch_sessions(&[(
            ssoplane_server::identity::sessions::hash(&token),
            clock.now(),
        )])
        .await
        .unwrap();
    clock.advance(20);
    assert!(sessions.verify(&token).await.unwrap().is_some());
    store.close().await;
}

/// SQLite's WAL is moved into the database file by the store's background
/// checkpoint, not by the commits of requests: the file stays as migrated
/// while sessions are written, and grows when `checkpoint` runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_checkpoints_in_the_background_not_in_requests() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&database_url(Backend::Sqlite, dir.path()).await)
        .await
        .unwrap();
    let file = dir.path().join("ssoplane.db");
    let size = || std::fs::metadata(&file).unwrap().len();
    store.checkpoint().await.unwrap();
    let migrated = size();
    store.insert_user(&user("u1"), &[]).await.unwrap();
    let sessions = Sessions::new(store.clone(), timeouts(), limits(), Clock::manual(T0));
    let u = store.get_user("u1").await.unwrap().unwrap();
    // About 1,500 WAL frames: past SQLite's default inline checkpoint (1,000).
    for _ in 0..1500 {
        sessions
            .create(&u, "okta", &Default::default(), "")
            .await
            .unwrap();
    }
    assert_eq!(size(), migrated, "no commit checkpointed");
    store.checkpoint().await.unwrap();
    assert!(size() > migrated, "the checkpoint copied the sessions");
    store.close().await;
}

/// A flush writes every queued use in one statement, and a use older than
/// the stored one (another replica's later write) does not move it back.
async fn a_flush_writes_every_queued_use(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&database_url(b, dir.path()).await)
        .await
        .unwrap();
    store.insert_user(&user("u1"), &[]).await.unwrap();
    let clock = Clock::manual(T0);
    let sessions = Sessions::new(store.clone(), timeouts(), limits(), clock.clone());
    let u = store.get_user("u1").await.unwrap().unwrap();
    let mut tokens = Vec::new();
    for _ in 0..700 {
        tokens.push(
            sessions
                .create(&u, "okta", &Default::default(), "")
                .await
                .unwrap(),
        );
    }
    clock.advance(100);
    for t in &tokens {
        sessions.verify(t).await.unwrap().expect("live");
    }
    // Another replica writes a later use before this one flushes.
    let hash = ssoplane_server::identity::sessions::hash;
    store
        .touch_sessions(&[(hash(&tokens[0]), T0 + 200)])
        .await
        .unwrap();
    assert_eq!(sessions.flush_touches().await.unwrap(), 700);
    assert_eq!(
        stored_last_seen(&store, &tokens[0]).await,
        T0 + 200,
        "never back"
    );
    for t in &tokens[1..] {
        assert_eq!(stored_last_seen(&store, t).await, T0 + 100);
    }
    store.close().await;
}

async fn changes_reach_the_cache(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(b, dir.path()).await;
    let store = Store::connect(&url).await.unwrap();
    store.start_listening();
    within_bound("bus trusted", async || store.bus().trusted()).await;
    let sessions = Sessions::new(store.clone(), timeouts(), limits(), Clock::system());
    for id in ["u1", "u2"] {
        store.insert_user(&user(id), &[]).await.unwrap();
    }
    let u1 = store.get_user("u1").await.unwrap().unwrap();
    let u2 = store.get_user("u2").await.unwrap().unwrap();
    let a = sessions
        .create(&u1, "okta", &Default::default(), "")
        .await
        .unwrap();
    let b2 = sessions
        .create(&u1, "okta", &Default::default(), "")
        .await
        .unwrap();
    let c = sessions
        .create(&u2, "okta", &Default::default(), "")
        .await
        .unwrap();
    for t in [&a, &b2, &c] {
        sessions.verify(t).await.unwrap().expect("live");
    }
    assert_eq!(sessions.cache().len(), 3);
    // Logout of one session.
    sessions.end(&a).await.unwrap();
    assert!(sessions.verify(&a).await.unwrap().is_none());
    assert!(sessions.verify(&b2).await.unwrap().is_some());
    // A disabled user: no session of theirs answers, at once.
    store
        .set_user_disabled("u1", true, "2026-01-02T00:00:00Z")
        .await
        .unwrap();
    assert!(sessions.verify(&b2).await.unwrap().is_none());
    assert!(
        sessions.verify(&c).await.unwrap().is_some(),
        "others unaffected"
    );
    store
        .set_user_disabled("u1", false, "2026-01-02T00:00:00Z")
        .await
        .unwrap();
    assert!(sessions.verify(&b2).await.unwrap().is_some(), "re-enabled");
    // end_all_for_user, as SCIM deactivation calls it.
    assert_eq!(end_all_for_user(&store, "u1").await.unwrap(), 1);
    assert!(sessions.verify(&b2).await.unwrap().is_none());
    // Single logout by NameID.
    let nid = ssoplane_server::saml::assertion::NameId {
        value: "nid-2".into(),
        ..Default::default()
    };
    let d = sessions.create(&u2, "okta", &nid, "idx-1").await.unwrap();
    sessions.verify(&d).await.unwrap().expect("live");
    assert_eq!(
        store
            .delete_sessions_of("okta", "nid-2", &["idx-1".into()])
            .await
            .unwrap(),
        1
    );
    assert!(sessions.verify(&d).await.unwrap().is_none());
    assert!(sessions.verify(&c).await.unwrap().is_some());
    // A group deleted changes X-Auth-Groups.
    let now = "2026-01-01T00:00:00Z";
    store
        .put_group(
            &ssoplane_server::store::GroupWrite {
                name: "eng",
                description: "",
                at: now,
                actor: "t",
                managed_by: "",
            },
            ssoplane_server::store::Precondition::None,
        )
        .await
        .unwrap();
    let e = {
        store
            .insert_user(&user("u3"), &["eng".into()])
            .await
            .unwrap();
        let u3 = store.get_user("u3").await.unwrap().unwrap();
        sessions
            .create(&u3, "okta", &Default::default(), "")
            .await
            .unwrap()
    };
    assert_eq!(sessions.verify(&e).await.unwrap().unwrap().groups, "eng");
    store
        .delete_group("eng", ssoplane_server::store::Precondition::None)
        .await
        .unwrap();
    assert_eq!(sessions.verify(&e).await.unwrap().unwrap().groups, "");
    store.close().await;
    let _ = (u2, url);
}

on_both_backends!(
    cached_sessions_still_time_out,
    changes_reach_the_cache,
    a_flush_writes_every_queued_use
);

/// Two replicas on one PostgreSQL, at the service level: what one ends, the
/// other stops answering for within the bound — and without the listener
/// the cache is not used at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_session_changes() {
    let url = database_url(Backend::Postgres, std::path::Path::new("/tmp")).await;
    let a_store = Store::connect(&url).await.unwrap();
    let b_store = Store::connect(&url).await.unwrap();
    for s in [&a_store, &b_store] {
        s.start_listening();
    }
    within_bound("bus trusted", async || b_store.bus().trusted()).await;
    let a = Sessions::new(a_store.clone(), timeouts(), limits(), Clock::system());
    let b = Sessions::new(b_store.clone(), timeouts(), limits(), Clock::system());
    a_store.insert_user(&user("u1"), &[]).await.unwrap();
    let u1 = a_store.get_user("u1").await.unwrap().unwrap();

    let t1 = a
        .create(&u1, "okta", &Default::default(), "")
        .await
        .unwrap();
    let t2 = a
        .create(&u1, "okta", &Default::default(), "")
        .await
        .unwrap();
    for t in [&t1, &t2] {
        b.verify(t).await.unwrap().expect("live on B");
    }
    assert_eq!(b.cache().len(), 2, "B answers from its cache");
    a.end(&t1).await.unwrap();
    let took = within_bound("logout on A seen by B", async || {
        b.verify(&t1).await.unwrap().is_none()
    })
    .await;
    eprintln!("logout on A -> 401 on B after {took:?}");
    a_store
        .set_user_disabled("u1", true, "2026-01-02T00:00:00Z")
        .await
        .unwrap();
    within_bound("disable on A seen by B", async || {
        b.verify(&t2).await.unwrap().is_none()
    })
    .await;
    a_store
        .set_user_disabled("u1", false, "2026-01-02T00:00:00Z")
        .await
        .unwrap();
    within_bound("enable on A seen by B", async || {
        b.verify(&t2).await.unwrap().is_some()
    })
    .await;
    end_all_for_user(&a_store, "u1").await.unwrap();
    within_bound("end_all_for_user on A seen by B", async || {
        b.verify(&t2).await.unwrap().is_none()
    })
    .await;

    // A write that sends no notice (straight SQL) is the cache's blind
    // spot: B keeps answering from its cache...
    let t3 = a
        .create(&u1, "okta", &Default::default(), "")
        .await
        .unwrap();
    b.verify(&t3).await.unwrap().expect("live on B");
    let raw = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query("DELETE FROM sessions")
        .execute(&raw)
        .await
        .unwrap();
    assert!(
        b.verify(&t3).await.unwrap().is_some(),
        "served from the cache"
    );
    // ...until its listener connection is lost: then B drops its whole
    // cache (and does not trust it until its heartbeat is back).
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .execute(&raw)
    .await
    .unwrap();
    within_bound("lost listener drops the cache", async || {
        b.verify(&t3).await.unwrap().is_none()
    })
    .await;

    // A replica whose listener never ran (no heartbeat heard) reads the
    // store every time: the same blind-spot write is seen at once.
    let c_store = Store::connect(&url).await.unwrap();
    let c = Sessions::new(c_store.clone(), timeouts(), limits(), Clock::system());
    let t4 = a
        .create(&u1, "okta", &Default::default(), "")
        .await
        .unwrap();
    c.verify(&t4).await.unwrap().expect("live on C");
    assert_eq!(c.cache().len(), 0, "an untrusted cache is not filled");
    sqlx::query("DELETE FROM sessions")
        .execute(&raw)
        .await
        .unwrap();
    assert!(c.verify(&t4).await.unwrap().is_none());
    for s in [a_store, b_store, c_store] {
        s.close().await;
    }
}

async fn verify_on(s: &TestServer, session: &str) -> StatusCode {
    s.client
        .get(format!("{}/auth/verify", s.url))
        .header("cookie", format!("ssoplane_session={session}"))
        .send()
        .await
        .unwrap()
        .status()
}

async fn login(env: &Env) -> String {
    let r = env.provider().login(&env.s, json!({})).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    cookie(&r, "ssoplane_session").unwrap()
}

/// Two real servers on one PostgreSQL: logout, single logout and a user
/// disabled through the API on A answer 401 on B within the bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_replicas_end_access_everywhere() {
    let env = Env::new(
        Backend::Postgres,
        json!({"single_logout": true, "idp_slo_url": format!("{IDP}/slo")}),
    )
    .await;
    let b = env.s.replica().await;

    // Logout on A.
    let session = login(&env).await;
    assert_eq!(verify_on(&b, &session).await, StatusCode::OK);
    assert_eq!(verify_on(&b, &session).await, StatusCode::OK, "cached on B");
    let r = no_redirects()
        .get(format!("{}/logout", env.s.url))
        .header("cookie", format!("ssoplane_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/saml/okta/slo");
    let r = no_redirects()
        .get(format!("{}/saml/okta/slo", env.s.url))
        .header("cookie", format!("ssoplane_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(verify_on(&env.s, &session).await, StatusCode::UNAUTHORIZED);
    let took = within_bound("logout on A -> 401 on B", async || {
        verify_on(&b, &session).await == StatusCode::UNAUTHORIZED
    })
    .await;
    eprintln!("HTTP: logout on A -> 401 on B after {took:?}");

    // IdP-initiated single logout received by A.
    let session = login(&env).await;
    assert_eq!(verify_on(&b, &session).await, StatusCode::OK);
    let mut input = env.base();
    input["destination"] = json!("https://sso.example.com/saml/okta/slo");
    input["sp_entity_id"] = json!("https://sso.example.com/saml/okta/metadata");
    input["name_id"] = json!("ada-nameid");
    let lr = pysaml2("logout-request", input);
    let r = no_redirects()
        .get(
            lr["url"]
                .as_str()
                .unwrap()
                .replacen("https://sso.example.com", &env.s.url, 1),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    within_bound("single logout on A -> 401 on B", async || {
        verify_on(&b, &session).await == StatusCode::UNAUTHORIZED
    })
    .await;

    // A user disabled through the API on A.
    let session = login(&env).await;
    assert_eq!(verify_on(&b, &session).await, StatusCode::OK);
    let me: serde_json::Value = b
        .client
        .get(format!("{}/api/v1/me", b.url))
        .header("cookie", format!("ssoplane_session={session}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = env
        .s
        .admin(
            Method::PATCH,
            &format!("/api/v1/users/{}", me["id"].as_str().unwrap()),
        )
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(verify_on(&env.s, &session).await, StatusCode::UNAUTHORIZED);
    within_bound("disabled on A -> 401 on B", async || {
        verify_on(&b, &session).await == StatusCode::UNAUTHORIZED
    })
    .await;
    b.stop().await;
    env.s.stop().await;
}
