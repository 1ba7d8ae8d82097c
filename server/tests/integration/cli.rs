//! The `ssoplane` binary as users run it: the embedded default from nothing,
//! the token CLI, PostgreSQL by flag, config precedence, the secret key check,
//! logs that never hold tokens or keys, and graceful shutdown without torn writes.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use ssoplane_testkit::ports::free_port;
use ssoplane_testkit::server::Process;
use support::key_and_cert;

const BIN: &str = env!("CARGO_BIN_EXE_ssoplane");

/// The server as a child process in `cwd`, its stderr appended to `server.log`.
struct Server {
    process: Process,
    url: String,
    log: PathBuf,
}

impl Server {
    fn command(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
        let log = cwd.join("server.log");
        let mut cmd = Command::new(BIN);
        cmd.current_dir(cwd)
            .args(args)
            .env_remove("SSOPLANE_SECRET_KEY")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .unwrap(),
            );
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    fn start(cwd: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec!["serve", "--listen", &listen];
        args.extend_from_slice(extra);
        let url = format!("http://{listen}");
        let log = cwd.join("server.log");
        let process = Process::start(Self::command(cwd, &args, env), &url, Some(log.clone()));
        Server { process, url, log }
    }

    fn terminate(self) -> std::process::ExitStatus {
        self.process.terminate()
    }
}

fn cli(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd)
        .args(args)
        .env_remove("SSOPLANE_SECRET_KEY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn token(cwd: &Path, name: &str, role: &str, extra: &[&str], env: &[(&str, &str)]) -> String {
    let mut args = vec!["token", "create", "--name", name, "--role", role];
    args.extend_from_slice(extra);
    let out = cli(cwd, &args, env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn client() -> ::reqwest::Client {
    ::reqwest::Client::new()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_default_starts_from_nothing_and_persists() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[], &[]);
    assert!(dir.path().join("data/ssoplane.db").exists());
    let key_file = dir.path().join("data/secret.key");
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let admin = token(dir.path(), "ci", "admin", &[], &[]);
    assert!(admin.starts_with("ssp_"));
    let (key, cert) = key_and_cert();
    let r = client()
        .put(format!("{}/api/v1/sso-settings/okta", server.url))
        .bearer_auth(&admin)
        .json(&json!({"settings": {"name": "Okta", "certificate": cert, "private_key": key}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(server.terminate().success());

    // Restart: the data and the generated key are reused; the secret still decrypts.
    let server = Server::start(dir.path(), &[], &[]);
    let doc: Value = client()
        .get(format!("{}/api/v1/sso-settings/okta", server.url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["settings"]["name"], "Okta");
    assert_eq!(
        doc["settings"]["private_key_fingerprint"],
        ssoplane_schema::secrets::fingerprint(&key)
    );
    let listed = cli(dir.path(), &["token", "list"], &[]);
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed.contains("ci\tadmin") && !listed.contains("ssp_"),
        "{listed}"
    );
    assert!(server.terminate().success());

    // Another key cannot open this database: refuse to start, say why.
    let other_key = "b".repeat(64);
    let out = cli(
        dir.path(),
        &["serve", "--listen", &format!("127.0.0.1:{}", free_port())],
        &[("SSOPLANE_SECRET_KEY", &other_key)],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("another SSOPLANE_SECRET_KEY"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_never_hold_tokens_or_keys_but_carry_correlation_ids() {
    let dir = tempfile::tempdir().unwrap();
    let admin = token(dir.path(), "ci", "admin", &[], &[]);
    let server = Server::start(
        dir.path(),
        &[],
        &[
            ("RUST_LOG", "trace"),
            ("SSOPLANE__SERVER__LOG_FORMAT", "json"),
        ],
    );
    let (key, cert) = key_and_cert();
    let c = client();
    c.put(format!("{}/api/v1/sso-settings/okta", server.url))
        .bearer_auth(&admin)
        .json(&json!({"settings": {"certificate": cert, "private_key": key}}))
        .send()
        .await
        .unwrap();
    let bad = c
        .put(format!("{}/api/v1/sso-settings/okta", server.url))
        .bearer_auth(&admin)
        .json(&json!({"settings": {"max_issue_delay": "never"}}))
        .send()
        .await
        .unwrap();
    let cid = bad.headers()["x-request-id"].to_str().unwrap().to_owned();
    c.get(format!("{}/api/v1/sso-settings", server.url))
        .bearer_auth("ssp_wrong-token-value")
        .send()
        .await
        .unwrap();
    let log_path = server.log.clone();
    assert!(server.terminate().success());
    let log = std::fs::read_to_string(log_path).unwrap();
    assert!(!log.contains(&admin), "admin token leaked into logs");
    assert!(
        !log.contains("ssp_wrong-token-value"),
        "presented token leaked into logs"
    );
    assert!(!log.contains("PRIVATE KEY"), "private key leaked into logs");
    assert!(
        log.lines()
            .any(|l| l.contains(&cid) && l.contains("saml.max_issue_delay") && l.contains("WARN")),
        "the refused request is logged with its correlation id and the failing field"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_file_and_environment_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ssoplane.toml");
    std::fs::write(
        &cfg,
        format!(
            "[server]\nroot_url = \"https://file.example.com\"\n\n[saml.microsoft_ad]\nenabled = true\nname = \"Entra ID (file)\"\nidp_metadata = \"{}\"\nentity_id = \"urn:from-file\"\n",
            support::idp_metadata_b64()
        ),
    )
    .unwrap();
    let cfg_s = cfg.to_str().unwrap();
    let env = [
        ("SSOPLANE__SAML__MICROSOFT_AD__ENTITY_ID", "urn:from-env"),
        ("SSOPLANE__SAML__MICROSOFT_AD__ADMIN_GROUPS", "admins,ops"),
    ];
    let out = cli(dir.path(), &["check-config", "--config", cfg_s], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reader = token(dir.path(), "ci", "reader", &[], &[]);
    let server = Server::start(dir.path(), &["--config", cfg_s], &env);
    let doc: Value = client()
        .get(format!("{}/api/v1/sso-settings/microsoft_ad", server.url))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["source"], "system");
    assert_eq!(doc["settings"]["name"], "Entra ID (file)");
    assert_eq!(doc["settings"]["entity_id"], "urn:from-env");
    assert_eq!(doc["settings"]["admin_groups"], json!(["admins", "ops"]));
    assert_eq!(
        doc["sp"]["acs_url"],
        "https://file.example.com/saml/microsoft_ad/acs"
    );
    drop(server);

    // A bad value in the environment stops start-up and names provider and field.
    let out = cli(
        dir.path(),
        &["check-config", "--config", cfg_s],
        &[("SSOPLANE__SAML__MICROSOFT_AD__MAX_ISSUE_DELAY", "soon")],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("saml.microsoft_ad.max_issue_delay"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_by_flag_requires_a_shared_key() {
    let dir = tempfile::tempdir().unwrap();
    let url = ssoplane_testkit::postgres::fresh_database().await;
    let out = cli(
        dir.path(),
        &[
            "serve",
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--database-url",
            &url,
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SSOPLANE_SECRET_KEY"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let key = "c".repeat(64);
    let env = [("SSOPLANE_SECRET_KEY", key.as_str())];
    let admin = token(dir.path(), "ci", "admin", &["--database-url", &url], &env);
    let server = Server::start(dir.path(), &["--database-url", &url], &env);
    let r = client()
        .put(format!("{}/api/v1/sso-settings/okta", server.url))
        .bearer_auth(&admin)
        .json(&json!({"settings": {"name": "on postgres"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ready: Value = client()
        .get(format!("{}/readyz", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["store"], "postgres");
    assert!(
        !dir.path().join("data").exists(),
        "nothing embedded was created"
    );
    assert!(server.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_in_flight_writes_without_tearing() {
    let dir = tempfile::tempdir().unwrap();
    let admin = token(dir.path(), "ci", "admin", &[], &[]);
    let server = Server::start(dir.path(), &[], &[]);
    let url = server.url.clone();
    let c = client();
    let mut tasks = Vec::new();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for i in 0..200 {
        let req = c
            .put(format!("{url}/api/v1/sso-settings/okta"))
            .bearer_auth(&admin)
            .json(&json!({"settings": {"name": format!("write {i}")}}));
        let done = std::sync::Arc::clone(&done);
        tasks.push(tokio::spawn(async move {
            match req.send().await {
                Ok(r) if r.status() == 200 => {
                    let v: Value = r.json().await.unwrap();
                    done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    Some((
                        v["version"].as_i64().unwrap(),
                        v["settings"]["name"].as_str().unwrap().to_owned(),
                    ))
                }
                _ => None,
            }
        }));
    }
    // SIGTERM once the first write is acknowledged, the others in flight.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while done.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no write acknowledged"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(status.success(), "clean exit after SIGTERM");
    let mut acked = Vec::new();
    for t in tasks {
        if let Some(v) = t.await.unwrap() {
            acked.push(v);
        }
    }
    assert!(!acked.is_empty(), "some writes completed before shutdown");

    // Every acknowledged write is in the history with exactly what was acknowledged,
    // and the stored settings are those of the newest history entry.
    let server = Server::start(dir.path(), &[], &[]);
    let c = client();
    let history: Value = c
        .get(format!(
            "{}/api/v1/sso-settings/okta/history?limit=1000",
            server.url
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let by_version: std::collections::BTreeMap<i64, String> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["version"].as_i64().unwrap(),
                h["changes"][0]["new"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    for (version, name) in &acked {
        assert_eq!(
            by_version.get(version),
            Some(name),
            "acknowledged write {version} is recorded"
        );
    }
    let doc: Value = c
        .get(format!("{}/api/v1/sso-settings/okta", server.url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (newest, name) = by_version.iter().next_back().unwrap();
    assert_eq!(doc["version"].as_i64().unwrap(), *newest);
    assert_eq!(doc["settings"]["name"].as_str().unwrap(), name);
    assert_eq!(by_version.len() as i64, *newest, "no gaps: versions 1..=N");
}
