//! Memory soak: the server's RSS after 1, 2 and 4 million `/healthz`
//! requests (each recorded in the request metrics), once with nobody
//! scraping `/metrics` and once with a scrape every 5 s, each on a fresh
//! server (SQLite). Flat means the RSS after 4 M is about the RSS after 1 M:
//! printed as that ratio, and against the other run of the same bench.
//!
//! Run: `cargo bench -p ssoplane-server --bench memory_soak` (needs wrk).
//! Options via env: BENCH_SOAK_MILLIONS (the last step, default 4; the
//! steps are a quarter, a half and all of it), BENCH_CONNECTIONS (default 32).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{env_or, Server};

struct Run {
    scraped: bool,
    start_rss: f64,
    /// (requests so far, RSS MiB)
    steps: Vec<(u64, f64)>,
    rps: f64,
    scrapes: u64,
}

fn soak(scraped: bool, total: u64, connections: u32) -> Run {
    let (dir, url, env) = Server::prepare(None);
    let server = Server::start(dir, url, env, &[]);
    let start_rss = common::rss_mib(server.pid());
    let stop = Arc::new(AtomicBool::new(false));
    let scraper = scraped.then(|| {
        let (stop, url) = (Arc::clone(&stop), format!("{}/metrics", server.url));
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let ok = std::process::Command::new("curl")
                    .args(["-sf", "-o", "/dev/null", &url])
                    .status()
                    .map(|s| s.success())
                    .unwrap_or(false);
                assert!(ok, "scrape failed");
                n += 1;
                let until = Instant::now() + Duration::from_secs(5);
                while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            n
        })
    });
    let marks = [total / 4, total / 2, total];
    let mut done = 0u64;
    let mut steps = Vec::new();
    let began = Instant::now();
    for mark in marks {
        while done < mark {
            let m = common::wrk(
                &format!("{}/healthz", server.url),
                None,
                &[],
                5,
                connections,
            );
            assert!(m.requests > 0, "no requests served");
            done += m.requests;
        }
        steps.push((done, common::rss_mib(server.pid())));
    }
    let rps = done as f64 / began.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let scrapes = scraper.map(|t| t.join().unwrap()).unwrap_or(0);
    server.stop();
    Run {
        scraped,
        start_rss,
        steps,
        rps,
        scrapes,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let millions = env_or("BENCH_SOAK_MILLIONS", 4.0f64);
    let total = (millions * 1_000_000.0) as u64;
    let connections = env_or("BENCH_CONNECTIONS", 32u32);
    let runs = [
        soak(false, total, connections),
        soak(true, total, connections),
    ];
    println!("\nmemory soak: /healthz under wrk -t1 -c{connections} (5 s slices), RSS of the server (SQLite), 2-core machine shared by server and load generator\n");
    println!("| /metrics scraped | RSS at start | after ~{:.2} M | after ~{:.2} M | after ~{:.2} M | last / first step | req/s |",
        millions / 4.0, millions / 2.0, millions);
    println!("|---|---|---|---|---|---|---|");
    for r in &runs {
        println!(
            "| {} | {:.1} MiB | {:.1} MiB ({:.2} M) | {:.1} MiB ({:.2} M) | {:.1} MiB ({:.2} M) | {:.2} | {:.0} |",
            if r.scraped {
                format!("every 5 s ({} scrapes)", r.scrapes)
            } else {
                "never".to_owned()
            },
            r.start_rss,
            r.steps[0].1,
            r.steps[0].0 as f64 / 1e6,
            r.steps[1].1,
            r.steps[1].0 as f64 / 1e6,
            r.steps[2].1,
            r.steps[2].0 as f64 / 1e6,
            r.steps[2].1 / r.steps[0].1,
            r.rps
        );
    }
    println!(
        "\nunscraped / scraped RSS after the last step: {:.2}",
        runs[0].steps[2].1 / runs[1].steps[2].1
    );
}
