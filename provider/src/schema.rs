//! Schema building blocks. The `saml_settings` block is generated from
//! `ssoplane_schema::FIELDS`, so a new setting appears in the provider, its
//! validation and its docs without touching this crate. Value types are
//! derived back from the schema ([`block_type`]) so they cannot disagree.

use ssoplane_proto::cty::Type;
use ssoplane_proto::tfplugin6::schema::{nested_block::NestingMode, Attribute, Block, NestedBlock};
use ssoplane_proto::tfplugin6::{Schema, StringKind};
use ssoplane_schema::{docs, FieldSpec, FIELDS};

use crate::values::field_type;

/// How an attribute is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Required,
    Optional,
    Computed,
    OptionalComputed,
}

pub fn attr(name: &str, ty: Type, mode: Mode, description: impl Into<String>) -> Attribute {
    Attribute {
        name: name.to_string(),
        r#type: ty.to_json_bytes(),
        description: description.into(),
        description_kind: StringKind::Markdown as i32,
        required: mode == Mode::Required,
        optional: matches!(mode, Mode::Optional | Mode::OptionalComputed),
        computed: matches!(mode, Mode::Computed | Mode::OptionalComputed),
        ..Default::default()
    }
}

pub fn sensitive(mut a: Attribute) -> Attribute {
    a.sensitive = true;
    a
}

pub fn write_only(mut a: Attribute) -> Attribute {
    a.write_only = true;
    a
}

pub fn block(
    description: &str,
    attributes: Vec<Attribute>,
    block_types: Vec<NestedBlock>,
) -> Block {
    Block {
        attributes,
        block_types,
        description: description.to_string(),
        description_kind: StringKind::Markdown as i32,
        ..Default::default()
    }
}

pub fn schema(block: Block) -> Schema {
    Schema {
        version: 0,
        block: Some(block),
    }
}

/// A required single nested block.
pub fn single_block(name: &str, block: Block) -> NestedBlock {
    NestedBlock {
        type_name: name.to_string(),
        block: Some(block),
        nesting: NestingMode::Single as i32,
        min_items: 1,
        max_items: 1,
    }
}

pub use ssoplane_proto::framework::{block_type, schema_type};

/// Attribute names of a secret field's companions.
pub fn wo_name(f: &FieldSpec) -> String {
    format!("{}_wo", f.name)
}
pub fn wo_version_name(f: &FieldSpec) -> String {
    format!("{}_wo_version", f.name)
}
pub fn fingerprint_name(f: &FieldSpec) -> String {
    format!("{}_fingerprint", f.name)
}

fn field_description(f: &FieldSpec) -> String {
    format!(
        "{} Type: {}. Default: {}.",
        f.description.trim_end(),
        docs::kind_name(f.kind),
        docs::default_text(f)
    )
}

/// The resource's `saml_settings` block: one attribute per field, all
/// optional+computed (unset = the server default, so defaults never diff);
/// secrets are sensitive, not computed, and get write-only twins.
pub fn settings_block() -> Block {
    let mut attributes = Vec::new();
    for f in FIELDS {
        if f.secret {
            attributes.push(sensitive(attr(
                f.name,
                Type::String,
                Mode::Optional,
                format!(
                    "{} Stored in state (sensitive); prefer `{}`.",
                    field_description(f),
                    wo_name(f)
                ),
            )));
            attributes.push(sensitive(write_only(attr(
                &wo_name(f),
                Type::String,
                Mode::Optional,
                format!(
                    "Write-only (Terraform 1.11+) form of `{}`: sent to the server, never stored in plan or state. Conflicts with `{}`.",
                    f.name, f.name
                ),
            ))));
            attributes.push(attr(
                &wo_version_name(f),
                Type::Number,
                Mode::Optional,
                format!(
                    "Change this number to send `{}` again (e.g. on key rotation).",
                    wo_name(f)
                ),
            ));
            attributes.push(attr(
                &fingerprint_name(f),
                Type::String,
                Mode::Computed,
                format!("`sha256:<hex>` of the `{}` in effect on the server (empty when none); drift on the secret shows here.", f.name),
            ));
        } else {
            attributes.push(attr(
                f.name,
                field_type(f),
                Mode::OptionalComputed,
                field_description(f),
            ));
        }
    }
    block(
        "The provider's SAML settings (see the settings reference). Unset attributes take the server default.",
        attributes,
        vec![],
    )
}

/// The data source's read-only view of the settings: every field, secrets
/// only as fingerprints.
pub fn settings_object_type() -> Type {
    let mut attrs = Vec::new();
    for f in FIELDS {
        if f.secret {
            attrs.push((fingerprint_name(f), Type::String));
        } else {
            attrs.push((f.name.to_string(), field_type(f)));
        }
    }
    Type::object(attrs)
}
