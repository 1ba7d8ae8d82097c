//! The server's integration tests, one module per area, linked into one test
//! binary: each binary links the whole server, and a dozen of them made the
//! test build several times larger and slower to link for no gain (the
//! tests of one binary already run in parallel).

#[macro_use]
mod support;

mod api;
mod browser_binding;
mod cli;
mod console;
mod fuzz_saml;
mod identity;
mod local_admin;
mod openapi;
mod pending_requests;
mod saml;
mod scim;
mod sessions;
