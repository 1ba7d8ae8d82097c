//! What an administrator's test sign-in found, for the console: the
//! response's signatures, issuer and subject, every attribute, the identity
//! the provider's mapping makes of them, and the authorization decision with
//! the rule that decided it — or the exact check that refused the response.
//! A test sign-in runs every check of a real login and stops before
//! provisioning: it never creates or changes a user and never starts a
//! session.

use serde::{Deserialize, Serialize};

use super::acs::{AcsError, Verified};
use super::runtime::Runtime;
use crate::identity::{attributes, authorize};

/// The pending-request marker (in place of a redirect target) of a test
/// sign-in, followed by the id of the administrator who started it. Real
/// redirect targets are same-origin paths or http(s) URLs, so it cannot be
/// mistaken for one.
pub const TEST_RELAY_PREFIX: &str = "ssoplane:test-signin:";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestReport {
    pub provider: String,
    /// The administrator who started it.
    pub admin_user_id: String,
    pub at: String,
    /// `passed` (a real login would be accepted), `denied` (valid, but the
    /// provider's rules refuse the user) or `refused` (a check failed).
    pub outcome: String,
    /// The check that refused it, as login events name it.
    pub check: Option<String>,
    pub message: Option<String>,
    /// Which elements carried a verified signature.
    pub signed: Option<String>,
    pub issuer: Option<String>,
    pub name_id: Option<NameIdView>,
    pub session_index: Option<String>,
    pub attributes: Vec<AttributeView>,
    pub identity: Option<IdentityView>,
    pub decision: Option<DecisionView>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NameIdView {
    pub value: String,
    pub format: String,
    pub name_qualifier: String,
    pub sp_name_qualifier: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttributeView {
    pub name: String,
    pub friendly_name: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdentityView {
    pub login: String,
    pub email: String,
    pub name: String,
    pub external_uid: String,
    pub groups: Vec<String>,
    pub roles: Vec<String>,
    pub organizations: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecisionView {
    pub role: String,
    pub is_admin: bool,
    /// `organization (role)` for each membership.
    pub organizations: Vec<String>,
    /// Why: the rules that decided the role and admitted the user.
    pub rule: String,
}

impl TestReport {
    fn new(rt: &Runtime, admin_user_id: &str) -> TestReport {
        TestReport {
            provider: rt.provider.clone(),
            admin_user_id: admin_user_id.to_owned(),
            at: crate::settings::now(),
            outcome: "refused".into(),
            check: None,
            message: None,
            signed: None,
            issuer: None,
            name_id: None,
            session_index: None,
            attributes: Vec::new(),
            identity: None,
            decision: None,
        }
    }

    /// A response one of the checks refused.
    pub fn refused(rt: &Runtime, admin_user_id: &str, error: &AcsError) -> TestReport {
        let mut r = TestReport::new(rt, admin_user_id);
        r.check = Some(error.check().to_owned());
        r.message = Some(error.to_string());
        r
    }

    /// A verified response: everything it says, what the mapping makes of
    /// it, and what the authorization rules decide.
    pub fn verified(rt: &Runtime, admin_user_id: &str, v: &Verified) -> TestReport {
        let mut r = TestReport::new(rt, admin_user_id);
        let a = &v.assertion;
        r.signed = Some(v.signed.to_owned());
        r.issuer = a.issuer.clone();
        r.session_index = a.session_index.clone();
        r.name_id = a.name_id.as_ref().map(|n| NameIdView {
            value: n.value.clone(),
            format: n.format.clone().unwrap_or_default(),
            name_qualifier: n.name_qualifier.clone().unwrap_or_default(),
            sp_name_qualifier: n.sp_name_qualifier.clone().unwrap_or_default(),
        });
        r.attributes = a
            .attributes
            .iter()
            .map(|x| AttributeView {
                name: x.name.clone(),
                friendly_name: x.friendly_name.clone().unwrap_or_default(),
                values: x.values.clone(),
            })
            .collect();
        let identity = a.claims().and_then(|c| attributes::map(&rt.settings, &c));
        let identity = match identity {
            Ok(i) => i,
            Err(e) => {
                let e = AcsError::Mapping(e);
                r.check = Some(e.check().to_owned());
                r.message = Some(e.to_string());
                return r;
            }
        };
        r.identity = Some(IdentityView {
            login: identity.login.clone(),
            email: identity.email.clone(),
            name: identity.name.clone(),
            external_uid: identity.external_uid.clone(),
            groups: identity.groups.clone(),
            roles: identity.roles.clone(),
            organizations: identity.orgs.clone(),
        });
        match authorize::authorize(&rt.settings, &identity) {
            Ok(d) => {
                r.outcome = "passed".into();
                r.decision = Some(DecisionView {
                    organizations: d
                        .organizations
                        .iter()
                        .map(|o| format!("{} ({})", o.name, o.role))
                        .collect(),
                    role: d.role,
                    is_admin: d.is_admin,
                    rule: d.rule,
                });
            }
            Err(denied) => {
                let e = AcsError::Denied(denied);
                r.outcome = "denied".into();
                r.check = Some(e.check().to_owned());
                r.message = Some(e.to_string());
            }
        }
        r
    }
}
