//! Registry-layout docs (`docs/index.md`, `docs/resources/*.md`,
//! `docs/data-sources/*.md`) generated from the provider's own schema and
//! the files under `examples/`. A test keeps the committed files current
//! (`UPDATE_DOCS=1 cargo test -p terraform-provider-ssoplane` rewrites them).

use ssoplane_proto::cty::Type;
use ssoplane_proto::tfplugin6::schema::{Attribute, Block};
use ssoplane_proto::tfplugin6::Schema;

use crate::provider::schemas;

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

/// (path relative to docs/, content) for every generated page.
pub fn pages() -> Vec<(String, String)> {
    let s = schemas();
    let mut out = vec![("index.md".to_string(), index(&s.provider))];
    for (name, schema) in &s.resources {
        let (example, import, extra) = match *name {
            "ssoplane_sso_settings" => (SETTINGS_EXAMPLE, Some(SETTINGS_IMPORT), SECRETS_NOTE),
            _ => (GROUP_EXAMPLE, Some(GROUP_IMPORT), ""),
        };
        out.push((
            format!("resources/{}.md", short(name)),
            page(name, "Resource", schema, example, import, extra),
        ));
    }
    for (name, schema) in &s.data_sources {
        let (example, extra) = match *name {
            "ssoplane_sp_metadata" => (
                DS_METADATA_EXAMPLE,
                "## Notes\n\n`metadata_xml` is fetched from the server's `/saml/{provider}/metadata`; it is the empty string while the server does not serve SP metadata for that provider (SAML endpoints disabled, provider not configured, or an older server).\n",
            ),
            _ => (DS_SETTINGS_EXAMPLE, ""),
        };
        out.push((
            format!("data-sources/{}.md", short(name)),
            page(name, "Data Source", schema, example, None, extra),
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
