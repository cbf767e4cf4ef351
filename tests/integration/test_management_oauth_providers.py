"""/management/oauth-providers: presets, validation (a 400 naming the field), the write-only
client secret in Secrets Manager."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import manage
from ums.operator_secrets import OAUTH_CLIENT_SECRETS

REDIRECTS = ["https://app.example.com/oauth/callback"]


def preset(name: str, **extra: Any) -> dict[str, Any]:
    return {"preset": name, "client_id": f"{name}-client", "client_secret": f"{name}-secret", "redirects": REDIRECTS,
            **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("google", {"type": "oidc", "issuer": "https://accounts.google.com", "scopes": ["openid", "email", "profile"]}),
        ("microsoft", {"type": "oidc", "issuer": "https://login.microsoftonline.com/common/v2.0"}),
        ("apple", {"type": "oidc", "authorize_params": {"response_mode": "form_post"}}),
        ("github", {"type": "oauth2", "emails_endpoint": "https://api.github.com/user/emails"}),
        ("facebook", {"type": "oauth2", "scopes": ["email", "public_profile"]}),
    ],
)
def test_a_preset_needs_only_its_client_and_redirects(aws: None, name: str, expected: dict[str, Any]) -> None:
    created = manage("oauth-providers", preset(name))
    assert created.status == 201, created.body
    assert created.body["id"] == created.body["name"] == name  # the name defaults to the preset
    assert created.body.items() >= {**expected, "client_id": f"{name}-client", "redirects": REDIRECTS}.items()
    assert created.body["has_client_secret"] is True and created.body["auto_link"] is True
    assert "client_secret" not in created.body
    assert manage(f"oauth-providers/{name}", method="GET").body == created.body


def test_custom_oidc_and_oauth2_providers(aws: None) -> None:
    keycloak = {"name": "keycloak", "type": "oidc", "issuer": "https://sso.example.com/realms/app",
                "client_id": "app", "redirects": REDIRECTS}  # fmt: skip
    assert manage("oauth-providers", keycloak).status == 201
    gitea = {
        "name": "gitea",
        "type": "oauth2",
        "client_id": "app",
        "authorization_endpoint": "https://git.example.com/login/oauth/authorize",
        "token_endpoint": "https://git.example.com/login/oauth/access_token",
        "userinfo_endpoint": "https://git.example.com/api/v1/user",
        "claims": {"subject": "id", "email": "email", "email_verified": True, "name": "full_name"},
        "redirects": REDIRECTS,
    }
    created = manage("oauth-providers", gitea)
    assert created.status == 201 and created.body["claims"]["email_verified"] is True
    assert created.body["has_client_secret"] is False
    assert {p["name"] for p in manage("oauth-providers", method="GET").body} == {"keycloak", "gitea"}


NO_CLAIMS = {
    "name": "x",
    "type": "oauth2",
    "client_id": "c",
    "redirects": REDIRECTS,
    "authorization_endpoint": "https://a.example",
    "token_endpoint": "https://t.example",
    "userinfo_endpoint": "https://u.example",
}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({**preset("google"), "colour": "blue"}, "Unknown field(s): colour"),
        ({**preset("google"), "preset": "myspace"}, "Field 'preset' must be one of google, microsoft, apple"),
        ({"name": "x", "type": "saml", "client_id": "c", "redirects": REDIRECTS}, "Field 'type' must be 'oidc'"),
        ({**preset("google"), "client_id": ""}, "Field 'client_id' is required"),
        ({**preset("google"), "scopes": ["email"]}, "Field 'scopes' of an 'oidc' provider must include 'openid'"),
        ({**preset("google"), "scopes": ["open id"]}, "Field 'scopes' must be a list of scope names"),
        ({**preset("google"), "token_endpoint": "https://x.example/t"}, "Field 'token_endpoint' is for type 'oauth2'"),
        ({**preset("github"), "issuer": "https://x.example"}, "Field 'issuer' is for type 'oidc'"),
        (NO_CLAIMS, "Field 'claims' is required for 'oauth2'"),
        ({**preset("google"), "redirects": []}, "Field 'redirects' must be a non-empty list"),
        ({**preset("google"), "redirects": ["http://app.example.com/cb"]}, "Redirect 'http://app.example.com/cb' must"),
        ({**preset("google"), "redirects": ["https://app.example.com/cb#x"]}, "Field 'redirects' must be an absolute"),
        ({**preset("google"), "redirects": ["/relative"]}, "Field 'redirects' must be an absolute URL"),
        ({**preset("google"), "issuer": "http://sso.example.com"}, "Field 'issuer' must be an https URL"),
        ({**preset("google"), "name": "no spaces"}, "Field 'name' may hold letters, digits"),
        ({**preset("google"), "auto_link": "yes"}, "Field 'auto_link' must be true or false"),
        ({**preset("google"), "authorize_params": {"state": "x"}}, "Field 'authorize_params' cannot set"),
        ({**preset("google"), "client_secret": 7}, "Field 'client_secret' must be a non-empty string"),
    ],
)
def test_a_bad_provider_is_a_400_naming_the_field(aws: None, body: dict[str, Any], message: str) -> None:
    answer = manage("oauth-providers", body)
    assert answer.status == 400 and answer.message.startswith(message), answer.body
    assert manage("oauth-providers", method="GET").body == []
    assert OAUTH_CLIENT_SECRETS.read("google", fresh=True) is None  # nothing half-stored


def test_the_client_secret_is_write_only_kept_replaced_and_deleted(aws: None) -> None:
    assert manage("oauth-providers", preset("google")).status == 201
    assert OAUTH_CLIENT_SECRETS.read("google", fresh=True) == "google-secret"
    assert manage("oauth-providers", preset("google")).status == 409  # taken: the secret is untouched
    without_secret = {k: v for k, v in preset("google", auto_link=False).items() if k != "client_secret"}
    kept = manage("oauth-providers/google", without_secret, method="PUT")
    assert kept.status == 200 and kept.body["has_client_secret"] is True and kept.body["auto_link"] is False
    assert OAUTH_CLIENT_SECRETS.read("google", fresh=True) == "google-secret"
    replaced = manage("oauth-providers/google", {**without_secret, "client_secret": "rotated"}, method="PUT")
    assert "client_secret" not in replaced.body and "rotated" not in str(replaced.body)
    assert OAUTH_CLIENT_SECRETS.read("google", fresh=True) == "rotated"
    assert manage("oauth-providers/google", {**without_secret, "name": "other"}, method="PUT").status == 400
    assert manage("oauth-providers/google", method="DELETE").status == 200
    assert OAUTH_CLIENT_SECRETS.read("google", fresh=True) is None
    assert manage("oauth-providers/google", method="GET").status == 404


def test_unknown_providers_and_methods(aws: None) -> None:
    assert manage("oauth-providers/nobody", method="GET").message == "No oauth-provider 'nobody'"
    assert manage("oauth-providers/nobody", method="DELETE").status == 404
    assert manage("oauth-providers/google", {}, method="PATCH").status == 405
