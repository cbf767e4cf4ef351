"""Sign-in, refresh-token rotation and access-token checks.

A session is one sign-in and its chain of rotated refresh tokens. Revocation is per user:
`token_generation` goes up on a password change, reset or deactivation, and sessions or access
tokens of an older generation stop working, except the one session a password change keeps.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pynamodb.expressions.update import Action

from ums import api_keys, passwords
from ums.config import settings
from ums.errors import BadRequest, Forbidden, NotFound, TooManyRequests, Unauthorized
from ums.http import reject_unknown_fields, required_string
from ums.observability import logger, metrics
from ums.store import sessions as session_store
from ums.store import users as user_store
from ums.store.models import SessionModel, UserModel
from ums.tokens import AccessClaims, RefreshToken, issue_access_token, new_session_id, verify_access_token
from ums.users import email_key, now_rfc3339

SIGN_IN_FAILURES_BEFORE_THROTTLE = 5
THROTTLE_FIRST_SECONDS = 30
THROTTLE_MAX_SECONDS = 15 * 60
WRONG_CREDENTIALS = "Invalid email or password"


def sign_in(body: dict[str, Any]) -> dict[str, str]:
    """`POST /auth`: tokens for a user's credentials (method `ums`) or an API key (`apk`)."""
    method = body.get("method")
    if method == "apk":
        return _sign_in_api_key(required_string(body, "key"), required_string(body, "secret"))
    if method != "ums":
        raise BadRequest("Field 'method' must be 'ums' or 'apk'")
    email = required_string(body, "email")
    password = required_string(body, "password")

    user = user_store.find_by_email(email_key(email))
    if user is None:
        passwords.spend_verification_time(password)
        raise Unauthorized(WRONG_CREDENTIALS)
    now = int(time.time())
    if user.locked_until > now:
        metrics.add_metric(name="SignInsThrottled", unit=MetricUnit.Count, value=1)
        raise TooManyRequests("Too many failed sign-in attempts; try again later", int(user.locked_until) - now)
    if not passwords.verify_password(user.password_hash, password):
        _record_failure(user, now)
        raise Unauthorized(WRONG_CREDENTIALS)
    if not user.active:
        raise Forbidden("User is not active")

    updates: list[Action] = []
    if user.failed_signins or user.locked_until:
        updates += [UserModel.failed_signins.set(0), UserModel.locked_until.set(0)]
    if passwords.needs_rehash(user.password_hash):
        updates.append(UserModel.password_hash.set(passwords.hash_password(password)))
    tokens = _start_session(user.id, f"ums:{user.id}", int(user.token_generation), user, updates)
    metrics.add_metric(name="SignIns", unit=MetricUnit.Count, value=1)
    logger.info("User signed in", extra={"user_id": user.id})
    return tokens


def _sign_in_api_key(key: str, secret: str) -> dict[str, str]:
    """Tokens for an API key (`sub: apk:<key>`): what Jexia's SDK does on init with key/secret."""
    if not api_keys.verify(key, secret):
        metrics.add_metric(name="SignInFailures", unit=MetricUnit.Count, value=1)
        raise Unauthorized("Invalid API key or secret")
    logger.info("API key signed in", extra={"api_key": key})
    return _start_session(f"apk-{key}", f"apk:{key}", 0, None, [])


def _record_failure(user: UserModel, now: int) -> None:
    failures = int(user.failed_signins) + 1
    actions: list[Action] = [UserModel.failed_signins.add(1)]
    if failures >= SIGN_IN_FAILURES_BEFORE_THROTTLE:
        delay = THROTTLE_FIRST_SECONDS * 2 ** (failures - SIGN_IN_FAILURES_BEFORE_THROTTLE)
        actions.append(UserModel.locked_until.set(now + min(delay, THROTTLE_MAX_SECONDS)))
        logger.warning("Sign-in throttled after repeated failures", extra={"user_id": user.id, "failures": failures})
    metrics.add_metric(name="SignInFailures", unit=MetricUnit.Count, value=1)
    with contextlib.suppress(NotFound):  # deleted meanwhile: nothing to throttle
        user_store.update(user, actions)


def _start_session(
    owner: str, subject: str, generation: int, user: UserModel | None, user_updates: list[Action]
) -> dict[str, str]:
    session_id = new_session_id()
    refresh = RefreshToken.new(owner, session_id)
    session = SessionModel(
        SessionModel.key_for(session_id),
        user_id=owner,
        token_hash=refresh.digest,
        generation=generation,
        created_at=now_rfc3339(),
        expires_at=int(time.time()) + settings().refresh_token_ttl,
    )
    if user and user_updates:
        user_store.save_session_and_update(session, user, user_updates)
    else:
        session_store.save(session)
    return {"access_token": issue_access_token(subject, session_id, generation), "refresh_token": refresh.value}


def refresh(body: dict[str, Any]) -> dict[str, str]:
    """`POST /auth/refresh`: rotates the refresh token. Reusing a rotated one revokes its session."""
    reject_unknown_fields(body, {"refresh_token"})
    presented = RefreshToken.parse(required_string(body, "refresh_token"))
    if presented.owner.startswith("apk-"):
        return _refresh_api_key(presented)
    session, user = session_store.get_with_user(presented.session_id, presented.owner)
    if session is None or session.user_id != presented.owner:
        raise Unauthorized("Invalid refresh token")
    _check_presented(session, presented)
    if user is None or not user.active or not _session_is_current(user, presented.session_id, int(session.generation)):
        raise Unauthorized("Refresh token has expired or was revoked")
    return _rotate(session, presented, f"ums:{user.id}", int(user.token_generation))


def _refresh_api_key(presented: RefreshToken) -> dict[str, str]:
    key = presented.owner.removeprefix("apk-")
    session = session_store.get(presented.session_id)
    if session is None or session.user_id != presented.owner:
        raise Unauthorized("Invalid refresh token")
    _check_presented(session, presented)
    if api_keys.find(key) is None:
        raise Unauthorized("Refresh token has expired or was revoked")
    return _rotate(session, presented, f"apk:{key}", 0)


def _check_presented(session: SessionModel, presented: RefreshToken) -> None:
    """401 unless `presented` is the session's current token; a rotated one revokes the session."""
    if session.revoked or session.expires_at <= time.time():
        raise Unauthorized("Refresh token has expired or was revoked")
    digest = presented.digest
    if not passwords.secrets_equal(digest, session.token_hash):
        if digest in (session.used_hashes or set()):
            session_store.revoke(session)
            metrics.add_metric(name="RefreshTokenReuse", unit=MetricUnit.Count, value=1)
            logger.warning("Rotated refresh token reused; session revoked", extra={"owner": session.user_id})
            raise Unauthorized("Refresh token has already been used; the session is revoked")
        raise Unauthorized("Invalid refresh token")


def _rotate(session: SessionModel, presented: RefreshToken, subject: str, generation: int) -> dict[str, str]:
    new_refresh = RefreshToken.new(presented.owner, presented.session_id)
    expires_at = int(time.time()) + settings().refresh_token_ttl
    session_store.rotate(session, presented.digest, new_refresh.digest, generation, expires_at)
    return {
        "access_token": issue_access_token(subject, presented.session_id, generation),
        "refresh_token": new_refresh.value,
    }


def authenticate(access_token: str) -> tuple[UserModel, AccessClaims]:
    """The user an access token belongs to: 401 for a bad or revoked token, 404 if the user is gone."""
    claims = verify_access_token(access_token)
    return _current_user(claims), claims


def authenticate_subject(access_token: str) -> str:
    """`ums:<user id>` or `apk:<key>` of a valid, unrevoked access token (401 otherwise)."""
    claims = verify_access_token(access_token)
    if claims.api_key is not None:
        if api_keys.find(claims.api_key) is None:
            raise Unauthorized("Access token has been revoked")
        return claims.subject
    try:
        _current_user(claims)
    except NotFound:
        raise Unauthorized("Access token has been revoked") from None
    return claims.subject


def _current_user(claims: AccessClaims) -> UserModel:
    if claims.user_id is None:
        raise Unauthorized("This route needs a user's access token, not an API key's")
    user = user_store.get(claims.user_id)
    if user is None:
        raise NotFound("User not found")
    if not user.active or not _session_is_current(user, claims.session_id, claims.generation):
        raise Unauthorized("Access token has been revoked")
    return user


def _session_is_current(user: UserModel, session_id: str, generation: int) -> bool:
    return generation == int(user.token_generation) or session_id == user.kept_session
