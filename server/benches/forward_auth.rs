//! Forward auth benchmark: `GET /auth/verify` with a valid session cookie,
//! as every protected page pays for it, on SQLite and PostgreSQL, with 1,
//! 1,000 and 100,000 distinct live sessions stored and used (each request
//! picks one at random), loaded by `wrk` (a second process) over loopback.
//! Peers in the same run: the server's own `/healthz` (its HTTP floor) and
//! nginx serving a small static file. Printed: req/s, p99, ratios, the
//! server's RSS after each step and its peak.
//!
//! Each step first visits every session once (not measured), so the figure
//! is the steady state of a server whose users are signed in; the cold
//! misses are the store's lookups measured by the issue before the cache.
//!
//! Run: `cargo bench -p ssoplane-server --bench forward_auth` (needs wrk;
//! nginx optional; PostgreSQL server binaries for the PostgreSQL rows).
//! Options via env: BENCH_SECONDS (default 5), BENCH_CONNECTIONS (default
//! 32), BENCH_SESSIONS (largest step, default 100000).

mod common;

use std::path::Path;

use common::{env_or, seed, Measure, Server};
use ssoplane_server::store::Store;
use ssoplane_testkit::postgres;

/// A wrk script picking one of `n` sessions at random per request.
fn script(work: &Path, name: &str, n: usize) -> std::path::PathBuf {
    let path = work.join(name);
    std::fs::write(
        &path,
        format!(
            "local n = {n}\nmath.randomseed(7)\n\
             request = function()\n  local i = math.random(0, n - 1)\n  return wrk.format(\"GET\", \"/auth/verify\", {{[\"Cookie\"] = \"ssoplane_session=\" .. string.format(\"bench%06d\", i)}})\nend\n"
        ),
    )
    .unwrap();
    path
}

/// Visits each of sessions `0..n` exactly once, `connections` at a time
/// (wrk cannot stop after a number of requests: its main thread always
/// waits out the duration).
async fn visit_each(url: &str, n: usize, connections: usize) {
    let client = reqwest::Client::new();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (client, next, url) = (client.clone(), next.clone(), format!("{url}/auth/verify"));
        set.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return;
                }
                let r = client
                    .get(&url)
                    .header("cookie", format!("ssoplane_session={}", seed::token(i)))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "session {i}");
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
}

/// The server's `ssoplane_session_cache_entries` gauge.
fn cached_sessions(url: &str) -> f64 {
    let out = std::process::Command::new("curl")
        .args(["-sf", &format!("{url}/metrics")])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("ssoplane_session_cache_entries "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

struct Step {
    sessions: usize,
    /// Sessions in the server's cache after the warm-up visit.
    cached: f64,
    verify: Measure,
    rss: f64,
}

struct Row {
    backend: &'static str,
    healthz: Measure,
    steps: Vec<Step>,
    peak: f64,
}

fn run_backend(
    backend: &'static str,
    pg: Option<String>,
    rt: &tokio::runtime::Runtime,
    work: &Path,
) -> Row {
    let seconds = env_or("BENCH_SECONDS", 5u64);
    let connections = env_or("BENCH_CONNECTIONS", 32u32);
    let largest = env_or("BENCH_SESSIONS", 100_000usize);
    let (dir, url, env) = Server::prepare(pg);
    let server = Server::start(dir, url.clone(), env, &[]);
    let store = rt.block_on(Store::connect(&url)).unwrap();
    let user = seed::user(0);
    rt.block_on(store.insert_user(&user, &[])).unwrap();
    let healthz = common::wrk(
        &format!("{}/healthz", server.url),
        None,
        &[],
        seconds,
        connections,
    );
    let mut steps = Vec::new();
    let mut stored = 0;
    for n in [1, 1_000, largest] {
        let uid = user.id.clone();
        rt.block_on(seed::many(&store, stored..n, move |s, i| {
            let row = seed::session(i, &uid);
            async move { s.insert_session(&row).await.unwrap() }
        }));
        stored = n;
        // One visit of each session (the cache fills), then the measurement.
        rt.block_on(visit_each(&server.url, n, connections as usize));
        let cached = cached_sessions(&server.url);
        let random = script(work, &format!("random{n}.lua"), n);
        let verify = common::wrk(
            &format!("{}/auth/verify", server.url),
            Some(&random),
            &[],
            seconds,
            connections,
        );
        steps.push(Step {
            sessions: n,
            cached,
            verify,
            rss: common::rss_mib(server.pid()),
        });
    }
    let peak = common::peak_rss_mib(server.pid());
    rt.block_on(store.close());
    server.stop();
    Row {
        backend,
        healthz,
        steps,
        peak,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let seconds = env_or("BENCH_SECONDS", 5u64);
    let connections = env_or("BENCH_CONNECTIONS", 32u32);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let work = tempfile::tempdir().unwrap();
    let mut rows = vec![run_backend("sqlite", None, &rt, work.path())];
    if postgres::is_available() {
        let url = rt.block_on(postgres::fresh_database());
        rows.push(run_backend("postgres", Some(url), &rt, work.path()));
    }
    // The size of a typical X-Auth answer's headers, as a static body.
    let nginx = common::nginx_static(seconds, connections, work.path(), "verify.txt", "ok\n");

    println!("\nforward auth: wrk -t1 -c{connections} -d{seconds}s on loopback, 2-core machine shared by server and load generator\n");
    println!("| backend | endpoint | sessions | cached after warm-up | req/s | p99 ms | vs /healthz | vs nginx static | RSS after, MiB |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let vs_nginx = |m: &Measure| {
        nginx
            .map(|n| format!("{:.2}", m.rps / n.rps))
            .unwrap_or_else(|| "n/a".into())
    };
    for r in &rows {
        println!(
            "| {} | /healthz | | | {:.0} | {:.2} | 1.00 | {} | |",
            r.backend,
            r.healthz.rps,
            r.healthz.p99_ms,
            vs_nginx(&r.healthz)
        );
        for s in &r.steps {
            println!(
                "| {} | /auth/verify | {} | {:.0} | {:.0} | {:.2} | {:.2} | {} | {:.1} |",
                r.backend,
                s.sessions,
                s.cached,
                s.verify.rps,
                s.verify.p99_ms,
                s.verify.rps / r.healthz.rps,
                vs_nginx(&s.verify),
                s.rss
            );
        }
        println!(
            "| {} | peak RSS | | | {:.1} MiB | | | | |",
            r.backend, r.peak
        );
    }
    if let Some(n) = nginx {
        println!(
            "| peer | nginx static file | | | {:.0} | {:.2} | | 1.00 | |",
            n.rps, n.p99_ms
        );
    }
}
