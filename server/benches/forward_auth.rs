//! Forward auth benchmark: `GET /auth/verify` with a valid session cookie,
//! as every protected page pays for it, on SQLite and PostgreSQL, with 1,
//! 1,000 and 100,000 distinct live sessions stored and used (each request
//! picks one at random), loaded by `wrk` (a second process) over loopback.
//! Peers in the same run: the server's own `/healthz` (its HTTP floor,
//! loaded with the same cookies by the same script) and nginx serving a
//! small static file. Printed: req/s, p99, ratios, the server's RSS after
//! each step and its peak.
//!
//! Each step first visits every session once (not measured), so the figure
//! is the steady state of a server whose users are signed in; the cold
//! misses are the store's lookups measured by the issue before the cache.
//! Then `/healthz` and `/auth/verify` are measured in alternation,
//! BENCH_ROUNDS times (default 3), and the median of the per-round ratios is
//! printed: on a shared 2-core machine the floor drifts by several percent
//! between runs, and one `/healthz` figure for the whole backend would put
//! that drift into every ratio.
//!
//! Run: `cargo bench -p ssoplane-server --bench forward_auth` (needs wrk;
//! nginx optional; PostgreSQL server binaries for the PostgreSQL rows).
//! Options via env: BENCH_SECONDS (default 5), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS (default
//! 32), BENCH_SESSIONS (largest step, default 100000).

mod common;

use std::path::Path;

use common::{env_or, seed, Measure, Server};
use ssoplane_server::store::Store;
use ssoplane_testkit::postgres;

/// A wrk script sending `GET {path}` with one of `n` session cookies,
/// picked at random per request. The peer (`/healthz`) gets the same script:
/// wrk shares the two cores with the server, and a scripted request costs
/// wrk about a third more CPU than a static one, which a static `/healthz`
/// would leave to the server and count against `/auth/verify`.
fn script(work: &Path, path: &str, n: usize) -> std::path::PathBuf {
    let file = work.join(format!("{}{n}.lua", path.replace('/', "_")));
    std::fs::write(
        &file,
        format!(
            "local n = {n}\nmath.randomseed(7)\n\
             request = function()\n  local i = math.random(0, n - 1)\n  return wrk.format(\"GET\", \"{path}\", {{[\"Cookie\"] = \"ssoplane_session=\" .. string.format(\"bench%06d\", i)}})\nend\n"
        ),
    )
    .unwrap();
    file
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
    /// The round with the median ratio: (`/healthz`, `/auth/verify`).
    median: (Measure, Measure),
    /// Lowest and highest ratio of the rounds.
    spread: (f64, f64),
    rss: f64,
}

struct Row {
    backend: &'static str,
    steps: Vec<Step>,
    peak: f64,
}

fn ratio(round: &(Measure, Measure)) -> f64 {
    round.1.rps / round.0.rps
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
    let rounds = env_or("BENCH_ROUNDS", 3usize).max(1);
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
        // The cache is used only once the store's bus is current (on
        // PostgreSQL, after the first heartbeat): until then, visit again.
        let mut cached = 0.0;
        for _ in 0..50 {
            rt.block_on(visit_each(&server.url, n, connections as usize));
            cached = cached_sessions(&server.url);
            if cached >= n as f64 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        // Same script, same cookies, one path apart.
        let load = |path: &str| {
            let lua = script(work, path, n);
            common::wrk(
                &format!("{}{path}", server.url),
                Some(&lua),
                &[],
                seconds,
                connections,
            )
        };
        let mut measured: Vec<(Measure, Measure)> = (0..rounds)
            .map(|_| (load("/healthz"), load("/auth/verify")))
            .collect();
        measured.sort_by(|a, b| ratio(a).total_cmp(&ratio(b)));
        steps.push(Step {
            sessions: n,
            cached,
            spread: (ratio(&measured[0]), ratio(&measured[measured.len() - 1])),
            median: measured.swap_remove(measured.len() / 2),
            rss: common::rss_mib(server.pid()),
        });
    }
    let peak = common::peak_rss_mib(server.pid());
    rt.block_on(store.close());
    server.stop();
    Row {
        backend,
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
    if common::with_postgres() {
        let url = rt.block_on(postgres::fresh_database());
        rows.push(run_backend("postgres", Some(url), &rt, work.path()));
    }
    // The size of a typical X-Auth answer's headers, as a static body.
    let nginx = common::nginx_static(seconds, connections, work.path(), "verify.txt", "ok\n");

    let rounds = env_or("BENCH_ROUNDS", 3usize).max(1);
    println!("\nforward auth: wrk -t1 -c{connections} -d{seconds}s on loopback, 2-core machine shared by server and load generator; /healthz and /auth/verify alternate {rounds} times per step, the round with the median ratio is shown\n");
    println!("| backend | sessions | cached after warm-up | /healthz req/s | /auth/verify req/s | p99 ms | vs /healthz (median) | lowest-highest | vs nginx static | RSS after, MiB |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let vs_nginx = |m: &Measure| {
        nginx
            .map(|n| format!("{:.2}", m.rps / n.rps))
            .unwrap_or_else(|| "n/a".into())
    };
    for r in &rows {
        for s in &r.steps {
            let (healthz, verify) = &s.median;
            println!(
                "| {} | {} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2}-{:.2} | {} | {:.1} |",
                r.backend,
                s.sessions,
                s.cached,
                healthz.rps,
                verify.rps,
                verify.p99_ms,
                verify.rps / healthz.rps,
                s.spread.0,
                s.spread.1,
                vs_nginx(verify),
                s.rss
            );
        }
        println!(
            "| {} | peak RSS {:.1} MiB | | | | | | | | |",
            r.backend, r.peak
        );
    }
    if let Some(n) = nginx {
        println!(
            "| peer | nginx static file | | | {:.0} | {:.2} | | | 1.00 | |",
            n.rps, n.p99_ms
        );
    }
}
