"""Runs scim2-tester (PyPI, pinned in scripts/install-test-deps) against a
SCIM server: every check it offers, printed as JSON lines
{"title", "status", "reason", "resource_type"} on stdout.

Usage: compliance.py BASE_URL TOKEN
"""

import json
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server


def main() -> int:
    base, token = sys.argv[1], sys.argv[2]
    http = httpx2.Client(
        base_url=base,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    client = SyncSCIMClient(http)
    for result in check_server(client):
        print(
            json.dumps(
                {
                    "title": result.title,
                    "status": result.status.name,
                    "reason": result.reason,
                    "resource_type": result.resource_type,
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
