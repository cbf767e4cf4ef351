"""Talking to OAuth providers over HTTPS: discovery, keys, the code exchange, user info, and
the checks of an ID token. Plain urllib (nothing to add to the layer); every answer is bounded
in time and size, and a provider that cannot be reached is a 502, never the client's fault.

Discovery documents and key sets are cached in the process for CACHE_SECONDS; an ID token
signed with a key the cache does not know makes one fresh read (a provider rotated its keys).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from threading import Lock
from typing import Any
from urllib.parse import urlencode

import jwt

from ums.errors import ProviderUnavailable, Unauthorized
from ums.oauth.providers import allowed_url

TIMEOUT_SECONDS = 5
MAX_ANSWER_BYTES = 512 * 1024
CACHE_SECONDS = 3600
ID_TOKEN_LEEWAY_SECONDS = 60  # clock skew between us and the provider
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
NOT_ITS_KEY = "The provider's ID token is not signed by one of its keys"
USER_AGENT = "serverless-ums"  # GitHub's API refuses requests without one

_cache: dict[str, tuple[float, Any]] = {}
_cache_lock = Lock()


class ProviderError(Exception):
    """The provider answered the request with an OAuth error (`error`, `error_description`)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


def _request(url: str, *, data: dict[str, str] | None = None, bearer: str | None = None) -> Answer:
    if not allowed_url(url):  # a discovery document names URLs too: never file:, never plain http out
        raise ProviderUnavailable("The OAuth provider names a URL that is not https")
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    body = urlencode(data).encode() if data is not None else None
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    method = "POST" if body is not None else "GET"
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310 (allowed_url)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (allowed_url)
            status, raw = response.status, response.read(MAX_ANSWER_BYTES + 1)
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read(MAX_ANSWER_BYTES + 1)
    except (OSError, ValueError) as err:
        problem = type(err).__name__
        raise ProviderUnavailable(f"The OAuth provider could not be reached ({problem}); try again") from None
    if len(raw) > MAX_ANSWER_BYTES:
        raise ProviderUnavailable("The OAuth provider's answer is too large")
    if status >= 500:
        raise ProviderUnavailable(f"The OAuth provider failed (HTTP {status}); try again")
    try:
        return Answer(status, json.loads(raw))
    except ValueError:
        raise ProviderUnavailable(f"The OAuth provider's answer is not JSON (HTTP {status})") from None


def _json_object(answer: Answer, what: str) -> dict[str, Any]:
    body = answer.body
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        raise ProviderError(body["error"], str(body.get("error_description") or ""))
    if answer.status != 200 or not isinstance(body, dict):
        raise ProviderUnavailable(f"The OAuth provider's {what} answered HTTP {answer.status}, not the JSON expected")
    return body


def _cached(key: str, load: Any, *, fresh: bool = False) -> Any:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and not fresh and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = load()
    with _cache_lock:
        _cache[key] = (now, value)
    return value


def discovery(issuer: str) -> dict[str, Any]:
    """The issuer's OpenID Connect discovery document (cached)."""

    def load() -> dict[str, Any]:
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = _json_object(_request(url), "discovery document")
        for field in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(field), str):
                raise ProviderUnavailable(f"The OAuth provider's discovery document has no '{field}'")
        return document

    result: dict[str, Any] = _cached(f"discovery:{issuer}", load)
    return result


def exchange_code(token_endpoint: str, form: dict[str, str]) -> dict[str, Any]:
    """The token endpoint's answer to an authorization code (`ProviderError` if refused)."""
    return _json_object(_request(token_endpoint, data=form), "token endpoint")


def user_info(url: str, access_token: str) -> Any:
    """The user-info (or GitHub emails) endpoint's JSON for the provider's access token."""
    answer = _request(url, bearer=access_token)
    if answer.status in (401, 403):
        raise Unauthorized("The OAuth provider refused to share the user's profile")
    if answer.status != 200:
        raise ProviderUnavailable(f"The OAuth provider's user info answered HTTP {answer.status}")
    return answer.body


def _key_set(jwks_uri: str, *, fresh: bool = False) -> jwt.PyJWKSet:
    def load() -> jwt.PyJWKSet:
        body = _json_object(_request(jwks_uri), "key set")
        try:
            return jwt.PyJWKSet.from_dict(body)
        except jwt.PyJWTError:
            raise ProviderUnavailable("The OAuth provider's key set holds no usable key") from None

    key_set: jwt.PyJWKSet = _cached(f"jwks:{jwks_uri}", load, fresh=fresh)
    return key_set


def _signing_key(jwks_uri: str, kid: str | None) -> jwt.PyJWK:
    for fresh in (False, True):
        keys = _key_set(jwks_uri, fresh=fresh).keys
        matching = [key for key in keys if kid is None or key.key_id == kid]
        if len(matching) == 1 or (kid is None and matching):
            return matching[0]
    raise Unauthorized(NOT_ITS_KEY)


def verify_id_token(id_token: str, issuer: str, jwks_uri: str, client_id: str, nonce: str) -> dict[str, Any]:
    """The claims of an ID token whose signature (a key of the provider's JWKS), `iss`, `aud`,
    `exp` and `nonce` hold; 401 otherwise. `issuer` is the discovery document's; Microsoft's
    multi-tenant one holds `{tenantid}`, which the token's own `tid` fills."""
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.PyJWTError:
        raise Unauthorized("The provider's ID token is malformed") from None
    if header.get("alg") not in ID_TOKEN_ALGORITHMS:
        raise Unauthorized("The provider's ID token is not signed with an accepted algorithm")
    key = _signing_key(jwks_uri, header.get("kid"))
    try:
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key=key.key,
            algorithms=[header["alg"]],
            audience=client_id,
            leeway=ID_TOKEN_LEEWAY_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat"], "verify_iss": False},
        )
    except jwt.InvalidSignatureError:
        raise Unauthorized(NOT_ITS_KEY) from None
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The provider's ID token has expired") from None
    except jwt.InvalidAudienceError:
        raise Unauthorized("The provider's ID token is for another client (aud)") from None
    except jwt.PyJWTError as err:
        raise Unauthorized(f"The provider's ID token is not valid ({type(err).__name__})") from None
    expected_issuer = issuer.replace("{tenantid}", str(claims.get("tid", ""))) if "{tenantid}" in issuer else issuer
    if claims.get("iss") != expected_issuer:
        raise Unauthorized("The provider's ID token has another issuer (iss)")
    if claims.get("nonce") != nonce:
        raise Unauthorized("The provider's ID token does not carry this sign-in's nonce")
    return claims
