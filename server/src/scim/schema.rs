//! The attributes ssoplane serves, declared once (RFC 7643 §7 shape): what
//! request bodies are checked against, what filters and PATCH paths may
//! name, what `attributes=` selects, and what `/Schemas` publishes. Names
//! are matched case-insensitively (RFC 7643 §2.1) and stored canonically.

use serde_json::{json, Value};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Boolean,
    DateTime,
    Reference,
    Complex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
}

#[derive(Debug)]
pub struct Attr {
    pub name: &'static str,
    pub ty: Type,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub sub: &'static [Attr],
    pub canonical: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub description: &'static str,
}

impl Attr {
    const fn string(name: &'static str, description: &'static str) -> Attr {
        Attr {
            name,
            ty: Type::String,
            multi: false,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            sub: &[],
            canonical: &[],
            reference_types: &[],
            description,
        }
    }

    const fn typed(self, ty: Type) -> Attr {
        Attr { ty, ..self }
    }

    const fn complex(self, sub: &'static [Attr]) -> Attr {
        Attr {
            ty: Type::Complex,
            sub,
            ..self
        }
    }

    const fn multi(self) -> Attr {
        Attr {
            multi: true,
            ..self
        }
    }

    const fn exact(self) -> Attr {
        Attr {
            case_exact: true,
            ..self
        }
    }

    const fn mutability(self, mutability: Mutability) -> Attr {
        Attr { mutability, ..self }
    }

    const fn canonical(self, canonical: &'static [&'static str]) -> Attr {
        Attr { canonical, ..self }
    }

    const fn references(self, reference_types: &'static [&'static str]) -> Attr {
        Attr {
            ty: Type::Reference,
            reference_types,
            case_exact: true,
            ..self
        }
    }

    pub fn sub_attr(&self, name: &str) -> Option<&'static Attr> {
        self.sub.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    pub fn read_only(&self) -> bool {
        self.mutability == Mutability::ReadOnly
    }

    fn document(&self) -> Value {
        let mut v = json!({
            "name": self.name,
            "type": match self.ty {
                Type::String => "string",
                Type::Boolean => "boolean",
                Type::DateTime => "dateTime",
                Type::Reference => "reference",
                Type::Complex => "complex",
            },
            "multiValued": self.multi,
            "description": self.description,
            "required": self.required,
            "mutability": match self.mutability {
                Mutability::ReadOnly => "readOnly",
                Mutability::ReadWrite => "readWrite",
                Mutability::Immutable => "immutable",
                Mutability::WriteOnly => "writeOnly",
            },
            "returned": match self.returned {
                Returned::Always => "always",
                Returned::Never => "never",
                Returned::Default => "default",
            },
        });
        if self.ty != Type::Boolean && self.ty != Type::Complex {
            v["caseExact"] = json!(self.case_exact);
            v["uniqueness"] = json!(match self.uniqueness {
                Uniqueness::None => "none",
                Uniqueness::Server => "server",
            });
        }
        if !self.canonical.is_empty() {
            v["canonicalValues"] = json!(self.canonical);
        }
        if !self.reference_types.is_empty() {
            v["referenceTypes"] = json!(self.reference_types);
        }
        if !self.sub.is_empty() {
            v["subAttributes"] = Value::Array(self.sub.iter().map(Attr::document).collect());
        }
        v
    }
}

const TYPE_WORK_HOME: &[&str] = &["work", "home", "other"];

const EMAIL_SUB: &[Attr] = &[
    Attr::string(
        "value",
        "The email address; the primary one is the user's email.",
    ),
    Attr::string("display", "A human-readable name."),
    Attr::string("type", "work, home or other.").canonical(TYPE_WORK_HOME),
    Attr::string("primary", "The user's primary address.").typed(Type::Boolean),
];

const PHONE_SUB: &[Attr] = &[
    Attr::string("value", "The phone number."),
    Attr::string("display", "A human-readable name."),
    Attr::string("type", "work, home, mobile, fax, pager or other.")
        .canonical(&["work", "home", "mobile", "fax", "pager", "other"]),
    Attr::string("primary", "The primary number.").typed(Type::Boolean),
];

const ADDRESS_SUB: &[Attr] = &[
    Attr::string("formatted", "The full mailing address."),
    Attr::string("streetAddress", "Street address."),
    Attr::string("locality", "City or locality."),
    Attr::string("region", "State or region."),
    Attr::string("postalCode", "Zip code or postal code."),
    Attr::string("country", "Country (ISO 3166-1 alpha-2)."),
    Attr::string("type", "work, home or other.").canonical(TYPE_WORK_HOME),
    Attr::string("primary", "The primary address.").typed(Type::Boolean),
];

const VALUE_SUB: &[Attr] = &[
    Attr::string("value", "The value."),
    Attr::string("display", "A human-readable name."),
    Attr::string("type", "A label for the value's function."),
    Attr::string("primary", "The primary value.").typed(Type::Boolean),
];

const NAME_SUB: &[Attr] = &[
    Attr::string(
        "formatted",
        "The full name; ssoplane's user name when present.",
    ),
    Attr::string("familyName", "Family name."),
    Attr::string("givenName", "Given name."),
    Attr::string("middleName", "Middle name."),
    Attr::string("honorificPrefix", "Honorific prefix."),
    Attr::string("honorificSuffix", "Honorific suffix."),
];

const GROUP_REF_SUB: &[Attr] = &[
    Attr::string("value", "The id of the group.")
        .exact()
        .mutability(Mutability::ReadOnly),
    Attr::string("$ref", "The URI of the group.")
        .references(&["Group"])
        .mutability(Mutability::ReadOnly),
    Attr::string("display", "The group's displayName.").mutability(Mutability::ReadOnly),
    Attr::string("type", "direct: memberships this SCIM client manages.")
        .canonical(&["direct"])
        .mutability(Mutability::ReadOnly),
];

pub const USER_ATTRS: &[Attr] = &[
    Attr {
        required: true,
        uniqueness: Uniqueness::Server,
        ..Attr::string(
            "userName",
            "The user's login handle (ssoplane's login), compared exactly: see docs/scim.md.",
        )
        .exact()
    },
    Attr::string("name", "The components of the user's name.").complex(NAME_SUB),
    Attr::string(
        "displayName",
        "The name to display; ssoplane's user name without name.formatted.",
    ),
    Attr::string("nickName", "Casual name."),
    Attr::string("profileUrl", "A URI of the user's online profile.").references(&["external"]),
    Attr::string("title", "The user's title."),
    Attr::string("userType", "The relationship to the organization."),
    Attr::string(
        "preferredLanguage",
        "Preferred language (RFC 7231 Accept-Language).",
    ),
    Attr::string("locale", "Default location (a language tag)."),
    Attr::string("timezone", "Time zone (IANA name)."),
    Attr::string(
        "active",
        "false disables the user and ends every session at once.",
    )
    .typed(Type::Boolean),
    Attr {
        returned: Returned::Never,
        ..Attr::string(
            "password",
            "Accepted and discarded: ssoplane users sign in through their IdP.",
        )
        .mutability(Mutability::WriteOnly)
    },
    Attr::string("emails", "Email addresses.")
        .complex(EMAIL_SUB)
        .multi(),
    Attr::string("phoneNumbers", "Phone numbers.")
        .complex(PHONE_SUB)
        .multi(),
    Attr::string("addresses", "Physical mailing addresses.")
        .complex(ADDRESS_SUB)
        .multi(),
    Attr::string(
        "roles",
        "Roles as the client sends them; stored and returned, not ssoplane's role (logins grant that).",
    )
    .complex(VALUE_SUB)
    .multi(),
    Attr::string(
        "entitlements",
        "Entitlements as the client sends them; stored and returned.",
    )
    .complex(VALUE_SUB)
    .multi(),
    Attr::string(
        "groups",
        "The groups this SCIM client made the user a member of (set through Group resources).",
    )
    .complex(GROUP_REF_SUB)
    .multi()
    .mutability(Mutability::ReadOnly),
];

const MANAGER_SUB: &[Attr] = &[
    Attr::string("value", "The id of the manager's User resource.").exact(),
    Attr::string("$ref", "The URI of the manager's User resource.").references(&["User"]),
    Attr::string("displayName", "The manager's displayName.").mutability(Mutability::ReadOnly),
];

pub const ENTERPRISE_ATTRS: &[Attr] = &[
    Attr::string("employeeNumber", "Employee number."),
    Attr::string("costCenter", "Cost center."),
    Attr::string("organization", "Organization."),
    Attr::string("division", "Division."),
    Attr::string("department", "Department."),
    Attr::string("manager", "The user's manager.").complex(MANAGER_SUB),
];

const MEMBER_SUB: &[Attr] = &[
    Attr::string("value", "The id of a User resource of this SCIM client.")
        .exact()
        .mutability(Mutability::Immutable),
    Attr::string("$ref", "The URI of the member's User resource.")
        .references(&["User"])
        .mutability(Mutability::Immutable),
    Attr::string("display", "Accepted and ignored (Okta sends it).")
        .mutability(Mutability::ReadOnly),
    Attr::string("type", "User (groups cannot be members).")
        .canonical(&["User"])
        .mutability(Mutability::Immutable),
];

pub const GROUP_ATTRS: &[Attr] = &[
    Attr {
        required: true,
        uniqueness: Uniqueness::Server,
        ..Attr::string(
            "displayName",
            "The group's name, as memberships, assertions and X-Auth-Groups carry it; compared exactly.",
        )
        .exact()
    },
    Attr::string("members", "The users this SCIM client made members.")
        .complex(MEMBER_SUB)
        .multi(),
];

const META_SUB: &[Attr] = &[
    Attr::string("resourceType", "User or Group.")
        .exact()
        .mutability(Mutability::ReadOnly),
    Attr::string("created", "When the resource was created.")
        .typed(Type::DateTime)
        .mutability(Mutability::ReadOnly),
    Attr::string("lastModified", "When the resource last changed.")
        .typed(Type::DateTime)
        .mutability(Mutability::ReadOnly),
    Attr::string("location", "The resource's URI.")
        .references(&["uri"])
        .mutability(Mutability::ReadOnly),
    Attr::string("version", "The resource's version (weak ETag).")
        .exact()
        .mutability(Mutability::ReadOnly),
];

/// RFC 7643 §3.1: common to every resource, outside any schema's list.
pub const COMMON_ATTRS: &[Attr] = &[
    Attr {
        returned: Returned::Always,
        ..Attr::string("id", "Issued by ssoplane; stable.")
            .exact()
            .mutability(Mutability::ReadOnly)
    },
    Attr::string(
        "externalId",
        "The client's identifier; for users, linked to the token's provider as the external uid.",
    )
    .exact(),
    Attr::string("meta", "Resource metadata.")
        .complex(META_SUB)
        .mutability(Mutability::ReadOnly),
];

#[derive(Debug)]
pub struct Schema {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attrs: &'static [Attr],
}

pub const USER_SCHEMA: Schema = Schema {
    id: USER,
    name: "User",
    description: "User Account",
    attrs: USER_ATTRS,
};
pub const ENTERPRISE_SCHEMA: Schema = Schema {
    id: ENTERPRISE,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attrs: ENTERPRISE_ATTRS,
};
pub const GROUP_SCHEMA: Schema = Schema {
    id: GROUP,
    name: "Group",
    description: "Group",
    attrs: GROUP_ATTRS,
};

impl Schema {
    pub fn attr(&self, name: &str) -> Option<&'static Attr> {
        self.attrs
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    pub fn document(&self, base_url: &str) -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": self.attrs.iter().map(Attr::document).collect::<Vec<_>>(),
            "meta": {
                "resourceType": "Schema",
                "location": format!("{base_url}/Schemas/{}", self.id),
            },
        })
    }
}

/// A resource type: its core schema and its extensions.
#[derive(Debug)]
pub struct Kind {
    pub name: &'static str,
    pub endpoint: &'static str,
    pub core: &'static Schema,
    pub extensions: &'static [&'static Schema],
}

pub const USERS: Kind = Kind {
    name: "User",
    endpoint: "Users",
    core: &USER_SCHEMA,
    extensions: &[&ENTERPRISE_SCHEMA],
};
pub const GROUPS: Kind = Kind {
    name: "Group",
    endpoint: "Groups",
    core: &GROUP_SCHEMA,
    extensions: &[],
};

pub const ALL_SCHEMAS: [&Schema; 3] = [&USER_SCHEMA, &ENTERPRISE_SCHEMA, &GROUP_SCHEMA];

impl Kind {
    /// The extension whose URN this is (case-insensitively).
    pub fn extension(&self, urn: &str) -> Option<&'static Schema> {
        self.extensions
            .iter()
            .copied()
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Whether `urn` is this kind's core schema or one of its extensions.
    pub fn knows_schema(&self, urn: &str) -> bool {
        self.core.id.eq_ignore_ascii_case(urn) || self.extension(urn).is_some()
    }

    /// A top-level attribute of the core schema or the common ones.
    pub fn core_attr(&self, name: &str) -> Option<&'static Attr> {
        self.core.attr(name).or_else(|| {
            COMMON_ATTRS
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(name))
        })
    }

    pub fn resource_type_document(&self, base_url: &str) -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": self.name,
            "name": self.name,
            "endpoint": format!("/{}", self.endpoint),
            "description": self.core.description,
            "schema": self.core.id,
            "schemaExtensions": self.extensions.iter().map(|s| json!({"schema": s.id, "required": false})).collect::<Vec<_>>(),
            "meta": {
                "resourceType": "ResourceType",
                "location": format!("{base_url}/ResourceTypes/{}", self.name),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_case_insensitively() {
        assert_eq!(
            USERS.core_attr("USERNAME").map(|a| a.name),
            Some("userName")
        );
        assert_eq!(
            USERS.core_attr("externalid").map(|a| a.name),
            Some("externalId")
        );
        assert!(USERS
            .extension("URN:ietf:params:scim:schemas:extension:enterprise:2.0:user")
            .is_some());
        let emails = USERS.core_attr("emails").unwrap();
        assert_eq!(emails.sub_attr("VALUE").map(|a| a.name), Some("value"));
        assert!(USERS.core_attr("ims").is_none());
    }

    #[test]
    fn schema_documents_describe_every_attribute() {
        let doc = USER_SCHEMA.document("https://sso.example.com/scim/v2");
        let names: Vec<&str> = doc["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"userName") && names.contains(&"emails"));
        let user_name = &doc["attributes"][0];
        assert_eq!(user_name["caseExact"], true);
        assert_eq!(user_name["uniqueness"], "server");
        assert_eq!(user_name["required"], true);
    }
}
