"""Access tokens (JWT, RS256 with a `kid`, verifiable by anyone through the JWKS) and opaque
refresh tokens. The signing keys, their rotation and the issuer: `ums.signing_keys`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from ums import signing_keys
from ums.config import settings
from ums.crypto import sha256_hex
from ums.errors import Unauthorized

TOKEN_USE = "access"
# The `scope` of a user's token and of an API key's: what another API's JWT authorizer can require.
USER_SCOPE = "ums:user"
API_KEY_SCOPE = "ums:apk"
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti", "sid", "gen"]


@dataclass(frozen=True)
class AccessClaims:
    subject: str  # "ums:<user id>" or "apk:<api key>"
    session_id: str
    generation: int
    auth_time: int | None = None  # when the session's sign-in happened (None: a token from before the claim)

    @property
    def user_id(self) -> str | None:
        return self.subject.removeprefix("ums:") if self.subject.startswith("ums:") else None

    @property
    def api_key(self) -> str | None:
        return self.subject.removeprefix("apk:") if self.subject.startswith("apk:") else None


def issue_access_token(subject: str, session_id: str, generation: int, auth_time: int) -> str:
    """`auth_time` (OpenID Connect's claim) is when the session's sign-in happened: a refreshed
    token keeps it, so "signed in recently" means a password or provider was presented lately."""
    now = int(time.time())
    kid, key, issuer = signing_keys.signing_key(now)
    claims = {
        "iss": issuer,
        "aud": settings().project_id,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + settings().access_token_ttl,
        "jti": str(uuid.uuid4()),
        "scope": API_KEY_SCOPE if subject.startswith("apk:") else USER_SCOPE,
        "sid": session_id,
        "gen": generation,
        "auth_time": auth_time,
        "token_use": TOKEN_USE,
    }
    return jwt.encode(claims, key, algorithm=signing_keys.ALGORITHM, headers={"kid": kid})


def verify_access_token(token: str) -> AccessClaims:
    """The claims of a valid access token; 401 for anything forged, expired or malformed: only
    RS256, only a `kid` of a live key of this stack, this issuer and audience."""
    header = _unverified_header(token)
    kid = header.get("kid")
    found = signing_keys.verification_key(kid, time.time()) if isinstance(kid, str) else None
    if header.get("alg") != signing_keys.ALGORITHM or found is None:
        raise Unauthorized("Invalid access token")
    public_key, issuer = found
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            public_key,
            algorithms=[signing_keys.ALGORITHM],
            audience=settings().project_id,
            issuer=issuer,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Access token has expired") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("Invalid access token") from None
    subject = claims["sub"]
    if claims.get("token_use") != TOKEN_USE or not isinstance(subject, str) or subject[:4] not in ("ums:", "apk:"):
        raise Unauthorized("Invalid access token")
    if not isinstance(claims["gen"], int) or not isinstance(claims["sid"], str):
        raise Unauthorized("Invalid access token")
    auth_time = claims.get("auth_time")
    return AccessClaims(subject, claims["sid"], claims["gen"], auth_time if isinstance(auth_time, int) else None)


def _unverified_header(token: str) -> dict[str, Any]:
    """The token's header, only to pick the key (`{}` if unreadable): `jwt.decode` then checks
    the whole token. PyJWT's `get_unverified_header` would decode and check all three parts, a
    character at a time, which `jwt.decode` does again: a third of checking a token."""
    segment = token.partition(".")[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error):  # not base64 or not JSON (json's errors are ValueErrors)
        return {}
    return header if isinstance(header, dict) else {}


@dataclass(frozen=True)
class RefreshToken:
    """`<owner>.<session id>.<256 random bits>`: the ids let one read find session and owner.
    The owner is a user id, or `apk-<key>` for a session of an API key."""

    owner: str
    session_id: str
    value: str

    @classmethod
    def new(cls, owner: str, session_id: str) -> RefreshToken:
        return cls(owner, session_id, f"{owner}.{session_id}.{secrets.token_urlsafe(32)}")

    @classmethod
    def parse(cls, value: str) -> RefreshToken:
        parts = value.split(".")
        if len(parts) != 3 or not all(parts) or len(value) > 256:
            raise Unauthorized("Invalid refresh token")
        return cls(parts[0], parts[1], value)

    @property
    def digest(self) -> str:
        return sha256_hex(self.value)

    def successor(self, salt: str) -> RefreshToken:
        """The token that replaces this one when rotated with `salt`: HMAC-SHA256 keyed by this
        token. Only a holder of this token can recompute it, so the session stores just the salt
        and a repeat of this token (a client's retry) can be answered with the same successor."""
        mac = hmac.new(self.value.encode("utf-8"), salt.encode("utf-8"), hashlib.sha256).digest()
        secret = base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")
        return RefreshToken(self.owner, self.session_id, f"{self.owner}.{self.session_id}.{secret}")


def new_session_id() -> str:
    return secrets.token_urlsafe(16)


def new_rotation_salt() -> str:
    return secrets.token_urlsafe(16)
