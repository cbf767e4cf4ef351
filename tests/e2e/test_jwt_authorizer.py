"""Over HTTP against the local stack (started with ExampleApi=true): UMS access tokens as a third
party sees them. A standard library verifies one from the discovery document alone; the example
API's JWT authorizer (GET /hello) lets a UMS token through with its claims and refuses forgeries;
the service's own routes refuse the same forgeries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PASSWORD = "correct horse battery staple"
AUDIENCE = "ums"  # the ProjectId parameter's default
SECRET_NAME = "ums-local-JwtSigningKey"  # the local stack's name for the JwtSigningKey secret


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(value: dict[str, Any]) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


@pytest.fixture(scope="module")
def discovery(base_url: str) -> dict[str, Any]:
    answer = requests.get(f"{base_url}/.well-known/openid-configuration", timeout=10)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


@pytest.fixture(scope="module")
def user(base_url: str) -> dict[str, str]:
    """A signed-up user: its id, email and an access token from POST /auth."""
    email = f"authz-{uuid.uuid4().hex[:12]}@example.com"
    created = requests.post(f"{base_url}/ums/signup", json={"email": email, "password": PASSWORD}, timeout=10)
    assert created.status_code == 201
    signed_in = requests.post(
        f"{base_url}/auth", json={"method": "ums", "email": email, "password": PASSWORD}, timeout=10
    )
    assert signed_in.status_code == 200
    return {"id": created.json()["id"], "email": email, "token": signed_in.json()["access_token"]}


@pytest.fixture(scope="module")
def stack_key(base_url: str, discovery: dict[str, Any]) -> tuple[str, rsa.RSAPrivateKey]:
    """(kid, private key) of the stack's current signing key, read from the emulator's secret: to
    sign tokens that are genuine but for their claims (wrong issuer, audience, expired)."""
    health = requests.get(f"{base_url}/_local/health", timeout=10).json()
    client = boto3.client(
        "secretsmanager",
        endpoint_url=health["aws_endpoint"],
        region_name=health["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    keys = json.loads(client.get_secret_value(SecretId=SECRET_NAME)["SecretString"])["keys"]
    now = time.time()
    current = max((k for k in keys if k["signs_from"] <= now), key=lambda k: k["signs_from"])
    private = serialization.load_pem_private_key(current["private_key"].encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    return current["kid"], private


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def hello(base_url: str, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(f"{base_url}/hello", headers=headers, timeout=10)


def get_user(base_url: str, token: str) -> requests.Response:
    return requests.get(f"{base_url}/ums/user", headers={"Authorization": f"Bearer {token}"}, timeout=10)


# --- (a) a third party verifies a UMS token from the discovery document alone ------------------


def test_a_standard_library_verifies_a_token_from_the_discovery_document_alone(
    discovery: dict[str, Any], user: dict[str, str]
) -> None:
    assert discovery["jwks_uri"].startswith(discovery["issuer"])
    signing_key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(user["token"])
    claims = jwt.decode(
        user["token"],
        signing_key.key,
        algorithms=discovery["id_token_signing_alg_values_supported"],
        issuer=discovery["issuer"],
        audience=AUDIENCE,
        options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub"]},
    )
    assert claims["sub"] == f"ums:{user['id']}"
    assert claims["scope"] == "ums:user"
    assert jwt.get_unverified_header(user["token"])["kid"] == signing_key.key_id


# --- (b) the example API's JWT authorizer ------------------------------------------------------


def test_the_protected_route_answers_the_callers_sub_with_a_ums_token(base_url: str, user: dict[str, str]) -> None:
    answer = hello(base_url, user["token"])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"sub": f"ums:{user['id']}", "scope": "ums:user"}
    # `Bearer` is optional for API Gateway's JWT authorizers.
    bare = requests.get(f"{base_url}/hello", headers={"Authorization": user["token"]}, timeout=10)
    assert bare.status_code == 200


def test_the_protected_route_refuses_a_request_without_a_token(base_url: str) -> None:
    answer = hello(base_url, None)
    assert answer.status_code == 401
    assert answer.json() == {"message": "Unauthorized"}
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


def test_a_token_without_the_routes_scope_is_forbidden(base_url: str, server_key: str) -> None:
    key, secret = server_key.split(":")
    signed_in = requests.post(f"{base_url}/auth", json={"method": "apk", "key": key, "secret": secret}, timeout=10)
    token = signed_in.json()["access_token"]
    assert claims_of(token)["scope"] == "ums:apk"
    answer = hello(base_url, token)
    assert answer.status_code == 403
    assert answer.json() == {"message": "Forbidden"}
    assert 'error="insufficient_scope"' in answer.headers["www-authenticate"]


def _none(token: str, kid: str, key: rsa.RSAPrivateKey) -> str:
    """alg none: no signature at all."""
    return f"{segment({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{token.split('.')[1]}."


def _hs256_with_the_public_key(token: str, kid: str, key: rsa.RSAPrivateKey) -> str:
    """Algorithm confusion: HMAC-SHA256 keyed with the public key's PEM (PyJWT refuses to make it)."""
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{segment({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{token.split('.')[1]}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def _unknown_kid(token: str, kid: str, key: rsa.RSAPrivateKey) -> str:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims_of(token), other, algorithm="RS256", headers={"kid": "not-a-kid-of-the-set"})


def _missing_kid(token: str, kid: str, key: rsa.RSAPrivateKey) -> str:
    """Signed with the stack's own key, but without a `kid`."""
    return jwt.encode(claims_of(token), key, algorithm="RS256")


def _a_key_not_in_the_set(token: str, kid: str, key: rsa.RSAPrivateKey) -> str:
    """Another RSA key, claiming the `kid` of the stack's key."""
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims_of(token), other, algorithm="RS256", headers={"kid": kid})


def _resigned(times: dict[str, int] | None = None, **changes: Any) -> Callable[[str, str, rsa.RSAPrivateKey], str]:
    """The token's claims with `changes` (and `times`: seconds from when it is forged), genuinely
    signed with the stack's key."""

    def forge(token: str, kid: str, key: rsa.RSAPrivateKey) -> str:
        now = int(time.time())
        claims = {**claims_of(token), **changes, **{name: now + s for name, s in (times or {}).items()}}
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    return forge


FORGERIES: dict[str, Callable[[str, str, rsa.RSAPrivateKey], str]] = {
    "alg none": _none,
    "HS256 signed with the public key": _hs256_with_the_public_key,
    "unknown kid": _unknown_kid,
    "missing kid": _missing_kid,
    "a key not in the set": _a_key_not_in_the_set,
    "wrong iss": _resigned(iss="https://attacker.example.com"),
    "wrong aud": _resigned(aud="another-project"),
    "expired": _resigned({"iat": -7200, "nbf": -7200, "exp": -60}),
    "not yet valid": _resigned({"nbf": 3600}),
    "issued in the future": _resigned({"iat": 3600, "nbf": -10}),
}


def test_a_token_resigned_unchanged_with_the_stacks_key_passes_both(
    base_url: str, user: dict[str, str], stack_key: tuple[str, rsa.RSAPrivateKey]
) -> None:
    """The control for the forgeries below: the same re-signing, no change, is accepted."""
    kid, key = stack_key
    token = _resigned()(user["token"], kid, key)
    assert hello(base_url, token).status_code == 200
    assert get_user(base_url, token).status_code == 200


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_the_authorizer_and_the_service_refuse_a_forged_token(
    base_url: str, user: dict[str, str], stack_key: tuple[str, rsa.RSAPrivateKey], forgery: str
) -> None:
    kid, key = stack_key
    token = FORGERIES[forgery](user["token"], kid, key)
    at_the_gateway = hello(base_url, token)
    assert at_the_gateway.status_code == 401, (forgery, at_the_gateway.text)
    assert at_the_gateway.json() == {"message": "Unauthorized"}
    # (c) the service's own routes refuse it too
    at_the_service = get_user(base_url, token)
    assert at_the_service.status_code == 401, (forgery, at_the_service.text)
