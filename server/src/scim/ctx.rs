//! What every SCIM service call carries (store, client, correlation id,
//! base URL), the `If-Match` precondition on versions, and the audit entry
//! each change writes in its own transaction.

use serde_json::Value;

use super::auth::ScimClient;
use super::error::{ScimError, ScimType};
use crate::store::{ScimAuditRow, Store, Tx};

pub struct Ctx<'a> {
    pub store: &'a Store,
    pub client: &'a ScimClient,
    pub correlation_id: &'a str,
    /// `https://host/scim/v2`, for `meta.location` and `$ref`.
    pub base: &'a str,
}

/// `If-Match`: `*`, or one or more ETags (`W/"3"`, `"3"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Versions(Vec<i64>),
}

impl IfMatch {
    pub fn parse(header: Option<&str>) -> Result<Option<IfMatch>, ScimError> {
        let Some(h) = header else { return Ok(None) };
        if h.trim() == "*" {
            return Ok(Some(IfMatch::Any));
        }
        let mut versions = Vec::new();
        for tag in h.split(',').take(16) {
            let tag = tag.trim();
            let inner = tag.strip_prefix("W/").unwrap_or(tag);
            let v = inner
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| {
                    ScimError::bad(
                        ScimType::InvalidValue,
                        "If-Match must be * or ETags such as W/\"3\"",
                    )
                })?;
            versions.push(v);
        }
        Ok(Some(IfMatch::Versions(versions)))
    }

    pub fn check(pre: &Option<IfMatch>, current: i64) -> Result<(), ScimError> {
        match pre {
            Some(IfMatch::Versions(v)) if !v.contains(&current) => {
                Err(ScimError::precondition(current))
            }
            _ => Ok(()),
        }
    }
}

impl Ctx<'_> {
    pub async fn audit(
        &self,
        tx: &mut Tx,
        action: &str,
        resource_type: &str,
        resource_id: &str,
        version: i64,
        changes: Value,
    ) -> Result<(), ScimError> {
        tx.insert_scim_audit(&ScimAuditRow {
            id: 0,
            at: crate::settings::now(),
            actor: self.client.token.clone(),
            provider: self.client.provider.clone(),
            correlation_id: self.correlation_id.to_owned(),
            action: action.to_owned(),
            resource_type: resource_type.to_owned(),
            resource_id: resource_id.to_owned(),
            version,
            changes_json: changes.to_string(),
        })
        .await?;
        tracing::info!(
            actor = self.client.token,
            provider = self.client.provider,
            action,
            resource_type,
            resource_id,
            version,
            "scim change"
        );
        Ok(())
    }
}

/// A unique constraint lost to a concurrent writer, said as SCIM says it.
pub fn raced(e: crate::store::StoreError) -> ScimError {
    if e.is_unique_violation() {
        ScimError::uniqueness("another request wrote the same userName, externalId or displayName at the same time; nothing was written")
    } else {
        e.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_forms() {
        assert_eq!(IfMatch::parse(None).unwrap(), None);
        assert_eq!(IfMatch::parse(Some("*")).unwrap(), Some(IfMatch::Any));
        assert_eq!(
            IfMatch::parse(Some("W/\"3\", \"4\"")).unwrap(),
            Some(IfMatch::Versions(vec![3, 4]))
        );
        assert!(IfMatch::parse(Some("3")).is_err());
        assert!(IfMatch::check(&IfMatch::parse(Some("W/\"3\"")).unwrap(), 4).is_err());
        assert!(IfMatch::check(&IfMatch::parse(Some("W/\"4\"")).unwrap(), 4).is_ok());
    }
}
