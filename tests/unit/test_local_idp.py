"""The local stack's OpenID Connect provider keeps the rules a real one keeps (called directly)."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from local_stack.idp import LocalIdentityProvider

ISSUER = "http://127.0.0.1:3000/_local/idp"
CALLBACK = "http://127.0.0.1:3000/_local/oauth/callback"
VERIFIER = "a-verifier-that-is-long-enough-to-be-a-real-pkce-verifier-0123456789"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def idp() -> LocalIdentityProvider:
    provider = LocalIdentityProvider(ISSUER)
    provider.add_client("app", "secret")
    return provider


def authorize(idp: LocalIdentityProvider, **params: str) -> tuple[int, dict[str, str], bytes]:
    query = {
        "client_id": "app",
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "state": "s1",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        "nonce": "n1",
        "login_hint": "ann@example.com",
        **params,
    }
    return idp.handle("GET", "/authorize", {k: v for k, v in query.items() if v != "-"}, {}, {})


def code_of(idp: LocalIdentityProvider, **params: str) -> str:
    status, headers, _ = authorize(idp, **params)
    assert status == 302
    return parse_qs(urlsplit(headers["Location"]).query)["code"][0]


def token(idp: LocalIdentityProvider, code: str, **form: str) -> tuple[int, dict[str, object]]:
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": "app",
        "client_secret": "secret",
        "code_verifier": VERIFIER,
        **form,
    }
    status, _, body = idp.handle("POST", "/token", {}, fields, {})
    return status, json.loads(body)


def test_discovery_names_the_endpoints_under_the_issuer(idp: LocalIdentityProvider) -> None:
    status, _, body = idp.handle("GET", "/.well-known/openid-configuration", {}, {}, {})
    document = json.loads(body)
    assert status == 200 and document["issuer"] == ISSUER
    assert document["token_endpoint"] == f"{ISSUER}/token" and document["jwks_uri"] == f"{ISSUER}/jwks.json"
    assert document["code_challenge_methods_supported"] == ["S256"]


def test_login_hint_redirects_with_the_code_and_the_state(idp: LocalIdentityProvider) -> None:
    status, headers, _ = authorize(idp)
    query = parse_qs(urlsplit(headers["Location"]).query)
    assert status == 302 and headers["Location"].startswith(CALLBACK + "?")
    assert query["state"] == ["s1"] and len(query["code"][0]) >= 43


def test_the_id_token_verifies_against_the_jwks_and_carries_nonce_aud_iss(idp: LocalIdentityProvider) -> None:
    status, answer = token(idp, code_of(idp, name="Ann B", email_verified="false"))
    assert status == 200 and answer["token_type"] == "Bearer"
    _, _, jwks = idp.handle("GET", "/jwks.json", {}, {}, {})
    key = jwt.PyJWKSet.from_dict(json.loads(jwks)).keys[0]
    claims = jwt.decode(str(answer["id_token"]), key.key, algorithms=["RS256"], audience="app", issuer=ISSUER)
    assert claims["nonce"] == "n1" and claims["email"] == "ann@example.com"
    assert claims["name"] == "Ann B" and claims["email_verified"] is False
    assert claims["sub"] == LocalIdentityProvider.subject_for("ANN@example.com")
    _, _, info = idp.handle("GET", "/userinfo", {}, {}, {"authorization": f"Bearer {answer['access_token']}"})
    assert json.loads(info)["sub"] == claims["sub"]


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"code_verifier": "not-the-verifier"}, 400, "invalid_grant"),
        ({"redirect_uri": "http://127.0.0.1:3000/elsewhere"}, 400, "invalid_grant"),
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
def test_the_token_endpoint_refuses_what_does_not_match(
    idp: LocalIdentityProvider, form: dict[str, str], status: int, error: str
) -> None:
    answer_status, answer = token(idp, code_of(idp), **form)
    assert (answer_status, answer["error"]) == (status, error)


def test_a_code_works_once_and_basic_authentication_works(idp: LocalIdentityProvider) -> None:
    code = code_of(idp)
    basic = base64.b64encode(b"app:secret").decode()
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "code_verifier": VERIFIER}
    status, _, _ = idp.handle("POST", "/token", {}, form, {"authorization": f"Basic {basic}"})
    assert status == 200
    assert token(idp, code)[1]["error"] == "invalid_grant"


def test_an_unknown_client_is_never_redirected(idp: LocalIdentityProvider) -> None:
    status, headers, body = authorize(idp, client_id="evil", redirect_uri="https://evil.example/steal")
    assert status == 400 and "Location" not in headers and b"evil" in body


def test_deny_sends_access_denied_back(idp: LocalIdentityProvider) -> None:
    _, headers, _ = authorize(idp, deny="1")
    query = parse_qs(urlsplit(headers["Location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["s1"] and "code" not in query


def test_the_page_escapes_what_it_carries_and_labels_its_fields(idp: LocalIdentityProvider) -> None:
    status, headers, body = authorize(idp, login_hint="-", state='"><script>alert(1)</script>')
    page = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "<script>" not in page and "&quot;&gt;&lt;script&gt;" in page
    assert '<label for="email">' in page and '<label for="name">' in page
    assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_userinfo_without_a_valid_token_is_401(idp: LocalIdentityProvider) -> None:
    status, headers, _ = idp.handle("GET", "/userinfo", {}, {}, {"authorization": "Bearer nope"})
    assert status == 401 and headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
