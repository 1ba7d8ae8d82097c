//! Whole SP-initiated logins: `GET /saml/{p}/login` (AuthnRequest stored,
//! redirect), then `POST /saml/{p}/acs` with a response pysaml2 signed for
//! that request (prepared between the two phases, not timed), to a session
//! cookie, on SQLite and PostgreSQL, with an empty database and with
//! 100,000 stored users, sessions and remembered assertion IDs. Printed:
//! logins/s and the server's CPU per login, against the peer measured in
//! the same run: ACS validation alone (`acs::decode` + `acs::verify`, one
//! thread, in this process) on the very same responses; the load
//! generator's own CPU per login; and the server's CPU per `GET /healthz`
//! from the same client, so a last table can show what the target (half the
//! validation-alone rate) leaves per login on this machine once the client,
//! the validation and two bare HTTP exchanges are paid. Then the query plan
//! of every statement a login runs, on the full database.
//!
//! Run: `cargo bench -p ssoplane-server --bench whole_login` (needs python3
//! with pysaml2 and xmlsec1; PostgreSQL server binaries for its rows).
//! Options via env: BENCH_LOGINS (per measurement, default 1000),
//! BENCH_STORED (default 100000, with a tenth as many groups), BENCH_CONCURRENCY (default 16),
//! BENCH_STORES (default `sqlite,postgres`), BENCH_SIGN_REQUESTS (default 0),
//! BENCH_SERVER_BIN (another build's server, to compare builds in
//! alternating runs).

mod common;

use std::io::Read;
use std::time::Instant;

use base64::Engine;
use common::{env_or, seed, Server};
use serde_json::{json, Value};
use ssoplane_server::saml::{acs, idp::MetadataCache, runtime};
use ssoplane_server::store::{GroupWrite, Precondition, Store};
use ssoplane_testkit::idp::pysaml2;
use ssoplane_testkit::pki::key_and_cert;
use ssoplane_testkit::postgres;

const IDP: &str = "https://idp.example.com";
const PROVIDER: &str = "bench";

struct Keys {
    idp_key: String,
    idp_cert: String,
    sp_key: String,
    sp_cert: String,
}

fn settings(k: &Keys) -> Value {
    json!({
        "enabled": true, "name": "Bench IdP",
        "idp_entity_id": IDP, "idp_sso_url": format!("{IDP}/sso/redirect"),
        "idp_certificates": [k.idp_cert],
        "certificate": k.sp_cert, "private_key": k.sp_key, "sign_requests": sign_requests(),
        "assertion_attribute_groups": "groups", "max_issue_delay": "1h",
    })
}

/// Whether the provider signs its AuthnRequests (`BENCH_SIGN_REQUESTS=1`):
/// off by default, as in the settings, since one RSA-2048 signature per
/// login costs several times the response's two verifications.
fn sign_requests() -> bool {
    env_or("BENCH_SIGN_REQUESTS", 0u8) == 1
}

fn request_id(location: &str) -> String {
    let url = url::Url::parse(location).unwrap();
    let (_, request) = url.query_pairs().find(|(k, _)| k == "SAMLRequest").unwrap();
    let deflated = base64::engine::general_purpose::STANDARD
        .decode(request.as_bytes())
        .unwrap();
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(&deflated[..])
        .read_to_string(&mut xml)
        .unwrap();
    xml.split(" ID=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

fn set_cookie(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.strip_prefix(&format!("{name}="))
                .map(|r| r.split(';').next().unwrap_or("").to_owned())
        })
}

struct Measured {
    logins_per_sec: f64,
    cpu_ms_per_login: f64,
    /// The load generator's own CPU (this process: HTTP client and tasks),
    /// which shares the machine's two cores with the server.
    client_cpu_ms_per_login: f64,
    /// The server's CPU per `GET /healthz` from the same client.
    floor_cpu_ms_per_request: f64,
    /// PostgreSQL's own CPU per login (its processes); 0 on SQLite, which
    /// runs inside the server.
    db_cpu_ms_per_login: f64,
    get_ms: f64,
    acs_ms: f64,
    /// Validation alone on the same responses: responses/s on one thread.
    validation_per_sec: f64,
}

/// CPU seconds used so far by the server, the database's own processes
/// (PostgreSQL's; none for SQLite, which runs inside the server) and this
/// process, the load generator.
struct Cpu {
    server: f64,
    database: f64,
    client: f64,
}

impl Cpu {
    fn now(server: &Server) -> Cpu {
        Cpu {
            server: common::cpu_secs(server.pid()),
            database: common::cpu_secs_of_all("postgres"),
            client: common::cpu_secs(std::process::id()),
        }
    }
}

async fn measure(
    server: &Server,
    keys: &Keys,
    logins: usize,
    concurrency: usize,
    seconds: f64,
) -> Measured {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = server.url.clone();
    // The floor (timed on its own): `GET /healthz` from the same client at
    // the same concurrency, the server's CPU for an HTTP exchange that does
    // nothing.
    // Ten per login, since CPU time is read in 10 ms ticks.
    let floor_requests = 10 * logins;
    let floor0 = common::cpu_secs(server.pid());
    run_concurrently(floor_requests, concurrency, |_| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let r = client.get(format!("{url}/healthz")).send().await.unwrap();
            assert_eq!(r.status(), 200);
        }
    })
    .await;
    let floor_cpu_ms_per_request =
        1000.0 * (common::cpu_secs(server.pid()) - floor0) / floor_requests as f64;
    // Phase 1 (timed): the login GETs.
    let cpu0 = Cpu::now(server);
    let t0 = Instant::now();
    let started = run_concurrently(logins, concurrency, |_| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let r = client
                .get(format!("{url}/saml/{PROVIDER}/login"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 303);
            let browser = set_cookie(&r, "ssoplane_browser").unwrap();
            (
                request_id(r.headers()["location"].to_str().unwrap()),
                browser,
            )
        }
    })
    .await;
    let get_secs = t0.elapsed().as_secs_f64();
    let cpu1 = Cpu::now(server);

    // Between the phases (not timed): pysaml2 answers every request; users rotate over 100.
    let sp_metadata = client
        .get(format!("{url}/saml/{PROVIDER}/metadata"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let requests: Vec<Value> = started
        .iter()
        .enumerate()
        .map(|(i, (id, _))| {
            let uid = format!("user{:03}", i % 100);
            json!({
                "sp_metadata": sp_metadata, "idp_key": keys.idp_key, "idp_cert": keys.idp_cert,
                "entity_id": IDP, "in_response_to": id,
                "destination": format!("{url}/saml/{PROVIDER}/acs"),
                "sp_entity_id": format!("{url}/saml/{PROVIDER}/metadata"),
                "name_id": uid, "sign_response": true, "sign_assertion": true,
                "identity": {"uid": [uid], "mail": [format!("{uid}@example.com")], "displayName": ["Bench User"], "groups": ["eng"]},
            })
        })
        .collect();
    let responses: Vec<String> = pysaml2("responses", json!({ "requests": requests }))["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["saml_response"].as_str().unwrap().to_owned())
        .collect();

    // The peer (same responses, validation only, one thread, this process).
    let normalized = ssoplane_schema::normalize(settings(keys).as_object().unwrap()).unwrap();
    let s = ssoplane_schema::SamlSettings::from_settings(&normalized).unwrap();
    let rt = runtime::compile(PROVIDER, 1, s, &url, &MetadataCache::default())
        .await
        .unwrap();
    let validation_per_sec = {
        let pending: Vec<Vec<String>> = started.iter().map(|(id, _)| vec![id.clone()]).collect();
        let t = Instant::now();
        let mut n = 0usize;
        while t.elapsed().as_secs_f64() < seconds {
            for (r, pending) in responses.iter().zip(&pending) {
                let xml = acs::decode(r).unwrap();
                let v = acs::verify(&rt, &xml, pending).unwrap();
                std::hint::black_box(v.assertion);
                n += 1;
            }
        }
        n as f64 / t.elapsed().as_secs_f64()
    };

    // Phase 2 (timed): the ACS POSTs, each to a session.
    let work: Vec<(String, String)> = started
        .into_iter()
        .zip(responses)
        .map(|((_, browser), r)| (browser, r))
        .collect();
    let work = std::sync::Arc::new(work);
    let cpu2 = Cpu::now(server);
    let t1 = Instant::now();
    run_concurrently(logins, concurrency, |i| {
        let (client, url, work) = (client.clone(), url.clone(), work.clone());
        async move {
            let (browser, response) = &work[i];
            let r = client
                .post(format!("{url}/saml/{PROVIDER}/acs"))
                .header("cookie", format!("ssoplane_browser={browser}"))
                .form(&[("SAMLResponse", response.as_str()), ("RelayState", "")])
                .send()
                .await
                .unwrap();
            let status = r.status();
            assert!(
                status == 303 && set_cookie(&r, "ssoplane_session").is_some(),
                "login refused: {status} {}",
                r.text().await.unwrap_or_default()
            );
        }
    })
    .await;
    let acs_secs = t1.elapsed().as_secs_f64();
    let cpu3 = Cpu::now(server);
    let total = get_secs + acs_secs;
    // CPU ms per login over the two timed phases.
    let per_login = |of: fn(&Cpu) -> f64| {
        1000.0 * ((of(&cpu1) - of(&cpu0)) + (of(&cpu3) - of(&cpu2))) / logins as f64
    };
    Measured {
        logins_per_sec: logins as f64 / total,
        cpu_ms_per_login: per_login(|c| c.server),
        client_cpu_ms_per_login: per_login(|c| c.client),
        floor_cpu_ms_per_request,
        db_cpu_ms_per_login: per_login(|c| c.database),
        get_ms: 1000.0 * get_secs / logins as f64,
        acs_ms: 1000.0 * acs_secs / logins as f64,
        validation_per_sec,
    }
}

async fn run_concurrently<T, F, Fut>(n: usize, concurrency: usize, each: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    for i in 0..n {
        if set.len() >= concurrency {
            let (j, v) = set.join_next().await.unwrap().unwrap();
            out[j] = Some(v);
        }
        let fut = each(i);
        set.spawn(async move { (i, fut.await) });
    }
    while let Some(r) = set.join_next().await {
        let (j, v) = r.unwrap();
        out[j] = Some(v);
    }
    out.into_iter().map(Option::unwrap).collect()
}

/// Every statement a login runs (the store's SQL, store/sql.rs), with
/// representative arguments, for the plans.
const LOGIN_QUERIES: &[(&str, &str)] = &[
    ("login GET: bound per browser", "DELETE FROM saml_requests WHERE browser = 'b' AND id NOT IN (SELECT id FROM saml_requests WHERE browser = 'b' ORDER BY expires_at DESC, id DESC LIMIT 7)"),
    ("login GET: bound per address", "SELECT count(*) FROM (SELECT 1 FROM saml_requests WHERE source = '127.0.0.1' AND expires_at > 0 LIMIT 1000) AS live"),
    ("ACS: pending requests", "SELECT id, provider, browser, relay_state, expires_at, source FROM saml_requests WHERE browser = 'b' AND provider = 'bench' AND expires_at > 0"),
    ("ACS: take request", "DELETE FROM saml_requests WHERE id = 'x'"),
    ("ACS: replay memory", "INSERT INTO saml_assertions (id, provider, expires_at) VALUES ('x', 'bench', 0) ON CONFLICT (id) DO NOTHING"),
    ("ACS: user by identity link", "SELECT id FROM users WHERE id = (SELECT user_id FROM identity_links WHERE provider = 'bench' AND kind = 'external_uid' AND subject = 'user001')"),
    ("ACS: user by login", "SELECT id FROM users WHERE login = 'user001'"),
    ("ACS: users by email", "SELECT id FROM users WHERE email = 'user001@example.com' ORDER BY id LIMIT 2"),
    ("ACS: grants of user", "SELECT source, role, is_admin, organizations FROM user_grants WHERE user_id = 'u' ORDER BY source"),
    ("ACS: groups of source", "SELECT group_name FROM user_groups WHERE user_id = 'u' AND source = 'bench' ORDER BY group_name"),
    ("ACS: groups of source, when they changed", "DELETE FROM user_groups WHERE user_id = 'u' AND source = 'bench'"),
    ("ACS: groups of user", "SELECT DISTINCT group_name FROM user_groups WHERE user_id = 'u' ORDER BY group_name"),
    ("ACS: last login (locks the row)", "UPDATE users SET updated_at = 'now', last_login_at = 'now' WHERE id = 'u' RETURNING id"),
    ("ACS: login event", "INSERT INTO login_events (id, provider, at, outcome, reason, login, correlation_id) VALUES ('e', 'bench', 'now', 'success', '', 'u', 'c')"),
    ("verify: session", "SELECT user_id FROM sessions WHERE id_hash = 'h'"),
    ("purge: requests", "DELETE FROM saml_requests WHERE expires_at <= 0"),
    ("purge: assertions", "DELETE FROM saml_assertions WHERE expires_at <= 0"),
    // A scan by design, once a minute: an index on last_seen_at would be
    // updated by every touch, the most frequent write (migration 0009).
    ("purge: idle sessions (scan)", "DELETE FROM sessions WHERE last_seen_at <= 0"),
    ("touch: last uses", "UPDATE sessions SET last_seen_at = t.column2 FROM (VALUES ('h', 1)) AS t WHERE sessions.id_hash = t.column1 AND sessions.last_seen_at < t.column2"),
];

/// The statement that finds the groups a login names (case-sensitive
/// providers), which each store writes with its own JSON function.
const GROUPS_AMONG_SQLITE: (&str, &str) = (
    "ACS: groups the login names",
    r#"SELECT name FROM groups WHERE name IN (SELECT value FROM json_each('["eng","ops"]'))"#,
);
const GROUPS_AMONG_POSTGRES: (&str, &str) = (
    "ACS: groups the login names",
    r#"SELECT name FROM groups WHERE name = ANY(ARRAY(SELECT json_array_elements_text('["eng","ops"]'::json)))"#,
);

async fn print_plans(database_url: &str) {
    use sqlx::{Connection, Row};
    println!(
        "\nquery plans, {} with the stored rows:",
        if database_url.starts_with("sqlite") {
            "SQLite (EXPLAIN QUERY PLAN)"
        } else {
            "PostgreSQL (EXPLAIN)"
        }
    );
    if database_url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        for (what, q) in LOGIN_QUERIES.iter().chain([&GROUPS_AMONG_SQLITE]) {
            let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {q}"))
                .fetch_all(&mut c)
                .await
                .unwrap();
            let plan: Vec<String> = rows.iter().map(|r| r.get::<String, _>("detail")).collect();
            println!("- {what}: {}", plan.join("; "));
        }
    } else {
        let mut c = sqlx::PgConnection::connect(database_url).await.unwrap();
        sqlx::query("ANALYZE").execute(&mut c).await.unwrap();
        for (what, q) in LOGIN_QUERIES.iter().chain([&GROUPS_AMONG_POSTGRES]) {
            let rows = sqlx::query(&format!("EXPLAIN {q}"))
                .fetch_all(&mut c)
                .await
                .unwrap();
            let plan: Vec<String> = rows
                .iter()
                .map(|r| r.get::<String, _>(0).trim().to_owned())
                .collect();
            println!("- {what}: {}", plan.join(" / "));
        }
    }
}

async fn seed_stored(url: &str, n: usize) {
    let store = Store::connect(url).await.unwrap();
    let t = Instant::now();
    seed::many(&store, 0..n, |s, i| async move {
        let u = seed::user(i);
        s.insert_user(&u, &[]).await.unwrap();
        s.insert_session(&seed::session(i, &u.id)).await.unwrap();
        s.remember_assertion(
            &format!("_stored{i}"),
            PROVIDER,
            seed::session(i, "").expires_at,
        )
        .await
        .unwrap();
    })
    .await;
    // An organisation's groups too, one per ten users: a login must not
    // read them all to find the few it names.
    seed::many(&store, 0..n / 10, |s, i| async move {
        let name = format!("group{i:06}");
        let g = GroupWrite {
            name: &name,
            description: "",
            at: "2026-01-01T00:00:00Z",
            actor: "bench",
            managed_by: "",
        };
        s.put_group(&g, Precondition::None).await.unwrap();
    })
    .await;
    eprintln!(
        "stored {n} users, sessions and assertion IDs and {} groups in {:.0}s",
        n / 10,
        t.elapsed().as_secs_f64()
    );
    store.close().await;
}

struct Row {
    backend: &'static str,
    empty: Measured,
    full: Measured,
}

async fn run_backend(backend: &'static str, pg: Option<String>, keys: &Keys) -> Row {
    let logins = env_or("BENCH_LOGINS", 1000usize);
    let stored = env_or("BENCH_STORED", 100_000usize);
    let concurrency = env_or("BENCH_CONCURRENCY", 16usize);
    let seconds = env_or("BENCH_SECONDS", 3.0f64);
    let (dir, url, env) = Server::prepare(pg);
    let server = Server::start(dir, url.clone(), env, &[]);
    let token = server.token();
    let r = reqwest::Client::new()
        .put(format!("{}/api/v1/sso-settings/{PROVIDER}", server.url))
        .bearer_auth(&token)
        .json(&json!({"settings": settings(keys)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let empty = measure(&server, keys, logins, concurrency, seconds).await;
    seed_stored(&url, stored).await;
    let full = measure(&server, keys, logins, concurrency, seconds).await;
    print_plans(&url).await;
    server.stop();
    Row {
        backend,
        empty,
        full,
    }
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let (idp_key, idp_cert) = key_and_cert("whole-login bench IdP");
    let (sp_key, sp_cert) = key_and_cert("whole-login bench SP");
    let keys = Keys {
        idp_key,
        idp_cert,
        sp_key,
        sp_cert,
    };
    let mut rows = vec![run_backend("sqlite", None, &keys).await];
    if common::with_postgres() {
        let url = postgres::fresh_database().await;
        rows.push(run_backend("postgres", Some(url), &keys).await);
    }
    let logins = env_or("BENCH_LOGINS", 1000usize);
    let stored = env_or("BENCH_STORED", 100_000usize);
    let concurrency = env_or("BENCH_CONCURRENCY", 16usize);
    println!("\nwhole SP-initiated logins: {logins} per measurement, {concurrency} at a time, AuthnRequests {}, pysaml2-signed responses (RSA-2048, Response + Assertion signed), server in release on loopback, 2-core machine shared by server and client\n", if sign_requests() { "signed (RSA-2048)" } else { "unsigned (the default)" });
    println!("| backend | stored users/sessions/assertions | logins/s | server CPU ms/login | client CPU ms/login | GET ms | ACS ms | validation alone, responses/s (1 thread) | logins/s ÷ validation/s | CPU/login ÷ CPU/validation |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        for (n, m) in [(0, &r.empty), (stored, &r.full)] {
            println!(
                "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} | {:.2} | {:.1} |",
                r.backend,
                n,
                m.logins_per_sec,
                m.cpu_ms_per_login,
                m.client_cpu_ms_per_login,
                m.get_ms,
                m.acs_ms,
                m.validation_per_sec,
                m.logins_per_sec / m.validation_per_sec,
                m.cpu_ms_per_login / (1000.0 / m.validation_per_sec)
            );
        }
        println!(
            "| {} | full ÷ empty logins/s | {:.2} | | | | | | | |",
            r.backend,
            r.full.logins_per_sec / r.empty.logins_per_sec
        );
    }
    // What the target (logins at half the one-thread validation rate) leaves
    // of this machine per login, once what no server can avoid is paid: the
    // load generator's CPU, the validation itself and two HTTP exchanges at
    // the `/healthz` floor. The rest is all a login may spend on its logic
    // and storage (on PostgreSQL the database's own CPU comes out of it too).
    let cores = std::thread::available_parallelism().map_or(2, usize::from) as f64;
    println!("\nmachine budget per login at the target (0.5x validation alone), {cores} cores shared by server, client and database, ms of CPU:\n");
    println!("| backend | stored | budget | client (measured) | validation | 2 HTTP exchanges at the /healthz floor | left for login logic and storage | the server and database spend on them now | of which PostgreSQL's processes |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        for (n, m) in [(0, &r.empty), (stored, &r.full)] {
            let budget = 1000.0 * cores / (0.5 * m.validation_per_sec);
            let validation = 1000.0 / m.validation_per_sec;
            let http = 2.0 * m.floor_cpu_ms_per_request;
            println!(
                "| {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
                r.backend,
                n,
                budget,
                m.client_cpu_ms_per_login,
                validation,
                http,
                budget - m.client_cpu_ms_per_login - validation - http,
                m.cpu_ms_per_login + m.db_cpu_ms_per_login - validation - http,
                m.db_cpu_ms_per_login,
            );
        }
    }
}
