"""Access tokens (JWT, HS256 pinned) and opaque refresh tokens.

The signing key lives in Secrets Manager as `{"current": "...", "previous": "..."}`: tokens are
signed with `current`, and both verify, so a key can be rotated without signing anybody out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from aws_lambda_powertools.utilities import parameters

from ums.config import settings
from ums.crypto import sha256_hex
from ums.errors import Unauthorized

ALGORITHM = "HS256"
TOKEN_USE = "access"
SECRET_CACHE_SECONDS = 300


@dataclass(frozen=True)
class AccessClaims:
    subject: str  # "ums:<user id>" or "apk:<api key>"
    session_id: str
    generation: int

    @property
    def user_id(self) -> str | None:
        return self.subject.removeprefix("ums:") if self.subject.startswith("ums:") else None

    @property
    def api_key(self) -> str | None:
        return self.subject.removeprefix("apk:") if self.subject.startswith("apk:") else None


def _signing_keys() -> list[str]:
    secret = parameters.get_secret(settings().jwt_secret_name, transform="json", max_age=SECRET_CACHE_SECONDS)
    if not isinstance(secret, dict) or not secret.get("current"):
        raise RuntimeError("JWT signing secret must be a JSON object with a 'current' key")
    return [key for key in (secret["current"], secret.get("previous")) if key]


def issue_access_token(subject: str, session_id: str, generation: int) -> str:
    s = settings()
    now = int(time.time())
    claims = {
        "iss": s.issuer,
        "aud": s.project_id,
        "sub": subject,
        "iat": now,
        "exp": now + s.access_token_ttl,
        "jti": str(uuid.uuid4()),
        "sid": session_id,
        "gen": generation,
        "token_use": TOKEN_USE,
    }
    return jwt.encode(claims, _signing_keys()[0], algorithm=ALGORITHM)


def verify_access_token(token: str) -> AccessClaims:
    """The claims of a valid access token; 401 for anything forged, expired or malformed."""
    s = settings()
    for key in _signing_keys():
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=s.project_id,
                issuer=s.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti", "sid", "gen"]},
            )
        except jwt.InvalidSignatureError:
            continue  # maybe signed with the other key
        except jwt.ExpiredSignatureError:
            raise Unauthorized("Access token has expired") from None
        except jwt.InvalidTokenError:
            break
        subject = claims["sub"]
        if claims.get("token_use") != TOKEN_USE or not isinstance(subject, str) or subject[:4] not in ("ums:", "apk:"):
            break
        if not isinstance(claims["gen"], int) or not isinstance(claims["sid"], str):
            break
        return AccessClaims(subject, claims["sid"], claims["gen"])
    raise Unauthorized("Invalid access token")


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

