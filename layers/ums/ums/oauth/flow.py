"""The OAuth sign-up and sign-in flow (authorization code with PKCE), as Jexia's SDK drives it.

1. `start` (`GET /oauth/init`): checks the provider and redirect, stores what the callback will
   need under the hash of a random `state` (single use, STATE_TTL_SECONDS), and answers the
   provider's authorization URL with that state, the PKCE challenge (S256) and, for OpenID
   Connect, a nonce.
2. The provider sends the browser to the redirect URL with `code` and `state`.
3. `complete` (`POST /oauth/auth`, or `POST /auth` with method `oauth`): uses the state up,
   exchanges the code (with the PKCE verifier and the client secret), learns who the user is
   from the ID token (verified) or the user-info endpoint, and signs the user up or in with a
   session exactly like a password sign-in's.

Identities (provider, provider's subject) are their own items, unique under concurrency; a
sign-in whose provider asserts a verified email of an existing user links the identity to it,
unless the provider's `auto_link` is off. The provider's tokens are never stored or logged.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.metrics import MetricUnit

from ums import verification
from ums.bodies import OAuthCallback, OAuthInit
from ums.clock import now_rfc3339
from ums.crypto import sha256_hex
from ums.errors import (
    BadRequest,
    Conflict,
    EmailTaken,
    Forbidden,
    IdentityTaken,
    NotFound,
    ProviderUnavailable,
    Unauthorized,
)
from ums.events import SIGN_UP, new_event
from ums.oauth import client
from ums.observability import logger, metrics
from ums.operator_secrets import OAUTH_CLIENT_SECRETS
from ums.sessions import start_user_session
from ums.store import config as config_store
from ums.store import oauth_states
from ums.store import users as user_store
from ums.store.records import OAUTH_PROVIDERS, OAuthProvider
from ums.store.users import User
from ums.users import email_key, new_user, normalize_email, validate_profile

STATE_TTL_SECONDS = 600
MAX_PROFILE_VALUE = 2048  # a name or picture URL longer than this is not kept
INVALID_STATE = "Unknown, expired or already used OAuth state; start again with /oauth/init"


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str
    userinfo: str | None
    issuer: str | None = None  # OpenID Connect: the ID token's issuer and keys
    jwks_uri: str | None = None


@dataclass(frozen=True)
class Identity:
    """Who the provider says the user is."""

    subject: str
    email: str | None
    email_verified: bool
    profile: dict[str, str]  # name, picture


def start(request: OAuthInit) -> dict[str, str]:
    """`GET /oauth/init`: the provider's authorization URL for this sign-up or sign-in."""
    provider = config_store.get(OAUTH_PROVIDERS, request.provider)
    if provider is None:
        raise BadRequest(f"Query parameter 'provider': no OAuth provider '{request.provider}' is configured")
    redirect = request.redirect or provider["redirects"][0]
    if redirect not in provider["redirects"]:
        raise BadRequest(
            f"Query parameter 'redirect' is not one of provider '{provider['name']}''s allowed redirect URLs"
            " (exact match; an operator adds it to the provider's 'redirects')"
        )
    endpoints = _endpoints(provider)
    state, verifier, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(48), secrets.token_urlsafe(24)
    expires_at = int(time.time()) + STATE_TTL_SECONDS
    oauth_states.save(sha256_hex(state), provider["name"], request.action, redirect, verifier, nonce, expires_at)
    params = {
        **provider.get("authorize_params", {}),
        "response_type": "code",
        "client_id": provider["client_id"],
        "redirect_uri": redirect,
        "scope": " ".join(provider["scopes"]),
        "state": state,
        "code_challenge": _challenge(verifier),
        "code_challenge_method": "S256",
    }
    if provider["type"] == "oidc":
        params["nonce"] = nonce
    separator = "&" if "?" in endpoints.authorization else "?"
    logger.append_keys(provider=provider["name"], action=request.action)  # on the request's INFO line
    return {"oauth_url": f"{endpoints.authorization}{separator}{urlencode(params)}"}


def complete(callback: OAuthCallback) -> dict[str, str]:
    """`POST /oauth/auth`: tokens for the user the provider vouches for, signed up or in as the
    state's action says. 401 for a state that is unknown, expired or used (each state works once)."""
    state = oauth_states.consume(sha256_hex(callback.state))
    if state is None:
        raise Unauthorized(INVALID_STATE)
    logger.append_keys(provider=state.provider, action=state.action)  # on the request's INFO line
    if callback.error is not None:
        detail = f" ({callback.error_description[:300]})" if callback.error_description else ""
        raise Forbidden(f"The provider did not authorize the sign-in: {callback.error[:64]}{detail}")
    provider = config_store.get(OAUTH_PROVIDERS, state.provider)
    if provider is None:
        raise Unauthorized(f"OAuth provider '{state.provider}' is no longer configured; start again")
    identity = _identity(provider, callback.code, state.redirect, state.code_verifier, state.nonce)
    user = _sign_up(provider, identity) if state.action == "sign-up" else _sign_in(provider, identity)
    tokens = start_user_session(user)
    metrics.add_metric(name="OAuthSignIns", unit=MetricUnit.Count, value=1)
    logger.debug("User signed in with OAuth")
    return tokens


def _challenge(verifier: str) -> str:
    """PKCE S256: BASE64URL(SHA-256(verifier)) without padding (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _endpoints(provider: OAuthProvider) -> Endpoints:
    if provider["type"] == "oauth2":
        authorization, token = provider["authorization_endpoint"], provider["token_endpoint"]
        assert authorization is not None and token is not None  # validated when stored
        return Endpoints(authorization, token, provider["userinfo_endpoint"])
    assert provider["issuer"] is not None
    document = client.discovery(provider["issuer"])
    userinfo = document.get("userinfo_endpoint")
    return Endpoints(
        document["authorization_endpoint"],
        document["token_endpoint"],
        userinfo if isinstance(userinfo, str) else None,
        document["issuer"],
        document["jwks_uri"],
    )


def _identity(provider: OAuthProvider, code: str, redirect: str, verifier: str, nonce: str) -> Identity:
    endpoints = _endpoints(provider)
    tokens = _exchange(provider, endpoints.token, code, redirect, verifier)
    access_token = tokens.get("access_token")
    if provider["type"] == "oidc":
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise ProviderUnavailable("The OAuth provider answered without an ID token")
        assert endpoints.issuer is not None and endpoints.jwks_uri is not None
        claims = client.verify_id_token(id_token, endpoints.issuer, endpoints.jwks_uri, provider["client_id"], nonce)
        if not claims.get("email") and endpoints.userinfo and isinstance(access_token, str):
            info = client.user_info(endpoints.userinfo, access_token)
            if isinstance(info, dict) and info.get("sub") == claims["sub"]:
                claims = {**info, **claims, "email": info.get("email"), "email_verified": info.get("email_verified")}
        return Identity(
            str(claims["sub"]),
            _text(claims.get("email")),
            _asserted(claims.get("email_verified")),
            _profile(claims.get("name"), claims.get("picture")),
        )
    if not isinstance(access_token, str) or endpoints.userinfo is None:
        raise ProviderUnavailable("The OAuth provider answered without an access token")
    return _mapped_identity(provider, client.user_info(endpoints.userinfo, access_token), access_token)


def _exchange(provider: OAuthProvider, token_endpoint: str, code: str, redirect: str, verifier: str) -> dict[str, Any]:
    """The token endpoint's answer for the code. The client secret is read through a cache: when
    the provider refuses it, one fresh read (an operator may have just replaced it)."""
    used = None
    for fresh in (False, True):
        secret = OAUTH_CLIENT_SECRETS.read(provider["name"], fresh=fresh)
        if fresh and secret == used:
            break
        used = secret
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
            "client_id": provider["client_id"],
            "code_verifier": verifier,
        }
        if secret:
            form["client_secret"] = secret
        try:
            return client.exchange_code(token_endpoint, form)
        except client.ProviderError as err:
            if err.error != "invalid_client":
                raise Unauthorized(f"The provider did not accept the authorization code ({err.error[:64]})") from None
    logger.error("OAuth provider refused the client credentials", extra={"provider": provider["name"]})
    raise ProviderUnavailable(
        f"OAuth provider '{provider['name']}' refused this service's client credentials (invalid_client); "
        "an operator must check its client_id and client_secret"
    )


def _mapped_identity(provider: OAuthProvider, info: Any, access_token: str) -> Identity:
    """A plain OAuth 2 provider's user info, read through the provider's claim map."""
    claims = provider["claims"]
    assert claims is not None
    if not isinstance(info, dict):
        raise ProviderUnavailable("The OAuth provider's user info is not a JSON object")
    subject = _at(info, claims["subject"])
    if subject is None or isinstance(subject, dict | list) or str(subject) == "":
        raise ProviderUnavailable(f"The OAuth provider's user info has no '{claims['subject']}'")
    verified = claims.get("email_verified", False)
    email = _text(_at(info, claims["email"]))
    email_verified = verified if isinstance(verified, bool) else _asserted(_at(info, verified))
    if provider["emails_endpoint"]:
        # GitHub: the profile shows only a public address; this list says which are verified.
        addresses = client.user_info(provider["emails_endpoint"], access_token)
        primary = [
            a
            for a in (addresses if isinstance(addresses, list) else [])
            if isinstance(a, dict) and a.get("primary") and a.get("verified") is True
        ]
        if primary:
            email, email_verified = _text(primary[0].get("email")), True
    name, picture = claims.get("name"), claims.get("picture")
    return Identity(
        str(subject),
        email,
        email_verified and email is not None,
        _profile(_at(info, name) if name else None, _at(info, picture) if picture else None),
    )


def _at(info: dict[str, Any], path: str) -> Any:
    value: Any = info
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _asserted(value: Any) -> bool:
    """An `email_verified` claim: true, or Apple's "true"."""
    return value is True or value == "true"


def _profile(name: Any, picture: Any) -> dict[str, str]:
    given = {"name": name, "picture": picture}
    return {k: v for k, v in given.items() if isinstance(v, str) and v.strip() and len(v) <= MAX_PROFILE_VALUE}


def _email(provider: OAuthProvider, identity: Identity) -> str:
    if identity.email is None:
        raise BadRequest(f"The {provider['name']} account shares no email address; the user must allow access to it")
    try:
        return normalize_email(identity.email)
    except BadRequest:
        raise BadRequest(f"The {provider['name']} account's email address is not a valid one") from None


def _sign_up(provider: OAuthProvider, identity: Identity) -> User:
    """A new user for the identity; an existing one when the provider asserts that the email is
    verified and belongs to a user (linked, if the provider's `auto_link` allows); 409 otherwise."""
    email = _email(provider, identity)
    user = new_user(email, "", validate_profile(identity.profile), None)  # no password: OAuth only
    user.email_verified = identity.email_verified  # the provider vouches for it, or a link will
    try:
        token_fields, tokens = verification.for_sign_up(user)
        user_store.create(
            user,
            new_event(SIGN_UP, user, **token_fields),
            identity=(provider["name"], identity.subject),
            tokens=tokens,
        )
    except IdentityTaken:
        raise Conflict(f"This {provider['name']} account has already signed up; sign in instead") from None
    except EmailTaken:
        existing = _linkable(provider, identity)
        if existing is None:
            raise
        return existing
    metrics.add_metric(name="SignUps", unit=MetricUnit.Count, value=1)
    logger.append_keys(user_id=user.id, signed_up=True)  # on the request's INFO line
    return user


def _sign_in(provider: OAuthProvider, identity: Identity) -> User:
    """The user the identity is linked to (or, with a verified email of an existing user and
    `auto_link`, that user, now linked); 404 when nobody signed up with it (Jexia's answer)."""
    user = user_store.find_by_identity(provider["name"], identity.subject)
    if user is not None:
        return user
    existing = _linkable(provider, identity)
    if existing is None:
        raise NotFound(f"No user has signed up with this {provider['name']} account; sign up first")
    return existing


def _linkable(provider: OAuthProvider, identity: Identity) -> User | None:
    """The existing user with the identity's email, linked to the identity, when the provider
    asserts that the email is verified and auto-linking is on; None otherwise."""
    if not (identity.email_verified and identity.email and provider["auto_link"]):
        return None
    user = user_store.owner_of_email(email_key(identity.email))
    if user is None:
        return None
    if not user.active:
        raise Forbidden("User is not active")
    try:
        user_store.link_identity(user, provider["name"], identity.subject, now_rfc3339())
    except IdentityTaken:
        # A concurrent sign-in linked it first: to this user, or the identity belongs elsewhere.
        linked = user_store.find_by_identity(provider["name"], identity.subject)
        if linked is None or linked.id != user.id:
            raise Conflict(f"This {provider['name']} account is linked to another user") from None
    metrics.add_metric(name="OAuthIdentitiesLinked", unit=MetricUnit.Count, value=1)
    logger.info("OAuth identity linked to an existing user by verified email", extra={"user_id": user.id})
    return user
