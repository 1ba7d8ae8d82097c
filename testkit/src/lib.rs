//! The one test harness of the workspace: test PKI made at run time
//! ([`pki`]), free loopback ports ([`ports`]), a throw-away PostgreSQL
//! ([`postgres`], feature `postgres`), the pysaml2 IdP bridge ([`idp`]), the
//! built `ssoplane` binary as a child process ([`server`]), nginx
//! ([`nginx`]) and headless Chromium over WebDriver ([`browser`], feature
//! `browser`). Every part is the real thing, never a mock; used by the
//! server's tests and benchmarks, the schema's tests and the end-to-end
//! crate as a dev-dependency only.
#![forbid(unsafe_code)]

#[cfg(feature = "browser")]
pub mod browser;
pub mod idp;
pub mod nginx;
pub mod pki;
pub mod ports;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod server;

/// Whether a real part the tests need (`what`) was `found`: when it was not,
/// the test is skipped with a note, except in the full suite
/// (`SSOPLANE_FULL_SUITE`, set by `scripts/test`), where its absence fails it.
pub fn required(found: bool, what: &str) -> bool {
    if !found {
        assert!(
            std::env::var_os("SSOPLANE_FULL_SUITE").is_none(),
            "{what} is required by the full suite (scripts/test)"
        );
        eprintln!("SKIPPED: {what} not installed");
    }
    found
}
