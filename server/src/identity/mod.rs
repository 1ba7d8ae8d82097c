//! Who logged in and what they may do: claims from a verified assertion,
//! mapped to an identity by the provider's settings (values checked as
//! signed), authorized by its group/role/organization rules, resolved to a
//! user through identity links with per-source grants, given a session.

pub mod argon;
pub mod attributes;
pub mod authorize;
pub mod grants;
pub mod local_admin;
pub mod provision;
pub mod resolve;
pub mod session_cache;
pub mod sessions;
pub mod subject;
pub mod users;
pub mod values;
