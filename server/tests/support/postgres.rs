//! A real PostgreSQL for tests: one throw-away cluster per test process on a
//! free loopback port (initdb + postgres from PATH), one fresh database per
//! test. `SSOPLANE_TEST_POSTGRES_URL` points the tests at an existing server
//! instead. As root, postgres runs as the `postgres` user (it refuses root).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static BASE_URL: OnceLock<String> = OnceLock::new();

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn postgres_user() -> Option<(u32, u32)> {
    let id = |flag: &str, who: Option<&str>| -> Option<u32> {
        let out = Command::new("id").arg(flag).args(who).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    // initdb refuses to run as root: drop to the postgres user when root.
    if id("-u", None)? != 0 {
        return None;
    }
    Some((id("-u", Some("postgres"))?, id("-g", Some("postgres"))?))
}

/// `program` run as the postgres user (when we are root) and, when
/// `die_with_parent`, stopped by SIGINT when the spawning thread ends: both
/// through util-linux's setpriv, so this harness needs no `unsafe`.
fn postgres_command(program: &str, ids: Option<(u32, u32)>, die_with_parent: bool) -> Command {
    let mut cmd = Command::new("setpriv");
    if let Some((uid, gid)) = ids {
        cmd.arg(format!("--reuid={uid}"))
            .arg(format!("--regid={gid}"))
            .arg("--clear-groups");
    }
    if die_with_parent {
        cmd.arg("--pdeathsig=INT");
    }
    cmd.arg("--").arg(program);
    cmd
}

fn start_cluster() -> String {
    let ids = postgres_user();
    let dir: PathBuf = tempfile::Builder::new()
        .prefix("ssoplane-pg-")
        .tempdir()
        .unwrap()
        .keep();
    let data = dir.join("data");
    if let Some((uid, gid)) = ids {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
    }
    let mut initdb = postgres_command("initdb", ids, false);
    initdb.args([
        "-D",
        data.to_str().unwrap(),
        "-U",
        "postgres",
        "--auth=trust",
        "--no-sync",
        "-E",
        "UTF8",
    ]);
    initdb.stdout(Stdio::null()).stderr(Stdio::null());
    let status = initdb
        .status()
        .expect("initdb on PATH (PostgreSQL server binaries)");
    assert!(status.success(), "initdb failed");
    let port = free_port();
    let (tx, rx) = std::sync::mpsc::channel();
    let data_s = data.to_str().unwrap().to_owned();
    let sock = dir.to_str().unwrap().to_owned();
    // PR_SET_PDEATHSIG fires when the spawning *thread* ends, so spawn from a
    // thread that lives as long as the test process: postgres stops with it.
    std::thread::spawn(move || {
        let mut pg = postgres_command("postgres", ids, true);
        pg.args([
            "-D",
            &data_s,
            "-p",
            &port.to_string(),
            "-k",
            &sock,
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=200",
        ]);
        pg.stdout(Stdio::null()).stderr(Stdio::null());
        let mut child = pg.spawn().expect("postgres on PATH");
        tx.send(child.id()).unwrap();
        let _ = child.wait();
    });
    rx.recv().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "postgres did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Accepting TCP is not yet accepting logins; wait for the startup to finish.
    std::thread::sleep(Duration::from_millis(300));
    format!("postgres://postgres@127.0.0.1:{port}")
}

fn base_url() -> &'static str {
    BASE_URL.get_or_init(|| {
        std::env::var("SSOPLANE_TEST_POSTGRES_URL").unwrap_or_else(|_| start_cluster())
    })
}

/// A new, empty database on the test cluster; returns its URL.
pub async fn fresh_database() -> String {
    use sqlx::Connection;
    let base = base_url().trim_end_matches('/').to_owned();
    let admin_url = format!("{base}/postgres");
    let name = format!("t_{}", uuid_like());
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut conn = loop {
        match sqlx::PgConnection::connect(&admin_url).await {
            Ok(c) => break c,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("cannot reach test postgres: {e}"),
        }
    };
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    format!("{base}/{name}")
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn is_available() -> bool {
    Path::new("/usr/lib/postgresql").exists() || which("initdb")
}

fn which(bin: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).exists()))
}
