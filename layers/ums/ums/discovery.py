"""OpenID Connect discovery and the JWKS: what another service (an API Gateway JWT authorizer,
any OIDC/JOSE library) needs to verify this stack's access tokens; and the API's OpenAPI
contract. All are answered from the cached signing-key secret: no DynamoDB call."""

from __future__ import annotations

import time
from typing import Any

from ums import openapi, signing_keys
from ums.tokens import API_KEY_SCOPE, USER_SCOPE

JWKS_PATH = "/.well-known/jwks.json"
OPENAPI_PATH = "/openapi.json"
# Well inside the two hours a rotation publishes a key before it signs: every cache that honours
# this has a new key before any token carries it.
CACHE_SECONDS = 3600
CLAIMS = ["iss", "aud", "sub", "iat", "nbf", "exp", "jti", "scope", "sid", "gen", "auth_time", "token_use"]


def jwks() -> dict[str, Any]:
    """The public keys that verify tokens now: the signing key, the next one when a rotation has
    published it, and the previous one during its grace period."""
    return {"keys": signing_keys.key_set().published(time.time())}


def openid_configuration() -> dict[str, Any]:
    issuer = _issuer()
    return {
        "issuer": issuer,
        "jwks_uri": issuer + JWKS_PATH,
        "id_token_signing_alg_values_supported": [signing_keys.ALGORITHM],
        "subject_types_supported": ["public"],
        "scopes_supported": [USER_SCOPE, API_KEY_SCOPE],
        "claims_supported": CLAIMS,
        # Jexia's endpoints (JSON bodies, not OAuth 2.0 grants): sign-in and refresh.
        "sign_in_endpoint": issuer + "/auth",
        "refresh_endpoint": issuer + "/auth/refresh",
    }


def contract() -> dict[str, Any]:
    """The OpenAPI contract, its server the API's URL (the issuer)."""
    return openapi.document(_issuer())


def _issuer() -> str:
    issuer = signing_keys.key_set().issuer
    if not issuer:
        raise signing_keys.SigningKeysUnavailable("No issuer recorded: the SigningKey custom resource has not run")
    return issuer
