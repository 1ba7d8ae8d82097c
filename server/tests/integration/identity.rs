//! Identity bound to its issuer, against the real server with pysaml2 IdPs:
//! a user is reached only through a link from the provider that asserted
//! them (or an explicit `link_existing_users`), each provider's grants stay
//! its own, values are compared exactly as signed, existing databases are
//! migrated to links, and single logout can end sessions by SessionIndex.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use ssoplane_server::identity::sessions;
use ssoplane_server::store::{OrgMembership, SessionRow, Store, UserRow};

use support::idp::{cookie, Env, Provider, IDP};
use support::{Backend, TestServer};

const IDP_B: &str = "https://idp-b.test";
const PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";

on_both_backends!(
    cross_provider_identity_is_refused_unless_linked,
    linking_by_email_needs_exactly_one_user,
    transient_name_ids_find_the_user_by_login,
    api_users_are_linked_by_external_uid,
    existing_databases_are_migrated_to_links_and_grants,
    concurrent_first_logins_make_one_user,
    sessions_keep_the_name_id_and_end_by_session_index,
    returning_logins_write_only_what_changed,
    asserted_groups_match_existing_ones_by_the_providers_case_rule,
);

/// The session cookie of a successful login (panics with the page otherwise).
async fn session(r: reqwest::Response) -> String {
    let status = r.status();
    let c = cookie(&r, "ssoplane_session");
    if status != StatusCode::SEE_OTHER {
        panic!("login failed with {status}: {}", r.text().await.unwrap());
    }
    c.expect("session cookie")
}

async fn me(s: &TestServer, session: &str) -> Value {
    s.client
        .get(format!("{}/api/v1/me", s.url))
        .header("cookie", format!("ssoplane_session={session}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn verify(s: &TestServer, session: &str) -> reqwest::Response {
    s.client
        .get(format!("{}/auth/verify", s.url))
        .header("cookie", format!("ssoplane_session={session}"))
        .send()
        .await
        .unwrap()
}

async fn get_json(s: &TestServer, path: &str) -> Value {
    let r = s.reader(Method::GET, path).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

async fn users(s: &TestServer) -> Vec<Value> {
    get_json(s, "/api/v1/users")
        .await
        .as_array()
        .unwrap()
        .clone()
}

async fn user(s: &TestServer, id: &str) -> Value {
    get_json(s, &format!("/api/v1/users/{id}")).await
}

async fn put_groups(s: &TestServer, names: &[&str]) {
    for g in names {
        let r = s
            .admin(Method::PUT, &format!("/api/v1/groups/{g}"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
}

/// A user's links as `provider kind subject` lines, sorted.
fn links(u: &Value) -> Vec<String> {
    let mut out: Vec<String> = u["links"]
        .as_array()
        .unwrap_or_else(|| panic!("no links in {u}"))
        .iter()
        .map(|l| {
            assert!(l["created_at"].is_string(), "{l}");
            format!(
                "{} {} {}",
                l["provider"].as_str().unwrap(),
                l["kind"].as_str().unwrap(),
                l["subject"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out
}

/// The parts of a user another provider must never change.
fn grants(u: &Value) -> Value {
    json!([
        u["role"],
        u["is_admin"],
        u["groups"],
        u["organizations"],
        u["provider"],
        u["email"],
        u["name"],
        u["login"]
    ])
}

async fn cross_provider_identity_is_refused_unless_linked(b: Backend) {
    let s = TestServer::start(b).await;
    put_groups(&s, &["admins", "eng", "ops"]).await;
    let a = Provider::add(&s, "okta", IDP, json!({"admin_groups": ["admins"]})).await;
    let partner = Provider::add(&s, "partner", IDP_B, json!({})).await;
    let admin = json!({"uid": ["admin@corp.example"], "mail": ["admin@corp.example"], "displayName": ["The Admin"], "groups": ["admins", "eng"]});
    let session_a = session(
        a.login(&s, json!({"name_id": "a-1", "identity": admin.clone()}))
            .await,
    )
    .await;
    let all = users(&s).await;
    assert_eq!(all.len(), 1);
    let id = all[0]["id"].as_str().unwrap().to_owned();
    let before = user(&s, &id).await;
    assert_eq!(before["role"], "admin");
    assert_eq!(before["is_admin"], true);
    assert_eq!(before["groups"], json!(["admins", "eng"]));
    assert_eq!(before["provider"], "okta");
    assert_eq!(links(&before), ["okta login admin@corp.example"]);

    // Another IdP signs the admin's login, in the NameID and the attribute.
    let r = partner
        .login(
            &s,
            json!({"name_id": "admin@corp.example", "identity": {"uid": ["admin@corp.example"], "groups": ["ops"]}}),
        )
        .await;
    let event = partner.assert_refused(&s, r, "identity_collision").await;
    let reason = event["reason"].as_str().unwrap();
    assert!(
        reason.contains("login") && reason.contains(&id) && reason.contains("link_existing_users"),
        "{reason}"
    );
    // ...or only the admin's email, under a login of its own.
    let r = partner
        .login(
            &s,
            json!({"identity": {"uid": ["mallory"], "mail": ["admin@corp.example"]}}),
        )
        .await;
    let event = partner.assert_refused(&s, r, "identity_collision").await;
    assert!(
        event["reason"].as_str().unwrap().contains("email"),
        "{event}"
    );
    assert_eq!(users(&s).await.len(), 1, "no user was created");
    assert_eq!(
        grants(&user(&s, &id).await),
        grants(&before),
        "the admin's account is untouched"
    );
    assert_eq!(
        verify(&s, &session_a).await.headers()["x-auth-role"],
        "admin"
    );

    // Linking by login, once the administrator allows it for this provider.
    partner
        .update(&s, json!({"link_existing_users": "by_login"}))
        .await;
    let session_b = session(
        partner
            .login(
                &s,
                json!({"identity": {"uid": ["admin@corp.example"], "mail": ["someone@partner.example"], "groups": ["ops"]}}),
            )
            .await,
    )
    .await;
    let mine = me(&s, &session_b).await;
    assert_eq!(mine["id"], id.as_str(), "the same user");
    assert_eq!(mine["provider"], "partner", "signed in through partner");
    assert_eq!(mine["role"], "admin", "okta's grant still counts");
    assert_eq!(mine["is_admin"], true);
    assert_eq!(mine["groups"], json!(["admins", "eng", "ops"]));
    assert_eq!(
        links(&mine),
        [
            "okta login admin@corp.example",
            "partner login admin@corp.example"
        ]
    );
    let linked = user(&s, &id).await;
    assert_eq!(linked["provider"], "okta", "the creating provider stays");
    assert_eq!(
        linked["email"], "admin@corp.example",
        "only the creating provider sets the profile"
    );
    let v = verify(&s, &session_b).await;
    assert_eq!(v.headers()["x-auth-groups"], "admins,eng,ops");

    // okta's next login replaces okta's grants only.
    let session_a = session(
        a.login(
            &s,
            json!({"name_id": "a-2", "identity": {"uid": ["admin@corp.example"], "mail": ["admin@corp.example"], "groups": ["eng"]}}),
        )
        .await,
    )
    .await;
    let mine = me(&s, &session_a).await;
    assert_eq!(mine["role"], "viewer");
    assert_eq!(mine["is_admin"], false);
    assert_eq!(mine["groups"], json!(["eng", "ops"]));
    // ...and partner's next login partner's only.
    session(
        partner
            .login(&s, json!({"identity": {"uid": ["admin@corp.example"]}}))
            .await,
    )
    .await;
    assert_eq!(user(&s, &id).await["groups"], json!(["eng"]));
    assert_eq!(users(&s).await.len(), 1);
    s.stop().await;
}

async fn linking_by_email_needs_exactly_one_user(b: Backend) {
    let s = TestServer::start(b).await;
    let partner = Provider::add(
        &s,
        "partner",
        IDP_B,
        json!({"link_existing_users": "by_email"}),
    )
    .await;
    let mut ids = std::collections::BTreeMap::new();
    for (login, email) in [
        ("u1", "shared@corp.example"),
        ("u2", "shared@corp.example"),
        ("eve", "eve@corp.example"),
    ] {
        let r = s
            .admin(Method::POST, "/api/v1/users")
            .json(&json!({"login": login, "email": email}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let u: Value = r.json().await.unwrap();
        ids.insert(login, u["id"].as_str().unwrap().to_owned());
    }
    // An email two users have names neither.
    let r = partner
        .login(
            &s,
            json!({"identity": {"uid": ["someone"], "mail": ["shared@corp.example"]}}),
        )
        .await;
    let event = partner.assert_refused(&s, r, "identity_collision").await;
    assert!(
        event["reason"].as_str().unwrap().contains("other users"),
        "{event}"
    );
    // An email of one user, but a login of another: refused on the login.
    let r = partner
        .login(
            &s,
            json!({"identity": {"uid": ["u1"], "mail": ["eve@corp.example"]}}),
        )
        .await;
    let event = partner.assert_refused(&s, r, "identity_collision").await;
    let reason = event["reason"].as_str().unwrap();
    assert!(
        reason.contains("login") && reason.contains(&ids["u1"]),
        "{reason}"
    );
    // Case matters: no link by a look-alike address.
    let r = partner
        .login(
            &s,
            json!({"identity": {"uid": ["eve.p"], "mail": ["Eve@corp.example"]}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "a new user, not eve");
    assert_eq!(users(&s).await.len(), 4);
    // The one user with that exact email is linked, under partner's own login.
    let sess = session(
        partner
            .login(
                &s,
                json!({"identity": {"uid": ["eve.partner"], "mail": ["eve@corp.example"]}}),
            )
            .await,
    )
    .await;
    let mine = me(&s, &sess).await;
    assert_eq!(mine["id"], ids["eve"].as_str());
    assert_eq!(mine["login"], "eve");
    assert_eq!(links(&mine), ["partner login eve.partner"]);
    s.stop().await;
}

async fn transient_name_ids_find_the_user_by_login(b: Backend) {
    let env = Env::new(b, json!({})).await;
    let p = env.provider();
    let first = session(p.login(&env.s, json!({"name_id": "_t-1"})).await).await;
    let second = session(p.login(&env.s, json!({"name_id": "_t-2"})).await).await;
    let (m1, m2) = (me(&env.s, &first).await, me(&env.s, &second).await);
    assert_eq!(m1["id"], m2["id"], "one user across transient NameIDs");
    assert_eq!(links(&m2), ["okta login ada"]);
    assert_eq!(users(&env.s).await.len(), 1);
    // A transient NameID alone names nobody: without a login attribute the
    // login is refused rather than creating a user per login.
    let r = p
        .login(
            &env.s,
            json!({"name_id": "_t-3", "identity": {"mail": ["x@example.com"]}}),
        )
        .await;
    let event = p.assert_refused(&env.s, r, "mapping").await;
    assert!(
        event["reason"].as_str().unwrap().contains("transient"),
        "{event}"
    );
    env.s.stop().await;
}

async fn api_users_are_linked_by_external_uid(b: Backend) {
    let s = TestServer::start(b).await;
    put_groups(&s, &["eng", "ops"]).await;
    let okta = Provider::add(&s, "okta", IDP, json!({})).await;
    let partner = Provider::add(&s, "partner", IDP_B, json!({})).await;
    let create = |body: Value| s.admin(Method::POST, "/api/v1/users").json(&body).send();
    let grace = json!({"login": "grace", "email": "grace@corp.example", "name": "Grace Hopper", "external_uid": "oid-7", "provider": "okta", "groups": ["eng"]});
    let r = create(grace.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["provider"], "api", "created through the API");
    assert_eq!(created["role"], "none", "no grant before a login");
    assert_eq!(created["groups"], json!(["eng"]));
    assert_eq!(links(&created), ["okta external_uid oid-7"]);
    assert_eq!(user(&s, &id).await, created);

    // Hostile or conflicting requests write nothing.
    for (body, field) in [
        (json!({"login": "ada\u{a0}"}), "login"),
        (json!({"login": "\u{200b}ada"}), "login"),
        (json!({"login": "local:admin"}), "login"),
        (json!({"login": "ada", "email": "ada@"}), "email"),
        (
            json!({"login": "ada", "email": " ada@example.com"}),
            "email",
        ),
        (json!({"login": "ada", "external_uid": "oid-8"}), "provider"),
        (
            json!({"login": "ada", "external_uid": "oid-8\t", "provider": "okta"}),
            "external_uid",
        ),
        (
            json!({"login": "ada", "external_uid": "oid-8", "provider": "Okta!"}),
            "provider",
        ),
        (
            json!({"login": "ada", "external_uid": "oid-8", "provider": "local"}),
            "provider",
        ),
        (json!({"login": "ada", "groups": ["nope"]}), "groups[0]"),
        (json!({"login": "ada", "name": "a\u{7}b"}), "name"),
    ] {
        let r = create(body.clone()).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["errors"][0]["field"], field, "{body}: {e}");
    }
    let r = create(json!({"login": "ada", "role": "admin"}))
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "unknown fields refused"
    );
    let r = create(json!({"login": "grace"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT, "login taken");
    let r = create(json!({"login": "grace2", "external_uid": "oid-7", "provider": "okta"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT, "link taken");
    let r = s
        .reader(Method::POST, "/api/v1/users")
        .json(&json!({"login": "eve"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(users(&s).await.len(), 1);

    // okta's first login asserting oid-7 is Grace, whatever login it carries.
    let grace_session = session(
        okta.login(
            &s,
            json!({"identity": {"uid": ["grace.h"], "userUID": ["oid-7"], "groups": ["ops"]}}),
        )
        .await,
    )
    .await;
    let mine = me(&s, &grace_session).await;
    assert_eq!(mine["id"], id.as_str());
    assert_eq!(mine["login"], "grace");
    assert_eq!(mine["groups"], json!(["eng", "ops"]));
    assert_eq!(mine["role"], "viewer");
    // Another provider asserting the same external uid is not okta.
    let r = partner
        .login(
            &s,
            json!({"identity": {"uid": ["grace"], "userUID": ["oid-7"]}}),
        )
        .await;
    partner.assert_refused(&s, r, "identity_collision").await;
    assert_eq!(users(&s).await.len(), 1);
    // Reserved names cannot be providers.
    let r = s
        .admin(Method::PUT, "/api/v1/sso-settings/local")
        .json(&json!({"settings": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("reserved"));
    s.stop().await;
}

/// The database of a server from before identity links: migrations 0001-0003
/// applied by sqlx exactly as the old binary did, then old-shape rows.
async fn old_database(b: Backend, dir: &std::path::Path) -> String {
    use std::borrow::Cow;
    let url = support::database_url(b, dir).await;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(match b {
        Backend::Sqlite => "migrations/sqlite",
        Backend::Postgres => "migrations/postgres",
    });
    let mut migrator = sqlx::migrate::Migrator::new(path).await.unwrap();
    let old: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version <= 3)
        .cloned()
        .collect();
    assert_eq!(old.len(), 3);
    migrator.migrations = Cow::Owned(old);
    let rows = r#"
        INSERT INTO groups VALUES ('eng', '', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
        INSERT INTO groups VALUES ('ops', '', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
        INSERT INTO users VALUES ('u-ada', 'ada', 'ada@example.com', 'Ada', '', 'okta', 'editor', FALSE, FALSE,
            '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', NULL, '[{"name":"org 1","role":"editor"}]');
        INSERT INTO users VALUES ('u-bob', 'bob', 'bob@example.com', 'Bob', 'oid-b', 'okta', 'admin', TRUE, FALSE,
            '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', NULL, '[]');
        INSERT INTO users VALUES ('u-carol', 'carol', '', 'Carol', 'dup', 'partner', 'viewer', FALSE, FALSE,
            '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', NULL, '[]');
        INSERT INTO users VALUES ('u-dave', 'dave', '', 'Dave', 'dup', 'partner', 'viewer', FALSE, FALSE,
            '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', NULL, '[]');
        INSERT INTO users VALUES ('u-root', 'local:root', '', 'Local administrator', '', 'local', 'admin', TRUE, FALSE,
            '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', NULL, '[]');
        INSERT INTO user_groups VALUES ('u-ada', 'eng');
        INSERT INTO user_groups VALUES ('u-ada', 'ops');
        INSERT INTO user_groups VALUES ('u-carol', 'eng');
        INSERT INTO sessions VALUES ('h-1', 'u-ada', 'okta', 'ada-nameid', 'idx-1', 1, 1, 4102444800);
    "#;
    match b {
        Backend::Sqlite => {
            use std::str::FromStr;
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
                .unwrap()
                .create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            migrator.run(&pool).await.unwrap();
            sqlx::raw_sql(rows).execute(&pool).await.unwrap();
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            migrator.run(&pool).await.unwrap();
            sqlx::raw_sql(rows).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
    url
}

async fn existing_databases_are_migrated_to_links_and_grants(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = old_database(b, dir.path()).await;
    let s = TestServer::start_with(b, |c| c.server.database_url = url.clone()).await;
    let by_login = |all: &[Value], login: &str| -> Value {
        all.iter()
            .find(|u| u["login"] == login)
            .unwrap_or_else(|| panic!("{login} in {all:?}"))
            .clone()
    };
    let all = users(&s).await;
    assert_eq!(all.len(), 5);
    let ada = by_login(&all, "ada");
    assert_eq!(links(&ada), ["okta login ada"]);
    assert_eq!(ada["role"], "editor");
    assert_eq!(ada["groups"], json!(["eng", "ops"]));
    assert_eq!(
        ada["organizations"],
        json!([{"name": "org 1", "role": "editor"}])
    );
    assert_eq!(
        links(&by_login(&all, "bob")),
        ["okta external_uid oid-b", "okta login bob"]
    );
    assert_eq!(by_login(&all, "bob")["is_admin"], true);
    // Two users shared one external uid: neither may be found by it.
    assert_eq!(links(&by_login(&all, "carol")), ["partner login carol"]);
    assert_eq!(links(&by_login(&all, "dave")), ["partner login dave"]);
    assert_eq!(
        links(&by_login(&all, "local:root")),
        ["local login local:root"]
    );
    // The database the server migrated (not the harness's fresh one).
    let store = Store::connect(&url).await.unwrap();
    let old = store.get_session("h-1").await.unwrap().unwrap();
    assert_eq!(old.name_id, "ada-nameid");
    assert_eq!(
        (
            old.name_id_format,
            old.name_qualifier,
            old.sp_name_qualifier
        ),
        (None, None, None)
    );
    store.close().await;

    // The placeholder login link is upgraded by ada's first persistent NameID...
    put_groups(&s, &["eng"]).await;
    let okta = Provider::add(&s, "okta", IDP, json!({})).await;
    let ada_login = json!({"name_id": "p-ada", "name_id_format": PERSISTENT, "identity": {"uid": ["ada"], "groups": ["eng"]}});
    let sess = session(okta.login(&s, ada_login.clone()).await).await;
    let mine = me(&s, &sess).await;
    assert_eq!(mine["id"], "u-ada");
    assert_eq!(
        mine["groups"],
        json!(["eng"]),
        "okta's memberships replaced"
    );
    assert_eq!(mine["role"], "viewer");
    let subject = format!(r#"["{PERSISTENT}",null,null,"p-ada"]"#);
    assert_eq!(
        links(&mine),
        [
            "okta login ada".to_owned(),
            format!("okta name_id {subject}")
        ]
    );
    session(okta.login(&s, ada_login).await).await;
    // ...after which another person under a recycled login "ada" is refused.
    let r = okta
        .login(
            &s,
            json!({"name_id": "p-someone-else", "name_id_format": PERSISTENT, "identity": {"uid": ["ada"]}}),
        )
        .await;
    okta.assert_refused(&s, r, "identity_collision").await;
    // bob is found by his external uid, under any login.
    let sess = session(
        okta.login(
            &s,
            json!({"identity": {"uid": ["robert"], "userUID": ["oid-b"]}}),
        )
        .await,
    )
    .await;
    assert_eq!(me(&s, &sess).await["id"], "u-bob");
    s.stop().await;
}

async fn concurrent_first_logins_make_one_user(b: Backend) {
    let env = Env::new(b, json!({})).await;
    let p = env.provider();
    let prepared = prepare(&env, &p, (0..6).map(|i| {
        json!({"name_id": format!("p-grace-{}", i % 2), "name_id_format": PERSISTENT, "identity": {"uid": ["grace"], "userUID": ["oid-g"]}})
    }))
    .await;
    let statuses = post_all(&env, prepared).await;
    let events = get_json(&env.s, "/api/v1/login-events?provider=okta").await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::SEE_OTHER),
        "{statuses:?} {events}"
    );
    let all = users(&env.s).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(links(&all[0]), ["okta external_uid oid-g"]);

    // A user known by login only, claimed at once by four people with four
    // different external uids: one becomes that user, the others collide.
    session(p.login(&env.s, json!({"identity": {"uid": ["zoe"]}})).await).await;
    let prepared = prepare(
        &env,
        &p,
        (0..4).map(|i| json!({"identity": {"uid": ["zoe"], "userUID": [format!("z-{i}")]}})),
    )
    .await;
    let statuses = post_all(&env, prepared).await;
    let won = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(won, 1, "{statuses:?}");
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::SEE_OTHER || *s == StatusCode::FORBIDDEN));
    let zoe = users(&env.s)
        .await
        .into_iter()
        .find(|u| u["login"] == "zoe")
        .unwrap();
    let zoe_links = links(&zoe);
    assert_eq!(zoe_links.len(), 2, "{zoe_links:?}");
    assert_eq!(zoe_links[1], "okta login zoe");
    env.s.stop().await;
}

/// Started logins and their signed responses (one pysaml2 process).
async fn prepare(
    env: &Env,
    p: &Provider,
    overrides: impl Iterator<Item = Value>,
) -> Vec<(support::idp::Started, String)> {
    let mut started = Vec::new();
    let mut wanted = Vec::new();
    for mut o in overrides {
        o["sign_assertion"] = json!(true);
        started.push(p.start_unchecked(&env.s, "/").await);
        wanted.push(o);
    }
    let pairs: Vec<(Option<&str>, Value)> = started
        .iter()
        .zip(wanted)
        .map(|(st, o)| (Some(st.request_id.as_str()), o))
        .collect();
    let responses = p.responses(&pairs);
    started.into_iter().zip(responses).collect()
}

/// Posts prepared responses to the ACS all at once; their statuses in order.
async fn post_all(env: &Env, prepared: Vec<(support::idp::Started, String)>) -> Vec<StatusCode> {
    let mut tasks = Vec::new();
    for (st, resp) in prepared {
        let url = format!("{}/saml/okta/acs", env.s.url);
        tasks.push(tokio::spawn(async move {
            support::idp::no_redirects()
                .post(url)
                .form(&[("SAMLResponse", resp.as_str()), ("RelayState", "")])
                .header("cookie", format!("ssoplane_browser={}", st.browser))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses
}

async fn sessions_keep_the_name_id_and_end_by_session_index(b: Backend) {
    let env = Env::new(b, json!({})).await;
    let p = env.provider();
    let nid = json!({"name_id": "p-ada", "name_id_format": PERSISTENT, "name_qualifier": IDP, "sp_name_qualifier": "https://sso.example.com/saml/okta/metadata"});
    let mut cookies = Vec::new();
    for _ in 0..3 {
        cookies.push(session(p.login(&env.s, nid.clone()).await).await);
    }
    let other = session(
        p.login(
            &env.s,
            json!({"name_id": "p-bob", "name_id_format": PERSISTENT, "identity": {"uid": ["bob"]}}),
        )
        .await,
    )
    .await;
    let store = env.s.store().await;
    let mut rows: Vec<SessionRow> = Vec::new();
    for c in &cookies {
        rows.push(
            store
                .get_session(&sessions::hash(c))
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let first = &rows[0];
    assert_eq!(first.name_id, "p-ada");
    assert_eq!(first.name_id_format.as_deref(), Some(PERSISTENT));
    assert_eq!(first.name_qualifier.as_deref(), Some(IDP));
    assert_eq!(
        first.sp_name_qualifier.as_deref(),
        Some("https://sso.example.com/saml/okta/metadata")
    );
    assert_eq!(first.name_id().value, "p-ada");
    assert!(rows.iter().all(|r| !r.session_index.is_empty()));

    // Read through /api/v1/me, which reads the store: `store` below is a
    // second handle, and on SQLite (one server process per file) its
    // deletes do not reach the server's forward-auth cache.
    let live = |c: String| {
        let s = &env.s;
        async move {
            s.client
                .get(format!("{}/api/v1/me", s.url))
                .header("cookie", format!("ssoplane_session={c}"))
                .send()
                .await
                .unwrap()
                .status()
                == StatusCode::OK
        }
    };
    // Too many indexes: refused, nothing ended.
    let many: Vec<String> = (0..65).map(|i| format!("idx-{i}")).collect();
    assert!(store
        .delete_sessions_of("okta", "p-ada", &many)
        .await
        .is_err());
    // An index of another subject, or another provider, ends nothing.
    let idx = vec![rows[0].session_index.clone()];
    assert_eq!(
        store
            .delete_sessions_of("okta", "p-bob", &idx)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .delete_sessions_of("partner", "p-ada", &idx)
            .await
            .unwrap(),
        0
    );
    // The named SessionIndex ends its session only.
    assert_eq!(
        store
            .delete_sessions_of("okta", "p-ada", &idx)
            .await
            .unwrap(),
        1
    );
    assert!(!live(cookies[0].clone()).await);
    assert!(live(cookies[1].clone()).await && live(cookies[2].clone()).await);
    // No SessionIndex: every session of the NameID, and no one else's.
    assert_eq!(
        store
            .delete_sessions_of("okta", "p-ada", &[])
            .await
            .unwrap(),
        2
    );
    assert!(!live(cookies[1].clone()).await && !live(cookies[2].clone()).await);
    assert!(live(other).await);
    store.close().await;
    env.s.stop().await;
}

/// Every whitespace and invisible variant of an existing admin's login,
/// leading and trailing, in the NameID (standing in for the login) and in
/// the login attribute: refused, naming the value, and no session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn padded_identity_values_are_refused() {
    // IdP-initiated responses: no request to start, so one pysaml2 process
    // signs them all.
    let env = Env::new(
        Backend::Sqlite,
        json!({"admin_groups": ["admins"], "link_existing_users": "by_login", "allow_idp_initiated": true}),
    )
    .await;
    put_groups(&env.s, &["admins"]).await;
    let p = env.provider();
    session(
        p.login(
            &env.s,
            json!({"name_id": "admin@corp.example", "name_id_format": PERSISTENT, "identity": {"groups": ["admins"]}}),
        )
        .await,
    )
    .await;
    let admin = users(&env.s).await[0].clone();
    assert_eq!(admin["login"], "admin@corp.example");
    let mut cases = Vec::new();
    for c in [
        '\u{20}', '\u{9}', '\u{a0}', '\u{2028}', '\u{3000}', '\u{85}', '\u{200b}', '\u{feff}',
    ] {
        for padded in [
            format!("{c}admin@corp.example"),
            format!("admin@corp.example{c}"),
        ] {
            let code = format!("U+{:04X}", u32::from(c));
            cases.push((
                json!({"name_id": padded, "name_id_format": PERSISTENT, "identity": {}}),
                "the NameID is refused",
                code.clone(),
            ));
            cases.push((
                json!({"name_id": "n-1", "name_id_format": PERSISTENT, "identity": {"uid": [padded]}}),
                "the login is refused",
                code,
            ));
        }
    }
    let wanted: Vec<(Option<&str>, Value)> =
        cases.iter().map(|(o, _, _)| (None, o.clone())).collect();
    let responses = p.responses(&wanted);
    for ((overrides, what, code), resp) in cases.iter().zip(responses) {
        let r = p.post_acs(&env.s, &resp, "", None).await;
        let event = p.assert_refused(&env.s, r, "mapping").await;
        let reason = event["reason"].as_str().unwrap();
        assert!(
            reason.contains(what) && reason.contains(code.as_str()),
            "{overrides}: {reason}"
        );
    }
    assert_eq!(users(&env.s).await, [admin], "no user created or changed");
    let store = env.s.store().await;
    assert_eq!(
        store
            .delete_sessions_of("okta", "admin@corp.example", &[])
            .await
            .unwrap(),
        1,
        "only the admin's own session exists"
    );
    store.close().await;
    env.s.stop().await;
}

/// Rows a test writes straight to the store still show up as users with a
/// grant from their provider (the store's convenience insert).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_inserted_users_carry_their_provider_grant() {
    let s = TestServer::start(Backend::Sqlite).await;
    let store: Store = s.store().await;
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
    let u = UserRow {
        id: "u-1".into(),
        login: "ada".into(),
        email: String::new(),
        name: "Ada".into(),
        external_uid: String::new(),
        provider: "okta".into(),
        role: "editor".into(),
        is_admin: false,
        disabled: false,
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
        last_login_at: None,
        organizations: vec![OrgMembership {
            name: "o".into(),
            role: "editor".into(),
        }],
        created_by: String::new(),
    };
    store.insert_user(&u, &["eng".to_owned()]).await.unwrap();
    store.close().await;
    let got = user(&s, "u-1").await;
    assert_eq!(got["role"], "editor");
    assert_eq!(got["groups"], json!(["eng"]));
    assert_eq!(links(&got), Vec::<String>::new());
    s.stop().await;
}

/// A login that asserts what the last one did changes nothing but the login
/// time: no grant or group rewrite, and no notice that would empty every
/// replica's session cache for the user. A changed assertion still writes
/// and still tells the caches.
async fn returning_logins_write_only_what_changed(b: Backend) {
    use ssoplane_server::identity::resolve::{resolve, LoginRequest};
    use ssoplane_server::identity::subject::{LinkKind, Subject};
    use ssoplane_server::store::notify::Notice;
    use ssoplane_server::store::GrantRow;
    let s = TestServer::start(b).await;
    put_groups(&s, &["eng", "ops"]).await;
    let store: Store = s.store().await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let _subscription = {
        let seen = seen.clone();
        store.bus().subscribe(move |n| {
            if let Notice::UserChanged(id) = n {
                seen.lock().unwrap().push(id.clone());
            }
        })
    };
    let request = |role: &str, groups: &[&str]| LoginRequest {
        source: "okta".into(),
        subjects: vec![Subject {
            kind: LinkKind::ExternalUid,
            value: "uid-7".into(),
        }],
        login: "grace".into(),
        email: "grace@example.com".into(),
        name: "Grace".into(),
        external_uid: "uid-7".into(),
        link_existing: ssoplane_schema::saml::LinkExisting::None,
        sign_up: Ok(()),
        grant: GrantRow {
            source: "okta".into(),
            role: role.into(),
            is_admin: false,
            organizations: vec![OrgMembership {
                name: "o".into(),
                role: role.into(),
            }],
        },
        groups: Some(groups.iter().map(|g| g.to_string()).collect()),
    };
    let first = resolve(&store, &request("editor", &["eng"])).await.unwrap();
    let again = resolve(&store, &request("editor", &["eng"])).await.unwrap();
    assert_eq!(again.id, first.id);
    assert!(again.last_login_at.is_some());
    assert_eq!(
        seen.lock().unwrap().len(),
        0,
        "an unchanged login told the session caches that the user changed"
    );
    // When the grant row was last written, read beside the server's store.
    let grant_written_at = || {
        let (url, id) = (s.database_url.clone(), first.id.clone());
        async move {
            use sqlx::Connection;
            let q = "SELECT updated_at FROM user_grants WHERE user_id = $1";
            let at: String = match b {
                Backend::Sqlite => {
                    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                    sqlx::query_scalar(q)
                        .bind(id)
                        .fetch_one(&mut c)
                        .await
                        .unwrap()
                }
                Backend::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                    sqlx::query_scalar(q)
                        .bind(id)
                        .fetch_one(&mut c)
                        .await
                        .unwrap()
                }
            };
            at
        }
    };
    let before = grant_written_at().await;
    let again = resolve(&store, &request("editor", &["eng"])).await.unwrap();
    assert_eq!(again.role, "editor");
    assert_eq!(
        grant_written_at().await,
        before,
        "an unchanged grant was rewritten"
    );

    // A new group, then a new role: written, and the caches are told.
    let changed = resolve(&store, &request("editor", &["eng", "ops"]))
        .await
        .unwrap();
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        std::slice::from_ref(&first.id)
    );
    assert_eq!(user(&s, &changed.id).await["groups"], json!(["eng", "ops"]));
    let promoted = resolve(&store, &request("admin", &["eng", "ops"]))
        .await
        .unwrap();
    assert_eq!(promoted.role, "admin");
    assert_eq!(promoted.organizations[0].role, "admin");
    assert_eq!(seen.lock().unwrap().len(), 2);
    let got = user(&s, &first.id).await;
    assert_eq!(got["role"], "admin");
    assert_ne!(grant_written_at().await, before);

    // Taking privileges away is a change too: a demotion and a lost group
    // must never be skipped as "nothing new".
    let demoted = resolve(&store, &request("viewer", &[])).await.unwrap();
    assert_eq!(demoted.role, "viewer");
    assert_eq!(seen.lock().unwrap().len(), 3);
    let got = user(&s, &first.id).await;
    assert_eq!(got["role"], "viewer");
    assert_eq!(got["groups"], json!([]));
    assert_eq!(got["organizations"][0]["role"], "viewer");
    store.close().await;
    s.stop().await;
}

/// Asserted groups join the groups that exist with exactly that name, or
/// with any case under `groups_case_sensitive = false`; unknown names and
/// repeats change nothing, and `default_group` joins either way.
async fn asserted_groups_match_existing_ones_by_the_providers_case_rule(b: Backend) {
    let s = TestServer::start(b).await;
    put_groups(&s, &["Engineering", "ops", "staff"]).await;
    let exact = Provider::add(&s, "okta", IDP, json!({"default_group": "staff"})).await;
    let folded = Provider::add(
        &s,
        "partner",
        IDP_B,
        json!({"groups_case_sensitive": false}),
    )
    .await;
    let ada = json!({"name_id": "a-1", "identity": {"uid": ["ada"], "groups": ["engineering", "ops", "nope", "ops"]}});
    let mine = me(&s, &session(exact.login(&s, ada).await).await).await;
    assert_eq!(mine["groups"], json!(["ops", "staff"]));
    let bob = json!({"name_id": "b-1", "identity": {"uid": ["bob"], "groups": ["ENGINEERING", "Ops", "nope"]}});
    let mine = me(&s, &session(folded.login(&s, bob).await).await).await;
    assert_eq!(mine["groups"], json!(["Engineering", "ops"]));
    s.stop().await;
}
