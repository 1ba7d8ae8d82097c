//! `cargo bench -p ssoplane-e2e --bench terraform_plan`
//!
//! Wall time of `terraform plan -detailed-exitcode` (no changes) for 1, 10
//! and 100 `ssoplane_sso_settings` resources against a real local `ssoplane`
//! server (temporary SQLite data dir), and the provider's go-plugin start-up
//! (spawn until the handshake line on stdout).
//!
//! Every figure comes with a peer measured in the same run, interleaved
//! round by round so machine noise hits both alike:
//! - plans: the same number of built-in `terraform_data` resources (no
//!   external provider at all), plus the 0-resource floors of both configs;
//!   per-resource overhead is `(t(100) - t(1)) / 99`, and the target applies
//!   to ours minus this peer's.
//! - plans, second peer: `terraform-provider-ssoplane-twin` (tests/src/bin)
//!   serving exactly our schema with do-nothing RPCs, planning the same
//!   configuration and state. Terraform's work per resource grows with the
//!   schema (ours has ~70 attributes, the `terraform_data` peer's input 7),
//!   so the first difference mixes Terraform's cost of our schema with our
//!   provider's; the twin splits it into the two.
//! - handshake: spawning `/bin/true` until it exits (the process-start floor).
//!
//! Binaries: the ones in this bench's own profile directory (`target/release`
//! under `cargo bench`); when missing they are built with
//! `cargo build --release -p ssoplane-server -p terraform-provider-ssoplane`.
//! Existing binaries are used as they are (not rebuilt): rebuild them first
//! when server/ or provider/ changed. The twin is a binary of this package,
//! so `cargo bench` builds it.
//!
//! Knobs: `BENCH_PLAN_ROUNDS` (default 10), `BENCH_HANDSHAKE_ROUNDS`
//! (default 20), `TERRAFORM` (terraform CLI path).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ssoplane_e2e::{binary, key_pair, target_dir, terraform, Server, Workspace, PROVIDER_SOURCE};

const SIZES: [usize; 3] = [1, 10, 100];
/// Target: marginal plan cost of one of our resources.
const TARGET_PER_RESOURCE_MS: f64 = 5.0;
/// The same-schema peer provider, built by `cargo bench` with this bench.
const TWIN: &str = env!("CARGO_BIN_EXE_terraform-provider-ssoplane-twin");
const TWIN_SOURCE: &str = "registry.terraform.io/ssoplane/ssoplane-twin";
/// Target: provider spawn-to-handshake.
const TARGET_HANDSHAKE_MS: f64 = 50.0;

fn rounds(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Sorted samples in milliseconds.
struct Samples(Vec<f64>);

impl Samples {
    fn new(mut v: Vec<f64>) -> Samples {
        assert!(!v.is_empty(), "no samples");
        v.sort_by(f64::total_cmp);
        Samples(v)
    }
    fn median(&self) -> f64 {
        let v = &self.0;
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }
    fn min(&self) -> f64 {
        self.0[0]
    }
    /// Nearest-rank percentile.
    fn pct(&self, p: f64) -> f64 {
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }
}

/// Makes sure the server and provider binaries exist in this bench's
/// profile directory; returns that profile's name.
fn ensure_binaries() -> String {
    let dir = target_dir();
    let profile = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let missing = ["ssoplane", "terraform-provider-ssoplane"]
        .iter()
        .any(|b| !dir.join(b).exists());
    if missing {
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.arg("build");
        if profile == "release" {
            cmd.arg("--release");
        }
        cmd.args(["-p", "ssoplane-server", "-p", "terraform-provider-ssoplane"]);
        eprintln!("building missing binaries: {cmd:?}");
        let status = cmd.status().expect("run cargo build");
        assert!(status.success(), "{cmd:?} failed");
    }
    profile
}

fn describe(path: &Path) -> String {
    let age = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .map(|d| format!("built {} min ago", d.as_secs() / 60))
        .unwrap_or_default();
    format!("{} ({age})", path.display())
}

/// A realistic `saml_settings` block: manual IdP trio with a generated
/// certificate, attribute mappings, group/role lists and an org mapping.
fn sso_config(n: usize, idp_cert: &str) -> String {
    let mut s = format!("locals {{\n  idp_cert = <<-EOT\n{idp_cert}EOT\n}}\n\n");
    for i in 0..n {
        s.push_str(&format!(
            r#"resource "ssoplane_sso_settings" "p{i}" {{
  provider_name = "bench_n{n}_p{i}"
  saml_settings {{
    enabled          = true
    name             = "Corporate IdP {i}"
    idp_entity_id    = "https://idp{i}.example.com/saml/metadata"
    idp_sso_url      = "https://idp{i}.example.com/saml/sso"
    idp_slo_url      = "https://idp{i}.example.com/saml/slo"
    idp_certificates = [local.idp_cert]
    binding          = "HTTP-POST"
    clock_skew       = "2m"

    assertion_attribute_login  = "uid"
    assertion_attribute_email  = "mail"
    assertion_attribute_name   = "$__saml{{givenName}} $__saml{{surname}}"
    assertion_attribute_groups = "memberOf"
    assertion_attribute_role   = "role"
    assertion_attribute_org    = "org"

    allowed_groups        = ["engineering", "support", "ops-{i}"]
    admin_groups          = ["platform-admins"]
    role_values_admin     = ["admin", "owner"]
    role_values_editor    = ["editor"]
    role_values_viewer    = ["viewer", "auditor"]
    allowed_organizations = ["acme", "acme-{i}"]
    org_mapping           = ["acme:1:Editor", "acme-{i}:2:Viewer", "*:3:None"]
    allowed_redirect_urls = ["https://app{i}.example.com/", "https://*.example.org"]
  }}
}}

"#
        ));
    }
    s
}

/// The peer: N built-in `terraform_data` resources of similar size; no
/// external provider (so no `required_providers`, no provider process).
fn data_config(n: usize) -> String {
    // a file with no blocks at all is "No configuration files"
    let mut s = String::from("terraform {}\n\n");
    for i in 0..n {
        s.push_str(&format!(
            r#"resource "terraform_data" "p{i}" {{
  input = {{
    provider_name = "bench_n{n}_p{i}"
    enabled       = true
    name          = "Corporate IdP {i}"
    idp_entity_id = "https://idp{i}.example.com/saml/metadata"
    idp_sso_url   = "https://idp{i}.example.com/saml/sso"
    groups        = ["engineering", "support", "ops-{i}"]
    org_mapping   = ["acme:1:Editor", "acme-{i}:2:Viewer", "*:3:None"]
  }}
}}

"#
        ));
    }
    s
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Our provider's resources.
    Ours,
    /// The same configuration and state served by the same-schema twin.
    Twin,
    /// The `terraform_data` peer.
    Data,
}

struct Case {
    label: String,
    kind: Kind,
    n: usize,
    ws: Workspace,
    apply_ms: Option<f64>,
    times: Vec<f64>,
}

const PLAN: [&str; 4] = ["plan", "-no-color", "-input=false", "-detailed-exitcode"];

fn time_plan(ws: &Workspace, label: &str) -> f64 {
    let start = Instant::now();
    let out = ws.run(&PLAN);
    let t = ms(start.elapsed());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{label}: plan should find no changes\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    t
}

/// Our state, re-addressed to the twin provider (same type names).
fn twin_state(ours: &Workspace) -> String {
    let mut state: serde_json::Value =
        serde_json::from_str(&ours.state_file()).expect("state is JSON");
    let (from, to) = (
        format!("provider[\"{PROVIDER_SOURCE}\"]"),
        format!("provider[\"{TWIN_SOURCE}\"]"),
    );
    for r in state["resources"].as_array_mut().into_iter().flatten() {
        if r["provider"] == from.as_str() {
            r["provider"] = to.clone().into();
        }
    }
    state.to_string()
}

fn plans(tf: &Path, server: &Server, r: usize) -> Vec<Case> {
    let (idp_cert, _) = key_pair("idp.example.com");
    let twin = Path::new(TWIN);
    let mut cases = Vec::new();
    // Floors: our provider configured with no resources, and an empty config.
    let mut sizes = vec![0];
    sizes.extend(SIZES);
    for &n in &sizes {
        for kind in [Kind::Ours, Kind::Twin, Kind::Data] {
            // A reader token is what CI's drift check uses; apply needs admin.
            let mut ws = match kind {
                Kind::Twin => Workspace::with_providers(
                    tf,
                    &server.url,
                    &server.admin_token,
                    &[(TWIN_SOURCE, twin)],
                ),
                _ => Workspace::new(tf, &server.url, &server.admin_token),
            };
            let config = sso_config(n, &idp_cert);
            match kind {
                Kind::Ours => ws.write(&config),
                Kind::Twin => std::fs::write(
                    ws.dir.join("main.tf"),
                    format!(
                        "terraform {{\n  required_providers {{\n    ssoplane = {{\n      source = \"ssoplane/ssoplane-twin\"\n    }}\n  }}\n}}\n\nprovider \"ssoplane\" {{}}\n\n{config}"
                    ),
                )
                .expect("write main.tf"),
                Kind::Data => {
                    std::fs::write(ws.dir.join("main.tf"), data_config(n)).expect("write main.tf")
                }
            }
            let label = format!(
                "{} × {n}",
                match kind {
                    Kind::Ours => "ssoplane_sso_settings",
                    Kind::Twin => "ssoplane_sso_settings (twin)",
                    Kind::Data => "terraform_data",
                }
            );
            let apply_ms = match kind {
                _ if n == 0 => None,
                // the twin cannot apply: it plans the state ours just applied
                Kind::Twin => {
                    let ours = cases
                        .last()
                        .map(|c: &Case| &c.ws)
                        .expect("ours precedes the twin");
                    std::fs::write(ws.dir.join("terraform.tfstate"), twin_state(ours))
                        .expect("write twin state");
                    None
                }
                _ => {
                    let start = Instant::now();
                    ws.apply();
                    Some(ms(start.elapsed()))
                }
            };
            ws.set_token(&server.reader_token);
            // warm-up (page cache, provider binary), not recorded
            time_plan(&ws, &label);
            cases.push(Case {
                label,
                kind,
                n,
                ws,
                apply_ms,
                times: Vec::new(),
            });
        }
    }
    for round in 0..r {
        eprintln!("plan round {}/{r}", round + 1);
        for case in &mut cases {
            let t = time_plan(&case.ws, &case.label);
            case.times.push(t);
        }
    }
    cases
}

/// Spawn to handshake line (provider) and spawn to exit (`/bin/true`).
fn handshakes(provider: &Path, r: usize) -> (Samples, Samples) {
    let (client_cert, _) = key_pair("terraform");
    let sockets = tempfile::tempdir().expect("tempdir");
    let spawn_provider = || {
        let start = Instant::now();
        let mut child = Command::new(provider)
            .env(
                "TF_PLUGIN_MAGIC_COOKIE",
                "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
            )
            .env("PLUGIN_PROTOCOL_VERSIONS", "6")
            .env("PLUGIN_CLIENT_CERT", &client_cert)
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000")
            .env("PLUGIN_UNIX_SOCKET_DIR", sockets.path())
            .env_remove("TF_REATTACH_PROVIDERS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn provider");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read handshake");
        let t = ms(start.elapsed());
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            line.starts_with("1|6|"),
            "unexpected handshake line {line:?}"
        );
        assert!(
            !line.trim_end().ends_with('|'),
            "no server certificate in the handshake (mTLS off?): {line:?}"
        );
        t
    };
    let spawn_true = || {
        let start = Instant::now();
        let mut child = Command::new("/bin/true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn /bin/true");
        let mut sink = Vec::new();
        let _ = child.stdout.take().expect("stdout").read_to_end(&mut sink);
        let _ = child.wait();
        ms(start.elapsed())
    };
    // warm-up
    spawn_provider();
    spawn_true();
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    for _ in 0..r {
        ours.push(spawn_provider());
        peer.push(spawn_true());
    }
    (Samples::new(ours), Samples::new(peer))
}

fn main() {
    let Some(tf) = terraform() else { return };
    let profile = ensure_binaries();
    let server_bin = binary("ssoplane", "ssoplane-server");
    let provider = binary("terraform-provider-ssoplane", "terraform-provider-ssoplane");
    let tf_version = Command::new(&tf)
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_default();
    let plan_rounds = rounds("BENCH_PLAN_ROUNDS", 10);
    let hs_rounds = rounds("BENCH_HANDSHAKE_ROUNDS", 20);
    let started = Instant::now();

    let server = Server::start();
    let (hs_ours, hs_peer) = handshakes(&provider, hs_rounds);
    let cases = plans(&tf, &server, plan_rounds);
    drop(server);

    let stats: Vec<(&Case, Samples)> = cases
        .iter()
        .map(|c| (c, Samples::new(c.times.clone())))
        .collect();
    let find = |kind: Kind, n: usize| {
        stats
            .iter()
            .find(|(c, _)| c.kind == kind && c.n == n)
            .expect("case")
    };
    let median = |kind: Kind, n: usize| find(kind, n).1.median();

    println!("## terraform plan / provider handshake benchmark\n");
    println!("- profile: `{profile}`; server {}", describe(&server_bin));
    println!("- provider {}", describe(&provider));
    println!("- same-schema twin {}", describe(Path::new(TWIN)));
    println!("- {tf_version}; plan rounds R={plan_rounds} (interleaved, after one warm-up plan each), handshake rounds R={hs_rounds}");
    println!("- plans run with the reader token against a local server (SQLite, temp dir); default -parallelism=10\n");

    println!("### `terraform plan -detailed-exitcode` (exit 0, no changes), wall time\n");
    println!("| N | ssoplane_sso_settings median ms | min ms | same-schema twin median ms | min ms | terraform_data median ms | min ms | ratio ours/terraform_data (median) | apply ours / terraform_data ms (once) |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in std::iter::once(0).chain(SIZES) {
        let (oc, os) = find(Kind::Ours, n);
        let (_, ts) = find(Kind::Twin, n);
        let (pc, ps) = find(Kind::Data, n);
        let apply = match (oc.apply_ms, pc.apply_ms) {
            (Some(a), Some(b)) => format!("{a:.0} / {b:.0}"),
            _ => "–".into(),
        };
        println!(
            "| {n} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} | {apply} |",
            os.median(),
            os.min(),
            ts.median(),
            ts.min(),
            ps.median(),
            ps.min(),
            os.median() / ps.median()
        );
    }

    let per = |kind: Kind| (median(kind, 100) - median(kind, 1)) / 99.0;
    let (per_ours, per_twin, per_peer) = (per(Kind::Ours), per(Kind::Twin), per(Kind::Data));
    let marginal = per_ours - per_peer;
    println!("\n### Growth with N (medians)\n");
    println!("| | ssoplane_sso_settings | same-schema twin | terraform_data | ratio ours/terraform_data |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| per-resource (t(100)-t(1))/99, ms | {per_ours:.2} | {per_twin:.2} | {per_peer:.2} | {:.2} |",
        per_ours / per_peer
    );
    for (a, b) in [(1, 10), (10, 100)] {
        let growth = |kind: Kind| median(kind, b) / median(kind, a);
        let (go, gt, gp) = (growth(Kind::Ours), growth(Kind::Twin), growth(Kind::Data));
        println!(
            "| t({b})/t({a}) | {go:.2} | {gt:.2} | {gp:.2} | {:.2} |",
            go / gp
        );
    }
    let fixed = |kind: Kind| median(kind, 1) - median(kind, 0);
    println!(
        "| fixed cost t(1)-t(0), ms | {:.0} | {:.0} | {:.0} | |",
        fixed(Kind::Ours),
        fixed(Kind::Twin),
        fixed(Kind::Data)
    );
    println!(
        "\nper-resource plan overhead attributable to the provider (ours − peer): {marginal:.2} ms; target ≤ {TARGET_PER_RESOURCE_MS} ms (raw ours {per_ours:.2} ms): {}",
        if per_ours <= TARGET_PER_RESOURCE_MS {
            "met even uncorrected"
        } else if marginal <= TARGET_PER_RESOURCE_MS {
            "met after subtracting terraform's own per-resource cost"
        } else {
            "NOT met"
        }
    );
    let (schema_cost, code_cost) = (per_twin - per_peer, per_ours - per_twin);
    println!(
        "split of that figure with the same-schema twin: terraform's own cost of our ~70-attribute schema (twin − terraform_data) {schema_cost:.2} ms, our provider's code (ours − twin) {code_cost:.2} ms: {}",
        if code_cost <= TARGET_PER_RESOURCE_MS {
            "the provider's part is within the target"
        } else {
            "the provider's part alone is over the target"
        }
    );

    println!("\n### Provider start-up: spawn → handshake line on stdout\n");
    println!("| | median ms | p95 ms | min ms |");
    println!("|---|---:|---:|---:|");
    println!(
        "| terraform-provider-ssoplane (cookie, protocol 6, mTLS client cert) | {:.2} | {:.2} | {:.2} |",
        hs_ours.median(),
        hs_ours.pct(95.0),
        hs_ours.min()
    );
    println!(
        "| /bin/true spawn → exit (process floor) | {:.2} | {:.2} | {:.2} |",
        hs_peer.median(),
        hs_peer.pct(95.0),
        hs_peer.min()
    );
    println!(
        "| ratio ours/peer | {:.1} | {:.1} | {:.1} |",
        hs_ours.median() / hs_peer.median(),
        hs_ours.pct(95.0) / hs_peer.pct(95.0),
        hs_ours.min() / hs_peer.min()
    );
    println!(
        "\nhandshake median {:.2} ms, p95 {:.2} ms; target ≤ {TARGET_HANDSHAKE_MS} ms: {}",
        hs_ours.median(),
        hs_ours.pct(95.0),
        if hs_ours.pct(95.0) <= TARGET_HANDSHAKE_MS {
            "met (p95)"
        } else if hs_ours.median() <= TARGET_HANDSHAKE_MS {
            "met (median only)"
        } else {
            "NOT met"
        }
    );
    println!(
        "\nbench wall time: {:.0} s",
        started.elapsed().as_secs_f64()
    );
}
