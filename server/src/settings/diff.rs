//! What changed between two versions of a provider's settings, for the audit
//! trail. Secret values never enter the history: they appear as fingerprints.

use serde_json::Value;
use ssoplane_schema::api::FieldChange;
use ssoplane_schema::{secrets, validate, Settings, FIELDS};

/// Field-by-field changes from `before` to `after`, both already normalized
/// (this compares, it does not normalize again); a missing side counts as
/// the defaults.
pub fn changes(before: Option<&Settings>, after: Option<&Settings>) -> Vec<FieldChange> {
    let defaults = validate::defaults();
    let before = before.unwrap_or(&defaults);
    let after = after.unwrap_or(&defaults);
    FIELDS
        .iter()
        .filter_map(|f| {
            let old = before.get(f.name).cloned().unwrap_or(Value::Null);
            let new = after.get(f.name).cloned().unwrap_or(Value::Null);
            if old == new {
                return None;
            }
            let (old, new) = if f.secret {
                (redact(&old), redact(&new))
            } else {
                (old, new)
            };
            Some(FieldChange {
                field: f.name.to_owned(),
                old,
                new,
            })
        })
        .collect()
}

fn redact(v: &Value) -> Value {
    match v.as_str() {
        Some(s) if !s.is_empty() => Value::String(secrets::fingerprint(s)),
        _ => Value::String(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_fingerprinted_and_unchanged_fields_skipped() {
        let a = validate::normalize(
            json!({"name": "A", "private_key": "k1"})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        let b = validate::normalize(
            json!({"name": "B", "private_key": "k2"})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        let c = changes(Some(&a), Some(&b));
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].field, "name");
        assert_eq!(c[1].new, json!(secrets::fingerprint("k2")));
        assert!(!serde_json::to_string(&c).unwrap().contains("k1"));
    }
}
