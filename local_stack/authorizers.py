"""API Gateway's HTTP API JWT authorizer, as the local stack runs it for the routes of
`template.yaml` that name one (`Auth.Authorizers.<name>.JwtConfiguration`).

As AWS documents it: the token comes from the identity source (`Bearer ` optional); the keys from
`<issuer>/.well-known/openid-configuration` → `jwks_uri` (cached, read again for a `kid` not seen
yet); only RSA algorithms; the header's `kid` must name a key of the set; `iss` must be the
issuer; `aud` must be one of the audiences (`client_id` only when there is no `aud`); `exp`,
`nbf` and `iat` are checked; a route with authorization scopes needs one of them in `scope`
(or `scp`). A refusal is 401 `{"message":"Unauthorized"}`, or 403 `{"message":"Forbidden"}`
for missing scopes, with a `www-authenticate` header that says why."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt
import requests

from local_stack.template import JwtAuthorizer

RSA_ALGORITHMS = ["RS256", "RS384", "RS512"]  # what API Gateway's JWT authorizers accept
KEY_CACHE_SECONDS = 2 * 3600  # API Gateway caches a key set for up to two hours


@dataclass(frozen=True)
class Refusal:
    status: int  # 401 or 403
    error: str  # invalid_token, insufficient_scope
    description: str
    scopes: tuple[str, ...] = ()

    @property
    def body(self) -> dict[str, str]:
        return {"message": "Unauthorized" if self.status == 401 else "Forbidden"}

    @property
    def www_authenticate(self) -> str:
        return f'Bearer scope="{" ".join(self.scopes)}" error="{self.error}" error_description="{self.description}"'


@dataclass(frozen=True)
class Authorized:
    """What reaches the handler as `requestContext.authorizer.jwt`."""

    claims: dict[str, str]
    scopes: list[str] | None

    def context(self) -> dict[str, Any]:
        return {"jwt": {"claims": self.claims, "scopes": self.scopes}}


class KeySets:
    """The key set of each issuer, read through its discovery document and cached."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[float, dict[str, Any]]] = {}  # issuer -> (read at, {kid: JWK})

    def key(self, issuer: str, kid: str) -> jwt.PyJWK | None:
        """The key `kid` of `issuer`'s set; a `kid` the cached set lacks reads the set again
        (a rotation published a key since), at most once per request."""
        for fresh in (False, True):
            keys = self._read(issuer, fresh)
            if kid in keys:
                return jwt.PyJWK(keys[kid])
        return None

    def _read(self, issuer: str, fresh: bool) -> dict[str, Any]:
        with self._lock:
            cached = self._keys.get(issuer)
            if cached and not fresh and time.monotonic() - cached[0] < KEY_CACHE_SECONDS:
                return cached[1]
        discovery = requests.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration", timeout=5)
        discovery.raise_for_status()
        answer = requests.get(str(discovery.json()["jwks_uri"]), timeout=5)
        answer.raise_for_status()
        keys = {str(k["kid"]): k for k in answer.json().get("keys", []) if isinstance(k, dict) and "kid" in k}
        with self._lock:
            self._keys[issuer] = (time.monotonic(), keys)
        return keys


def authorize(
    authorizer: JwtAuthorizer,
    scopes: tuple[str, ...],
    headers: dict[str, str],
    key_sets: KeySets,
) -> Authorized | Refusal:
    """The request's claims when its token passes `authorizer` (and has one of `scopes`, when
    the route names any), else why not."""
    source = authorizer.identity_source
    if not source.lower().startswith("$request.header."):
        raise ValueError(f"identity source {source!r}: the local stack reads only headers")
    value = headers.get(source.removeprefix("$request.header.").lower(), "").strip()
    if not value:
        return Refusal(401, "invalid_token", "the token is missing")
    token = value[7:].strip() if value[:7].lower() == "bearer " else value
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return Refusal(401, "invalid_token", "the token is malformed")
    if header.get("alg") not in RSA_ALGORITHMS:
        return Refusal(401, "invalid_token", "signing method is not supported")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        return Refusal(401, "invalid_token", "the token has no kid")
    try:
        key = key_sets.key(authorizer.issuer, kid)
    except (requests.RequestException, ValueError, KeyError) as err:
        return Refusal(401, "invalid_token", f"the issuer's keys could not be read: {type(err).__name__}")
    if key is None:
        return Refusal(401, "invalid_token", "no key of the issuer has the token's kid")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[str(header["alg"])],
            issuer=authorizer.issuer,
            options={"verify_aud": False, "require": ["exp", "iss"], "verify_iat": True},
            leeway=0,
        )
    except jwt.ExpiredSignatureError:
        return Refusal(401, "invalid_token", "the token has expired")
    except jwt.ImmatureSignatureError:
        return Refusal(401, "invalid_token", "the token is not valid yet")
    except jwt.InvalidIssuerError:
        return Refusal(401, "invalid_token", "the token does not have a valid issuer")
    except jwt.InvalidTokenError:
        return Refusal(401, "invalid_token", "the token signature is invalid")
    audiences = claims["aud"] if "aud" in claims else claims.get("client_id")
    names = audiences if isinstance(audiences, list) else [audiences]
    if not any(isinstance(a, str) and a in authorizer.audiences for a in names):
        return Refusal(401, "invalid_token", "the token does not have a valid audience")
    granted = _scopes(claims)
    if scopes and not set(scopes) & set(granted):
        return Refusal(403, "insufficient_scope", f"expected scopes: {list(scopes)}", scopes)
    return Authorized({name: _text(value) for name, value in claims.items()}, granted if scopes else None)


def _scopes(claims: dict[str, Any]) -> list[str]:
    found = claims.get("scope", claims.get("scp", ""))
    return [str(s) for s in found] if isinstance(found, list) else str(found).split()


def _text(value: Any) -> str:
    """A claim as payload 2.0 carries it: a string (`[a b]` for a list, JSON for an object)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
