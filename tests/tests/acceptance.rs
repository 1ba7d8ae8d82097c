//! Acceptance tests: real terraform CLI, real server, real provider binary.

use serde_json::json;
use ssoplane_e2e::{heredoc, key_pair, terraform, Server, Workspace};
use ssoplane_schema::secrets::fingerprint;

const IDP: &str = r#"idp_metadata_url = "https://example.okta.com/app/abc/sso/saml/metadata""#;

fn settings_resource(name: &str, provider: &str, body: &str) -> String {
    format!("resource \"ssoplane_sso_settings\" \"{name}\" {{\n  provider_name = \"{provider}\"\n  saml_settings {{\n{body}\n  }}\n}}\n")
}

/// PUTs `doc.settings` with `name` changed, as another admin would.
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

#[test]
fn sso_settings_create_update_drift_destroy() {
    let Some(tf) = terraform() else { return };
    let server = Server::start();
    let ws = Workspace::new(&tf, &server.url, &server.admin_token);
    ws.write(&settings_resource(
        "okta",
        "okta",
        &format!("    enabled = true\n    name = \"Okta\"\n    {IDP}\n    allowed_groups = [\"b\", \"a\"]\n"),
    ));
    // create, then the plan is empty
    let out = ws.apply();
    assert!(out.contains("1 added, 0 changed, 0 destroyed"), "{out}");
    ws.plan_empty();
    let (_, doc) = server.get_json("/api/v1/sso-settings/okta");
    assert_eq!(doc["settings"]["name"], "Okta");
    assert_eq!(doc["settings"]["allowed_groups"], json!(["b", "a"]));

    // update: lists keep their order exactly
    ws.write(&settings_resource(
        "okta",
        "okta",
        &format!("    enabled = true\n    name = \"Okta 2\"\n    {IDP}\n    allowed_groups = [\"z\", \"a\", \"m\"]\n    clock_skew = \"2m\"\n"),
    ));
    let out = ws.apply();
    assert!(out.contains("0 added, 1 changed, 0 destroyed"), "{out}");
    ws.plan_empty();
    let (_, doc) = server.get_json("/api/v1/sso-settings/okta");
    assert_eq!(doc["settings"]["name"], "Okta 2");
    assert_eq!(doc["settings"]["allowed_groups"], json!(["z", "a", "m"]));
    assert_eq!(doc["settings"]["clock_skew"], "2m");

    // drift: a change through the API shows in the plan (exit 2)
    change_outside(&server, "okta", "name", json!("Changed outside"));
    let out = ws.plan_changes();
    assert!(out.contains("Changed outside"), "{out}");
    ws.apply();
    ws.plan_empty();
    // drift on a setting the config leaves at its default
    change_outside(&server, "okta", "force_authn", json!(true));
    let out = ws.plan_changes();
    assert!(out.contains("force_authn"), "{out}");
    ws.apply();
    ws.plan_empty();

    // deleted outside: Read drops it, the plan re-creates it
    let (status, _) = server.http(
        "DELETE",
        "/api/v1/sso-settings/okta",
        None,
        &server.admin_token,
    );
    assert_eq!(status, 204);
    let out = ws.plan_changes();
    assert!(out.contains("will be created"), "{out}");
    ws.apply();
    ws.plan_empty();

    // destroy
    let out = ws.expect(
        &["destroy", "-no-color", "-input=false", "-auto-approve"],
        0,
    );
    assert!(out.contains("1 destroyed"), "{out}");
    let (status, doc) = server.get_json("/api/v1/sso-settings/okta");
    assert!(status == 404 || doc["source"] == "system", "{status} {doc}");
}

#[test]
fn write_only_secret_drift_and_import() {
    let Some(tf) = terraform() else { return };
    let server = Server::start();
    let (cert, key) = key_pair("sp.example.com");
    let body = format!(
        "    enabled = true\n    {IDP}\n    sign_requests = true\n    certificate = {}    private_key_wo = {}",
        heredoc(&cert),
        heredoc(&key)
    );
    let config = settings_resource("sp", "okta", &body);
    let ws = Workspace::new(&tf, &server.url, &server.admin_token);
    ws.write(&config);
    ws.apply();
    ws.plan_empty();
    let (_, doc) = server.get_json("/api/v1/sso-settings/okta");
    assert_eq!(
        doc["settings"]["private_key_fingerprint"],
        fingerprint(&key)
    );
    // the write-only key never reaches state or `terraform show -json`
    let key_line = key.lines().nth(1).expect("key body");
    assert!(
        !ws.state_file().contains(key_line),
        "private key leaked into state"
    );
    let shown = ws.expect(&["show", "-json", "-no-color"], 0);
    assert!(
        !shown.contains(key_line),
        "private key leaked into show -json"
    );
    assert!(shown.contains(&fingerprint(&key)), "{shown}");

    // the key changed on the server: the plan wants to send ours again
    let (cert2, key2) = key_pair("other.example.com");
    let path = "/api/v1/sso-settings/okta";
    let (_, doc) = server.get_json(path);
    let mut settings = doc["settings"].as_object().cloned().unwrap_or_default();
    settings.insert("certificate".into(), json!(cert2));
    settings.insert("private_key".into(), json!(key2));
    let (status, b) = server.http(
        "PUT",
        path,
        Some(&json!({ "settings": settings })),
        &server.admin_token,
    );
    assert_eq!(status, 200, "{b}");
    let out = ws.plan_changes();
    assert!(out.contains("private_key_fingerprint"), "{out}");
    ws.apply();
    ws.plan_empty();
    let (_, doc) = server.get_json(path);
    assert_eq!(
        doc["settings"]["private_key_fingerprint"],
        fingerprint(&key)
    );

    // import with the CLI: the plan afterwards is empty
    let imported = Workspace::new(&tf, &server.url, &server.admin_token);
    imported.write(&config);
    imported.expect(
        &[
            "import",
            "-no-color",
            "-input=false",
            "ssoplane_sso_settings.sp",
            "okta",
        ],
        0,
    );
    imported.plan_empty();

    // import block: only the import is planned
    let block = Workspace::new(&tf, &server.url, &server.admin_token);
    block.write(&format!(
        "import {{\n  to = ssoplane_sso_settings.sp\n  id = \"okta\"\n}}\n\n{config}"
    ));
    let out = block.run(&["plan", "-no-color", "-input=false"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "{text}"
    );
}

#[test]
fn reader_token_plans_but_cannot_apply() {
    let Some(tf) = terraform() else { return };
    let server = Server::start();
    let ws = Workspace::new(&tf, &server.url, &server.reader_token);
    ws.write(&settings_resource("r", "reader_test", "    name = \"R\"\n"));
    let out = ws.plan_changes();
    assert!(out.contains("will be created"), "{out}");
    let out = ws.expect(&["apply", "-no-color", "-input=false", "-auto-approve"], 1);
    assert!(out.contains("reader role"), "{out}");
    let (status, _) = server.get_json("/api/v1/sso-settings/reader_test");
    assert_eq!(status, 404);

    // a refused token is a clear configuration error
    let mut bad = Workspace::new(&tf, &server.url, "ssp_nope");
    bad.set_token("ssp_not_a_token");
    bad.write(&settings_resource("r", "reader_test", ""));
    let out = bad.expect(&["plan", "-no-color", "-input=false"], 1);
    assert!(out.contains("refused the token"), "{out}");
}

#[test]
fn several_providers_group_and_data_sources() {
    let Some(tf) = terraform() else { return };
    let server = Server::start();
    let ws = Workspace::new(&tf, &server.url, &server.admin_token);
    let config = format!(
        "{}{}{}",
        settings_resource("okta", "okta", &format!("    enabled = true\n    {IDP}\n")),
        settings_resource(
            "entra",
            "entra",
            "    name = \"Entra ID\"\n    entity_id = \"urn:ssoplane:entra\"\n"
        ),
        r#"
resource "ssoplane_group" "admins" {
  name        = "admins"
  description = "Administrators"
}

data "ssoplane_sp_metadata" "entra" {
  provider_name = ssoplane_sso_settings.entra.provider_name
}

data "ssoplane_sso_settings" "okta" {
  provider_name = ssoplane_sso_settings.okta.provider_name
}

output "entra_acs" {
  value = ssoplane_sso_settings.entra.acs_url
}

output "entra_entity" {
  value = data.ssoplane_sp_metadata.entra.entity_id
}

output "okta_enabled" {
  value = data.ssoplane_sso_settings.okta.saml_settings.enabled
}
"#
    );
    ws.write(&config);
    // SP URLs are known at plan time
    let out = ws.plan_changes();
    assert!(
        out.contains("https://sso.example.com/saml/entra/acs"),
        "{out}"
    );
    ws.apply();
    ws.plan_empty();
    let out = ws.expect(&["output", "-json"], 0);
    let outputs: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    assert_eq!(
        outputs["entra_acs"]["value"],
        "https://sso.example.com/saml/entra/acs"
    );
    assert_eq!(outputs["entra_entity"]["value"], "urn:ssoplane:entra");
    assert_eq!(outputs["okta_enabled"]["value"], true);
    let (status, doc) = server.get_json("/api/v1/groups/admins");
    assert_eq!(status, 200);
    assert_eq!(doc["description"], "Administrators");

    // group drift and import
    let (status, _) = server.http(
        "PUT",
        "/api/v1/groups/admins",
        Some(&json!({"description": "x"})),
        &server.admin_token,
    );
    assert_eq!(status, 200);
    let out = ws.plan_changes();
    assert!(out.contains("Administrators"), "{out}");
    ws.apply();
    ws.plan_empty();

    ws.expect(
        &["destroy", "-no-color", "-input=false", "-auto-approve"],
        0,
    );
    assert_eq!(server.get_json("/api/v1/groups/admins").0, 404);
}

#[test]
fn validation_errors_point_at_the_attribute() {
    let Some(tf) = terraform() else { return };
    let server = Server::start();
    let ws = Workspace::new(&tf, &server.url, &server.admin_token);
    ws.write(&settings_resource(
        "bad",
        "okta",
        "    idp_metadata_url = \"ftp://nope\"\n    allowed_groups = [\"a\", \" \"]\n",
    ));
    let out = ws.expect(&["validate", "-no-color"], 1);
    assert!(out.contains("Invalid SSO setting"), "{out}");
    assert!(out.contains("saml.idp_metadata_url"), "{out}");
    assert!(out.contains("saml.allowed_groups[1]"), "{out}");
    // terraform quotes the offending line of main.tf
    assert!(out.contains("idp_metadata_url = \"ftp://nope\""), "{out}");
    ws.write(&settings_resource("bad", "Not-A-Slug", ""));
    let out = ws.expect(&["validate", "-no-color"], 1);
    assert!(out.contains("Invalid provider name"), "{out}");
}

#[test]
fn sensitive_secret_drift_by_fingerprint_and_unreachable_server() {
    let Some(tf) = terraform() else { return };
    let server = Server::start();
    let (cert, key) = key_pair("sp.example.com");
    let ws = Workspace::new(&tf, &server.url, &server.admin_token);
    ws.write(&settings_resource(
        "s",
        "sens",
        &format!(
            "    certificate = {}    private_key = {}",
            heredoc(&cert),
            heredoc(&key)
        ),
    ));
    ws.apply();
    ws.plan_empty();
    let (cert2, key2) = key_pair("other.example.com");
    let path = "/api/v1/sso-settings/sens";
    let (_, doc) = server.get_json(path);
    let mut settings = doc["settings"].as_object().cloned().unwrap_or_default();
    settings.insert("certificate".into(), json!(cert2));
    settings.insert("private_key".into(), json!(key2));
    let (status, b) = server.http(
        "PUT",
        path,
        Some(&json!({ "settings": settings })),
        &server.admin_token,
    );
    assert_eq!(status, 200, "{b}");
    let out = ws.plan_changes();
    assert!(out.contains("private_key"), "{out}");
    ws.apply();
    ws.plan_empty();

    // a server that is not there: a clear error after bounded retries
    let gone = Workspace::new(&tf, "http://127.0.0.1:9", &server.admin_token);
    gone.write(&settings_resource("s", "sens", ""));
    let out = gone.expect(&["plan", "-no-color", "-input=false"], 1);
    assert!(out.contains("cannot reach the ssoplane server"), "{out}");
}
