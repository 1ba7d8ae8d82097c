//! No silent overwrites, with the real terraform CLI against a real server:
//! concurrent applies, saved plans applied after an out-of-band change,
//! creates over existing settings, imports of file- and env-configured
//! providers, deletes of changed settings, group conflicts; and the TLS and
//! `ssoplane_sp_metadata` entity ID fixes.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;
use ssoplane_e2e::{terraform, Server, Workspace};

const IDP: &str = r#"idp_metadata_url = "https://example.okta.com/app/abc/sso/saml/metadata""#;

fn settings_resource(name: &str, provider: &str, body: &str) -> String {
    format!("resource \"ssoplane_sso_settings\" \"{name}\" {{\n  provider_name = \"{provider}\"\n  saml_settings {{\n{body}\n  }}\n}}\n")
}

/// PUTs the settings with `field` changed, as another admin would.
fn change_outside(server: &Server, provider: &str, field: &str, value: serde_json::Value) {
    let path = format!("/api/v1/sso-settings/{provider}");
    let (status, doc) = server.get_json(&path);
    assert_eq!(status, 200, "{doc}");
    let mut settings = doc["settings"].as_object().cloned().unwrap_or_default();
    settings.insert(field.into(), value);
    let (status, body) = server.http(
        "PUT",
        &path,
        Some(&json!({ "settings": settings })),
        &server.admin_token,
    );
    assert_eq!(status, 200, "{body}");
}

const APPLY: &[&str] = &["apply", "-no-color", "-input=false", "-auto-approve"];

/// `terraform apply` waiting at its confirmation prompt (the plan is made),
/// with a reader that collects its output.
struct Prompted {
    child: Child,
    output: mpsc::Receiver<String>,
    seen: String,
}

fn apply_until_prompt(ws: &Workspace) -> Prompted {
    let mut child = ws
        .command(&["apply", "-no-color"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn terraform apply");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx2.send(format!("{line}\n"));
        }
    });
    let mut stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        let _ = tx.send(s);
    });
    let mut p = Prompted {
        child,
        output: rx,
        seen: String::new(),
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while !p.seen.contains("Only 'yes' will be accepted") {
        assert!(Instant::now() < deadline, "no prompt:\n{}", p.seen);
        if let Ok(line) = p.output.recv_timeout(Duration::from_millis(200)) {
            p.seen.push_str(&line);
        }
    }
    p
}

impl Prompted {
    fn confirm(&mut self) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin.write_all(b"yes\n").expect("answer the prompt");
    }

    /// (exit code, everything printed)
    fn finish(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().expect("wait terraform");
        while let Ok(line) = self.output.recv_timeout(Duration::from_secs(5)) {
            self.seen.push_str(&line);
        }
        (status.code(), self.seen)
    }
}

#[test]
fn two_concurrent_applies_exactly_one_fails_and_nothing_is_lost() {
    let Some(tf) = terraform() else { return };
    let server = Server::start();
    let base = |name: &str, skew: &str| {
        settings_resource(
            "okta",
            "okta",
            &format!("    enabled = true\n    name = \"{name}\"\n    {IDP}\n    clock_skew = \"{skew}\"\n"),
        )
    };
    let a = Workspace::new(&tf, &server.url, &server.admin_token);
    a.write(&base("Okta", "1m"));
    a.apply();
    let b = Workspace::new(&tf, &server.url, &server.admin_token);
    b.write(&base("Okta", "1m"));
    b.expect(
        &[
            "import",
            "-no-color",
            "-input=false",
            "ssoplane_sso_settings.okta",
            "okta",
        ],
        0,
    );
    b.plan_empty();
    // Each working dir changes a different setting; both plan on version 1.
    a.write(&base("Changed by A", "1m"));
    b.write(&base("Okta", "5m"));
    let mut pa = apply_until_prompt(&a);
    let mut pb = apply_until_prompt(&b);
    pa.confirm();
    pb.confirm();
    let (ca, oa) = pa.finish();
    let (cb, ob) = pb.finish();
    let (winner, loser_out) = match (ca, cb) {
        (Some(0), Some(1)) => ("A", ob),
        (Some(1), Some(0)) => ("B", oa),
        other => panic!("expected exactly one failure, got {other:?}\n--- A\n{oa}\n--- B\n{ob}"),
    };
    assert!(
        loser_out.contains("SSO settings changed since the last refresh"),
        "{loser_out}"
    );
    assert!(loser_out.contains("now version 2"), "{loser_out}");
    assert!(loser_out.contains("by admin at"), "{loser_out}");
    assert!(loser_out.contains("terraform plan"), "{loser_out}");
    // The winner's values are on the server; the loser wrote nothing, so
    // nothing the winner set was reverted.
    let (_, doc) = server.get_json("/api/v1/sso-settings/okta");
    assert_eq!(doc["version"], 2, "{doc}");
    match winner {
        "A" => {
            assert_eq!(doc["settings"]["name"], "Changed by A");
            assert_eq!(doc["settings"]["clock_skew"], "1m");
        }
        _ => {
            assert_eq!(doc["settings"]["name"], "Okta");
            assert_eq!(doc["settings"]["clock_skew"], "5m");
        }
    }
    assert_eq!(doc["managed_by"], "terraform");
    // The loser's next plan shows the winner's change, and its apply then works.
    let loser = if winner == "A" { &b } else { &a };
    loser.plan_changes();
    loser.apply();
    loser.plan_empty();
}

#[test]
fn saved_plan_after_an_out_of_band_change_fails_clearly() {
    let Some(tf) = terraform() else { return };
    let server = Server::start();
    let ws = Workspace::new(&tf, &server.url, &server.admin_token);
    ws.write(&settings_resource(
        "okta",
        "okta",
        &format!("    name = \"One\"\n    {IDP}\n"),
    ));
    ws.apply();
    ws.write(&settings_resource(
        "okta",
        "okta",
        &format!("    name = \"Two\"\n    {IDP}\n"),
    ));
    ws.expect(&["plan", "-no-color", "-input=false", "-out=tfplan"], 0);
    change_outside(&server, "okta", "force_authn", json!(true));
    let out = ws.expect(&["apply", "-no-color", "-input=false", "tfplan"], 1);
    assert!(
        out.contains("SSO settings changed since the last refresh"),
        "{out}"
    );
    assert!(out.contains("now version 2"), "{out}");
    assert!(out.contains("put by admin at"), "{out}");
    assert!(out.contains("nothing was written"), "{out}");
    let (_, doc) = server.get_json("/api/v1/sso-settings/okta");
    assert_eq!(doc["settings"]["name"], "One");
    assert_eq!(
        doc["settings"]["force_authn"], true,
        "the outside change stays"
    );
    // a fresh plan shows both, and applies
    let out = ws.plan_changes();
    assert!(out.contains("force_authn"), "{out}");
    ws.apply();
    ws.plan_empty();
}

#[test]
fn create_over_existing_settings_fails_with_the_import_hint() {
    let Some(tf) = terraform() else { return };
    let server = Server::start();
    let (status, body) = server.http(
        "PUT",
        "/api/v1/sso-settings/okta",
        Some(&json!({"settings": {"name": "Set by hand"}})),
        &server.admin_token,
    );
    assert_eq!(status, 200, "{body}");
    let ws = Workspace::new(&tf, &server.url, &server.admin_token);
    ws.write(&settings_resource("mine", "okta", "    name = \"Mine\"\n"));
    // the plan already refuses
    let out = ws.expect(&["plan", "-no-color", "-input=false"], 1);
    for want in [
        "SSO settings already exist",
        "source database, version 1",
        "put by admin at",
        "terraform import ssoplane_sso_settings.<name> okta",
        "to = ssoplane_sso_settings.<name>",
        "id = \"okta\"",
        "ssoplane_sso_settings.mine",
    ] {
        assert!(out.contains(want), "missing {want:?}:\n{out}");
    }
    // settings that appear between plan and apply: the apply refuses atomically
    let late = Workspace::new(&tf, &server.url, &server.admin_token);
    late.write(&settings_resource("late", "late", "    name = \"Mine\"\n"));
    late.expect(&["plan", "-no-color", "-input=false", "-out=tfplan"], 0);
    let (status, body) = server.http(
        "PUT",
        "/api/v1/sso-settings/late",
        Some(&json!({"settings": {"name": "Got there first"}})),
        &server.admin_token,
    );
    assert_eq!(status, 200, "{body}");
    let out = late.expect(&["apply", "-no-color", "-input=false", "tfplan"], 1);
    assert!(out.contains("SSO settings already exist"), "{out}");
    assert!(
        out.contains("terraform import ssoplane_sso_settings.<name> late"),
        "{out}"
    );
    for p in ["okta", "late"] {
        let (_, doc) = server.get_json(&format!("/api/v1/sso-settings/{p}"));
        assert_eq!(doc["version"], 1, "{doc}");
        assert!(doc.get("managed_by").is_none(), "{doc}");
    }
    // the hint works: import, then an empty plan for the same settings
    ws.write(&settings_resource(
        "mine",
        "okta",
        "    name = \"Set by hand\"\n",
    ));
    ws.expect(
        &[
            "import",
            "-no-color",
            "-input=false",
            "ssoplane_sso_settings.mine",
            "okta",
        ],
        0,
    );
    ws.plan_empty();
}

#[test]
fn file_and_env_configured_providers_import_with_an_empty_plan() {
    let Some(tf) = terraform() else { return };
    let server = Server::start_with(
        Some("[saml.fromfile]\nname = \"From file\"\nclock_skew = \"2m\"\n"),
        &[
            ("SSOPLANE__SAML__FROMENV__NAME", "From env"),
            ("SSOPLANE__SAML__FROMENV__ALLOWED_GROUPS", "ops,dev"),
        ],
    );
    let config = format!(
        "{}{}",
        settings_resource(
            "file",
            "fromfile",
            "    name = \"From file\"\n    clock_skew = \"2m\"\n"
        ),
        settings_resource(
            "env",
            "fromenv",
            "    name = \"From env\"\n    allowed_groups = [\"ops\", \"dev\"]\n"
        ),
    );
    let ws = Workspace::new(&tf, &server.url, &server.admin_token);
    ws.write(&config);
    for (addr, id) in [
        ("ssoplane_sso_settings.file", "fromfile"),
        ("ssoplane_sso_settings.env", "fromenv"),
    ] {
        ws.expect(&["import", "-no-color", "-input=false", addr, id], 0);
    }
    ws.plan_empty();
    // an import block works the same way
    let block = Workspace::new(&tf, &server.url, &server.admin_token);
    block.write(&format!(
        "import {{\n  to = ssoplane_sso_settings.file\n  id = \"fromfile\"\n}}\n\n{}",
        settings_resource(
            "file",
            "fromfile",
            "    name = \"From file\"\n    clock_skew = \"2m\"\n"
        )
    ));
    let out = block.expect(&["plan", "-no-color", "-input=false"], 0);
    assert!(
        out.contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "{out}"
    );
    // the first change takes the file settings over through the API ...
    ws.write(&config.replace("From file", "Taken over"));
    ws.apply();
    ws.plan_empty();
    let (_, doc) = server.get_json("/api/v1/sso-settings/fromfile");
    assert_eq!(doc["source"], "database");
    assert_eq!(doc["settings"]["name"], "Taken over");
    // ... and destroying falls back to the file; the env provider, never
    // written through the API, is left as it is
    ws.expect(
        &["destroy", "-no-color", "-input=false", "-auto-approve"],
        0,
    );
    let (_, doc) = server.get_json("/api/v1/sso-settings/fromfile");
    assert_eq!(doc["source"], "system");
    assert_eq!(doc["settings"]["name"], "From file");
    let (_, doc) = server.get_json("/api/v1/sso-settings/fromenv");
    assert_eq!(doc["source"], "system");
    // a create over file/env settings takes them over too
    let create = Workspace::new(&tf, &server.url, &server.admin_token);
    create.write(&settings_resource(
        "env",
        "fromenv",
        "    name = \"Created\"\n",
    ));
    create.apply();
    let (_, doc) = server.get_json("/api/v1/sso-settings/fromenv");
    assert_eq!(doc["source"], "database");
    assert_eq!(doc["settings"]["name"], "Created");
    // unknown providers still do not import
    create.write(&format!(
        "{}{}",
        settings_resource("env", "fromenv", "    name = \"Created\"\n"),
        settings_resource("x", "nowhere", "")
    ));
    let out = create.expect(
        &[
            "import",
            "-no-color",
            "-input=false",
            "ssoplane_sso_settings.x",
            "nowhere",
        ],
        1,
    );
    assert!(out.contains("SSO settings not found"), "{out}");
}

#[test]
fn delete_of_settings_changed_since_the_last_refresh_fails_clearly() {
    let Some(tf) = terraform() else { return };
    let server = Server::start();
    let ws = Workspace::new(&tf, &server.url, &server.admin_token);
    ws.write(&settings_resource("okta", "okta", "    name = \"Mine\"\n"));
    ws.apply();
    ws.expect(
        &[
            "plan",
            "-destroy",
            "-no-color",
            "-input=false",
            "-out=tfplan",
        ],
        0,
    );
    change_outside(&server, "okta", "name", json!("Someone else's"));
    let out = ws.expect(&["apply", "-no-color", "-input=false", "tfplan"], 1);
    assert!(
        out.contains("SSO settings changed since the last refresh"),
        "{out}"
    );
    assert!(out.contains("now version 2"), "{out}");
    let (status, doc) = server.get_json("/api/v1/sso-settings/okta");
    assert_eq!(status, 200);
    assert_eq!(doc["settings"]["name"], "Someone else's");
    // without refreshing, destroy fails the same way
    let out = ws.expect(
        &[
            "destroy",
            "-no-color",
            "-input=false",
            "-auto-approve",
            "-refresh=false",
        ],
        1,
    );
    assert!(out.contains("changed since the last refresh"), "{out}");
    // after a refresh the destroy is deliberate, and goes through
    ws.expect(
        &["destroy", "-no-color", "-input=false", "-auto-approve"],
        0,
    );
    assert_eq!(server.get_json("/api/v1/sso-settings/okta").0, 404);
}

#[test]
fn group_versions_refuse_stale_writes_and_creates_over_existing() {
    let Some(tf) = terraform() else { return };
    let server = Server::start();
    let ws = Workspace::new(&tf, &server.url, &server.admin_token);
    let group = |d: &str| {
        format!("resource \"ssoplane_group\" \"ops\" {{\n  name        = \"ops\"\n  description = \"{d}\"\n}}\n")
    };
    ws.write(&group("Operations"));
    ws.apply();
    ws.plan_empty();
    let (_, g) = server.get_json("/api/v1/groups/ops");
    assert_eq!(g["managed_by"], "terraform");
    // saved plan, then a change through the API: refused
    ws.write(&group("Ops team"));
    ws.expect(&["plan", "-no-color", "-input=false", "-out=tfplan"], 0);
    let (status, _) = server.http(
        "PUT",
        "/api/v1/groups/ops",
        Some(&json!({"description": "edited"})),
        &server.admin_token,
    );
    assert_eq!(status, 200);
    let out = ws.expect(&["apply", "-no-color", "-input=false", "tfplan"], 1);
    assert!(
        out.contains("Group changed since the last refresh"),
        "{out}"
    );
    assert!(out.contains("last written by admin"), "{out}");
    assert_eq!(
        server.get_json("/api/v1/groups/ops").1["description"],
        "edited"
    );
    // stale destroy: refused
    let out = ws.expect(
        &[
            "destroy",
            "-no-color",
            "-input=false",
            "-auto-approve",
            "-refresh=false",
        ],
        1,
    );
    assert!(
        out.contains("Group changed since the last refresh"),
        "{out}"
    );
    ws.apply();
    ws.plan_empty();
    assert_eq!(
        server.get_json("/api/v1/groups/ops").1["description"],
        "Ops team"
    );
    // a second working dir creating the same group: refused with the hint
    let other = Workspace::new(&tf, &server.url, &server.admin_token);
    other.write(&group("Mine"));
    let out = other.expect(APPLY, 1);
    assert!(out.contains("Group already exists"), "{out}");
    assert!(
        out.contains("terraform import ssoplane_group.<name> ops"),
        "{out}"
    );
    assert_eq!(
        server.get_json("/api/v1/groups/ops").1["description"],
        "Ops team"
    );
}

#[test]
fn https_to_a_plain_http_server_says_so_without_retrying() {
    let Some(tf) = terraform() else { return };
    let server = Server::start();
    let https = server.url.replace("http://", "https://");
    let ws = Workspace::new(&tf, &https, &server.admin_token);
    ws.write("resource \"ssoplane_group\" \"g\" {\n  name = \"g\"\n}\n");
    let out = ws.expect(&["plan", "-no-color", "-input=false"], 1);
    assert!(
        out.contains(&format!(
            "the server at {https} does not speak TLS (is it plain http?"
        )),
        "{out}"
    );
    assert!(
        !out.contains("attempts"),
        "a TLS failure is not retried: {out}"
    );
    assert!(!out.contains("InvalidContentType"), "{out}");
}

#[test]
fn sp_metadata_takes_the_planned_entity_id_on_the_first_apply() {
    let Some(tf) = terraform() else { return };
    let server = Server::start();
    let ws = Workspace::new(&tf, &server.url, &server.admin_token);
    ws.write(&format!(
        "{}{}",
        settings_resource("entra", "entra", "    entity_id = \"urn:ssoplane:entra\"\n"),
        r#"
data "ssoplane_sp_metadata" "wired" {
  provider_name = "entra"
  entity_id     = ssoplane_sso_settings.entra.entity_id
}

data "ssoplane_sp_metadata" "default" {
  provider_name = "entra"
}

output "wired" {
  value = data.ssoplane_sp_metadata.wired.entity_id
}

output "default" {
  value = data.ssoplane_sp_metadata.default.entity_id
}
"#
    ));
    // before anything exists, the wired one already has the custom ID
    let out = ws.plan_changes();
    assert!(out.contains("urn:ssoplane:entra"), "{out}");
    ws.apply();
    let out = ws.expect(&["output", "-json"], 0);
    let outputs: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    assert_eq!(outputs["wired"]["value"], "urn:ssoplane:entra");
    // read before the settings were created: the server's default then
    assert_eq!(
        outputs["default"]["value"],
        "https://sso.example.com/saml/entra/metadata"
    );
    // a hostile entity_id is refused at validate
    ws.write(&format!(
        "data \"ssoplane_sp_metadata\" \"bad\" {{\n  provider_name = \"entra\"\n  entity_id = \"{}\"\n}}\n",
        "x".repeat(1025)
    ));
    let out = ws.expect(&["validate", "-no-color"], 1);
    assert!(out.contains("Invalid entity ID"), "{out}");
}
