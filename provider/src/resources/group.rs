//! `ssoplane_group`: a user group (`/api/v1/groups/{name}`). Membership is
//! managed by logins (SAML group attribute), not here. Writes carry the
//! version last read: a create refuses to take over an existing group, an
//! update or delete refuses a group changed since the last refresh.

use ssoplane_proto::cty::{AttrPath, Type, Value};
use ssoplane_proto::framework::{Applied, ApplyRequest, PlanRequest, Planned, Resource};
use ssoplane_proto::tfplugin6::Schema;
use ssoplane_schema::api::GroupDoc;
use ssoplane_schema::group;

use crate::client::{ClientError, Expect};
use crate::config::Configured;
use crate::resources::{client_diags, import_hint, planned_version};
use crate::schema::{attr, block, Mode};
use crate::values::{error, get, get_str, Diags};

pub const TYPE_NAME: &str = "ssoplane_group";

pub struct Group;

fn state(doc: &GroupDoc) -> Value {
    Value::object([
        ("id", Value::string(&doc.name)),
        ("name", Value::string(&doc.name)),
        ("description", Value::string(&doc.description)),
        ("version", Value::from(doc.version)),
    ])
}

/// Turns a refused write into what happened and what to do.
async fn refused(cfg: &Configured, name: &str, e: ClientError, creating: bool) -> Diags {
    let ClientError::Stale { .. } = e else {
        return client_diags("Cannot apply group", e, &[]);
    };
    let now = match cfg.client.get_group(name).await {
        Ok(Some(g)) => format!(
            "now version {}, last written by {} at {}{}",
            g.version,
            if g.updated_by.is_empty() {
                "an unknown token"
            } else {
                &g.updated_by
            },
            g.updated_at,
            g.managed_by
                .as_deref()
                .map(|m| format!(" (managed by {m})"))
                .unwrap_or_default()
        ),
        Ok(None) => "it has been deleted since".to_string(),
        Err(e) => format!("its current version could not be read: {e}"),
    };
    if creating {
        vec![error(
            "Group already exists",
            format!(
                "The server already has group {name:?} ({now}); nothing was written. {}",
                import_hint(TYPE_NAME, name)
            ),
            None,
        )]
    } else {
        vec![error(
            "Group changed since the last refresh",
            format!(
                "The group {name:?} changed on the server since Terraform last read it ({now}); nothing was written. \
                 Run `terraform plan` again to see the change (a saved plan cannot be applied)."
            ),
            None,
        )]
    }
}

#[ssoplane_proto::tonic::async_trait]
impl Resource<Configured> for Group {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        crate::schema::schema(block(
            "A group in ssoplane. Import with the group name.",
            vec![
                attr("id", Type::String, Mode::Computed, "The group name."),
                attr(
                    "name",
                    Type::String,
                    Mode::Required,
                    "Group name. Changing it replaces the group.",
                ),
                attr(
                    "description",
                    Type::String,
                    Mode::OptionalComputed,
                    "Free-text description. Default: empty.",
                ),
                attr(
                    "version",
                    Type::Number,
                    Mode::Computed,
                    "Server-side version of the group (its ETag); every write sends it, so a change made since the last refresh is refused instead of overwritten.",
                ),
            ],
            vec![],
        ))
    }

    fn validate(&self, config: &Value) -> Diags {
        // The server's rules (ssoplane_schema::group), for values known at plan time.
        let mut diags = Diags::new();
        if let Value::String(n) = get(config, "name") {
            if let Err(e) = group::check_name(&n) {
                diags.push(error(
                    "Invalid group name",
                    format!("The group name {}.", e.message),
                    Some(AttrPath::attr("name")),
                ));
            }
        }
        if let Value::String(d) = get(config, "description") {
            if let Err(e) = group::check_description(&d) {
                diags.push(error(
                    "Invalid group description",
                    format!("The description {}.", e.message),
                    Some(AttrPath::attr("description")),
                ));
            }
        }
        diags
    }

    async fn plan(&self, _: Option<&Configured>, req: PlanRequest<'_>) -> Result<Planned, Diags> {
        let name = get(req.config, "name");
        let description = match get(req.config, "description") {
            Value::Null => Value::string(""),
            v => v,
        };
        let mut planned = Value::object([
            ("id", name.clone()),
            ("name", name.clone()),
            ("description", description),
            ("version", Value::Null),
        ]);
        planned_version(&mut planned, req.prior);
        let requires_replace = if !req.prior.is_null() && get(req.prior, "name") != name {
            vec![AttrPath::attr("name")]
        } else {
            vec![]
        };
        Ok(Planned {
            state: planned,
            requires_replace,
            private: req.prior_private.to_vec(),
        })
    }

    async fn read(&self, cfg: &Configured, current: &Value) -> Result<Value, Diags> {
        let Some(name) = get_str(current, "name") else {
            return Ok(Value::Null);
        };
        match cfg.client.get_group(&name).await {
            Ok(Some(doc)) => Ok(state(&doc)),
            Ok(None) => Ok(Value::Null),
            Err(e) => Err(client_diags("Cannot read group", e, &[])),
        }
    }

    async fn import(&self, cfg: &Configured, id: &str) -> Result<Value, Diags> {
        match cfg.client.get_group(id).await {
            Ok(Some(doc)) => Ok(state(&doc)),
            Ok(None) => Err(vec![error(
                "Group not found",
                format!("The server has no group {id:?}."),
                None,
            )]),
            Err(e) => Err(client_diags("Cannot read group", e, &[])),
        }
    }

    async fn apply(&self, cfg: &Configured, req: ApplyRequest<'_>) -> Result<Applied, Diags> {
        let version = get(req.prior, "version")
            .as_number()
            .and_then(|n| n.to_i64());
        if req.planned.is_null() {
            if let Some(name) = get_str(req.prior, "name") {
                if let Err(e) = cfg.client.delete_group(&name, version).await {
                    return Err(refused(cfg, &name, e, false).await);
                }
            }
            return Ok(Applied {
                state: Value::Null,
                private: Vec::new(),
            });
        }
        let (Some(name), Some(description)) = (
            get_str(req.planned, "name"),
            get_str(req.planned, "description"),
        ) else {
            return Err(vec![error(
                "Group unknown at apply",
                "name and description must be known.",
                None,
            )]);
        };
        let expect = match (req.prior.is_null(), version) {
            (true, _) => Some(Expect::Absent),
            (false, Some(v)) => Some(Expect::Version(v)),
            // A state from before groups had versions, planned without a
            // refresh: this one update cannot be checked; it records the
            // version for the next ones.
            (false, None) => None,
        };
        match cfg.client.put_group(&name, &description, expect).await {
            Ok(doc) => Ok(Applied {
                state: state(&doc),
                private: Vec::new(),
            }),
            Err(e) => Err(refused(cfg, &name, e, req.prior.is_null()).await),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(name: &str, description: &str) -> Value {
        Value::object([
            ("id", Value::Null),
            ("name", Value::string(name)),
            ("description", Value::string(description)),
            ("version", Value::Null),
        ])
    }

    /// The provider refuses at plan time exactly what the server refuses
    /// (ssoplane_schema::group), with the server's wording.
    #[test]
    fn plan_time_checks_are_the_servers_rules() {
        for good in ["admins", "Domain Users", "CN=ops,OU=x"] {
            assert!(Group.validate(&config(good, "")).is_empty(), "{good}");
        }
        for bad in [
            "",
            " admins",
            "admins ",
            "a/b",
            "ad\nmins",
            &"a".repeat(256),
        ] {
            let diags = Group.validate(&config(bad, ""));
            assert_eq!(diags.len(), 1, "{bad:?}");
            assert!(
                diags[0].detail.contains(group::NAME_RULE),
                "{bad:?}: {}",
                diags[0].detail
            );
            assert_eq!(
                group::check_name(bad).is_err(),
                !diags.is_empty(),
                "{bad:?}"
            );
        }
        let long = "d".repeat(group::MAX_DESCRIPTION + 1);
        assert_eq!(Group.validate(&config("admins", &long)).len(), 1);
        // Unknown at plan time: nothing to check yet.
        let unknown = Value::object([
            ("id", Value::Null),
            ("name", Value::unknown()),
            ("description", Value::unknown()),
            ("version", Value::Null),
        ]);
        assert!(Group.validate(&unknown).is_empty());
    }
}
