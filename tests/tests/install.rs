//! Installing the provider as documented: `scripts/install-provider.sh`
//! into a temporary filesystem mirror, then a real `terraform init` and
//! `plan` with the documented `required_providers` block and a version
//! constraint, no dev_overrides and nothing downloaded. Likewise the
//! release layout of `scripts/release-provider.sh` (its mirror/ tree as a
//! packed filesystem mirror, its SHA256SUMS and h1: hash checked).

use std::path::{Path, PathBuf};
use std::process::Command;

use ssoplane_e2e::{terraform, Server, Workspace};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Runs a script of scripts/ (dev profile: the tests' binaries are debug
/// builds, and a release build would dominate the suite's time).
fn script(name: &str, args: &[&str]) -> String {
    script_with_home(name, args, None)
}

fn script_with_home(name: &str, args: &[&str], home: Option<&Path>) -> String {
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("scripts").join(name))
        .args(args)
        .args(["--profile", "dev"]);
    if let Some(h) = home {
        // cargo and rustup keep their homes (and the offline crate cache).
        if let Some(real) = std::env::var_os("HOME").map(PathBuf::from) {
            for (var, dir) in [("CARGO_HOME", ".cargo"), ("RUSTUP_HOME", ".rustup")] {
                if std::env::var_os(var).is_none() && real.join(dir).is_dir() {
                    cmd.env(var, real.join(dir));
                }
            }
        }
        cmd.env("HOME", h);
    }
    let out = cmd.output().expect("run script");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{name} {args:?} failed:\n{text}");
    text
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn documented_config() -> String {
    // The README's block, with its version constraint.
    "terraform {\n  required_providers {\n    ssoplane = {\n      source  = \"ssoplane/ssoplane\"\n      version = \"~> 0.1\"\n    }\n  }\n}\n\n\
provider \"ssoplane\" {}\n\n\
resource \"ssoplane_group\" \"ops\" {\n  name = \"ops\"\n}\n"
        .to_string()
}

fn init_and_plan(ws: &Workspace) -> String {
    let out = ws.expect(&["init", "-no-color", "-input=false"], 0);
    assert!(
        out.contains(&format!("Installed ssoplane/ssoplane v{VERSION}")),
        "{out}"
    );
    let plan = ws.plan_changes();
    assert!(
        plan.contains("ssoplane_group.ops will be created"),
        "{plan}"
    );
    std::fs::read_to_string(ws.dir.join(".terraform.lock.hcl")).unwrap_or_default()
}

#[test]
fn install_script_makes_the_documented_init_work() {
    let Some(tf) = terraform() else { return };
    let server = Server::start();
    let mirror = tempfile::tempdir().expect("tempdir");
    let out = script(
        "install-provider.sh",
        &["--dir", &mirror.path().display().to_string()],
    );
    assert!(
        out.contains(&format!("installed terraform-provider-ssoplane {VERSION}")),
        "{out}"
    );
    let ws = Workspace::with_mirror(&tf, &server.url, &server.admin_token, mirror.path());
    ws.write_raw(&documented_config());
    let lock = init_and_plan(&ws);
    assert!(
        lock.contains(&format!("version     = \"{VERSION}\"")),
        "{lock}"
    );
    // the version constraint is honoured, not ignored
    let ws = Workspace::with_mirror(&tf, &server.url, &server.admin_token, mirror.path());
    ws.write_raw(&documented_config().replace("~> 0.1", "~> 9.0"));
    let out = ws.expect(&["init", "-no-color", "-input=false"], 1);
    assert!(out.contains("no available releases match"), "{out}");
}

/// The default: Terraform's implied local mirror under $HOME, and no CLI
/// configuration at all.
#[test]
fn install_script_default_needs_no_cli_configuration() {
    let Some(tf) = terraform() else { return };
    let server = Server::start();
    let home = tempfile::tempdir().expect("tempdir");
    let out = script_with_home("install-provider.sh", &[], Some(home.path()));
    assert!(
        home.path()
            .join(format!(
                ".terraform.d/plugins/registry.terraform.io/ssoplane/ssoplane/{VERSION}"
            ))
            .is_dir(),
        "{out}"
    );
    let ws = Workspace::with_home(&tf, &server.url, &server.admin_token, home.path());
    ws.write_raw(&documented_config());
    init_and_plan(&ws);
}

#[test]
fn release_layout_serves_as_a_mirror_with_matching_hashes() {
    let Some(tf) = terraform() else { return };
    let server = Server::start();
    let out_dir = tempfile::tempdir().expect("tempdir");
    script(
        "release-provider.sh",
        &["--out", &out_dir.path().display().to_string()],
    );
    let d = out_dir.path();
    let sums = std::fs::read_to_string(
        d.join(format!("terraform-provider-ssoplane_{VERSION}_SHA256SUMS")),
    )
    .expect("SHA256SUMS");
    let zips: Vec<_> = sums.lines().filter(|l| l.ends_with(".zip")).collect();
    assert_eq!(zips.len(), 1, "{sums}");
    assert!(sums.contains(&format!(
        "terraform-provider-ssoplane_{VERSION}_manifest.json"
    )));
    // every line's hash is the file's (sha256sum -c)
    let check = Command::new("sha256sum")
        .args([
            "-c",
            &format!("terraform-provider-ssoplane_{VERSION}_SHA256SUMS"),
        ])
        .current_dir(d)
        .output()
        .expect("sha256sum");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join(format!(
            "terraform-provider-ssoplane_{VERSION}_manifest.json"
        )))
        .expect("manifest"),
    )
    .expect("manifest JSON");
    assert_eq!(manifest["metadata"]["protocol_versions"][0], "6.0");
    let mirror = d.join("mirror");
    let index: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(mirror.join(format!(
            "registry.terraform.io/ssoplane/ssoplane/{VERSION}.json"
        )))
        .expect("version index"),
    )
    .expect("version index JSON");
    let archives = index["archives"].as_object().expect("archives");
    assert_eq!(archives.len(), 1);
    let h1 = archives
        .values()
        .next()
        .and_then(|a| a["hashes"][0].as_str())
        .expect("h1 hash")
        .to_string();
    // Terraform installs the zip from the packed layout and locks the
    // same h1: hash the release computed.
    let ws = Workspace::with_mirror(&tf, &server.url, &server.admin_token, &mirror);
    ws.write_raw(&documented_config());
    let lock = init_and_plan(&ws);
    assert!(lock.contains(&h1), "lock file lacks {h1}:\n{lock}");
}
