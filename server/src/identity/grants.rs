//! Grants are kept per source (a provider slug, `api`, `scim`, `local`), so
//! a login through one provider replaces that provider's grants only. What
//! the rest of the server reads is their combination, computed here alone:
//! the highest role, admin if any source says so, the union of
//! organizations with the highest role per organization.

use std::collections::BTreeMap;

use crate::store::{GrantRow, OrgMembership};

/// Roles from the weakest; anything else ranks as `none`.
pub const ROLES: [&str; 4] = ["none", "viewer", "editor", "admin"];

pub fn rank(role: &str) -> usize {
    ROLES.iter().position(|r| *r == role).unwrap_or(0)
}

/// The effective grant over every source's (its `source` is empty).
pub fn effective(grants: &[GrantRow]) -> GrantRow {
    let role = grants
        .iter()
        .map(|g| g.role.as_str())
        .max_by_key(|r| rank(r))
        .filter(|r| ROLES.contains(r))
        .unwrap_or("none");
    let mut orgs: BTreeMap<&str, &str> = BTreeMap::new();
    for o in grants.iter().flat_map(|g| &g.organizations) {
        let held = orgs.entry(&o.name).or_insert(&o.role);
        if rank(&o.role) > rank(held) {
            *held = &o.role;
        }
    }
    GrantRow {
        source: String::new(),
        role: role.to_owned(),
        is_admin: grants.iter().any(|g| g.is_admin),
        organizations: orgs
            .into_iter()
            .map(|(name, role)| OrgMembership {
                name: name.to_owned(),
                role: role.to_owned(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(source: &str, role: &str, is_admin: bool, orgs: &[(&str, &str)]) -> GrantRow {
        GrantRow {
            source: source.into(),
            role: role.into(),
            is_admin,
            organizations: orgs
                .iter()
                .map(|(n, r)| OrgMembership {
                    name: (*n).into(),
                    role: (*r).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn highest_role_any_admin_union_of_organizations() {
        let e = effective(&[
            grant("okta", "editor", false, &[("a", "viewer"), ("b", "admin")]),
            grant(
                "partner",
                "viewer",
                false,
                &[("a", "editor"), ("c", "none")],
            ),
        ]);
        assert_eq!(e.role, "editor");
        assert!(!e.is_admin);
        let orgs: Vec<(&str, &str)> = e
            .organizations
            .iter()
            .map(|o| (o.name.as_str(), o.role.as_str()))
            .collect();
        assert_eq!(orgs, [("a", "editor"), ("b", "admin"), ("c", "none")]);
        let e = effective(&[
            grant("okta", "viewer", false, &[]),
            grant("local", "admin", true, &[]),
        ]);
        assert_eq!((e.role.as_str(), e.is_admin), ("admin", true));
    }

    #[test]
    fn no_grant_or_unknown_roles_mean_none() {
        assert_eq!(effective(&[]).role, "none");
        assert!(!effective(&[]).is_admin);
        assert_eq!(effective(&[grant("x", "root", false, &[])]).role, "none");
    }
}
