"""GET /hello of the example API (template.yaml, `ExampleApi=true`): a route of *your* API behind
an API Gateway JWT authorizer that trusts Serverless UMS access tokens.

The gateway has already verified the token (signature, issuer, audience, expiry, scopes) when
this runs: the handler only reads the claims it passes on, in
`requestContext.authorizer.jwt.claims` (payload 2.0; every value a string). A plain handler, with
no dependency on the `ums` package: copy it into any project.

What the gateway cannot see is revocation (a signed-out user's token stays valid until it
expires): docs/tokens.md.
"""

from __future__ import annotations

import json
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    jwt = event.get("requestContext", {}).get("authorizer", {}).get("jwt", {})
    claims = jwt.get("claims") or {}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        # sub: "ums:<user id>" for a user, "apk:<key>" for an API key; scope: "ums:user" / "ums:apk"
        "body": json.dumps({"sub": claims.get("sub"), "scope": claims.get("scope")}),
    }
