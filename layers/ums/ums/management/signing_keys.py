"""/management/signing-keys: the access-token signing keys (ids and times, never a private key)
and their rotation (docs/tokens.md).

- `GET /management/signing-keys`: the issuer and every key not retired, read from the secret
  itself (not this function's cache: the schedule rotates from another function).
- `POST /management/signing-keys/rotate` with an optional `{"immediate": true|false}` (no body:
  false): a new key, published at once and signing after the publish lead; `immediate` (a leaked
  key) signs with it now and drops every other key. While an earlier rotation's key is still
  waiting to sign, another plain rotation is a 409: each one would add a key to the secret
  (Secrets Manager keeps at most 64 KiB) and to every JWKS, and none would sign sooner.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ums import signing_keys
from ums.errors import BadRequest
from ums.http import Request
from ums.inputs import reject_unknown_fields
from ums.management import common

router = APIGatewayHttpRouter()


def immediate(request: Request) -> bool:
    """The body's `immediate` (false without a body), or a 400 that names the field."""
    if not request.raw_body.strip():
        return False
    body = common.body(router)
    reject_unknown_fields(body, {"immediate"})
    value = body.get("immediate", False)
    if not isinstance(value, bool):
        raise BadRequest("Field 'immediate' must be true or false")
    return value


@router.get("/")
def list_signing_keys() -> dict[str, Any]:
    return signing_keys.summary(signing_keys.key_set(fresh=True), time.time())


@router.post("/rotate")
def rotate_signing_key() -> dict[str, Any]:
    return signing_keys.rotate(immediate=immediate(router.context["request"]))
