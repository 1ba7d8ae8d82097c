#!/usr/bin/env python3
"""A real, independent SAML IdP for ssoplane's tests, driven by pysaml2
(which signs and encrypts with the xmlsec1 binary).

Usage: pysaml2_idp.py COMMAND < request.json > answer.json

Commands:
  parse-request  verify and parse an AuthnRequest as the IdP receives it
                 in: sp_metadata, idp_key, idp_cert, entity_id, saml_request,
                     binding ("redirect"|"post"), relay_state, sig_alg, signature
                 out: {"id", "issuer", "acs_url", "force_authn"}
  response       issue a SAML Response
                 in: sp_metadata, idp_key, idp_cert, entity_id, in_response_to
                     (null for IdP-initiated), destination, sp_entity_id,
                     name_id, identity {attr: [values]}, sign_response,
                     sign_assertion, encrypt_assertion, sha1 (sign with
                     RSA-SHA1/SHA-1 instead of RSA-SHA256/SHA-256), data_alg
                     (content encryption algorithm URI, default AES-256-CBC),
                     name_id_format (default transient; null: no Format),
                     name_qualifier, sp_name_qualifier (default: none)
                 out: {"saml_response": base64, "xml": text}
  responses      several responses in one process (pysaml2's import is slow)
                 in: {"requests": [response input, ...]}
                 out: {"responses": [response output, ...]}
  logout-request        IdP-initiated single logout: a signed LogoutRequest
                 in: base + destination (our SLO URL), sp_entity_id, name_id
                     (and name_id_format, name_qualifier, sp_name_qualifier
                     as for response), session_indexes, relay_state;
                     out: {"id", "url"}
  answer-logout         parse (and verify) the SP's LogoutRequest from its
                        redirect query and answer with a signed LogoutResponse
                 in: base + saml_request, relay_state, sig_alg, signature,
                     destination (our SLO URL); out: {"request_id", "name_id",
                     "name_id_format", "name_qualifier", "sp_name_qualifier",
                     "session_indexes", "url"}
  read-logout-response  parse the SP's LogoutResponse
                 in: base + saml_response; out: {"in_response_to", "status", "issuer"}
  validate-schema       validate a document against the OASIS SAML 2.0 XSDs
                        that ship with pysaml2 (with xmlschema, not libxml2)
                 in: xml, schema ("protocol" | "metadata"); out: {"error": null | text}

"response" also takes, applied before signing: edits ([from, to] text
replacements of the unsigned XML) and encrypt_name_id (the NameID becomes an
EncryptedID: AES-256-CBC content, RSA-OAEP key transport, by xmlsec1).
"""

import base64
import json
import os
import sys
import tempfile

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT, NameID
from saml2.server import Server
from saml2.saml import AUTHN_PASSWORD_PROTECTED
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256


def name_id_of(req):
    """The subject's NameID as the test asks for it: transient unless told."""
    return NameID(
        format=req.get("name_id_format", NAMEID_FORMAT_TRANSIENT),
        text=req["name_id"],
        name_qualifier=req.get("name_qualifier"),
        sp_name_qualifier=req.get("sp_name_qualifier"),
    )


def server(req, workdir):
    md = os.path.join(workdir, "sp-metadata.xml")
    with open(md, "w") as f:
        f.write(req["sp_metadata"])
    key = os.path.join(workdir, "idp.key")
    cert = os.path.join(workdir, "idp.crt")
    with open(key, "w") as f:
        f.write(req["idp_key"])
    with open(cert, "w") as f:
        f.write(req["idp_cert"])
    entity = req["entity_id"]
    conf = {
        "entityid": entity,
        "service": {
            "idp": {
                "endpoints": {
                    "single_sign_on_service": [
                        (entity + "/sso/redirect", BINDING_HTTP_REDIRECT),
                        (entity + "/sso/post", BINDING_HTTP_POST),
                    ],
                    "single_logout_service": [(entity + "/slo", BINDING_HTTP_REDIRECT)],
                },
                "policy": {
                    "default": {
                        "lifetime": {"minutes": 5},
                        "attribute_restrictions": None,
                        "name_form": NAME_FORMAT_URI,
                    }
                },
                "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                "want_authn_requests_signed": bool(req.get("want_signed_requests", False)),
            }
        },
        "key_file": key,
        "cert_file": cert,
        "encryption_keypairs": [{"key_file": key, "cert_file": cert}],
        "metadata": {"local": [md]},
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "delete_tmpfiles": True,
    }
    cfg = IdPConfig()
    cfg.load(conf)
    return Server(config=cfg)


def parse_request(req, workdir):
    idp = server(req, workdir)
    binding = BINDING_HTTP_POST if req.get("binding") == "post" else BINDING_HTTP_REDIRECT
    parsed = idp.parse_authn_request(
        req["saml_request"],
        binding,
        relay_state=req.get("relay_state"),
        sigalg=req.get("sig_alg"),
        signature=req.get("signature"),
    )
    msg = parsed.message
    return {
        "id": msg.id,
        "issuer": msg.issuer.text if msg.issuer is not None else None,
        "acs_url": msg.assertion_consumer_service_url,
        "force_authn": msg.force_authn,
        "signature_verified": bool(getattr(parsed, "signature_check", None)) or msg.signature is not None,
    }


def response(req, workdir):
    idp = server(req, workdir)
    # pysaml2 hard-codes 3DES for the content; real IdPs use AES. Choose.
    import functools
    import saml2.entity
    import saml2.sigver
    data_alg = req.get("data_alg", "http://www.w3.org/2001/04/xmlenc#aes256-cbc")
    saml2.entity.pre_encryption_part = functools.partial(saml2.sigver.pre_encryption_part, msg_enc=data_alg)
    session_key = {"aes256": "aes-256", "aes128": "aes-128", "aes192": "aes-192"}.get(data_alg.split("#")[-1][:6], "des-192")
    original = idp.sec.encrypt_assertion

    def encrypt_assertion(statement, enc_key, template, *args, **kwargs):
        kwargs.pop("key_type", None)
        return original(statement, enc_key, template, session_key, *args[1:], **kwargs)

    idp.sec.encrypt_assertion = encrypt_assertion
    if req.get("encrypt_name_id") or req.get("edits"):
        xml = custom_response(idp, req, workdir)
        return {"saml_response": base64.b64encode(xml.encode()).decode(), "xml": xml}
    name_id = name_id_of(req)
    resp = idp.create_authn_response(
        identity=req.get("identity", {}),
        in_response_to=req.get("in_response_to"),
        destination=req["destination"],
        sp_entity_id=req["sp_entity_id"],
        name_id=name_id,
        authn={"class_ref": AUTHN_PASSWORD_PROTECTED, "authn_auth": req["entity_id"]},
        sign_response=bool(req.get("sign_response", True)),
        sign_assertion=bool(req.get("sign_assertion", False)),
        encrypt_assertion=bool(req.get("encrypt_assertion", False)),
        encrypt_cert_assertion=None,
        # pysaml2 defaults to RSA-SHA1, which ssoplane refuses unless allow_sha1.
        sign_alg=SIG_RSA_SHA1 if req.get("sha1") else SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA1 if req.get("sha1") else DIGEST_SHA256,
    )
    xml = str(resp)
    return {"saml_response": base64.b64encode(xml.encode()).decode(), "xml": xml}


def sp_encryption_cert(req, workdir):
    """The SP's encryption certificate, from its metadata, as a PEM file."""
    import re

    md = req["sp_metadata"]
    use = re.search(r'use="encryption".*?X509Certificate>([^<]+)<', md, re.S)
    b64 = "".join(use.group(1).split())
    path = os.path.join(workdir, "sp-enc.crt")
    with open(path, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\n" + b64 + "\n-----END CERTIFICATE-----\n")
    return path


def custom_response(idp, req, workdir):
    """A response changed before it is signed: `edits` ([from, to] text
    replacements, each required to apply), and `encrypt_name_id` (the NameID
    becomes an EncryptedID). Then signed as asked, so the IdP's signature
    covers exactly what the SP receives."""
    from saml2 import class_name, samlp
    from saml2.saml import Assertion
    from saml2.sigver import pre_signature_part

    unsigned = idp.create_authn_response(
        identity=req.get("identity", {}),
        in_response_to=req.get("in_response_to"),
        destination=req["destination"],
        sp_entity_id=req["sp_entity_id"],
        name_id=name_id_of(req),
        authn={"class_ref": AUTHN_PASSWORD_PROTECTED, "authn_auth": req["entity_id"]},
        sign_response=False,
        sign_assertion=False,
    )
    if isinstance(unsigned, str):
        from saml2.samlp import response_from_string

        unsigned = response_from_string(unsigned)
    # Signature templates first: pysaml2 signs in place with xmlsec1.
    if req.get("sign_assertion"):
        unsigned.assertion.signature = pre_signature_part(
            ident=unsigned.assertion.id,
            sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
    if req.get("sign_response", True):
        unsigned.signature = pre_signature_part(
            ident=unsigned.id,
            sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
    xml = str(unsigned)
    import re

    for old, new in req.get("edits") or []:
        assert old in xml, f"edit {old!r} does not apply to {xml}"
        xml = xml.replace(old, new)
    if req.get("encrypt_name_id"):
        xml = encrypt_name_id(idp, req, workdir, xml)
    if req.get("sign_assertion"):
        xml = idp.sec.sign_statement(xml, class_name(Assertion()), node_id=unsigned.assertion.id)
    if req.get("sign_response", True):
        xml = idp.sec.sign_statement(xml, class_name(samlp.Response()), node_id=unsigned.id)
    return xml


def encrypt_name_id(idp, req, workdir, xml):
    """Wraps the NameID in an EncryptedID, then lets xmlsec1 encrypt it there."""
    import re

    from saml2.sigver import pre_encryption_part

    xml, n = re.subn(r"(<(\w+:)?NameID\b.*?</(\w+:)?NameID>)",
                     lambda m: '<ns1:EncryptedID xmlns:ns1="urn:oasis:names:tc:SAML:2.0:assertion">'
                     + m.group(1) + "</ns1:EncryptedID>", xml, count=1, flags=re.S)
    assert n == 1, "no NameID to encrypt"
    template = str(pre_encryption_part(msg_enc="http://www.w3.org/2001/04/xmlenc#aes256-cbc",
                                       key_enc="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"))
    xml = idp.sec.crypto.encrypt_assertion(
        xml, sp_encryption_cert(req, workdir), template, key_type="aes-256",
        node_xpath="//*[local-name()='EncryptedID']/*[local-name()='NameID']")
    return xml


def validate_schema(req, workdir):
    from importlib.resources import files

    import saml2.data.schemas
    from saml2.xml.schema import _create_xml_schema_validator

    name = {"protocol": "saml-schema-protocol-2.0.xsd", "metadata": "saml-schema-metadata-2.0.xsd"}[req["schema"]]
    validator = _create_xml_schema_validator(str(files(saml2.data.schemas).joinpath(name)))
    try:
        validator.validate(req["xml"])
    except Exception as e:  # xmlschema reports every violation as an exception
        return {"error": str(e)}
    return {"error": None}


def location(info):
    return dict(info["headers"])["Location"]


def logout_request(req, workdir):
    """IdP-initiated: a signed LogoutRequest to the SP, as a redirect URL."""
    idp = server(req, workdir)
    name_id = name_id_of(req)
    req_id, msg = idp.create_logout_request(
        req["destination"], req["sp_entity_id"], name_id=name_id, session_indexes=req.get("session_indexes")
    )
    info = idp.apply_binding(
        BINDING_HTTP_REDIRECT, str(msg), req["destination"], relay_state=req.get("relay_state", ""),
        sign=bool(req.get("sign", True)), sigalg=SIG_RSA_SHA256,
    )
    return {"id": req_id, "url": location(info)}


def answer_logout(req, workdir):
    """The IdP receives the SP's LogoutRequest (redirect query parts) and answers it."""
    idp = server(req, workdir)
    parsed = idp.parse_logout_request(
        req["saml_request"], BINDING_HTTP_REDIRECT, relay_state=req.get("relay_state"),
        sigalg=req.get("sig_alg"), signature=req.get("signature"),
    )
    msg = parsed.message
    resp = idp.create_logout_response(msg, [BINDING_HTTP_REDIRECT])
    info = idp.apply_binding(
        BINDING_HTTP_REDIRECT, str(resp), req["destination"], relay_state=req.get("relay_state", ""),
        response=True, sign=True, sigalg=SIG_RSA_SHA256,
    )
    n = msg.name_id
    return {"request_id": msg.id, "name_id": n.text, "name_id_format": n.format,
            "name_qualifier": n.name_qualifier, "sp_name_qualifier": n.sp_name_qualifier,
            "session_indexes": [s.text for s in msg.session_index or []], "url": location(info)}


def read_logout_response(req, workdir):
    """The IdP reads the SP's LogoutResponse (redirect binding)."""
    idp = server(req, workdir)
    resp = idp.parse_logout_request_response(req["saml_response"], BINDING_HTTP_REDIRECT)
    return {"in_response_to": resp.response.in_response_to, "status": resp.response.status.status_code.value,
            "issuer": resp.response.issuer.text}


def main():
    command = sys.argv[1]
    req = json.load(sys.stdin)
    with tempfile.TemporaryDirectory(prefix="pysaml2-idp-") as workdir:
        if command == "parse-request":
            out = parse_request(req, workdir)
        elif command == "response":
            out = response(req, workdir)
        elif command == "responses":
            out = {"responses": [response(r, workdir) for r in req["requests"]]}
        elif command == "logout-request":
            out = logout_request(req, workdir)
        elif command == "answer-logout":
            out = answer_logout(req, workdir)
        elif command == "read-logout-response":
            out = read_logout_response(req, workdir)
        elif command == "validate-schema":
            out = validate_schema(req, workdir)
        else:
            raise SystemExit(f"unknown command {command}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
