//! End-to-end tests with the real terraform CLI (offline): the
//! `terraform-provider-minimal` test binary is found through a
//! `dev_overrides` CLI config (so no `terraform init`), then `validate` and
//! `plan` must succeed — exercising the go-plugin handshake, auto-mTLS with
//! Terraform's P-521 client certificate, the schema and the cty codec. The
//! same plan then runs twice against one provider in reattach mode.
//!
//! Skipped (with a notice) when no terraform binary is available; set
//! `TERRAFORM` to point at one.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const PROVIDER_BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-minimal");

fn terraform() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("TERRAFORM") {
        return Some(PathBuf::from(p));
    }
    let default = PathBuf::from("/usr/local/bin/terraform");
    if default.exists() {
        return Some(default);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("terraform"))
            .find(|p| p.exists())
    })
}

const MAIN_TF: &str = r#"
terraform {
  required_providers {
    minimal = {
      source = "ssoplane/minimal"
    }
  }
}

resource "minimal_thing" "a" {
  name = "hello"
}

output "thing_name" {
  value = minimal_thing.a.name
}
"#;

/// A work dir with main.tf and a CLI config whose dev_overrides point at a
/// directory holding the provider binary.
struct Fixture {
    _tmp: tempfile::TempDir,
    work: PathBuf,
    cli_config: PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    std::os::unix::fs::symlink(PROVIDER_BIN, plugins.join("terraform-provider-minimal")).unwrap();
    std::fs::write(work.join("main.tf"), MAIN_TF).unwrap();
    let cli_config = tmp.path().join("terraformrc");
    std::fs::write(
        &cli_config,
        format!(
            "provider_installation {{\n  dev_overrides {{\n    \"registry.terraform.io/ssoplane/minimal\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            plugins.display()
        ),
    )
    .unwrap();
    Fixture {
        _tmp: tmp,
        work,
        cli_config,
    }
}

fn tf(fx: &Fixture, tf_bin: &Path, args: &[&str], reattach: Option<&str>) -> Output {
    let mut cmd = Command::new(tf_bin);
    cmd.args(args)
        .current_dir(&fx.work)
        .env("TF_CLI_CONFIG_FILE", &fx.cli_config)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_LOG_PROVIDER", "debug")
        .env_remove("TF_LOG")
        .env_remove("TF_REATTACH_PROVIDERS")
        .env_remove("TF_PLUGIN_CACHE_DIR")
        .stdin(Stdio::null());
    if let Some(r) = reattach {
        cmd.env("TF_REATTACH_PROVIDERS", r);
    }
    let out = cmd.output().unwrap();
    if !out.status.success() {
        panic!(
            "terraform {args:?} failed: {}\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

fn assert_plan_output(out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("minimal_thing.a will be created"),
        "unexpected plan output:\n{stdout}"
    );
    assert!(
        stdout.contains("1 to add, 0 to change, 0 to destroy"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(known after apply)"),
        "id should be unknown:\n{stdout}"
    );
}

#[test]
fn binary_run_by_a_human_explains_and_exits_1() {
    let out = Command::new(PROVIDER_BIN)
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("This binary is a plugin"));
    assert!(out.stdout.is_empty());
}

#[test]
fn validate_and_plan_with_real_terraform() {
    let Some(tf_bin) = terraform() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "terraform CLI not found in CI (set TERRAFORM)"
        );
        eprintln!("SKIPPED: terraform CLI not found (set TERRAFORM)");
        return;
    };
    let fx = fixture();
    let out = tf(&fx, &tf_bin, &["validate", "-no-color"], None);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("The configuration is valid"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = tf(&fx, &tf_bin, &["plan", "-no-color", "-input=false"], None);
    assert_plan_output(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panic"),
        "unexpected provider stderr:\n{stderr}"
    );

    // apply, then a refresh+plan from the stored (JSON) state: no changes
    let out = tf(
        &fx,
        &tf_bin,
        &["apply", "-no-color", "-input=false", "-auto-approve"],
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 added, 0 changed, 0 destroyed"),
        "{stdout}"
    );
    let state = std::fs::read_to_string(fx.work.join("terraform.tfstate")).unwrap();
    assert!(state.contains("\"thing-hello\""), "{state}");
    let out = tf(
        &fx,
        &tf_bin,
        &["plan", "-no-color", "-input=false", "-detailed-exitcode"],
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("No changes."), "{stdout}");
}

/// Stops the debug-mode provider when the test ends, even on panic:
/// SIGTERM first (graceful, removes its socket directory), then SIGKILL.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn plan_twice_against_one_reattached_provider() {
    let Some(tf_bin) = terraform() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "terraform CLI not found in CI (set TERRAFORM)"
        );
        eprintln!("SKIPPED: terraform CLI not found (set TERRAFORM)");
        return;
    };
    let fx = fixture();
    let mut child = KillOnDrop(
        Command::new(PROVIDER_BIN)
            .arg("--debug")
            .env_remove("TF_PLUGIN_MAGIC_COOKIE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
                let _ = tx.send(rest.trim_end_matches('\'').to_string());
            }
        }
    });
    let reattach = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("provider printed no TF_REATTACH_PROVIDERS line");
    let doc: serde_json::Value = serde_json::from_str(&reattach).unwrap();
    let entry = &doc["registry.terraform.io/ssoplane/minimal"];
    assert_eq!(entry["Pid"], child.0.id());
    assert_eq!(entry["Addr"]["Network"], "unix");

    let started = Instant::now();
    for _ in 0..2 {
        let out = tf(
            &fx,
            &tf_bin,
            &["plan", "-no-color", "-input=false"],
            Some(&reattach),
        );
        assert_plan_output(&out);
    }
    // still alive after both commands
    assert!(child.0.try_wait().unwrap().is_none(), "provider exited");
    eprintln!("two reattached plans took {:?}", started.elapsed());

    // SIGTERM stops it cleanly and removes the socket
    let socket = entry["Addr"]["String"].as_str().unwrap().to_string();
    assert!(Path::new(&socket).exists());
    drop(child);
    assert!(!Path::new(&socket).exists(), "socket left behind");
}
