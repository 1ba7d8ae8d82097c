//! Whether an identity may log in, and with which role: `allowed_groups`,
//! `allowed_organizations`, `admin_groups`, `role_values_*`,
//! `role_attribute_strict`, `org_mapping`, with `groups_case_sensitive`
//! applied throughout.

use std::collections::BTreeMap;

use ssoplane_schema::SamlSettings;

use super::attributes::Identity;
use super::grants::rank;
use crate::store::OrgMembership;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Denied {
    #[error("the user is in none of the allowed groups")]
    NotInAllowedGroup,
    #[error("the user is in none of the allowed organizations")]
    NotInAllowedOrganization,
    #[error("no role value of the user matches role_values_* and role_attribute_strict is on")]
    NoRole,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub role: String,
    pub is_admin: bool,
    pub organizations: Vec<OrgMembership>,
    /// The rules that decided, in words (the console's test sign-in shows it).
    pub rule: String,
}

/// Whether two group names are the same group under the provider's
/// `groups_case_sensitive`.
pub fn same(s: &SamlSettings, a: &str, b: &str) -> bool {
    group_key(s, a) == group_key(s, b)
}

/// What group names are compared by (see [`same`]): the name itself, or its
/// lower case when names are not case-sensitive.
pub fn group_key<'n>(s: &SamlSettings, name: &'n str) -> std::borrow::Cow<'n, str> {
    if s.groups_case_sensitive {
        std::borrow::Cow::Borrowed(name)
    } else {
        std::borrow::Cow::Owned(name.to_lowercase())
    }
}

fn any_in(s: &SamlSettings, have: &[String], wanted: &[String]) -> bool {
    first_in(s, have, wanted).is_some()
}

/// The first value of `have` that `wanted` lists.
fn first_in<'a>(s: &SamlSettings, have: &'a [String], wanted: &[String]) -> Option<&'a String> {
    have.iter().find(|h| wanted.iter().any(|w| same(s, h, w)))
}

pub fn authorize(s: &SamlSettings, id: &Identity) -> Result<Decision, Denied> {
    if !s.allowed_groups.is_empty()
        && !any_in(s, &id.groups, &s.allowed_groups)
        && !any_in(s, &id.groups, &s.admin_groups)
    {
        return Err(Denied::NotInAllowedGroup);
    }
    if !s.allowed_organizations.is_empty() && !any_in(s, &id.orgs, &s.allowed_organizations) {
        return Err(Denied::NotInAllowedOrganization);
    }
    let role_rules = [
        ("admin", &s.role_values_admin),
        ("editor", &s.role_values_editor),
        ("viewer", &s.role_values_viewer),
        ("none", &s.role_values_none),
    ];
    let configured = role_rules.iter().any(|(_, values)| !values.is_empty());
    let matched = role_rules
        .iter()
        .find_map(|(r, values)| first_in(s, &id.roles, values).map(|v| (*r, v)));
    let mut rule = Vec::new();
    if let Some(g) = first_in(s, &id.groups, &s.allowed_groups) {
        rule.push(format!("admitted: group {g:?} is in allowed_groups"));
    }
    let role = match matched {
        Some((r, value)) => {
            rule.push(format!(
                "role {r}: role value {value:?} is in role_values_{r}"
            ));
            r.to_owned()
        }
        None if configured && s.role_attribute_strict => return Err(Denied::NoRole),
        None if configured => {
            rule.push(
                "role none: no role value matches role_values_* (role_attribute_strict is off)"
                    .into(),
            );
            "none".to_owned()
        }
        None => {
            rule.push("role viewer: the default, since no role_values_* are configured".into());
            "viewer".to_owned()
        }
    };
    let admin_group = first_in(s, &id.groups, &s.admin_groups);
    if let Some(g) = admin_group {
        rule.push(format!("administrator: group {g:?} is in admin_groups"));
    }
    let is_admin = role == "admin" || admin_group.is_some();
    let role = if is_admin { "admin".into() } else { role };
    Ok(Decision {
        organizations: organizations(s, id, &role),
        role,
        is_admin,
        rule: rule.join("; "),
    })
}

/// Organization memberships: with `org_mapping`, every rule whose value the
/// user's organization attribute holds (`*`: any user), the highest role
/// winning when rules name one organization twice; without it, the
/// attribute's organizations as they are, with the user's own role.
fn organizations(s: &SamlSettings, id: &Identity, own_role: &str) -> Vec<OrgMembership> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    if s.org_mapping.is_empty() {
        for org in &id.orgs {
            out.insert(org.clone(), own_role.to_owned());
        }
    }
    for rule in &s.org_mapping {
        if rule.value != "*" && !id.orgs.iter().any(|o| same(s, o, &rule.value)) {
            continue;
        }
        let role = rule
            .role
            .map_or_else(|| own_role.to_owned(), |r| r.as_str().to_lowercase());
        let held = out
            .entry(rule.organization.clone())
            .or_insert_with(|| role.clone());
        if rank(&role) > rank(held) {
            *held = role;
        }
    }
    out.into_iter()
        .map(|(name, role)| OrgMembership { name, role })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(groups: &[&str], roles: &[&str]) -> Identity {
        Identity {
            groups: groups.iter().map(|s| s.to_string()).collect(),
            roles: roles.iter().map(|s| s.to_string()).collect(),
            ..Identity::default()
        }
    }

    #[test]
    fn groups_roles_and_case() {
        let s = SamlSettings {
            allowed_groups: vec!["Staff".into()],
            admin_groups: vec!["Admins".into()],
            ..SamlSettings::default()
        };
        assert_eq!(
            authorize(&s, &id(&["guests"], &[])),
            Err(Denied::NotInAllowedGroup)
        );
        assert_eq!(
            authorize(&s, &id(&["Staff"], &[])).unwrap(),
            Decision {
                role: "viewer".into(),
                is_admin: false,
                organizations: Vec::new(),
                rule: "admitted: group \"Staff\" is in allowed_groups; role viewer: the default, since no role_values_* are configured".into(),
            }
        );
        assert!(
            authorize(&s, &id(&["Admins"], &[])).unwrap().is_admin,
            "admin groups need not be listed as allowed"
        );
        assert_eq!(
            authorize(&s, &id(&["staff"], &[])),
            Err(Denied::NotInAllowedGroup),
            "case-sensitive by default"
        );
        let ci = SamlSettings {
            groups_case_sensitive: false,
            ..s
        };
        assert!(authorize(&ci, &id(&["staff"], &[])).is_ok());
        let roles = SamlSettings {
            role_values_editor: vec!["eng".into()],
            role_values_admin: vec!["ops".into()],
            role_attribute_strict: true,
            ..SamlSettings::default()
        };
        assert_eq!(
            authorize(&roles, &id(&[], &["eng"])).unwrap().role,
            "editor"
        );
        assert!(
            authorize(&roles, &id(&[], &["eng", "ops"]))
                .unwrap()
                .is_admin
        );
        assert_eq!(authorize(&roles, &id(&[], &["sales"])), Err(Denied::NoRole));
        let orgs = SamlSettings {
            allowed_organizations: vec!["org 1".into()],
            ..SamlSettings::default()
        };
        let mut who = id(&[], &[]);
        assert_eq!(
            authorize(&orgs, &who),
            Err(Denied::NotInAllowedOrganization)
        );
        who.orgs = vec!["org 1".into()];
        assert!(authorize(&orgs, &who).is_ok());
    }

    #[test]
    fn org_mapping_assigns_organizations_and_roles() {
        let who = Identity {
            orgs: vec!["Engineering".into(), "sales".into()],
            ..Identity::default()
        };
        let s = SamlSettings {
            org_mapping: [
                "Engineering:Dev org:Editor",
                "Engineering:Main org:Viewer",
                "Sales:Main org:Admin",
                "*:Everyone",
                "Finance:Money org:Admin",
            ]
            .into_iter()
            .map(|r| ssoplane_schema::saml::OrgRule::parse(r).unwrap())
            .collect(),
            ..SamlSettings::default()
        };
        let orgs = |s: &SamlSettings| -> Vec<(String, String)> {
            authorize(s, &who)
                .unwrap()
                .organizations
                .into_iter()
                .map(|o| (o.name, o.role))
                .collect()
        };
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        // Case-sensitive by default: "sales" is not "Sales"; no role means
        // the user's own; the highest role wins per organization.
        assert_eq!(
            orgs(&s),
            pairs(&[
                ("Dev org", "editor"),
                ("Everyone", "viewer"),
                ("Main org", "viewer")
            ])
        );
        let ci = SamlSettings {
            groups_case_sensitive: false,
            ..s.clone()
        };
        assert_eq!(
            orgs(&ci),
            pairs(&[
                ("Dev org", "editor"),
                ("Everyone", "viewer"),
                ("Main org", "admin")
            ])
        );
        // Without org_mapping the attribute's organizations pass through.
        assert_eq!(
            orgs(&SamlSettings::default()),
            pairs(&[("Engineering", "viewer"), ("sales", "viewer")])
        );
    }
}
