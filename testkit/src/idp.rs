//! The pysaml2 bridge: `idp/pysaml2_idp.py` (a real, independent SAML IdP
//! on pysaml2, which signs and encrypts with the xmlsec1 binary) run as a
//! child process, one JSON document in on stdin and one out on stdout. The
//! script's header lists its commands.

use std::borrow::Borrow;
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

/// The IdP script.
pub const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/idp/pysaml2_idp.py");

/// Runs `pysaml2_idp.py command` on `input` (a `Value` or `&Value`);
/// panics with pysaml2's stderr when it fails.
pub fn pysaml2(command: &str, input: impl Borrow<Value>) -> Value {
    let mut child = Command::new("python3")
        .arg(SCRIPT)
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with pysaml2 (pip install pysaml2)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.borrow().to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "pysaml2 {command} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
