//! Attribute paths (`tfplugin6::AttributePath`) and diagnostics built on
//! them, so provider code can point Terraform at the offending attribute.

use crate::tfplugin6::{self, attribute_path::step::Selector, diagnostic::Severity};

/// Builder for an attribute path: `AttrPath::attr("users").index(0).attr("name")`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttrPath(Vec<Selector>);

impl AttrPath {
    /// The empty path (the whole object).
    pub fn root() -> Self {
        AttrPath(Vec::new())
    }

    /// A path starting with attribute `name`.
    pub fn attr(name: impl Into<String>) -> Self {
        AttrPath::root().then_attr(name)
    }

    /// Appends an attribute step.
    pub fn then_attr(mut self, name: impl Into<String>) -> Self {
        self.0.push(Selector::AttributeName(name.into()));
        self
    }

    /// Appends a string key step (map element).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.0.push(Selector::ElementKeyString(key.into()));
        self
    }

    /// Appends an integer index step (list or tuple element).
    pub fn index(mut self, index: i64) -> Self {
        self.0.push(Selector::ElementKeyInt(index));
        self
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for the root path.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The protocol message.
    pub fn to_proto(&self) -> tfplugin6::AttributePath {
        tfplugin6::AttributePath {
            steps: self
                .0
                .iter()
                .map(|s| tfplugin6::attribute_path::Step {
                    selector: Some(s.clone()),
                })
                .collect(),
        }
    }
}

impl From<AttrPath> for tfplugin6::AttributePath {
    fn from(p: AttrPath) -> Self {
        p.to_proto()
    }
}

/// An error diagnostic, optionally attached to an attribute.
pub fn error_diagnostic(
    summary: impl Into<String>,
    detail: impl Into<String>,
    attribute: Option<AttrPath>,
) -> tfplugin6::Diagnostic {
    diagnostic(Severity::Error, summary.into(), detail.into(), attribute)
}

/// A warning diagnostic, optionally attached to an attribute.
pub fn warning_diagnostic(
    summary: impl Into<String>,
    detail: impl Into<String>,
    attribute: Option<AttrPath>,
) -> tfplugin6::Diagnostic {
    diagnostic(Severity::Warning, summary.into(), detail.into(), attribute)
}

fn diagnostic(
    severity: Severity,
    summary: String,
    detail: String,
    attribute: Option<AttrPath>,
) -> tfplugin6::Diagnostic {
    tfplugin6::Diagnostic {
        severity: severity as i32,
        summary,
        detail,
        attribute: attribute.map(Into::into),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_protocol_paths() {
        let p = AttrPath::attr("users")
            .index(2)
            .then_attr("tags")
            .key("env");
        let proto = p.to_proto();
        let sel: Vec<_> = proto.steps.into_iter().map(|s| s.selector).collect();
        assert_eq!(
            sel,
            vec![
                Some(Selector::AttributeName("users".into())),
                Some(Selector::ElementKeyInt(2)),
                Some(Selector::AttributeName("tags".into())),
                Some(Selector::ElementKeyString("env".into())),
            ]
        );
        let d = error_diagnostic("bad", "very bad", Some(AttrPath::attr("x")));
        assert_eq!(d.severity, Severity::Error as i32);
        assert_eq!(d.attribute.map(|a| a.steps.len()), Some(1));
    }
}
