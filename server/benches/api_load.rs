//! Admin API load benchmark: throughput and p99 latency of GET and PUT of a
//! provider's settings on SQLite and PostgreSQL, loaded by `wrk` (a second
//! process) over loopback, with the peak RSS of the server. Peers measured in
//! the same run: the server's own `/healthz` (its HTTP floor) and nginx
//! serving the same JSON document as a static file.
//!
//! Run: `cargo bench -p ssoplane-server --bench api_load` (needs wrk; nginx
//! optional; PostgreSQL server binaries for the PostgreSQL rows).
//! Options via env: BENCH_SECONDS (default 8), BENCH_CONNECTIONS (default 32).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{peak_rss_mib, wrk, Measure};
use ssoplane_testkit::ports::free_port;
use ssoplane_testkit::postgres;
use ssoplane_testkit::server::Process;

fn settings_body() -> String {
    use base64::Engine;
    let xml = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#;
    serde_json::json!({"settings": {
        "enabled": true, "name": "Okta", "idp_metadata": base64::engine::general_purpose::STANDARD.encode(xml),
        "assertion_attribute_email": "email", "assertion_attribute_groups": "groups",
        "admin_groups": ["admins"], "allowed_groups": ["admins", "staff"], "max_issue_delay": "90s"
    }})
    .to_string()
}

struct Row {
    backend: &'static str,
    healthz: Measure,
    get: Measure,
    put: Measure,
    rss: f64,
}

fn run_backend(
    backend: &'static str,
    database_url: Option<String>,
    seconds: u64,
    connections: u32,
    work: &Path,
) -> Row {
    let dir = tempfile::tempdir().unwrap();
    let mut base_args = vec![];
    let mut env = vec![("SSOPLANE__SERVER__LOG_LEVEL", "warn".to_owned())];
    if let Some(url) = &database_url {
        base_args.extend(["--database-url".to_owned(), url.clone()]);
        env.push(("SSOPLANE_SECRET_KEY", "d".repeat(64)));
    }
    let token = {
        let mut c = Command::new(common::bin());
        c.current_dir(dir.path())
            .args(["token", "create", "--name", "bench", "--role", "admin"])
            .args(&base_args);
        for (k, v) in &env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut cmd = Command::new(common::bin());
    cmd.current_dir(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(&base_args);
    for (k, v) in &env {
        cmd.env(k, v);
    }
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let server = Process::start(cmd, &url, None);

    let body = settings_body();
    let body_file = work.join("body.json");
    std::fs::write(&body_file, &body).unwrap();
    let st = Command::new("curl")
        .args([
            "-sf",
            "-X",
            "PUT",
            "-H",
            &format!("Authorization: Bearer {token}"),
            "-H",
            "Content-Type: application/json",
        ])
        .arg("--data-binary")
        .arg(format!("@{}", body_file.display()))
        .arg(format!("{url}/api/v1/sso-settings/okta"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let put_script = work.join("put.lua");
    std::fs::write(
        &put_script,
        format!(
            "wrk.method = \"PUT\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = [==[{body}]==]\n"
        ),
    )
    .unwrap();

    let bearer = [format!("Authorization: Bearer {token}")];
    let healthz = wrk(&format!("{url}/healthz"), None, &[], seconds, connections);
    let get = wrk(
        &format!("{url}/api/v1/sso-settings/okta"),
        None,
        &bearer,
        seconds,
        connections,
    );
    let put = wrk(
        &format!("{url}/api/v1/sso-settings/okta"),
        Some(&put_script),
        &bearer,
        seconds,
        connections,
    );
    let rss = peak_rss_mib(server.pid());
    drop(server);
    Row {
        backend,
        healthz,
        get,
        put,
        rss,
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would pass nothing useful either.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let connections: u32 = std::env::var("BENCH_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let work = tempfile::tempdir().unwrap();
    let mut rows = vec![run_backend(
        "sqlite",
        None,
        seconds,
        connections,
        work.path(),
    )];
    if common::with_postgres() {
        let url = tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(postgres::fresh_database());
        rows.push(run_backend(
            "postgres",
            Some(url),
            seconds,
            connections,
            work.path(),
        ));
    }
    let get_body = {
        // Representative size of a GET response (all fields, defaults filled in).
        let n = ssoplane_schema::FIELDS.len();
        format!(
            "{{\"settings\": {{{}}}}}",
            (0..n)
                .map(|i| format!("\"field_{i}\": \"value value value\""))
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let nginx = common::nginx_static(seconds, connections, work.path(), "okta.json", &get_body);

    println!("\nadmin API load: wrk -t1 -c{connections} -d{seconds}s on loopback, 2-core machine shared by server and load generator\n");
    println!("| backend | endpoint | req/s | p99 ms | vs /healthz | vs nginx static |");
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        for (name, m) in [
            ("GET /healthz", r.healthz),
            ("GET sso-settings", r.get),
            ("PUT sso-settings", r.put),
        ] {
            let vs_nginx = nginx
                .map(|n| format!("{:.2}", m.rps / n.rps))
                .unwrap_or_else(|| "n/a".into());
            println!(
                "| {} | {} | {:.0} | {:.2} | {:.2} | {} |",
                r.backend,
                name,
                m.rps,
                m.p99_ms,
                m.rps / r.healthz.rps,
                vs_nginx
            );
        }
        println!("| {} | peak RSS | {:.1} MiB | | | |", r.backend, r.rss);
    }
    if let Some(n) = nginx {
        println!(
            "| peer | nginx static JSON | {:.0} | {:.2} | | 1.00 |",
            n.rps, n.p99_ms
        );
    }
}
