//! The enumerated settings' values, each declared once with its wire value
//! (what the API, Terraform and the config file carry) and its label (what
//! the console shows). The field table, validation, the typed settings and
//! the docs all read these declarations.

use std::fmt;

/// One allowed value of an enumerated setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// The value as written in the API, Terraform and the config file.
    pub value: &'static str,
    /// How the console names it.
    pub label: &'static str,
}

/// Declares an enum of allowed values: `Variant = "wire value" ("Label")`.
macro_rules! choice {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal ($label:literal) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every value with its label, in declaration order.
            pub const CHOICES: &'static [Choice] = &[$(Choice { value: $value, label: $label }),+];

            /// The wire value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value),+
                }
            }

            /// The value written exactly (no trimming, no case folding).
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($value => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

choice! {
    /// `signature_algorithm`: how our requests are signed.
    pub enum SignatureAlgorithm {
        RsaSha256 = "rsa-sha256" ("RSA with SHA-256"),
        RsaSha512 = "rsa-sha512" ("RSA with SHA-512"),
        EcdsaSha256 = "ecdsa-sha256" ("ECDSA with SHA-256"),
        /// Broken; only with `allow_sha1`.
        RsaSha1 = "rsa-sha1" ("RSA with SHA-1 (needs allow_sha1)"),
    }
}

choice! {
    /// `name_id_format`: the NameID format requested from the IdP.
    pub enum NameIdFormat {
        Transient = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient" ("Transient"),
        Persistent = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" ("Persistent"),
        EmailAddress = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" ("Email address"),
        Unspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified" ("Unspecified"),
    }
}

choice! {
    /// `binding`: how requests travel to the IdP.
    pub enum Binding {
        Redirect = "HTTP-Redirect" ("HTTP-Redirect"),
        Post = "HTTP-POST" ("HTTP-POST (auto-submitting form)"),
    }
}

choice! {
    /// `authn_context_comparison`: how the IdP compares `authn_context`.
    pub enum AuthnContextComparison {
        Exact = "exact" ("Exact"),
        Minimum = "minimum" ("Minimum"),
        Maximum = "maximum" ("Maximum"),
        Better = "better" ("Better"),
    }
}

choice! {
    /// `link_existing_users`: which existing users a first login through
    /// the provider may be linked to, the weakest first.
    pub enum LinkExisting {
        /// Never: a taken login handle or email is an identity collision.
        None = "none" ("Never (a taken login or email is a collision)"),
        /// The user whose login handle equals the asserted one (exactly).
        ByLogin = "by_login" ("By login handle"),
        /// The one user whose email equals the asserted one (exactly).
        ByEmail = "by_email" ("By email"),
    }
}

choice! {
    /// The role an `org_mapping` rule grants in its organization.
    pub enum OrgRole {
        Admin = "Admin" ("Admin"),
        Editor = "Editor" ("Editor"),
        Viewer = "Viewer" ("Viewer"),
        None = "None" ("None"),
    }
}

/// The wire values of a list of choices, for messages and docs.
pub fn values(choices: &[Choice]) -> impl Iterator<Item = &'static str> + '_ {
    choices.iter().map(|c| c.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_back_exactly() {
        for v in SignatureAlgorithm::ALL {
            assert_eq!(SignatureAlgorithm::parse(v.as_str()), Some(*v));
        }
        for v in LinkExisting::ALL {
            assert_eq!(LinkExisting::parse(v.as_str()), Some(*v));
        }
        assert_eq!(LinkExisting::parse("BY_LOGIN"), None);
        assert_eq!(LinkExisting::parse(" by_login"), None);
        assert_eq!(Binding::parse("http-post"), None);
        assert_eq!(
            values(OrgRole::CHOICES).collect::<Vec<_>>(),
            ["Admin", "Editor", "Viewer", "None"]
        );
    }
}
