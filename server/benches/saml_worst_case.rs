//! What an unauthenticated SAML message can cost us: for the ACS and the SLO
//! endpoint, the most expensive messages we know how to craft without the
//! IdP's key, each against a valid, IdP-signed message of about the same
//! size, measured in the same run as CPU time of the thread doing the work
//! (everything `acs::verify` and `slo::check_request` do: markup guard,
//! parse, limits, signature, decryption, protocol rules).
//!
//! Target (issue: no unauthenticated request may burn seconds of CPU): no
//! crafted message costs more than 3x a valid one of the same size.
//!
//! Run: `cargo bench -p ssoplane-server --bench saml_worst_case`.
//! BENCH_SECONDS (default 1) per measurement.

#[path = "../tests/integration/support/responses.rs"]
mod responses;

use std::time::Duration;

use base64::Engine;
use cpu_time::ThreadTime;
use responses::{response, Shape, TestIdp, ACS, IDP};
use ssoplane_schema::SamlSettings;
use ssoplane_server::saml::runtime::{self, Runtime};
use ssoplane_server::saml::{acs, idp::MetadataCache, slo};

const ROOT: &str = "https://sso.example.com";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runtime(idp: &TestIdp, with_decryption: bool) -> Runtime {
    let (sp_key, sp_cert) = ssoplane_testkit::pki::key_and_cert("bench sp");
    let mut s = SamlSettings {
        enabled: true,
        idp_entity_id: IDP.into(),
        idp_sso_url: format!("{IDP}/sso"),
        idp_slo_url: format!("{IDP}/slo"),
        idp_certificates: vec![idp.cert_pem.clone()],
        single_logout: true,
        ..SamlSettings::default()
    };
    if with_decryption {
        s.certificate = sp_cert;
        s.private_key = sp_key;
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio")
        .block_on(runtime::compile(
            "okta",
            1,
            s,
            ROOT,
            &MetadataCache::default(),
        ))
        .expect("runtime")
}

/// CPU seconds per call of `f` over about BENCH_SECONDS.
fn cpu_per_call(mut f: impl FnMut()) -> f64 {
    let budget = Duration::from_secs_f64(env_or("BENCH_SECONDS", 1.0));
    f();
    let start = ThreadTime::now();
    let mut n = 0u32;
    while start.elapsed() < budget || n < 3 {
        f();
        n += 1;
    }
    start.elapsed().as_secs_f64() / f64::from(n)
}

/// Pads `xml` with whitespace inside the root start tag until it is `size` bytes.
fn pad_to(xml: String, size: usize) -> String {
    if xml.len() >= size {
        return xml;
    }
    let at = xml.find(' ').unwrap_or(1);
    format!(
        "{}{}{}",
        &xml[..at],
        " ".repeat(size - xml.len()),
        &xml[at..]
    )
}

struct Row {
    endpoint: &'static str,
    case: String,
    size: usize,
    cpu: f64,
    valid: f64,
    outcome: String,
}

fn main() {
    let idp = TestIdp::new();
    let attacker = TestIdp::new();
    let rt = runtime(&idp, false);
    let rt_enc = runtime(&idp, true);
    let pending = vec!["_req1".to_owned()];
    let mut rows = Vec::new();

    for target in [20_000usize, 200_000] {
        // A valid response of about `target` bytes: padding attributes.
        let mut padding = 0;
        let mut valid = response(&idp, &Shape::default());
        while valid.len() < target {
            padding += (target - valid.len()) / 130 + 1;
            valid = response(
                &idp,
                &Shape {
                    padding,
                    ..Shape::default()
                },
            );
        }
        let size = valid.len();
        let ok = acs::verify(&rt, &valid, &pending);
        assert!(ok.is_ok(), "the valid response must pass: {:?}", ok.err());
        let valid_cpu = cpu_per_call(|| {
            let _ = acs::verify(&rt, &valid, &pending);
        });
        let mut acs_case = |case: &str, xml: String| {
            let xml = pad_to(xml, size);
            let outcome = match acs::verify(&rt, &xml, &pending) {
                Ok(_) => "ACCEPTED".to_owned(),
                Err(e) => e.to_string().chars().take(70).collect(),
            };
            let cpu = cpu_per_call(|| {
                let _ = acs::verify(&rt, &xml, &pending);
            });
            rows.push(Row {
                endpoint: "acs",
                case: case.to_owned(),
                size: xml.len(),
                cpu,
                valid: valid_cpu,
                outcome,
            });
        };
        acs_case("valid (IdP-signed)", valid.clone());
        acs_case(
            "forged: same shape, attacker's key",
            response(
                &attacker,
                &Shape {
                    padding,
                    ..Shape::default()
                },
            ),
        );
        // Namespace declarations on the root, signatures canonicalized
        // inclusively (every declaration in scope is rendered).
        let inclusive = response(&attacker, &Shape::default()).replace(
            "http://www.w3.org/2001/10/xml-exc-c14n#",
            "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
        );
        let decls: String = (0..size / 40)
            .map(|i| format!(" xmlns:p{i}=\"urn:x:{i}\""))
            .collect();
        acs_case(
            "root namespace flood + inclusive c14n",
            inclusive.replacen("<samlp:Response", &format!("<samlp:Response{decls}"), 1),
        );
        // InclusiveNamespaces PrefixList naming every declared prefix.
        let prefixes: String = (0..size / 60).map(|i| format!("p{i} ")).collect();
        let prefix_list = response(&attacker, &Shape::default()).replace(
            "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
            &format!("<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"><ec:InclusiveNamespaces xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\" PrefixList=\"{prefixes}\"/></ds:CanonicalizationMethod>"),
        );
        let few_decls: String = (0..size / 120)
            .map(|i| format!(" xmlns:p{i}=\"urn:x:{i}\""))
            .collect();
        acs_case(
            "InclusiveNamespaces PrefixList flood",
            prefix_list.replacen("<samlp:Response", &format!("<samlp:Response{few_decls}"), 1),
        );
        // Attributes and namespace declarations piled on one element.
        let attrs: String = (0..size / 16).map(|i| format!(" a{i}=\"v\"")).collect();
        acs_case(
            "attribute flood on one element",
            response(&attacker, &Shape::default()).replacen(
                "<saml:Issuer>",
                &format!("<saml:Issuer{attrs}>"),
                1,
            ),
        );
        let decls: String = (0..size / 30)
            .map(|i| format!(" xmlns:q{i}=\"urn:q:{i}\""))
            .collect();
        acs_case(
            "namespace flood on one element",
            response(&attacker, &Shape::default()).replacen(
                "<saml:Issuer>",
                &format!("<saml:Issuer{decls}>"),
                1,
            ),
        );
        // Deep nesting inside an attribute value, repeated.
        let deep = format!("{}{}", "<x>".repeat(250), "</x>".repeat(250));
        let nest = deep.repeat(size / deep.len());
        acs_case(
            "deep nesting",
            response(&attacker, &Shape::default()).replacen(
                "<saml:AttributeValue>ada</saml:AttributeValue>",
                &format!("<saml:AttributeValue>{nest}</saml:AttributeValue>"),
                1,
            ),
        );
        // A huge SignatureValue (base64 decoded before the RSA check).
        let value = base64::engine::general_purpose::STANDARD.encode(vec![7u8; size * 3 / 4]);
        let forged = response(&attacker, &Shape::default());
        let at = forged.find("<ds:SignatureValue>").unwrap_or(0) + "<ds:SignatureValue>".len();
        let end = at + forged[at..].find('<').unwrap_or(0);
        acs_case(
            "huge SignatureValue",
            format!("{}{value}{}", &forged[..at], &forged[end..]),
        );
        // Many signatures on the Response.
        let sig_start = forged.find("<ds:Signature").unwrap_or(0);
        let sig_end = forged.find("</ds:Signature>").unwrap_or(0) + "</ds:Signature>".len();
        let sig = &forged[sig_start..sig_end];
        acs_case(
            "many Signature elements",
            format!(
                "{}{}{}",
                &forged[..sig_start],
                sig.repeat(size / sig.len()),
                &forged[sig_end..]
            ),
        );
    }

    // Encrypted assertions: anyone can encrypt to our public certificate,
    // so an unsigned Response with an EncryptedAssertion reaches the RSA
    // decryption. Compared with a valid encrypted response of the same size.
    let sp_cert = rt_enc
        .encryption_cert
        .clone()
        .expect("encryption certificate");
    let valid = response(
        &idp,
        &Shape {
            padding: 200,
            encrypt_to: Some(&sp_cert),
            ..Shape::default()
        },
    );
    assert!(acs::verify(&rt_enc, &valid, &pending).is_ok());
    let valid_cpu = cpu_per_call(|| {
        let _ = acs::verify(&rt_enc, &valid, &pending);
    });
    for (case, xml) in [
        ("valid encrypted (IdP-signed)", valid.clone()),
        (
            "unsigned Response, EncryptedAssertion forged",
            response(
                &attacker,
                &Shape {
                    padding: 200,
                    encrypt_to: Some(&sp_cert),
                    sign_response: false,
                    ..Shape::default()
                },
            ),
        ),
    ] {
        let xml = pad_to(xml, valid.len());
        let outcome = match acs::verify(&rt_enc, &xml, &pending) {
            Ok(_) => "ACCEPTED".to_owned(),
            Err(e) => e.to_string().chars().take(70).collect(),
        };
        let cpu = cpu_per_call(|| {
            let _ = acs::verify(&rt_enc, &xml, &pending);
        });
        rows.push(Row {
            endpoint: "acs",
            case: case.to_owned(),
            size: xml.len(),
            cpu,
            valid: valid_cpu,
            outcome,
        });
    }

    // Single logout: a valid signed LogoutRequest against forged ones.
    let valid_lr = responses::logout_request(&idp, "ada@corp.example", 3);
    let forged_lr = responses::logout_request(&attacker, "ada@corp.example", 3);
    let check = |xml: &str| {
        let b64 = base64::engine::general_purpose::STANDARD.encode(xml);
        slo::from_post(&b64).and_then(|m| slo::check_request(&rt, &m))
    };
    assert!(check(&valid_lr).is_ok(), "{:?}", check(&valid_lr).err());
    let mut slo_case = |case: &str, xml: String| {
        // The valid message, padded to the same size (whitespace in the
        // root start tag leaves the signature valid).
        let valid = pad_to(valid_lr.clone(), xml.len());
        assert!(check(&valid).is_ok());
        let valid_cpu = cpu_per_call(|| {
            let _ = check(&valid);
        });
        let outcome = match check(&xml) {
            Ok(_) => "ACCEPTED".to_owned(),
            Err(e) => e.to_string().chars().take(70).collect(),
        };
        let cpu = cpu_per_call(|| {
            let _ = check(&xml);
        });
        rows.push(Row {
            endpoint: "slo",
            case: case.to_owned(),
            size: xml.len(),
            cpu,
            valid: valid_cpu,
            outcome,
        });
    };
    slo_case("valid (IdP-signed)", valid_lr.clone());
    slo_case("forged: attacker's key", forged_lr.clone());
    let decls: String = (0..1500)
        .map(|i| format!(" xmlns:p{i}=\"urn:x:{i}\""))
        .collect();
    slo_case(
        "root namespace flood + inclusive c14n",
        forged_lr
            .replace(
                "http://www.w3.org/2001/10/xml-exc-c14n#",
                "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
            )
            .replacen(
                "<samlp:LogoutRequest",
                &format!("<samlp:LogoutRequest{decls}"),
                1,
            ),
    );

    println!(
        "{:<5} {:<42} {:>8} {:>10} {:>7}  outcome",
        "", "message", "bytes", "µs CPU", "× valid"
    );
    for r in &rows {
        println!(
            "{:<5} {:<42} {:>8} {:>10.1} {:>7.2}  {}",
            r.endpoint,
            r.case,
            r.size,
            r.cpu * 1e6,
            r.cpu / r.valid,
            r.outcome
        );
    }
    let worst = rows
        .iter()
        .filter(|r| !r.case.starts_with("valid"))
        .map(|r| r.cpu / r.valid)
        .fold(0.0, f64::max);
    println!("worst crafted / valid of the same size: {worst:.2}x (target <= 3x)");
    let _ = ACS;
}
