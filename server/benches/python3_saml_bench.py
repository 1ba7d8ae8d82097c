#!/usr/bin/env python3
"""Helper for the `acs_validation` bench (server/benches/acs_validation.rs).

Usage: python3_saml_bench.py COMMAND < request.json > answer.json

Commands:
  generate  issue COUNT distinct signed SAML Responses with pysaml2, in one
            process, through testkit/idp/pysaml2_idp.py's `response`
            in: the `response` input of pysaml2_idp.py plus "count"
            out: {"responses": [base64, ...]}
  validate  the peer: python3-saml (OneLogin) validating the same responses,
            strict, single process, only the validation loop timed
            in: idp_entity_id, idp_cert (PEM), sp_entity_id, acs_url,
                http_host, script_name, responses [base64], seconds
            out: {"available": true, "validated", "seconds", "responses_per_sec",
                  "python3_saml": version, "xmlsec": version, "libxmlsec1": version}
                 or {"available": false, "reason"} when python3-saml is missing
"""

import importlib.util
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
IDP_SCRIPT = os.path.join(HERE, "..", "..", "testkit", "idp", "pysaml2_idp.py")


def generate(req):
    spec = importlib.util.spec_from_file_location("pysaml2_idp", IDP_SCRIPT)
    idp = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(idp)
    count = int(req.pop("count"))
    out = []
    for i in range(count):
        one = dict(req)
        one["name_id"] = f"{req['name_id']}-{i}"
        one["identity"] = {k: [f"{v}-{i}" for v in vs] for k, vs in req.get("identity", {}).items()}
        with tempfile.TemporaryDirectory(prefix="acs-bench-") as workdir:
            out.append(idp.response(one, workdir)["saml_response"])
    return {"responses": out}


def pem_body(pem):
    return "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))


def validate(req):
    try:
        import xmlsec
        from onelogin.saml2.response import OneLogin_Saml2_Response
        from onelogin.saml2.settings import OneLogin_Saml2_Settings
    except Exception as e:  # noqa: BLE001 - any import failure means "no peer"
        return {"available": False, "reason": f"python3-saml is not importable: {e!r}"}
    try:
        from importlib.metadata import version

        onelogin_version = version("python3-saml")
    except Exception:  # noqa: BLE001
        onelogin_version = "?"
    settings = OneLogin_Saml2_Settings(
        {
            "strict": True,
            "debug": False,
            "sp": {
                "entityId": req["sp_entity_id"],
                "assertionConsumerService": {
                    "url": req["acs_url"],
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
                },
                "NameIDFormat": "urn:oasis:names:tc:SAML:2.0:nameid-format:unspecified",
            },
            "idp": {
                "entityId": req["idp_entity_id"],
                "singleSignOnService": {
                    "url": req["idp_entity_id"] + "/sso/redirect",
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
                },
                "x509cert": pem_body(req["idp_cert"]),
            },
            "security": {
                "wantMessagesSigned": True,
                "wantAssertionsSigned": True,
                "wantAssertionsEncrypted": False,
                "wantNameId": True,
                "rejectDeprecatedAlgorithm": True,
                "rejectUnsolicitedResponsesWithInResponseTo": False,
                "allowRepeatAttributeName": True,
            },
        },
        sp_validation_only=True,
    )
    request_data = {
        "https": "on",
        "http_host": req["http_host"],
        "script_name": req["script_name"],
        "get_data": {},
        "post_data": {},
    }
    responses = req["responses"]
    seconds = float(req.get("seconds", 3.0))

    def one_round():
        for b64 in responses:
            r = OneLogin_Saml2_Response(settings, b64)
            if not r.is_valid(request_data, raise_exceptions=True):
                raise SystemExit(f"python3-saml refused a response: {r.get_error()}")

    one_round()  # warm-up, and proof every response is accepted
    validated = 0
    start = time.perf_counter()
    while True:
        one_round()
        validated += len(responses)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    return {
        "available": True,
        "validated": validated,
        "seconds": elapsed,
        "responses_per_sec": validated / elapsed,
        "python3_saml": onelogin_version,
        "xmlsec": getattr(xmlsec, "__version__", "?"),
        "libxmlsec1": ".".join(map(str, xmlsec.get_libxmlsec_version()))
        if hasattr(xmlsec, "get_libxmlsec_version")
        else "?",
    }


def main():
    command = sys.argv[1]
    req = json.load(sys.stdin)
    if command == "generate":
        out = generate(req)
    elif command == "validate":
        out = validate(req)
    else:
        raise SystemExit(f"unknown command {command}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
