//! The rules for a group's name and description: the server enforces them
//! on every write and lookup, the Terraform provider checks them at plan
//! time, so both refuse the same names with the same message.

use crate::api::FieldError;

/// Longest group name, in bytes.
pub const MAX_NAME: usize = 255;
/// Longest description, in bytes.
pub const MAX_DESCRIPTION: usize = 1024;

pub const NAME_RULE: &str =
    "must be 1-255 characters without leading/trailing spaces, control characters or '/'";

/// Group names come from IdP assertions (display names, CNs), so spaces and
/// most punctuation are allowed; control characters are not (they hide in
/// logs and UIs), nor '/' (the name is a URL path segment).
pub fn check_name(name: &str) -> Result<(), FieldError> {
    let ok = !name.trim().is_empty()
        && name.len() <= MAX_NAME
        && name.trim() == name
        && !name.chars().any(|c| c.is_control() || c == '/');
    if ok {
        Ok(())
    } else {
        Err(FieldError {
            field: "name".into(),
            message: NAME_RULE.into(),
        })
    }
}

pub fn check_description(description: &str) -> Result<(), FieldError> {
    if description.len() <= MAX_DESCRIPTION {
        Ok(())
    } else {
        Err(FieldError {
            field: "description".into(),
            message: format!("must be at most {MAX_DESCRIPTION} characters"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_assertions_pass() {
        for good in [
            "admins",
            "Domain Users",
            "CN=ops,OU=x",
            "é-équipe",
            &"a".repeat(255),
        ] {
            assert!(check_name(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn hostile_names_are_refused() {
        for bad in [
            "",
            "   ",
            " admins",
            "admins ",
            "a/b",
            "../admins",
            "ad\nmins",
            "ad\u{0}mins",
            "ad\u{85}mins",
            &"a".repeat(256),
        ] {
            let e = check_name(bad).unwrap_err();
            assert_eq!(e.field, "name", "{bad:?}");
            assert_eq!(e.message, NAME_RULE);
        }
    }

    #[test]
    fn descriptions_are_bounded() {
        assert!(check_description(&"d".repeat(MAX_DESCRIPTION)).is_ok());
        let e = check_description(&"d".repeat(MAX_DESCRIPTION + 1)).unwrap_err();
        assert_eq!(e.field, "description");
    }
}
