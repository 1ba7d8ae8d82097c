//! A real PostgreSQL for tests: one throw-away cluster per test process
//! (`initdb` + `postgres` in a temporary directory, on a free loopback
//! port), one fresh database per test. The server binaries are found on PATH
//! or under Debian's `/usr/lib/postgresql/<version>/bin` (the newest).
//! `SSOPLANE_TEST_POSTGRES_URL` points the tests at an existing server
//! instead. As root, postgres runs as the `postgres` user (it refuses root).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::ports::{free_port, wait_for_port};

static BASE_URL: OnceLock<String> = OnceLock::new();

/// The directory holding `initdb` and `postgres`: PATH first, then the
/// newest `/usr/lib/postgresql/*/bin`.
pub fn bin_dir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p).find(|d| d.join("initdb").exists() && d.join("postgres").exists())
    });
    on_path.or_else(|| {
        let mut dirs: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let version = e
                    .file_name()
                    .to_str()?
                    .split('.')
                    .map(|n| n.parse().ok())
                    .collect::<Option<Vec<u32>>>()?;
                let bin = e.path().join("bin");
                bin.join("initdb").exists().then_some((version, bin))
            })
            .collect();
        dirs.sort();
        dirs.pop().map(|(_, bin)| bin)
    })
}

/// Whether PostgreSQL can be used: a server to point at, or binaries to start one.
pub fn is_available() -> bool {
    std::env::var_os("SSOPLANE_TEST_POSTGRES_URL").is_some() || bin_dir().is_some()
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
fn postgres_command(program: &Path, ids: Option<(u32, u32)>, die_with_parent: bool) -> Command {
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
    let bin = bin_dir().expect(
        "PostgreSQL server binaries (initdb, postgres) on PATH or under /usr/lib/postgresql",
    );
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
    let mut initdb = postgres_command(&bin.join("initdb"), ids, false);
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
        .expect("initdb (PostgreSQL server binaries)");
    assert!(status.success(), "initdb failed");
    let port = free_port();
    let (tx, rx) = std::sync::mpsc::channel();
    let data_s = data.to_str().unwrap().to_owned();
    let sock = dir.to_str().unwrap().to_owned();
    let postgres = bin.join("postgres");
    // PR_SET_PDEATHSIG fires when the spawning *thread* ends, so spawn from a
    // thread that lives as long as the test process: postgres stops with it.
    std::thread::spawn(move || {
        let mut pg = postgres_command(&postgres, ids, true);
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
        let mut child = pg.spawn().expect("postgres");
        tx.send(child.id()).unwrap();
        let _ = child.wait();
    });
    rx.recv().unwrap();
    assert!(
        wait_for_port(port, Duration::from_secs(30)),
        "postgres did not start"
    );
    // Accepting TCP is not yet accepting logins: `fresh_database` retries
    // its connection until the start-up has finished.
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
    let name = format!("t_{}", unique());
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut conn = loop {
        match sqlx::PgConnection::connect(&admin_url).await {
            Ok(c) => break c,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
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

fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
