//! End-to-end harness: a real `ssoplane` server on a loopback port with its
//! own data dir and tokens, the real `terraform` CLI with a dev_overrides
//! CLI config pointing at `terraform-provider-ssoplane` (no `terraform
//! init`, offline), fresh work dirs, and test keys generated at run time;
//! ports, the server process and the keys come from `ssoplane_testkit`.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use ssoplane_testkit::ports::free_port;
use ssoplane_testkit::server::Process;

/// `target/debug`, found from the test executable (`target/debug/deps/…`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .expect("test executable lives in target/<profile>/deps")
}

/// Path of a workspace binary, building it when missing.
pub fn binary(name: &str, package: &str) -> PathBuf {
    let path = target_dir().join(name);
    if !path.exists() {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "-p", package])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build -p {package} failed");
    }
    assert!(path.exists(), "{} missing after build", path.display());
    path
}

/// The terraform CLI, or None (tests then skip, except under CI where a
/// missing terraform is a failure).
pub fn terraform() -> Option<PathBuf> {
    let found = std::env::var_os("TERRAFORM")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/usr/local/bin/terraform")).filter(|p| p.exists()))
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join("terraform"))
                    .find(|p| p.exists())
            })
        });
    ssoplane_testkit::required(found.is_some(), "the terraform CLI (set TERRAFORM)");
    found
}

pub const ROOT_URL: &str = "https://sso.example.com";

/// A running server; killed on drop.
pub struct Server {
    _process: Process,
    _dir: tempfile::TempDir,
    pub url: String,
    pub admin_token: String,
    pub reader_token: String,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(None, &[])
    }

    /// A server that also has SSO settings from a TOML config file
    /// (`config`) and from `SSOPLANE__...` environment variables (`env`).
    pub fn start_with(config: Option<&str>, env: &[(&str, &str)]) -> Server {
        let bin = binary("ssoplane", "ssoplane-server");
        let dir = tempfile::tempdir().expect("tempdir");
        let token = |role: &str| {
            let out = Command::new(&bin)
                .args([
                    "token",
                    "create",
                    "--name",
                    role,
                    "--role",
                    role,
                    "--data-dir",
                ])
                .arg(dir.path())
                .output()
                .expect("ssoplane token create");
            assert!(
                out.status.success(),
                "token create: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .find(|w| w.starts_with("ssp_"))
                .expect("token printed")
                .to_string()
        };
        let admin_token = token("admin");
        let reader_token = token("reader");
        let port = free_port();
        let mut cmd = Command::new(&bin);
        cmd.args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--root-url",
            ROOT_URL,
            "--data-dir",
        ])
        .arg(dir.path())
        .envs(env.iter().copied());
        if let Some(text) = config {
            let file = dir.path().join("ssoplane.toml");
            std::fs::write(&file, text).expect("write config file");
            cmd.arg("--config").arg(file);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let url = format!("http://127.0.0.1:{port}");
        Server {
            _process: Process::start(cmd, &url, None),
            _dir: dir,
            url,
            admin_token,
            reader_token,
        }
    }

    /// One blocking request with `token` as bearer and a JSON content
    /// type: returns (status, body), status 0 when unreachable.
    pub fn http(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
        token: &str,
    ) -> (u16, String) {
        let bearer = format!("Bearer {token}");
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        ssoplane_testkit::server::http(
            &self.url,
            method,
            path,
            &[
                ("Authorization", &bearer),
                ("Content-Type", "application/json"),
            ],
            Some(&body),
        )
    }

    /// GET a JSON document with the admin token.
    pub fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let (status, body) = self.http("GET", path, None, &self.admin_token);
        (
            status,
            serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
        )
    }
}

/// Source address of our provider (what `required_providers` names).
pub const PROVIDER_SOURCE: &str = "registry.terraform.io/ssoplane/ssoplane";

/// A terraform work dir wired to our provider binary via dev_overrides.
pub struct Workspace {
    _tmp: tempfile::TempDir,
    pub dir: PathBuf,
    cli_config: PathBuf,
    terraform: PathBuf,
    env: Vec<(String, String)>,
}

impl Workspace {
    pub fn new(terraform: &Path, url: &str, token: &str) -> Workspace {
        let provider = binary("terraform-provider-ssoplane", "terraform-provider-ssoplane");
        Workspace::with_providers(terraform, url, token, &[(PROVIDER_SOURCE, &provider)])
    }

    /// A work dir whose CLI config overrides each `(source address,
    /// binary)`; the binary's file name must be `terraform-provider-<type>`
    /// for the source's type.
    pub fn with_providers(
        terraform: &Path,
        url: &str,
        token: &str,
        providers: &[(&str, &Path)],
    ) -> Workspace {
        let tmp = tempfile::tempdir().expect("tempdir");
        let plugins = tmp.path().join("plugins");
        let dir = tmp.path().join("work");
        std::fs::create_dir_all(&plugins).expect("mkdir");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let mut overrides = String::new();
        for (source, bin) in providers {
            let name = bin.file_name().expect("provider binary file name");
            std::os::unix::fs::symlink(bin, plugins.join(name)).expect("symlink");
            overrides.push_str(&format!("    \"{source}\" = \"{}\"\n", plugins.display()));
        }
        let cli_config = tmp.path().join("terraformrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  dev_overrides {{\n{overrides}  }}\n  direct {{}}\n}}\n"
            ),
        )
        .expect("write cli config");
        Workspace {
            _tmp: tmp,
            dir,
            cli_config,
            terraform: terraform.to_path_buf(),
            env: vec![
                ("SSOPLANE_URL".into(), url.into()),
                ("SSOPLANE_TOKEN".into(), token.into()),
            ],
        }
    }

    /// A work dir whose CLI config installs providers only from the
    /// filesystem mirror at `mirror` (no dev_overrides, nothing downloaded):
    /// what a user gets after `scripts/install-provider.sh --dir <mirror>`.
    pub fn with_mirror(terraform: &Path, url: &str, token: &str, mirror: &Path) -> Workspace {
        Workspace::with_cli_config(
            terraform,
            url,
            token,
            &format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{PROVIDER_SOURCE}\"]\n  }}\n}}\n",
                mirror.display()
            ),
            &[],
        )
    }

    /// A work dir with no provider_installation at all and `HOME` at
    /// `home`: Terraform then finds providers in its implied local mirror,
    /// `<home>/.terraform.d/plugins`, as it would for a user.
    pub fn with_home(terraform: &Path, url: &str, token: &str, home: &Path) -> Workspace {
        let home = home.display().to_string();
        Workspace::with_cli_config(terraform, url, token, "", &[("HOME", &home)])
    }

    fn with_cli_config(
        terraform: &Path,
        url: &str,
        token: &str,
        cli_text: &str,
        env: &[(&str, &str)],
    ) -> Workspace {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("work");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let cli_config = tmp.path().join("terraformrc");
        std::fs::write(&cli_config, cli_text).expect("write cli config");
        let mut all = vec![
            ("SSOPLANE_URL".to_string(), url.to_string()),
            ("SSOPLANE_TOKEN".to_string(), token.to_string()),
        ];
        all.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Workspace {
            _tmp: tmp,
            dir,
            cli_config,
            terraform: terraform.to_path_buf(),
            env: all,
        }
    }

    pub fn set_token(&mut self, token: &str) {
        self.env.retain(|(k, _)| k != "SSOPLANE_TOKEN");
        self.env.push(("SSOPLANE_TOKEN".into(), token.into()));
    }

    /// Writes main.tf exactly as given.
    pub fn write_raw(&self, text: &str) {
        std::fs::write(self.dir.join("main.tf"), text).expect("write main.tf");
    }

    /// Writes main.tf (with the required_providers header).
    pub fn write(&self, body: &str) {
        let header = "terraform {\n  required_providers {\n    ssoplane = {\n      source = \"ssoplane/ssoplane\"\n    }\n  }\n}\n\nprovider \"ssoplane\" {}\n\n";
        std::fs::write(self.dir.join("main.tf"), format!("{header}{body}")).expect("write main.tf");
    }

    /// Runs terraform; returns the output whatever the exit status.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run terraform")
    }

    /// The terraform command with this work dir's environment (stdin null;
    /// replace it to answer prompts).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.terraform);
        cmd.args(args)
            .current_dir(&self.dir)
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env_remove("TF_LOG")
            .env_remove("TF_REATTACH_PROVIDERS")
            .env_remove("TF_PLUGIN_CACHE_DIR")
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs terraform and panics with its output unless the exit code is `code`.
    pub fn expect(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            out.status.code(),
            Some(code),
            "terraform {args:?}: expected exit {code}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        );
        format!("{stdout}{stderr}")
    }

    pub fn apply(&self) -> String {
        self.expect(&["apply", "-no-color", "-input=false", "-auto-approve"], 0)
    }

    /// Asserts `plan -detailed-exitcode` finds no changes.
    pub fn plan_empty(&self) {
        let out = self.expect(
            &["plan", "-no-color", "-input=false", "-detailed-exitcode"],
            0,
        );
        assert!(out.contains("No changes."), "{out}");
    }

    /// Asserts the plan has changes (exit code 2); returns its text.
    pub fn plan_changes(&self) -> String {
        self.expect(
            &["plan", "-no-color", "-input=false", "-detailed-exitcode"],
            2,
        )
    }

    pub fn state_file(&self) -> String {
        std::fs::read_to_string(self.dir.join("terraform.tfstate")).unwrap_or_default()
    }
}

/// A self-signed certificate and its RSA private key (PEM), made now:
/// `(certificate, key)`.
pub fn key_pair(cn: &str) -> (String, String) {
    let (key, cert) = ssoplane_testkit::pki::key_and_cert(cn);
    (cert, key)
}

/// HCL heredoc for a multi-line value.
pub fn heredoc(s: &str) -> String {
    format!("<<-EOT\n{}EOT\n", s)
}
