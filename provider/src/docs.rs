//! Registry-layout docs (`docs/index.md`, `docs/resources/*.md`,
//! `docs/data-sources/*.md`) generated from the provider's own schema and
//! the files under `examples/`. A test keeps the committed files current
//! (`UPDATE_DOCS=1 cargo test -p terraform-provider-ssoplane` rewrites them).

use ssoplane_proto::cty::Type;
use ssoplane_proto::tfplugin6::schema::{Attribute, Block};
use ssoplane_proto::tfplugin6::Schema;

use crate::provider::schemas;

const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The `~>` constraint the docs show: major.minor of this version.
const MINOR: &str = {
    // "0.1.0" -> "0.1": the crate version always has three parts.
    let b = VERSION.as_bytes();
    let mut dots = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'.' {
            dots += 1;
            if dots == 2 {
                break;
            }
        }
        i += 1;
    }
    match VERSION.split_at_checked(i) {
        Some((head, _)) => head,
        None => VERSION,
    }
};

const HEADER: &str = "<!-- Generated from the provider schema by `UPDATE_DOCS=1 cargo test -p terraform-provider-ssoplane`. Do not edit. -->\n";

const PROVIDER_EXAMPLE: &str = include_str!("../../examples/provider.tf");
const SETTINGS_EXAMPLE: &str =
    include_str!("../../examples/resources/ssoplane_sso_settings/resource.tf");
const SETTINGS_IMPORT: &str =
    include_str!("../../examples/resources/ssoplane_sso_settings/import.sh");
const GROUP_EXAMPLE: &str = include_str!("../../examples/resources/ssoplane_group/resource.tf");
const GROUP_IMPORT: &str = include_str!("../../examples/resources/ssoplane_group/import.sh");
const DS_SETTINGS_EXAMPLE: &str =
    include_str!("../../examples/data-sources/ssoplane_sso_settings/data-source.tf");
const DS_METADATA_EXAMPLE: &str =
    include_str!("../../examples/data-sources/ssoplane_sp_metadata/data-source.tf");

const SECRETS_NOTE: &str = "## Secrets\n\n\
`private_key` and `encryption_private_key` can be given two ways:\n\n\
- **Write-only** (`*_wo`, Terraform 1.11+, recommended): the value is sent to the server and never stored in plan or state. \
It is sent on create, when `*_wo_version` changes, and when the server's fingerprint no longer matches the one applied last \
(kept in the resource's private state), so a key replaced outside Terraform shows as drift on `*_fingerprint`.\n\
- **Sensitive attribute** (`private_key`): stored in state (marked sensitive). Drift is detected by comparing the server's \
fingerprint with the SHA-256 of the value in state.\n\n\
The server never returns secrets; `*_fingerprint` is `sha256:<hex>` of the secret in effect.\n\n\
## Import caveats\n\n\
After `terraform import` (or an `import` block) the plan is empty when the configuration gives secrets with `*_wo` and \
no `*_wo_version`. Two cases cannot be empty because the server never reveals secrets or versions: a secret given as the \
sensitive `private_key` (the first apply writes it into state), and a `*_wo_version` (the first apply records it; the key is \
not re-sent when its fingerprint already matches).\n";

const SETTINGS_CONCURRENCY_NOTE: &str = "\n## No silent overwrites\n\n\
Every write carries the settings' `version` as Terraform last read it, and the server refuses a stale one (HTTP 412); \
nothing is ever overwritten without a word:\n\n\
- **Update and destroy** send `If-Match: \"<version>\"`. When someone changed the settings since the last refresh \
(another `terraform apply` from another working directory, a saved plan applied late, an edit through the API), the apply \
fails with *SSO settings changed since the last refresh*, naming the version now in effect and who changed it when (from \
the server's history), and writes nothing. Run `terraform plan` again to see the change.\n\
- **Create** sends `If-None-Match: *`. When settings for the provider already exist through the API, the plan (and, if \
they appeared after the plan, the apply) fails with *SSO settings already exist*, naming their source, version and last \
author, with the `terraform import` command and `import` block to adopt them instead.\n\
- **Settings from the server's config file or environment** (`source = \"system\"`, version 0) are not overwritten \
silently either: they can be imported (`terraform import`, or an `import` block) and, like a create over them, the first \
apply takes them over — the API settings then override the file/env ones. Destroying the resource removes the API \
settings and the provider falls back to its file/env settings (an imported provider never written through the API has \
nothing to delete).\n\n\
Writes are marked `X-Ssoplane-Managed-By: terraform`; the API reports `managed_by = \"terraform\"` until another client \
writes.\n";

const GROUP_CONCURRENCY_NOTE: &str = "## No silent overwrites\n\n\
Like `ssoplane_sso_settings`, a create refuses an existing group (with the import hint), and an update or destroy \
sends the `version` last read and fails with *Group changed since the last refresh* (naming the version now in effect \
and who wrote it when) instead of overwriting a change made elsewhere.\n";

/// The `enabled` setting's description, the one truth on disabled providers.
fn sp_metadata_notes() -> String {
    let enabled = ssoplane_schema::FIELDS
        .iter()
        .find(|f| f.name == "enabled")
        .map(|f| f.description)
        .unwrap_or_default();
    format!(
        "## Notes\n\n\
`metadata_xml` is fetched from the server's `/saml/{{provider}}/metadata` when the data source is read; it is the empty \
string while the server serves none for that provider (not configured yet).\n\n\
Disabled providers (`saml_settings.enabled = false`): {enabled}\n\n\
### Wiring the IdP on the first apply\n\n\
Read before the settings exist, the data source reports the server's current entity ID: the metadata URL by default. \
When the settings set a custom `entity_id`, pass the same value in, so the IdP application gets the right identifier on \
the first apply — from a `local` both use, or from `ssoplane_sso_settings.<name>.entity_id` (known at plan time) when the \
settings do not depend on the IdP application. `metadata_xml` always shows what the server serves when read.\n"
    )
}

/// (path relative to docs/, content) for every generated page.
pub fn pages() -> Vec<(String, String)> {
    let s = schemas();
    let mut out = vec![("index.md".to_string(), index(&s.provider))];
    for (name, schema) in &s.resources {
        let (example, import, extra) = match *name {
            "ssoplane_sso_settings" => (
                SETTINGS_EXAMPLE,
                Some(SETTINGS_IMPORT),
                format!("{SECRETS_NOTE}{SETTINGS_CONCURRENCY_NOTE}"),
            ),
            _ => (
                GROUP_EXAMPLE,
                Some(GROUP_IMPORT),
                GROUP_CONCURRENCY_NOTE.to_string(),
            ),
        };
        out.push((
            format!("resources/{}.md", short(name)),
            page(name, "Resource", schema, example, import, &extra),
        ));
    }
    for (name, schema) in &s.data_sources {
        let (example, extra) = match *name {
            "ssoplane_sp_metadata" => (DS_METADATA_EXAMPLE, sp_metadata_notes()),
            _ => (DS_SETTINGS_EXAMPLE, String::new()),
        };
        out.push((
            format!("data-sources/{}.md", short(name)),
            page(name, "Data Source", schema, example, None, &extra),
        ));
    }
    out
}

fn short(name: &str) -> &str {
    name.strip_prefix("ssoplane_").unwrap_or(name)
}

fn index(provider: &Schema) -> String {
    let mut out = format!(
        "---\npage_title: \"ssoplane Provider\"\ndescription: |-\n  Manages ssoplane SSO settings and groups.\n---\n{HEADER}\n# ssoplane Provider\n\n\
Declares [ssoplane](https://github.com/ssoplane/ssoplane) SAML SSO settings and groups, and detects drift with \
`terraform plan -detailed-exitcode`. Requires Terraform 1.11+ for write-only secrets.\n\n\
An admin token can apply; a reader token can refresh and plan (for CI drift checks) and gets a clear error on apply.\n\n\
## Installation\n\n\
The provider is not in a public registry yet. From a checkout of the ssoplane repository, one command builds it and \
installs it for this machine's platform into Terraform's implied local mirror, \
`~/.terraform.d/plugins/registry.terraform.io/ssoplane/ssoplane/{VERSION}/<os>_<arch>/`:\n\n\
```sh\nscripts/install-provider.sh\n```\n\n\
After that the `required_providers` block below (`version = \"~> {MINOR}\"`) works with a plain `terraform init`. \
With `--dir DIR` it installs into another directory instead; point Terraform at it with a CLI configuration \
(`TF_CLI_CONFIG_FILE` or `~/.terraformrc`):\n\n\
```hcl\nprovider_installation {{\n  filesystem_mirror {{\n    path    = \"DIR\"\n    include = [\"registry.terraform.io/ssoplane/ssoplane\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/ssoplane/ssoplane\"]\n  }}\n}}\n```\n\n\
`scripts/release-provider.sh` lays out a release as a registry or a network mirror expects it (per-platform zips, \
`_SHA256SUMS`, `_manifest.json`, and a `mirror/` tree in the `terraform providers mirror` layout), so publishing is one \
step.\n\n\
**Provider development:** skip installing and let Terraform run the binary `cargo build -p terraform-provider-ssoplane` \
left in `target/debug` with `dev_overrides` (then no `terraform init`, and no version constraint applies):\n\n\
```hcl\nprovider_installation {{\n  dev_overrides {{\n    \"registry.terraform.io/ssoplane/ssoplane\" = \"/path/to/ssoplane/target/debug\"\n  }}\n  direct {{}}\n}}\n```\n\n\
## Example Usage\n\n```terraform\n{}```\n\n",
        PROVIDER_EXAMPLE
    );
    if let Some(b) = &provider.block {
        out.push_str("## Schema\n\n");
        attributes(&mut out, b, "");
    }
    out
}

fn page(
    name: &str,
    kind: &str,
    schema: &Schema,
    example: &str,
    import: Option<&str>,
    extra: &str,
) -> String {
    let block = schema.block.clone().unwrap_or_default();
    let mut out = format!(
        "---\npage_title: \"{name} {kind} - ssoplane\"\nsubcategory: \"\"\ndescription: |-\n  {}\n---\n{HEADER}\n# {name} ({kind})\n\n{}\n\n## Example Usage\n\n```terraform\n{example}```\n\n## Schema\n\n",
        first_line(&block.description),
        block.description
    );
    attributes(&mut out, &block, "");
    for nb in &block.block_types {
        if let Some(inner) = &nb.block {
            out.push_str(&format!(
                "\n<a id=\"nestedblock--{0}\"></a>\n### Nested Schema for `{0}`\n\n{1}\n\n",
                nb.type_name, inner.description
            ));
            attributes(&mut out, inner, &format!("{}.", nb.type_name));
        }
    }
    if !extra.is_empty() {
        out.push('\n');
        out.push_str(extra);
    }
    if let Some(import) = import {
        out.push_str(&format!("\n## Import\n\nImport is supported using the following syntax:\n\n```shell\n{import}```\n"));
    }
    out
}

fn first_line(s: &str) -> String {
    s.split(". ").next().unwrap_or(s).replace('"', "'")
}

/// Picks the attributes of one docs section.
type Section = (&'static str, fn(&Attribute) -> bool);

fn attributes(out: &mut String, block: &Block, _prefix: &str) {
    let sections: [Section; 3] = [
        ("Required", |a| a.required),
        ("Optional", |a| a.optional),
        ("Read-Only", |a| a.computed && !a.optional),
    ];
    for (title, pick) in sections {
        let attrs: Vec<&Attribute> = block.attributes.iter().filter(|a| pick(a)).collect();
        let blocks: Vec<_> = if title == "Required" {
            block
                .block_types
                .iter()
                .filter(|b| b.min_items > 0)
                .collect()
        } else {
            vec![]
        };
        if attrs.is_empty() && blocks.is_empty() {
            continue;
        }
        out.push_str(&format!("### {title}\n\n"));
        for a in attrs {
            let mut flags = vec![type_name(&a.r#type)];
            if a.sensitive {
                flags.push("Sensitive".into());
            }
            if a.write_only {
                flags.push("Write-only".into());
            }
            out.push_str(&format!(
                "- `{}` ({}) {}\n",
                a.name,
                flags.join(", "),
                a.description
            ));
        }
        for b in blocks {
            out.push_str(&format!(
                "- `{0}` (Block) (see [below for nested schema](#nestedblock--{0}))\n",
                b.type_name
            ));
        }
        out.push('\n');
    }
}

fn type_name(json: &[u8]) -> String {
    fn name(t: &Type) -> String {
        match t {
            Type::Bool => "Boolean".into(),
            Type::Number => "Number".into(),
            Type::String => "String".into(),
            Type::Dynamic => "Dynamic".into(),
            Type::List(e) => format!("List of {}", name(e)),
            Type::Set(e) => format!("Set of {}", name(e)),
            Type::Map(e) => format!("Map of {}", name(e)),
            Type::Object { .. } => "Object".into(),
            Type::Tuple(_) => "Tuple".into(),
        }
    }
    Type::from_json_bytes(json)
        .map(|t| name(&t))
        .unwrap_or_else(|_| "Unknown".into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_docs_are_current() {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
        let update = std::env::var_os("UPDATE_DOCS").is_some();
        let mut stale = Vec::new();
        for (path, content) in super::pages() {
            let file = docs.join(&path);
            if update {
                if let Some(dir) = file.parent() {
                    std::fs::create_dir_all(dir).unwrap();
                }
                std::fs::write(&file, &content).unwrap();
            }
            if std::fs::read_to_string(&file).unwrap_or_default() != content {
                stale.push(path);
            }
        }
        assert!(
            stale.is_empty(),
            "docs {stale:?} are stale: run `UPDATE_DOCS=1 cargo test -p terraform-provider-ssoplane`"
        );
    }

    #[test]
    fn every_setting_is_documented() {
        let pages = super::pages();
        let (_, settings) = pages
            .iter()
            .find(|(p, _)| p == "resources/sso_settings.md")
            .unwrap();
        for f in ssoplane_schema::FIELDS {
            assert!(
                settings.contains(&format!("- `{}` (", f.name)),
                "{}",
                f.name
            );
        }
    }
}
