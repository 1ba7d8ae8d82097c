//! Who logged in and what they may do: claims from a verified assertion,
//! mapped to an identity by the provider's settings, authorized by its
//! group/role/organization rules, provisioned as a user, given a session.

pub mod attributes;
pub mod authorize;
pub mod local_admin;
pub mod provision;
pub mod sessions;
pub mod subject;
pub mod values;
