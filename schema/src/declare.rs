//! The machinery behind the one declaration of the settings (`fields.rs`):
//! the `settings!` macro, which turns one line per setting into the field
//! table `FIELDS`, the field-name constants (`name::*`), each field's spec
//! (`spec::*`) and the typed `SamlSettings` struct with its conversions from
//! and to the JSON map; and [`SettingValue`], how each typed value is read
//! from and written to its JSON form.
//!
//! A setting's kind decides its Rust type, so the table and the struct
//! cannot disagree: `Bool` is a `bool`, `Duration(min, max)` a
//! `std::time::Duration`, `Choice(T)` the enum `T`, `OrgMappingList` a
//! `Vec<OrgRule>`, other lists `Vec<String>`, the rest `String`. Private
//! keys (`PrivateKeyPem`) are the secrets.

use std::time::Duration;

use serde_json::Value;

use crate::durations;
use crate::org_mapping::OrgRule;
use crate::spec::FieldSpec;
use crate::validate::Settings;

/// A typed setting value and its JSON form.
pub trait SettingValue: Sized {
    /// From the JSON of a normalized (and so well-shaped) settings map.
    fn from_json(v: &Value) -> Result<Self, String>;
    fn to_json(&self) -> Value;
}

impl SettingValue for bool {
    fn from_json(v: &Value) -> Result<Self, String> {
        v.as_bool().ok_or_else(|| "must be a boolean".into())
    }
    fn to_json(&self) -> Value {
        Value::Bool(*self)
    }
}

impl SettingValue for String {
    fn from_json(v: &Value) -> Result<Self, String> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| "must be a string".into())
    }
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
}

impl SettingValue for Duration {
    fn from_json(v: &Value) -> Result<Self, String> {
        durations::parse(&String::from_json(v)?).map_err(|e| e.to_string())
    }
    fn to_json(&self) -> Value {
        Value::String(durations::format(*self))
    }
}

fn strings(v: &Value) -> Result<Vec<&str>, String> {
    v.as_array()
        .and_then(|items| items.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
        .ok_or_else(|| "must be a list of strings".into())
}

impl SettingValue for Vec<String> {
    fn from_json(v: &Value) -> Result<Self, String> {
        Ok(strings(v)?.into_iter().map(str::to_owned).collect())
    }
    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(|s| Value::String(s.clone())).collect())
    }
}

impl SettingValue for Vec<OrgRule> {
    fn from_json(v: &Value) -> Result<Self, String> {
        strings(v)?
            .into_iter()
            .enumerate()
            .map(|(i, text)| OrgRule::parse(text).map_err(|e| format!("[{i}] {e}")))
            .collect()
    }
    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(|r| Value::String(r.to_text())).collect())
    }
}

/// Implements [`SettingValue`] for enums declared with `choice!`.
macro_rules! choice_values {
    ($($t:ty),+) => {$(
        impl SettingValue for $t {
            fn from_json(v: &Value) -> Result<Self, String> {
                let text = String::from_json(v)?;
                <$t>::parse(&text).ok_or_else(|| {
                    format!(
                        "must be one of: {}",
                        crate::choices::values(<$t>::CHOICES).collect::<Vec<_>>().join(", ")
                    )
                })
            }
            fn to_json(&self) -> Value {
                Value::String(self.as_str().to_owned())
            }
        }
    )+};
}

choice_values!(
    crate::choices::SignatureAlgorithm,
    crate::choices::NameIdFormat,
    crate::choices::Binding,
    crate::choices::AuthnContextComparison,
    crate::choices::LinkExisting,
    crate::choices::OrgRole
);

/// The stored map has an unexpected value for a field (written by another
/// version, or edited by hand).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("settings do not fit the SAML settings model: {field} {reason}")]
pub struct ModelError {
    pub field: &'static str,
    pub reason: String,
}

/// Field `spec` of a settings map, typed; a missing field (one added after
/// the map was stored) or `null` is the default.
pub fn read<T: SettingValue>(settings: &Settings, spec: &FieldSpec) -> Result<T, ModelError> {
    let fail = |reason| ModelError {
        field: spec.name,
        reason,
    };
    match settings.get(spec.name) {
        None | Some(Value::Null) => T::from_json(&spec.default.to_json()).map_err(fail),
        Some(v) => T::from_json(v).map_err(fail),
    }
}

/// A setting's Rust type, from its kind.
macro_rules! setting_type {
    (Bool) => { bool };
    (Duration($($bounds:tt)*)) => { std::time::Duration };
    (Choice($t:ty)) => { $t };
    (OrgMappingList) => { Vec<$crate::org_mapping::OrgRule> };
    (CertificatePemList) => { Vec<String> };
    (StringList) => { Vec<String> };
    (UriList) => { Vec<String> };
    (UrlPatternList) => { Vec<String> };
    ($other:ident) => { String };
}

/// A setting's [`crate::spec::Kind`].
macro_rules! setting_kind {
    (Duration($min:expr, $max:expr)) => {
        $crate::spec::Kind::Duration {
            min_secs: $min,
            max_secs: $max,
        }
    };
    (Choice($t:ty)) => {
        $crate::spec::Kind::Enum(<$t>::CHOICES)
    };
    ($k:ident) => {
        $crate::spec::Kind::$k
    };
}

/// A setting's [`crate::spec::DefaultValue`]: choices are written as the
/// enum value, lists as `[...]`, the rest as their JSON literal.
macro_rules! setting_default {
    (Bool, $d:expr) => {
        $crate::spec::DefaultValue::Bool($d)
    };
    (Choice($t:ty), $d:expr) => {
        $crate::spec::DefaultValue::Str(<$t>::as_str($d))
    };
    (Duration($($bounds:tt)*), $d:expr) => {
        $crate::spec::DefaultValue::Str($d)
    };
    (OrgMappingList, $d:expr) => {
        $crate::spec::DefaultValue::List(&$d)
    };
    (CertificatePemList, $d:expr) => {
        $crate::spec::DefaultValue::List(&$d)
    };
    (StringList, $d:expr) => {
        $crate::spec::DefaultValue::List(&$d)
    };
    (UriList, $d:expr) => {
        $crate::spec::DefaultValue::List(&$d)
    };
    (UrlPatternList, $d:expr) => {
        $crate::spec::DefaultValue::List(&$d)
    };
    ($k:ident, $d:expr) => {
        $crate::spec::DefaultValue::Str($d)
    };
}

/// The one declaration: `Section { name: Kind = default, "Label", "Help."; ... }`.
macro_rules! settings {
    ($(
        $section:ident {
            $( $name:ident : $kind:ident $(( $($arg:tt)* ))? = $default:expr, $label:literal, $help:literal; )*
        }
    )*) => {
        /// Every setting's name, as a constant: rules that involve several
        /// fields name them through these, so a typo does not compile.
        #[allow(non_upper_case_globals)]
        pub mod name {
            $($( pub const $name: &str = stringify!($name); )*)*
        }

        /// Every setting's spec, by name.
        #[allow(non_upper_case_globals)]
        pub mod spec {
            use super::*;
            $($(
                pub const $name: $crate::spec::FieldSpec = $crate::spec::FieldSpec {
                    name: stringify!($name),
                    kind: setting_kind!($kind $(($($arg)*))?),
                    default: setting_default!($kind $(($($arg)*))?, $default),
                    section: $crate::spec::Section::$section,
                    label: $label,
                    description: $help,
                    secret: setting_kind!($kind $(($($arg)*))?).is_secret(),
                };
            )*)*
        }

        /// Every SAML setting, in documentation order.
        pub const FIELDS: &[$crate::spec::FieldSpec] = &[ $($( spec::$name, )*)* ];

        /// The typed view of one provider's SAML settings, for the code that
        /// runs logins: durations parsed, enumerated values as enums,
        /// `org_mapping` as rules.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct SamlSettings {
            $($( pub $name: setting_type!($kind $(($($arg)*))?), )*)*
        }

        impl SamlSettings {
            /// From a normalized settings map; fields it lacks take their default.
            pub fn from_settings(
                settings: &$crate::validate::Settings,
            ) -> Result<Self, $crate::declare::ModelError> {
                Ok(SamlSettings {
                    $($( $name: $crate::declare::read(settings, &spec::$name)?, )*)*
                })
            }

            /// The JSON map of these settings (every field).
            pub fn to_settings(&self) -> $crate::validate::Settings {
                use $crate::declare::SettingValue;
                let mut out = $crate::validate::Settings::new();
                $($( out.insert(name::$name.to_owned(), self.$name.to_json()); )*)*
                out
            }
        }
    };
}
