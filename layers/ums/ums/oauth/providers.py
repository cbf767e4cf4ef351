"""OAuth providers as configuration: presets, validation, and the URL rules.

An operator gives a `preset` (google, github, facebook, microsoft, apple) with a client id, a
client secret and the redirect URLs, or describes a provider in full: `oidc` with an `issuer`
whose discovery document gives everything else, or `oauth2` with explicit endpoints and the
user-info fields that hold each claim. Anything the operator gives overrides the preset.
"""

from __future__ import annotations

import re
from typing import Any, cast
from urllib.parse import urlsplit

from ums.errors import BadRequest
from ums.inputs import reject_unknown_fields
from ums.store.records import OAuthClaimMap, OAuthProviderData, OAuthType

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
MAX_REDIRECTS = 20
MAX_URL_LENGTH = 2048
FIELDS = {
    "name",
    "type",
    "preset",
    "client_id",
    "client_secret",
    "scopes",
    "redirects",
    "auto_link",
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "emails_endpoint",
    "claims",
    "authorize_params",
}
CLAIMS = ("subject", "email", "email_verified", "name", "picture")
GRAPH = "https://graph.facebook.com/v21.0"

# What each preset fills in (the operator adds client_id, client_secret and redirects).
PRESETS: dict[str, dict[str, Any]] = {
    "google": {"type": "oidc", "issuer": "https://accounts.google.com", "scopes": ["openid", "email", "profile"]},
    # The multi-tenant endpoint: work, school and personal accounts. Microsoft does not assert
    # that an email is verified, so these identities are never linked to an existing account by email.
    "microsoft": {
        "type": "oidc",
        "issuer": "https://login.microsoftonline.com/common/v2.0",
        "scopes": ["openid", "email", "profile"],
    },
    # Apple posts the answer to the redirect URL (response_mode=form_post) when name or email is
    # asked for; its client secret is the JWT you sign with your Apple key (at most 6 months).
    "apple": {
        "type": "oidc",
        "issuer": "https://appleid.apple.com",
        "scopes": ["openid", "email", "name"],
        "authorize_params": {"response_mode": "form_post"},
    },
    "github": {
        "type": "oauth2",
        "authorization_endpoint": "https://github.com/login/oauth/authorize",
        "token_endpoint": "https://github.com/login/oauth/access_token",
        "userinfo_endpoint": "https://api.github.com/user",
        "emails_endpoint": "https://api.github.com/user/emails",
        "scopes": ["read:user", "user:email"],
        "claims": {"subject": "id", "email": "email", "name": "name", "picture": "avatar_url"},
    },
    "facebook": {
        "type": "oauth2",
        "authorization_endpoint": "https://www.facebook.com/v21.0/dialog/oauth",
        "token_endpoint": f"{GRAPH}/oauth/access_token",
        "userinfo_endpoint": f"{GRAPH}/me?fields=id,name,email,picture",
        "scopes": ["email", "public_profile"],
        "claims": {"subject": "id", "email": "email", "name": "name", "picture": "picture.data.url"},
    },
}


def validate(body: dict[str, Any], name: str) -> OAuthProviderData:
    """The provider as stored (the client secret aside), or a 400 naming the field."""
    reject_unknown_fields(body, FIELDS)
    preset_name = body.get("preset")
    if preset_name is not None and not (isinstance(preset_name, str) and preset_name in PRESETS):
        raise BadRequest(f"Field 'preset' must be one of {', '.join(PRESETS)}")
    given = {**PRESETS.get(preset_name or "", {}), **{k: v for k, v in body.items() if v is not None}}
    kind = given.get("type")
    if kind not in ("oidc", "oauth2"):
        raise BadRequest("Field 'type' must be 'oidc' or 'oauth2' (or give a 'preset')")
    provider: OAuthProviderData = {
        "name": name,
        "type": cast(OAuthType, kind),
        "preset": preset_name,
        "client_id": _string(given, "client_id"),
        "scopes": _scopes(given.get("scopes", ["openid", "email", "profile"] if kind == "oidc" else [])),
        "redirects": _redirects(given.get("redirects")),
        "auto_link": _boolean(given, "auto_link", True),
        "issuer": None,
        "authorization_endpoint": None,
        "token_endpoint": None,
        "userinfo_endpoint": None,
        "emails_endpoint": None,
        "claims": None,
        "authorize_params": _params(given.get("authorize_params", {})),
    }
    if kind == "oidc":
        provider["issuer"] = endpoint_url(_string(given, "issuer"), "issuer")
        for field in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "emails_endpoint", "claims"):
            if field in body:
                raise BadRequest(f"Field '{field}' is for type 'oauth2'; an 'oidc' provider's discovery gives it")
        if "openid" not in provider["scopes"]:
            raise BadRequest("Field 'scopes' of an 'oidc' provider must include 'openid'")
        return provider
    if "issuer" in body:
        raise BadRequest("Field 'issuer' is for type 'oidc'; give the endpoints of an 'oauth2' provider")
    for field in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint"):
        provider[field] = endpoint_url(_string(given, field), field)  # type: ignore[literal-required]
    if given.get("emails_endpoint") is not None:
        provider["emails_endpoint"] = endpoint_url(_string(given, "emails_endpoint"), "emails_endpoint")
    provider["claims"] = _claims(given.get("claims"))
    return provider


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise BadRequest("Field 'name' may hold letters, digits, '_', '.' and '-' (at most 64)")
    return name


def allowed_url(url: str) -> bool:
    """Whether the service may call `url`: https, or http on this machine only (a local identity provider)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.netloc))


def endpoint_url(url: str, field: str) -> str:
    """A provider's URL as `allowed_url` allows it, or a 400 naming the field."""
    _url(url, field)
    if allowed_url(url):
        return url
    raise BadRequest(f"Field '{field}' must be an https URL (http only for localhost or 127.0.0.1)")


def _url(url: str, field: str) -> Any:
    if len(url) > MAX_URL_LENGTH:
        raise BadRequest(f"Field '{field}' is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise BadRequest(f"Field '{field}' is not a valid URL") from None
    if not parts.netloc or parts.fragment or any(c.isspace() or ord(c) < 0x20 for c in url):
        raise BadRequest(f"Field '{field}' must be an absolute URL without a fragment or spaces")
    return parts


def _loopback(netloc: str) -> bool:
    host = netloc.rsplit("@", 1)[-1]
    host = host if host.startswith("[") else host.split(":", 1)[0]
    if host.startswith("["):
        host = host[: host.index("]") + 1]
    return host.lower() in LOOPBACK_HOSTS


def _redirects(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(url, str) for url in value):
        raise BadRequest("Field 'redirects' must be a non-empty list of URLs (the first is the default)")
    if len(value) > MAX_REDIRECTS:
        raise BadRequest(f"Field 'redirects' may hold at most {MAX_REDIRECTS} URLs")
    for url in value:
        _url(url, "redirects")
        if not allowed_url(url):
            raise BadRequest(f"Redirect '{url}' must be https (http only for localhost or 127.0.0.1)")
    return list(dict.fromkeys(value))


def _string(given: dict[str, Any], field: str) -> str:
    value = given.get(field)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_URL_LENGTH:
        raise BadRequest(f"Field '{field}' is required and must be a non-empty string")
    return value.strip()


def _boolean(given: dict[str, Any], field: str, default: bool) -> bool:
    value = given.get(field, default)
    if not isinstance(value, bool):
        raise BadRequest(f"Field '{field}' must be true or false")
    return value


def _scopes(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(
        isinstance(s, str) and s and len(s) <= 256 and not any(c.isspace() for c in s) for s in value
    ):
        raise BadRequest("Field 'scopes' must be a list of scope names (no spaces)")
    return list(dict.fromkeys(value))


def _params(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise BadRequest("Field 'authorize_params' must be an object of string values")
    reserved = {"client_id", "redirect_uri", "state", "nonce", "code_challenge", "code_challenge_method", "scope"}
    if reserved & set(value) or "response_type" in value:
        raise BadRequest(f"Field 'authorize_params' cannot set {', '.join(sorted(reserved | {'response_type'}))}")
    return dict(value)


def _claims(value: Any) -> OAuthClaimMap:
    if not isinstance(value, dict):
        raise BadRequest("Field 'claims' is required for 'oauth2': which user-info fields hold subject and email")
    unknown = set(value) - set(CLAIMS)
    if unknown:
        raise BadRequest(f"Field 'claims' has unknown claim(s) {', '.join(sorted(unknown))}; use {', '.join(CLAIMS)}")
    claims: OAuthClaimMap = {"subject": _string(value, "subject"), "email": _string(value, "email")}
    verified = value.get("email_verified")
    if verified is not None:
        if not isinstance(verified, bool | str) or verified == "":
            raise BadRequest("Claim 'email_verified' must be a field name, true or false")
        claims["email_verified"] = verified
    for optional in ("name", "picture"):
        if value.get(optional) is not None:
            claims[optional] = _string(value, optional)
    return claims
