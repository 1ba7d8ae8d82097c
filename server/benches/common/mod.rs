//! What the load benchmarks share beyond `ssoplane_testkit`: the release
//! server as a child process on SQLite or a fresh PostgreSQL database, `wrk`
//! as the load generator (a second process), nginx serving a static file as
//! the HTTP peer, the server's memory and CPU read from /proc, and stored
//! rows to seed.
#![allow(dead_code)] // each bench uses its own part

use std::path::Path;
use std::process::{Command, Stdio};

use ssoplane_testkit::ports::free_port;
use ssoplane_testkit::server::Process;

pub const BIN: &str = env!("CARGO_BIN_EXE_ssoplane");

/// The server binary the benches start: this build's, or another build's
/// from `BENCH_SERVER_BIN`, to compare two builds in runs that alternate.
pub fn bin() -> String {
    std::env::var("BENCH_SERVER_BIN").unwrap_or_else(|_| BIN.to_owned())
}

pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Whether to run the PostgreSQL rows: its server binaries are there and
/// `BENCH_STORES` (default `sqlite,postgres`) names it.
pub fn with_postgres() -> bool {
    std::env::var("BENCH_STORES").map_or(true, |v| v.split(',').any(|s| s.trim() == "postgres"))
        && ssoplane_testkit::postgres::is_available()
}

#[derive(Debug, Clone, Copy)]
pub struct Measure {
    pub rps: f64,
    pub p99_ms: f64,
    pub requests: u64,
}

fn parse_ms(text: &str) -> f64 {
    let t = text.trim();
    let (num, mult) = if let Some(v) = t.strip_suffix("us") {
        (v, 0.001)
    } else if let Some(v) = t.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = t.strip_suffix('s') {
        (v, 1000.0)
    } else {
        (t, 1.0)
    };
    num.parse::<f64>().unwrap_or(f64::NAN) * mult
}

/// One `wrk -t1` run; panics when any answer was not 2xx/3xx.
pub fn wrk(
    url: &str,
    script: Option<&Path>,
    headers: &[String],
    seconds: u64,
    connections: u32,
) -> Measure {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t",
        "1",
        "-c",
        &connections.to_string(),
        "-d",
        &format!("{seconds}s"),
        "--latency",
    ]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    if let Some(s) = script {
        cmd.args(["-s", s.to_str().unwrap()]);
    }
    cmd.arg(url);
    let out = cmd.output().expect("wrk on PATH (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout);
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map(parse_ms)
        .unwrap_or(f64::NAN);
    let requests = text
        .lines()
        .find_map(|l| {
            l.trim()
                .split_once(" requests in")
                .map(|(n, _)| n.trim().to_owned())
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let non2xx = text.lines().find(|l| l.contains("Non-2xx"));
    assert!(non2xx.is_none(), "errors under load: {text}");
    Measure {
        rps,
        p99_ms: p99,
        requests,
    }
}

fn proc_status_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

pub fn peak_rss_mib(pid: u32) -> f64 {
    proc_status_mib(pid, "VmHWM:")
}

pub fn rss_mib(pid: u32) -> f64 {
    proc_status_mib(pid, "VmRSS:")
}

/// User + system CPU seconds used so far by every live process whose
/// command name is `comm` (e.g. a PostgreSQL server's backends).
#[allow(dead_code)] // not every bench including this module uses it
pub fn cpu_secs_of_all(comm: &str) -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == comm)
        })
        .map(cpu_secs)
        .sum()
}

/// User + system CPU seconds the process has used so far.
pub fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// The release server on one store, run as a child process.
pub struct Server {
    pub url: String,
    pub database_url: String,
    pub process: Process,
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

impl Server {
    /// A data directory and database URL (SQLite in the directory, or a
    /// fresh PostgreSQL database), not yet served.
    pub fn prepare(
        postgres_url: Option<String>,
    ) -> (tempfile::TempDir, String, Vec<(String, String)>) {
        let dir = tempfile::tempdir().unwrap();
        let mut env = vec![
            ("SSOPLANE__SERVER__LOG_LEVEL".to_owned(), "warn".to_owned()),
            ("SSOPLANE_SECRET_KEY".to_owned(), "d".repeat(64)),
        ];
        let url = postgres_url
            .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("ssoplane.db").display()));
        env.push(("SSOPLANE__SERVER__DATABASE_URL".to_owned(), url.clone()));
        (dir, url, env)
    }

    pub fn start(
        dir: tempfile::TempDir,
        database_url: String,
        mut env: Vec<(String, String)>,
        extra_env: &[(&str, &str)],
    ) -> Server {
        for (k, v) in extra_env {
            env.push(((*k).to_owned(), (*v).to_owned()));
        }
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let mut cmd = Command::new(bin());
        cmd.current_dir(dir.path())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--root-url", &url]);
        for (k, v) in &env {
            cmd.env(k, v);
        }
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let process = Process::start(cmd, &url, None);
        Server {
            url,
            database_url,
            process,
            dir,
            env,
        }
    }

    /// An admin API token, created by the CLI on the same database.
    pub fn token(&self) -> String {
        let mut c = Command::new(bin());
        c.current_dir(self.dir.path()).args([
            "token",
            "create",
            "--name",
            &format!("bench{}", free_port()),
            "--role",
            "admin",
        ]);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Kills the server (dropping it does the same).
    pub fn stop(self) {}
}

/// nginx serving `body` as a static file under `name`, loaded like the
/// server: the HTTP peer. None when nginx is not installed.
pub fn nginx_static(
    seconds: u64,
    connections: u32,
    work: &Path,
    name: &str,
    body: &str,
) -> Option<Measure> {
    let nginx = ssoplane_testkit::nginx::find()?;
    let root = work.join("www");
    std::fs::create_dir_all(&root).ok()?;
    std::fs::write(root.join(name), body).ok()?;
    let port = free_port();
    let site = format!(
        "server {{ listen 127.0.0.1:{port}; root {}; location / {{ default_type application/json; }} }}\n",
        root.display()
    );
    let _nginx = ssoplane_testkit::nginx::Nginx::start(nginx, &site, port);
    Some(wrk(
        &format!("http://127.0.0.1:{port}/{name}"),
        None,
        &[],
        seconds,
        connections,
    ))
}

/// Stored rows for the benches, written through the store's own methods.
pub mod seed {
    use ssoplane_server::identity::sessions::{hash, now_secs};
    use ssoplane_server::store::{SessionRow, Store, UserRow};

    pub fn user(i: usize) -> UserRow {
        let now = chrono::Utc::now().to_rfc3339();
        UserRow {
            id: format!("bench-user-{i:06}"),
            login: format!("bench{i:06}"),
            email: format!("bench{i:06}@example.com"),
            name: format!("Bench User {i}"),
            external_uid: format!("bench{i:06}"),
            provider: "bench".into(),
            role: "viewer".into(),
            is_admin: false,
            disabled: false,
            created_at: now.clone(),
            updated_at: now,
            last_login_at: None,
            organizations: vec![ssoplane_schema::api::OrgMembership {
                name: "Engineering".into(),
                role: "viewer".into(),
            }],
            created_by: String::new(),
        }
    }

    /// The cookie value of bench session `i`.
    pub fn token(i: usize) -> String {
        format!("bench{i:06}")
    }

    /// Session `i` of `user_id`, live for a day.
    pub fn session(i: usize, user_id: &str) -> SessionRow {
        let now = now_secs();
        SessionRow {
            id_hash: hash(&token(i)),
            user_id: user_id.to_owned(),
            provider: "bench".into(),
            name_id: format!("bench{i:06}"),
            name_id_format: None,
            name_qualifier: None,
            sp_name_qualifier: None,
            sp_provided_id: None,
            session_index: format!("_idx{i}"),
            created_at: now,
            last_seen_at: now,
            expires_at: now + 86_400,
        }
    }

    /// Runs `each(i)` for `range`, eight at a time (PostgreSQL round trips overlap).
    pub async fn many<F, Fut>(store: &Store, range: std::ops::Range<usize>, each: F)
    where
        F: Fn(Store, usize) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let mut set = tokio::task::JoinSet::new();
        for i in range {
            if set.len() >= 8 {
                set.join_next().await.unwrap().unwrap();
            }
            set.spawn(each(store.clone(), i));
        }
        while let Some(r) = set.join_next().await {
            r.unwrap();
        }
    }
}
