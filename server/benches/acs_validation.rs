//! ACS validation throughput: signed SAML Responses (RSA-2048, RSA-SHA256 /
//! SHA-256, Response *and* Assertion signed) validated on one thread by
//! `acs::decode` + `acs::verify` (markup guard, one libxml2 parse, both signatures, protocol rules) — everything the ACS does
//! before the store (replay memory, provisioning and sessions are excluded).
//! Peers measured in the same run:
//! - python3-saml (OneLogin, strict) validating the very same responses in
//!   one Python process (`benches/python3_saml_bench.py validate`);
//! - `openssl speed -seconds 3 rsa2048` verify/s, the physical limit (each
//!   response carries two RSA-2048 signatures, so the ceiling is half of it).
//!
//! The responses come from a real, independent IdP: pysaml2 through
//! `testkit/idp/pysaml2_idp.py`, generated in one Python process.
//!
//! Run: `cargo bench -p ssoplane-server --bench acs_validation` (needs python3
//! with pysaml2 and the xmlsec1 binary; python3-saml for the peer row, else
//! that row is skipped with the reason; openssl CLI). Never downloads.
//! Options via env: BENCH_SECONDS (default 3, per measurement),
//! BENCH_RESPONSES (default 200 distinct responses).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use base64::Engine;
use serde_json::{json, Value};
use ssoplane_server::saml::{acs, idp::MetadataCache, metadata, runtime, xml};
use ssoplane_testkit::pki::key_and_cert;

const PROVIDER: &str = "bench";
const ROOT: &str = "https://sso.example.com";
const IDP: &str = "https://idp.example.com";
const HELPER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/python3_saml_bench.py");

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs the Python helper; the reason when it cannot run.
fn helper(command: &str, input: &Value) -> Result<Value, String> {
    let mut child = Command::new("python3")
        .arg(HELPER)
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "python3 {HELPER} {command} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
}

/// `openssl speed -seconds 3 rsa2048`, single process: RSA-2048 verify/s.
fn openssl_verify_per_sec() -> Result<(f64, String), String> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", "3", "rsa2048"])
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run openssl: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    // OpenSSL 3.0/3.1: "rsa 2048 bits 0.000650s 0.000019s   1539.3  52631.6"
    // (sign, verify, sign/s, verify/s); 3.2+ adds encaps/decaps columns after.
    let header = text
        .lines()
        .find(|l| l.contains("sign/s") && l.contains("verify/s"))
        .ok_or_else(|| format!("unexpected openssl speed output: {text}"))?;
    let columns: Vec<&str> = header.split_whitespace().collect();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("rsa") && l.contains("2048 bits"))
        .ok_or_else(|| format!("no rsa 2048 line in openssl speed output: {text}"))?;
    let values: Vec<&str> = line
        .split("bits")
        .nth(1)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let at = columns
        .iter()
        .position(|c| *c == "verify/s")
        .ok_or("no verify/s column")?;
    let verify = values
        .get(at)
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| format!("cannot parse verify/s from {line:?} under {header:?}"))?;
    let version = Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    Ok((verify, version))
}

/// Microseconds per response of `each`, run over `responses` for about
/// `seconds`.
fn per_response_us(responses: &[String], seconds: f64, each: impl Fn(&str)) -> f64 {
    let start = Instant::now();
    let mut n = 0usize;
    loop {
        for r in responses {
            each(r);
        }
        n += responses.len();
        let elapsed = start.elapsed().as_secs_f64();
        if elapsed >= seconds {
            return 1e6 * elapsed / n as f64;
        }
    }
}

fn main() {
    let seconds: f64 = env_or("BENCH_SECONDS", 3.0);
    let count: usize = env_or("BENCH_RESPONSES", 200);

    // --- Setup: keys, settings, compiled runtime, SP metadata.
    let (idp_key, idp_cert) = key_and_cert("acs bench IdP");
    let (sp_key, sp_cert) = key_and_cert("acs bench SP");
    let input = json!({
        "enabled": true, "name": "Bench IdP",
        "idp_entity_id": IDP, "idp_sso_url": format!("{IDP}/sso/redirect"),
        "idp_certificates": [idp_cert],
        "certificate": sp_cert, "private_key": sp_key,
        "allow_idp_initiated": true, "max_issue_delay": "1h",
    });
    let normalized = ssoplane_schema::normalize(input.as_object().unwrap())
        .unwrap_or_else(|e| panic!("bench settings invalid: {e:?}"));
    let settings = ssoplane_schema::SamlSettings::from_settings(&normalized).unwrap();
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rt = tokio
        .block_on(runtime::compile(
            PROVIDER,
            1,
            settings,
            ROOT,
            &MetadataCache::default(),
        ))
        .unwrap_or_else(|e| panic!("compile: {e}"));
    let sp_metadata = metadata::render(&rt).unwrap();
    let acs_url = rt.sp.acs_url.clone();
    let sp_entity_id = rt.sp.entity_id.clone();
    assert_eq!(acs_url, format!("{ROOT}/saml/{PROVIDER}/acs"));
    assert_eq!(sp_entity_id, format!("{ROOT}/saml/{PROVIDER}/metadata"));

    // --- M distinct signed responses from pysaml2, one Python process.
    let started = Instant::now();
    let generated = helper(
        "generate",
        &json!({
            "count": count,
            "sp_metadata": sp_metadata, "idp_key": idp_key, "idp_cert": idp_cert,
            "entity_id": IDP, "in_response_to": null,
            "destination": acs_url, "sp_entity_id": sp_entity_id,
            "name_id": "ada-nameid",
            "identity": {"uid": ["ada"], "mail": ["ada@example.com"], "displayName": ["Ada Lovelace"], "groups": ["eng"]},
            "sign_response": true, "sign_assertion": true,
        }),
    )
    .unwrap_or_else(|e| panic!("pysaml2 generation (pip install pysaml2): {e}"));
    let responses: Vec<String> = generated["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(responses.len(), count);
    let avg_bytes = responses
        .iter()
        .map(|r| {
            base64::engine::general_purpose::STANDARD
                .decode(r)
                .unwrap()
                .len()
        })
        .sum::<usize>()
        / count;
    eprintln!(
        "generated {count} signed responses (avg {avg_bytes} bytes of XML) with pysaml2 in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    // --- Ours: one thread, decode + guard + verify, every response accepted.
    let validate_one = |b64: &str| {
        let xml = acs::decode(b64).unwrap();
        let verified = acs::verify(&rt, &xml, &[])
            .unwrap_or_else(|e| panic!("our ACS refused a pysaml2 response: {e}"));
        assert!(verified.in_response_to.is_none());
        std::hint::black_box(verified.assertion);
    };
    for r in &responses {
        validate_one(r); // warm-up, and proof every response is accepted
    }
    let total_us = per_response_us(&responses, seconds, validate_one);
    let ours = 1e6 / total_us;
    eprintln!("ours: {ours:.0} responses/s");

    // --- Where the time goes, on the same responses: base64 alone, then
    // base64 and libxml2's parse (the server's one XML parser), each
    // against the whole validation above.
    let decode_us = per_response_us(&responses, seconds / 2.0, |r| {
        std::hint::black_box(acs::decode(r).unwrap());
    });
    let parse_us = per_response_us(&responses, seconds / 2.0, |r| {
        let xml = acs::decode(r).unwrap();
        std::hint::black_box(xml::Doc::parse(&xml).unwrap());
    }) - decode_us;

    // --- Peer: python3-saml on the same responses.
    let peer = helper(
        "validate",
        &json!({
            "idp_entity_id": IDP, "idp_cert": idp_cert,
            "sp_entity_id": sp_entity_id, "acs_url": acs_url,
            "http_host": "sso.example.com", "script_name": format!("/saml/{PROVIDER}/acs"),
            "responses": responses, "seconds": seconds,
        }),
    );
    let peer = match peer {
        Ok(v) if v["available"] == true => {
            eprintln!(
                "python3-saml {} (xmlsec {}, libxmlsec1 {}): {} responses in {:.2}s",
                v["python3_saml"].as_str().unwrap_or("?"),
                v["xmlsec"].as_str().unwrap_or("?"),
                v["libxmlsec1"].as_str().unwrap_or("?"),
                v["validated"],
                v["seconds"].as_f64().unwrap_or(f64::NAN)
            );
            Some(v["responses_per_sec"].as_f64().unwrap())
        }
        Ok(v) => {
            eprintln!(
                "python3-saml peer skipped: {} (pip install python3-saml)",
                v["reason"].as_str().unwrap_or("unavailable")
            );
            None
        }
        Err(e) => panic!("python3-saml peer failed: {e}"),
    };

    // --- Physical limit: RSA-2048 verify on one core.
    let limit = openssl_verify_per_sec();
    if let Err(e) = &limit {
        eprintln!("openssl speed skipped: {e}");
    }

    // --- Report.
    let fmt = |v: f64| format!("{v:.0}");
    println!();
    println!(
        "ACS validation, one thread, {count} distinct pysaml2 responses (RSA-2048, RSA-SHA256/SHA-256, Response + Assertion signed = 2 signatures each), {seconds}s per measurement"
    );
    println!("ours = acs::decode + acs::verify (store, replay memory and provisioning excluded)");
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| ours, validated responses/s | {} |", fmt(ours));
    match peer {
        Some(p) => {
            println!(
                "| python3-saml (strict), validated responses/s | {} |",
                fmt(p)
            );
            println!("| ours / python3-saml | {:.1}× |", ours / p);
        }
        None => {
            println!("| python3-saml (strict), validated responses/s | skipped |");
            println!("| ours / python3-saml | n/a |");
        }
    }
    match &limit {
        Ok((verify, version)) => {
            println!(
                "| `openssl speed -seconds 3 rsa2048` verify/s ({version}) | {} |",
                fmt(*verify)
            );
            println!(
                "| physical limit, responses/s (2 verifies each) | {} |",
                fmt(verify / 2.0)
            );
            println!(
                "| ours / openssl verify/s | {:.3} (= {:.0}% of the 2-verify ceiling) |",
                ours / verify,
                200.0 * ours / verify
            );
        }
        Err(_) => println!("| `openssl speed -seconds 3 rsa2048` verify/s | skipped |"),
    }
    println!("| µs per response, whole validation | {total_us:.1} |");
    println!("| of which base64 and UTF-8 check | {decode_us:.1} |");
    println!("| of which libxml2 parse (measured alone) | {parse_us:.1} |");
    if let Ok((verify, _)) = &limit {
        let rsa_us = 2e6 / verify;
        // At 60% of the ceiling a response may take 1 / (0.6 × verify / 2) s,
        // of which the two RSA verifications take 2 / verify s.
        let budget_us = 2e6 / (0.6 * verify) - rsa_us;
        println!("| of which two RSA-2048 verifications (`openssl speed`) | {rsa_us:.1} |");
        println!(
            "| everything else (guard, c14n, digests, protocol checks) | {:.1} |",
            total_us - rsa_us - decode_us - parse_us
        );
        println!(
            "| at 60% of the ceiling, µs per response left beside RSA | {budget_us:.1} (libxml2's parse alone takes {:.0}% of it) |",
            100.0 * parse_us / budget_us
        );
    }
    println!();
    let target_ok = ours >= 5000.0 && peer.is_none_or(|p| ours >= 10.0 * p);
    println!(
        "target (≥ 5,000 responses/s per core and ≥ 10× python3-saml): {}",
        if target_ok { "met" } else { "NOT met" }
    );
}
