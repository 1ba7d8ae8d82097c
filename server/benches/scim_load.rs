//! SCIM provisioning benchmark, on SQLite and PostgreSQL: the release server
//! in its own process, loaded over loopback by this process with several
//! connections. Measured: creating users through `POST /scim/v2/Users`,
//! creating groups and adding 100 members to each through `PATCH
//! /scim/v2/Groups/{id}` (10 members per PATCH, as Entra ID batches them),
//! and, with 100,000 users stored, the `userName eq` filter lookup — with
//! its query plan (EXPLAIN) printed. Peers measured in the same run: the
//! admin API's user create (`POST /api/v1/users`) for the writes, a read by
//! id (`GET /scim/v2/Users/{id}`) for the lookup, and `/healthz` (the
//! server's HTTP floor) for both.
//!
//! Run: `cargo bench -p ssoplane-server --bench scim_load` (PostgreSQL
//! server binaries on PATH for the PostgreSQL rows). Options via env:
//! BENCH_USERS (default 10000; groups = users / 100), BENCH_CONNECTIONS
//! (default 16), BENCH_LOOKUPS (default 2000).

mod common;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use ssoplane_testkit::ports::free_port;
use ssoplane_testkit::postgres;
use ssoplane_testkit::server::Process;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Users stored when the lookup is timed.
const STORED: usize = 100_000;
const MEMBERS_PER_GROUP: usize = 100;
const MEMBERS_PER_PATCH: usize = 10;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Throughput and latency of one phase.
#[derive(Debug, Clone, Copy)]
struct Measure {
    per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn measure(mut latencies: Vec<Duration>, items: usize, wall: Duration) -> Measure {
    latencies.sort();
    let at = |q: f64| {
        let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i].as_secs_f64() * 1000.0
    };
    Measure {
        per_s: items as f64 / wall.as_secs_f64(),
        p50_ms: at(0.50),
        p99_ms: at(0.99),
    }
}

struct Server {
    _process: Process,
    url: String,
    database_url: String,
    scim: String,
    admin: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(database_url: Option<String>) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let database_url = database_url
            .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("ssoplane.db").display()));
        let env = [
            ("SSOPLANE__SERVER__LOG_LEVEL", "warn".to_owned()),
            ("SSOPLANE_SECRET_KEY", "d".repeat(64)),
        ];
        let cli = |args: &[&str]| {
            let mut c = Command::new(common::bin());
            c.current_dir(dir.path())
                .args(args)
                .args(["--database-url", &database_url]);
            for (k, v) in &env {
                c.env(k, v);
            }
            c
        };
        let token = |args: &[&str]| {
            let out = cli(args).output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap().trim().to_owned()
        };
        let scim = token(&[
            "token",
            "create",
            "--name",
            "bench-scim",
            "--role",
            "scim",
            "--provider",
            "entra",
        ]);
        let admin = token(&["token", "create", "--name", "bench", "--role", "admin"]);
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let mut serve = cli(&["serve", "--listen", &format!("127.0.0.1:{port}")]);
        serve.stdout(Stdio::null()).stderr(Stdio::null());
        let process = Process::start(serve, &url, None);
        Server {
            _process: process,
            url,
            database_url,
            scim,
            admin,
            _dir: dir,
        }
    }
}

/// One request of a phase: method, path, body; the answer must have `status`.
#[derive(Clone)]
struct Req {
    method: reqwest::Method,
    path: String,
    body: Option<Value>,
    status: u16,
}

/// Runs `reqs` over `connections` concurrent connections with `token`;
/// returns the latencies, the wall time and the response bodies in order.
async fn run(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    reqs: Vec<Req>,
    connections: usize,
) -> (Vec<Duration>, Duration, Vec<Value>) {
    let reqs = Arc::new(reqs);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (reqs, next, http) = (reqs.clone(), next.clone(), http.clone());
        let (url, token) = (url.to_owned(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(r) = reqs.get(i) else { break };
                let mut b = http
                    .request(r.method.clone(), format!("{url}{}", r.path))
                    .bearer_auth(&token);
                if let Some(body) = &r.body {
                    b = b
                        .header("content-type", "application/scim+json")
                        .body(body.to_string());
                }
                let t = Instant::now();
                let resp = b.send().await.unwrap();
                let status = resp.status().as_u16();
                let text = resp.text().await.unwrap();
                let took = t.elapsed();
                assert_eq!(status, r.status, "{} {}: {text}", r.method, r.path);
                let body = serde_json::from_str(&text).unwrap_or(Value::Null);
                out.push((i, took, body));
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let wall = started.elapsed();
    all.sort_by_key(|(i, _, _)| *i);
    let latencies = all.iter().map(|(_, d, _)| *d).collect();
    let bodies = all.into_iter().map(|(_, _, b)| b).collect();
    (latencies, wall, bodies)
}

fn get(path: String) -> Req {
    Req {
        method: reqwest::Method::GET,
        path,
        body: None,
        status: 200,
    }
}

/// Stores users up to [`STORED`] straight into the database (the lookup is
/// timed against a full table, not the provisioning speed), then ANALYZE.
async fn seed(database_url: &str, have: usize) {
    let more = STORED.saturating_sub(have);
    let now = "2026-01-01T00:00:00.000Z";
    let sql = format!(
        "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {more}) \
         INSERT INTO users (id, login, email, name, external_uid, provider, role, is_admin, disabled, \
         created_at, updated_at, created_by, scim_provider, scim_json, version) \
         SELECT 'seed-' || CAST(n AS TEXT), 'seed-' || CAST(n AS TEXT) || '@bench.example', \
         'seed-' || CAST(n AS TEXT) || '@bench.example', 'Seed User', 'oid-seed-' || CAST(n AS TEXT), \
         'scim', 'none', FALSE, FALSE, '{now}', '{now}', 'bench-scim', 'entra', '{{}}', 1 FROM s"
    );
    if database_url.starts_with("sqlite:") {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        sqlx::query(&sql).execute(&mut c).await.unwrap();
        sqlx::query("ANALYZE").execute(&mut c).await.unwrap();
    } else {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(database_url).await.unwrap();
        sqlx::query(&sql).execute(&mut c).await.unwrap();
        sqlx::query("ANALYZE users").execute(&mut c).await.unwrap();
    }
}

struct Row {
    backend: &'static str,
    healthz: Measure,
    scim_users: Measure,
    api_users: Measure,
    groups: Measure,
    members: Measure,
    lookup: Measure,
    by_id: Measure,
    plan: Vec<String>,
}

async fn run_backend(
    backend: &'static str,
    database_url: Option<String>,
    users: usize,
    connections: usize,
    lookups: usize,
) -> Row {
    let s = Server::start(database_url);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap();
    let scim = format!("{}/scim/v2", s.url);

    let (l, w, _) = run(
        &http,
        &s.url,
        "",
        (0..users).map(|_| get("/healthz".into())).collect(),
        connections,
    )
    .await;
    let healthz = measure(l, users, w);

    let creates = (0..users)
        .map(|i| Req {
            method: reqwest::Method::POST,
            path: "/Users".into(),
            body: Some(json!({
                "schemas": [USER], "userName": format!("user{i}@corp.example"),
                "externalId": format!("oid-{i}"), "active": true, "displayName": format!("User {i}"),
                "emails": [{"value": format!("user{i}@corp.example"), "type": "work", "primary": true}],
                "name": {"givenName": "User", "familyName": format!("{i}")},
            })),
            status: 201,
        })
        .collect();
    let (l, w, bodies) = run(&http, &scim, &s.scim, creates, connections).await;
    let scim_users = measure(l, users, w);
    let ids: Vec<String> = bodies
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_owned())
        .collect();

    let api_creates = (0..users)
        .map(|i| Req {
            method: reqwest::Method::POST,
            path: "/api/v1/users".into(),
            body: Some(json!({
                "login": format!("api{i}@corp.example"), "email": format!("api{i}@corp.example"),
                "name": format!("Api {i}"),
            })),
            status: 201,
        })
        .collect();
    let (l, w, _) = run(&http, &s.url, &s.admin, api_creates, connections).await;
    let api_users = measure(l, users, w);

    let groups = users / MEMBERS_PER_GROUP;
    let group_creates = (0..groups)
        .map(|g| Req {
            method: reqwest::Method::POST,
            path: "/Groups".into(),
            body: Some(
                json!({"schemas": [GROUP], "displayName": format!("group-{g}"), "members": []}),
            ),
            status: 201,
        })
        .collect();
    let (l, w, bodies) = run(&http, &scim, &s.scim, group_creates, connections).await;
    let group_measure = measure(l, groups, w);
    let group_ids: Vec<String> = bodies
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_owned())
        .collect();
    // Batches interleaved across groups, so concurrent PATCHes mostly hit
    // different groups, as a provisioning cycle does.
    let mut patches = Vec::new();
    for batch in 0..MEMBERS_PER_GROUP / MEMBERS_PER_PATCH {
        for (g, gid) in group_ids.iter().enumerate() {
            let first = g * MEMBERS_PER_GROUP + batch * MEMBERS_PER_PATCH;
            let members: Vec<Value> = ids[first..first + MEMBERS_PER_PATCH]
                .iter()
                .map(|id| json!({"value": id}))
                .collect();
            patches.push(Req {
                method: reqwest::Method::PATCH,
                path: format!("/Groups/{gid}"),
                body: Some(json!({"schemas": [PATCH_OP], "Operations": [
                    {"op": "Add", "path": "members", "value": members}]})),
                status: 204,
            });
        }
    }
    let (l, w, _) = run(&http, &scim, &s.scim, patches, connections).await;
    let members = measure(l, groups * MEMBERS_PER_GROUP, w);
    let check = run(
        &http,
        &scim,
        &s.scim,
        vec![get(format!("/Groups/{}", group_ids[groups - 1]))],
        1,
    )
    .await;
    assert_eq!(
        check.2[0]["members"].as_array().map(Vec::len),
        Some(MEMBERS_PER_GROUP),
        "every member added"
    );

    // The lookup, with 100,000 users stored, one connection: its latency.
    seed(&s.database_url, 2 * users).await;
    let step = (STORED - 2 * users).max(1) / lookups.max(1);
    let lookup_reqs = (0..lookups)
        .map(|i| {
            get(format!(
                "/Users?filter=userName+eq+%22seed-{}%40bench.example%22",
                1 + (i * step.max(1)) % (STORED - 2 * users).max(1)
            ))
        })
        .collect();
    let (l, w, bodies) = run(&http, &scim, &s.scim, lookup_reqs, 1).await;
    assert!(bodies.iter().all(|b| b["totalResults"] == 1));
    let lookup = measure(l, lookups, w);
    let by_id_reqs = (0..lookups)
        .map(|i| get(format!("/Users/{}", ids[i % ids.len()])))
        .collect();
    let (l, w, _) = run(&http, &scim, &s.scim, by_id_reqs, 1).await;
    let by_id = measure(l, lookups, w);

    let store = ssoplane_server::store::Store::connect(&s.database_url)
        .await
        .unwrap();
    let plan = store
        .explain_scim_user_by_login("entra", "seed-1@bench.example")
        .await
        .unwrap();
    store.close().await;
    Row {
        backend,
        healthz,
        scim_users,
        api_users,
        groups: group_measure,
        members,
        lookup,
        by_id,
        plan,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let users = env_or("BENCH_USERS", 10_000).max(MEMBERS_PER_GROUP) / MEMBERS_PER_GROUP
        * MEMBERS_PER_GROUP;
    let connections = env_or("BENCH_CONNECTIONS", 16).max(1);
    let lookups = env_or("BENCH_LOOKUPS", 2000).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut rows = vec![rt.block_on(run_backend("sqlite", None, users, connections, lookups))];
    if common::with_postgres() {
        let url = rt.block_on(postgres::fresh_database());
        rows.push(rt.block_on(run_backend(
            "postgres",
            Some(url),
            users,
            connections,
            lookups,
        )));
    }

    println!(
        "\nSCIM provisioning: {users} users, {} groups x {MEMBERS_PER_GROUP} members ({MEMBERS_PER_PATCH} per PATCH), {connections} connections from a second process over loopback, 2-core machine shared by server and client\n",
        users / MEMBERS_PER_GROUP
    );
    println!("| backend | phase | per s | p50 ms | p99 ms | vs peer (per s) | peer |");
    println!("|---|---|---|---|---|---|---|");
    for r in &rows {
        let line = |name: &str, m: Measure, peer: Option<(&str, Measure)>| {
            let (ratio, peer_name) = peer
                .map(|(n, p)| (format!("{:.2}", m.per_s / p.per_s), n.to_owned()))
                .unwrap_or_default();
            println!(
                "| {} | {name} | {:.0} | {:.2} | {:.2} | {ratio} | {peer_name} |",
                r.backend, m.per_s, m.p50_ms, m.p99_ms
            );
        };
        line("GET /healthz", r.healthz, None);
        line(
            "POST /api/v1/users (admin API)",
            r.api_users,
            Some(("/healthz", r.healthz)),
        );
        line(
            "POST /scim/v2/Users (users/s)",
            r.scim_users,
            Some(("admin API create", r.api_users)),
        );
        line("POST /scim/v2/Groups (groups/s)", r.groups, None);
        line(
            "PATCH Groups add members (members/s)",
            r.members,
            Some(("SCIM user create", r.scim_users)),
        );
        line(
            &format!("GET userName eq, {STORED} users stored, 1 connection"),
            r.lookup,
            Some(("GET /Users/{id}", r.by_id)),
        );
        line("GET /scim/v2/Users/{id}, 1 connection", r.by_id, None);
    }
    for r in &rows {
        println!("\n{} query plan of the userName eq lookup:", r.backend);
        for l in &r.plan {
            println!("    {l}");
        }
    }
}
