//! `org_mapping` rules: `attribute_value:organization[:role]`. Validation
//! and the server's authorization use this one parser, so what is accepted
//! and what is applied cannot disagree.

use crate::choices::{self, OrgRole};

/// One `org_mapping` rule: users whose organization attribute holds `value`
/// (`*`: any value) belong to `organization`, with `role` when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRule {
    pub value: String,
    pub organization: String,
    /// `None` means the user's own role.
    pub role: Option<OrgRole>,
}

impl OrgRule {
    /// Parses `attribute_value:organization[:role]` (`\:` is a literal ':').
    pub fn parse(text: &str) -> Result<OrgRule, String> {
        let mut parts = split_unescaped(text);
        if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
            return Err("must be `attribute_value:organization` or `attribute_value:organization:role` (escape ':' in values as '\\:')".into());
        }
        let role = match (parts.len() == 3).then(|| parts.remove(2)) {
            Some(role) => Some(OrgRole::parse(&role).ok_or_else(|| {
                format!(
                    "role must be one of: {}",
                    choices::values(OrgRole::CHOICES)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?),
            None => None,
        };
        let organization = parts.remove(1);
        Ok(OrgRule {
            value: parts.remove(0),
            organization,
            role,
        })
    }

    /// The rule as written, `:` in values escaped again.
    pub fn to_text(&self) -> String {
        let esc = |s: &str| s.replace(':', "\\:");
        let mut out = format!("{}:{}", esc(&self.value), esc(&self.organization));
        if let Some(role) = self.role {
            out.push(':');
            out.push_str(role.as_str());
        }
        out
    }
}

/// Splits `a:b:c` on ':' not preceded by a backslash; `\:` becomes ':'.
pub fn split_unescaped(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&':') => {
                chars.next();
                if let Some(last) = parts.last_mut() {
                    last.push(':');
                }
            }
            ':' => parts.push(String::new()),
            c => {
                if let Some(last) = parts.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_print_back() {
        let r = OrgRule::parse("Eng\\:Core:engineering:Admin").unwrap();
        assert_eq!(r.value, "Eng:Core");
        assert_eq!(r.organization, "engineering");
        assert_eq!(r.role, Some(OrgRole::Admin));
        assert_eq!(OrgRule::parse(&r.to_text()).unwrap(), r);
        assert_eq!(OrgRule::parse("*:all").unwrap().role, None);
        for bad in ["bad", "a:", ":b", "a:b:c:d", "x:y:Owner", "x:y:admin"] {
            assert!(OrgRule::parse(bad).is_err(), "{bad}");
        }
    }
}
