"""The OAuth flow's pure parts: PKCE, the two request shapes, URL rules, claim mapping."""

from __future__ import annotations

from typing import Any

import pytest
from ums.bodies import OAuthCallback, OAuthInit, parse_sign_in
from ums.errors import BadRequest
from ums.oauth import flow, providers


def test_the_pkce_challenge_is_rfc_7636s_s256() -> None:
    verifier, challenge = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert flow._challenge(verifier) == challenge  # RFC 7636, appendix B


def test_init_takes_the_sdks_query() -> None:
    query = {"action": ["sign-up"], "provider": ["google"], "redirect": ["https://app.example.com/cb"]}
    assert OAuthInit.parse(query) == OAuthInit("sign-up", "google", "https://app.example.com/cb")
    assert OAuthInit.parse({"action": ["sign-in"], "provider": ["github"]}).redirect is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"provider": ["google"]}, "Query parameter 'action' must be 'sign-up' or 'sign-in'"),
        ({"action": ["login"], "provider": ["google"]}, "Query parameter 'action' must be 'sign-up' or 'sign-in'"),
        ({"action": ["sign-in"]}, "Query parameter 'provider' is required: the name of an OAuth provider"),
        ({"action": ["sign-in"], "provider": ["a", "b"]}, "Query parameter 'provider' is given more than once"),
        (
            {"action": ["sign-in"], "provider": ["a"], "prompt": ["none"]},
            "Query parameter 'prompt' is not known; use action, provider and redirect",
        ),
    ],
)
def test_init_refuses_a_bad_query_naming_the_parameter(query: dict[str, list[str]], message: str) -> None:
    with pytest.raises(BadRequest) as refused:
        OAuthInit.parse(query)
    assert refused.value.message == message


def test_the_callback_comes_through_post_auth_and_post_oauth_auth_alike() -> None:
    body = {"method": "oauth", "code": "c", "state": "s"}
    assert parse_sign_in(body) == OAuthCallback.parse(body) == OAuthCallback("c", "s", None, None)
    provider_error = OAuthCallback.parse({"method": "oauth", "state": "s", "error": "access_denied"})
    assert provider_error == OAuthCallback("", "s", "access_denied", None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"method": "oauth", "state": "s"}, "Field 'code' is required"),
        ({"method": "oauth", "code": "c"}, "Field 'state' is required"),
        ({"method": "oauth", "code": 1, "state": "s"}, "Field 'code' must be a string"),
        ({"method": "ums", "code": "c", "state": "s"}, "Field 'method' must be 'oauth'"),
        ({"method": "oauth", "code": "c", "state": "s", "extra": 1}, "Unknown field(s): extra; allowed: code"),
        ({"method": "oauth", "state": "s", "error": "<script>"}, "Field 'error' must be an OAuth error code"),
    ],
)
def test_a_bad_callback_is_a_400_naming_the_field(body: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest) as refused:
        OAuthCallback.parse(body)
    assert refused.value.message.startswith(message)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://accounts.google.com", True),
        ("http://127.0.0.1:3000/_local/idp", True),
        ("http://localhost:8080/cb", True),
        ("http://[::1]:8080/cb", True),
        ("http://example.com/cb", False),
        ("http://localhost.example.com/cb", False),
        ("http://user@evil.example/cb", False),
        ("file:///etc/passwd", False),
        ("ftp://example.com", False),
    ],
)
def test_the_service_calls_only_https_or_this_machine(url: str, allowed: bool) -> None:
    assert providers.allowed_url(url) is allowed


def test_a_preset_needs_only_the_client_and_redirects() -> None:
    github = providers.validate(
        {"preset": "github", "client_id": "Iv1.x", "redirects": ["https://app.example.com/cb"]}, "github"
    )
    assert github["type"] == "oauth2"
    assert github["token_endpoint"] == "https://github.com/login/oauth/access_token"
    assert github["claims"] == {"subject": "id", "email": "email", "name": "name", "picture": "avatar_url"}
    assert github["auto_link"] is True


def test_a_plain_oauth2_user_info_is_read_through_the_claim_map() -> None:
    facebook = providers.validate(
        {"preset": "facebook", "client_id": "1", "redirects": ["https://app.example.com/cb"]}, "facebook"
    )
    info = {"id": 10220, "name": "Ann", "email": "ann@example.com", "picture": {"data": {"url": "https://p/x.jpg"}}}
    identity = flow._mapped_identity({**facebook, "id": "facebook", "created_at": "", "updated_at": ""}, info, "t")
    assert identity == flow.Identity("10220", "ann@example.com", False, {"name": "Ann", "picture": "https://p/x.jpg"})


def test_apple_asserts_a_verified_email_as_a_string() -> None:
    assert flow._asserted("true") and flow._asserted(True)
    assert not flow._asserted("false") and not flow._asserted(None) and not flow._asserted(1)
