//! A seeded mutation fuzzer over the raw-message path of the ACS and the SLO
//! endpoint (markup guard, libxml2 parse, limits, XML-DSig, canonicalization,
//! decryption, assertion reading, protocol rules), on stable Rust.
//!
//! Seeds are valid messages signed in-process by a test IdP (plain, large,
//! encrypted, logout requests); each round mutates one (byte flips, cuts,
//! duplications, spliced markup, namespace games, moved signatures) and
//! feeds it to `acs::verify` / `slo::check_request`. It fails on:
//! - a panic anywhere on the path;
//! - a mutated message that is accepted but says something other than its
//!   seed (NameID, attributes, issuer): a signature that vouches for content
//!   it did not cover;
//! - a message costing more CPU than a bound set in the same run: 5x the
//!   cost of a valid message of the largest accepted size.
//!
//! CI runs a short round (FUZZ_ITERATIONS, default 1500, FUZZ_SEED default
//! fixed); run longer locally with e.g.
//! `FUZZ_ITERATIONS=200000 cargo test --release -p ssoplane-server --test integration fuzz_saml`.

use crate::support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use base64::Engine;
use cpu_time::ThreadTime;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use ssoplane_schema::SamlSettings;
use ssoplane_server::saml::acs::{self, Verified};
use ssoplane_server::saml::runtime::{self, Runtime};
use ssoplane_server::saml::{guard, idp::MetadataCache, slo};
use support::responses::{self, response, Shape, TestIdp, IDP};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runtime(idp: &TestIdp) -> Runtime {
    let (sp_key, sp_cert) = ssoplane_testkit::pki::key_and_cert("fuzz sp");
    let s = SamlSettings {
        enabled: true,
        idp_entity_id: IDP.into(),
        idp_sso_url: format!("{IDP}/sso"),
        idp_slo_url: format!("{IDP}/slo"),
        idp_certificates: vec![idp.cert_pem.clone()],
        single_logout: true,
        certificate: sp_cert,
        private_key: sp_key,
        ..SamlSettings::default()
    };
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(runtime::compile(
            "okta",
            1,
            s,
            "https://sso.example.com",
            &MetadataCache::default(),
        ))
        .unwrap()
}

/// What an accepted response says about its user.
fn meaning(v: &Verified) -> String {
    let a = &v.assertion;
    let attrs: Vec<String> = a
        .attributes
        .iter()
        .map(|x| format!("{}={:?}", x.name, x.values))
        .collect();
    format!(
        "{:?}|{:?}|{:?}|{}",
        a.name_id,
        a.issuer,
        a.session_index,
        attrs.join(",")
    )
}

const TOKENS: &[&str] = &[
    "<",
    ">",
    "&",
    "&amp;",
    "\"",
    "'",
    "/>",
    "</",
    "<!--x-->",
    "<?pi x?>",
    "<![CDATA[x]]>",
    "]]>",
    "\u{0}",
    "\u{feff}",
    "\u{a0}",
    " xmlns=\"urn:evil\"",
    " xmlns:saml=\"urn:evil\"",
    " xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"",
    " ID=\"_r1\"",
    " ID=\"_r1-a\"",
    "<saml:Assertion ID=\"_evil\" Version=\"2.0\"/>",
    "<saml:NameID>admin@corp.example</saml:NameID>",
    "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/>",
    "<x><x><x><x><x><x><x><x></x></x></x></x></x></x></x></x>",
    "&#x0;",
    "&#xD;",
    "&lt;",
];

fn mutate(rng: &mut StdRng, seeds: &[String]) -> String {
    let mut m = seeds[rng.gen_range(0..seeds.len())].clone().into_bytes();
    for _ in 0..rng.gen_range(1..4) {
        let len = m.len().max(1);
        let at = rng.gen_range(0..len);
        match rng.gen_range(0..8) {
            0 => {
                if let Some(b) = m.get_mut(at) {
                    *b ^= 1 << rng.gen_range(0..8);
                }
            }
            1 => {
                let end = (at + rng.gen_range(1..64)).min(m.len());
                m.drain(at.min(end)..end);
            }
            2 => {
                let end = (at + rng.gen_range(1..256)).min(m.len());
                let copy = m[at.min(end)..end].to_vec();
                let to = rng.gen_range(0..=m.len());
                m.splice(to..to, copy);
            }
            3 | 4 => {
                let t = TOKENS[rng.gen_range(0..TOKENS.len())].as_bytes();
                let to = at.min(m.len());
                m.splice(to..to, t.iter().copied());
            }
            5 => {
                // Splice a slice of another seed in.
                let other = seeds[rng.gen_range(0..seeds.len())].as_bytes();
                let from = rng.gen_range(0..other.len());
                let end = (from + rng.gen_range(1..512)).min(other.len());
                let to = at.min(m.len());
                m.splice(to..to, other[from..end].iter().copied());
            }
            6 => {
                // Move a tag-sized chunk somewhere else (wrapping games).
                if let Some(start) = m[at.min(m.len())..].iter().position(|b| *b == b'<') {
                    let start = at + start;
                    if let Some(len) = m[start..].iter().position(|b| *b == b'>') {
                        let chunk: Vec<u8> = m.drain(start..start + len + 1).collect();
                        let to = rng.gen_range(0..=m.len());
                        m.splice(to..to, chunk);
                    }
                }
            }
            _ => {
                // Rename a namespace URI.
                let s = String::from_utf8_lossy(&m).into_owned();
                m = s
                    .replacen("urn:oasis:names:tc:SAML:2.0:assertion", "urn:evil", 1)
                    .into_bytes();
            }
        }
    }
    String::from_utf8_lossy(&m).into_owned()
}

#[test]
fn mutated_messages_never_panic_mislead_or_burn_cpu() {
    let iterations: u32 = env_or("FUZZ_ITERATIONS", 1500);
    let seed: u64 = env_or("FUZZ_SEED", 20261130);
    let idp = TestIdp::new();
    let rt = runtime(&idp);
    let pending = vec!["_req1".to_owned()];
    let sp_cert = rt.encryption_cert.clone().unwrap();
    let seeds = vec![
        response(&idp, &Shape::default()),
        response(
            &idp,
            &Shape {
                sign_response: false,
                ..Shape::default()
            },
        ),
        response(
            &idp,
            &Shape {
                sign_assertion: false,
                ..Shape::default()
            },
        ),
        response(
            &idp,
            &Shape {
                padding: 40,
                ..Shape::default()
            },
        ),
        response(
            &idp,
            &Shape {
                encrypt_to: Some(&sp_cert),
                ..Shape::default()
            },
        ),
        responses::logout_request(&idp, "ada@corp.example", 2),
    ];
    // Every seed is valid, and says what it says.
    let seed_meanings: Vec<Option<String>> = seeds
        .iter()
        .map(|s| acs::verify(&rt, s, &pending).ok().map(|v| meaning(&v)))
        .collect();
    assert!(
        seed_meanings[..5].iter().all(Option::is_some),
        "seeds must verify"
    );

    // The CPU bound: a valid message of about the largest accepted size.
    let mut padding = 0;
    let mut large = response(&idp, &Shape::default());
    while large.len() < guard::MAX_RESPONSE_BYTES * 9 / 10 {
        padding += (guard::MAX_RESPONSE_BYTES * 9 / 10 - large.len()) / 130 + 1;
        large = response(
            &idp,
            &Shape {
                padding,
                ..Shape::default()
            },
        );
    }
    let ok = acs::verify(&rt, &large, &pending);
    assert!(ok.is_ok(), "{} bytes: {:?}", large.len(), ok.err());
    let start = ThreadTime::now();
    for _ in 0..3 {
        let _ = acs::verify(&rt, &large, &pending);
    }
    let bound = start.elapsed() / 3 * 5;

    let mut rng = StdRng::seed_from_u64(seed);
    let mut worst = (Duration::ZERO, String::new());
    let mut accepted = 0;
    for i in 0..iterations {
        let msg = mutate(&mut rng, &seeds);
        let start = ThreadTime::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let acs_result = acs::verify(&rt, &msg, &pending).map(|v| meaning(&v));
            let b64 = base64::engine::general_purpose::STANDARD.encode(&msg);
            let slo_result = slo::from_post(&b64).and_then(|m| slo::check_request(&rt, &m));
            (acs_result, slo_result.is_ok())
        }));
        let cost = start.elapsed();
        let (acs_result, _) = outcome.unwrap_or_else(|_| {
            panic!("round {i} (seed {seed}) panicked on:\n{msg}");
        });
        if let Ok(said) = acs_result {
            accepted += 1;
            assert!(
                seed_meanings.iter().flatten().any(|m| *m == said),
                "round {i} (seed {seed}): a mutated message was accepted and says something new: {said}\n{msg}"
            );
        }
        if cost > worst.0 {
            worst = (cost, msg.chars().take(300).collect());
        }
        assert!(
            cost <= bound,
            "round {i} (seed {seed}) cost {cost:?}, above the bound {bound:?}:\n{msg}"
        );
    }
    println!(
        "{iterations} rounds, {accepted} mutations accepted (all meaning-preserving); worst {:?} (bound {bound:?}): {}",
        worst.0, worst.1
    );
}
