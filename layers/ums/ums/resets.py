"""Password reset: request a token (mailed by the automation pipeline), then apply it.

Tokens (`ums.mailed_tokens`) are valid for RESET_TOKEN_TTL seconds (checked on read: TTL deletion
lags), single use, and only the newest one of a user is valid.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from ums import legacy_verifier, passwords
from ums.bodies import ResetApply, ResetLookup, ResetRequest
from ums.clock import now_rfc3339
from ums.config import settings
from ums.crypto import secrets_equal, sha256_hex
from ums.errors import BadRequest, NotFound, TooManyRequests
from ums.events import PASSWORD_CHANGE, PASSWORD_RESET_REQUEST, new_event
from ums.mailed_tokens import new_token, per_email_limit, retry_after, wait_before_asking
from ums.observability import logger, metrics
from ums.store import config as config_store
from ums.store import resets as reset_store
from ums.store import users as user_store
from ums.store.records import TEMPLATES
from ums.store.request_limits import LimitReached, RequestLimit, count_request
from ums.store.users import User
from ums.users import email_key, public_record

APPLICATION_NEEDS_KEY = "Field 'application' needs an API key; anonymous requests use the project's default reset link"


def request_public_reset(body: ResetRequest, check_api_key: Callable[[], object] | None) -> None:
    """`POST /ums/resetpassword {email[, application, locale]}`.

    The application chooses the reset link's domain, so only a caller with an API key
    (`X-API-KEY: <key>:<secret>`) may name one: anyone else gets the project's default link.
    `check_api_key` is None when the request presents no key, else it checks the key (401)."""
    if body.application is not None:
        if check_api_key is None:
            raise BadRequest(APPLICATION_NEEDS_KEY)
        check_api_key()  # 401 for a wrong key
    user = user_store.find_by_email(email_key(body.email))
    if user is None and legacy_verifier.configured():
        now = int(time.time())
        limit = per_email_limit("reset", body.email, now)
        wait = wait_before_asking(limit, now)
        if wait:  # a flood for one email stops here, not at the legacy system
            _limited(limit, now, wait)
            return
        user = legacy_verifier.migrate(body.email, None)  # moved over without a password: the mail sets one
    request_reset(user, body.email, application=body.application, locale=body.locale)


def request_reset(
    user: User | None,
    email: str,
    *,
    application: str | None = None,
    email_template: str | None = None,
    locale: str | None = None,
    country: str | None = None,
    merge_vars: dict[str, Any] | None = None,
    email_tags: list[str] | None = None,
) -> None:
    """Issues a reset token for `user` and writes the AfterPasswordResetRequest event.

    `user` None means nobody has `email`: 404, or, with PreventUserExistenceErrors, the same
    calls and answer as for a real user with nothing issued. A suspended user (`active` false)
    is treated exactly like nobody. The per-email limit answers 429 (silently nothing, when
    existence errors are prevented).
    """
    if user is not None and not user.active:
        user = None  # suspended: the unknown email's path, no token, no mail
    prevent = settings().prevent_user_existence_errors
    if user is None and not prevent:
        raise NotFound("No user is registered with this email")
    now = int(time.time())
    limit = per_email_limit("reset", email, now)
    token = new_token(settings().reset_token_ttl)  # for unknown users too: the same calls, the same time
    try:
        if user is None:
            count_request(limit, now)
        else:
            event = new_event(
                PASSWORD_RESET_REQUEST,
                user,
                application={"name": application} if application else None,
                email_template=email_template,
                locale=locale,
                country=country,
                merge_vars=merge_vars,
                email_tags=email_tags,
                **token.event_fields(),
            )
            reset_store.issue(limit, now, user, token.token_hash, token.expires_at, event)
    except LimitReached:
        _limited(limit, now)
    if user is not None:
        metrics.add_metric(name="ResetRequests", unit=MetricUnit.Count, value=1)
        logger.append_keys(user_id=user.id)  # on the request's INFO line
        logger.debug("Password reset requested")


def _limited(limit: RequestLimit, now: int, wait: int | None = None) -> None:
    """The per-email limit refused the request: silently nothing when existence errors are
    prevented, 429 otherwise (Retry-After `wait`, when already known, else read)."""
    metrics.add_metric(name="ResetRequestsLimited", unit=MetricUnit.Count, value=1)
    if not settings().prevent_user_existence_errors:
        raise TooManyRequests(
            "Too many password reset requests for this email; try again later", wait or retry_after(limit, now)
        )


def apply_reset(body: ResetApply) -> dict[str, Any]:
    """Sets a new password with a reset token; revokes every session. 404 for a token that is
    unknown, used, superseded, expired, or (with `customer_id`) someone else's: one message."""
    stored, user = live_token(body.token, body.customer_id)
    new_password, token_hash = body.new_password, sha256_hex(body.token)
    passwords.check_policy(new_password, user.email)
    user.updated_at = now_rfc3339()
    password_hash = passwords.hash_password(new_password)
    reset_store.consume(stored, user, token_hash, password_hash, user.updated_at, new_event(PASSWORD_CHANGE, user))
    metrics.add_metric(name="PasswordResets", unit=MetricUnit.Count, value=1)
    logger.append_keys(user_id=user.id)  # on the request's INFO line
    logger.debug("Password reset applied")
    return public_record(user)


def live_token(token: str, customer_id: str | None = None) -> tuple[reset_store.ResetToken, User]:
    """The stored token and its user, reading only (the hosted page's GET uses it: mail scanners
    open links). 404 for a token that is unknown, used, superseded, expired, or (with
    `customer_id`) someone else's: one message."""
    token_hash = sha256_hex(token)
    stored = reset_store.get_token(token_hash) if 16 <= len(token) <= 128 else None
    if stored is None or stored.expires_at <= time.time() or (customer_id and stored.user_id != customer_id):
        raise NotFound(reset_store.INVALID_TOKEN)
    user = user_store.get(stored.user_id)
    if user is None or user.reset_token_hash is None or not secrets_equal(user.reset_token_hash, token_hash):
        raise NotFound(reset_store.INVALID_TOKEN)
    return stored, user


def request_reset_for_lookup(body: ResetLookup) -> None:
    """Quicksilver's and the customer guide's request: the user by `user_id`, `email` or
    `mobile`; optional `application_id` and `email_template` (404 if no such template)."""
    if body.email_template and config_store.get(TEMPLATES, body.email_template) is None:
        raise NotFound(f"No template named '{body.email_template}'")
    if body.user_id:
        user = user_store.get(body.user_id)
    elif body.email:
        user = user_store.find_by_email(email_key(body.email))
    else:
        user = user_store.find_by_mobile(body.mobile) if body.mobile else None
    lookup_key = body.email or (user.email if user else f"{body.user_id or body.mobile}")
    request_reset(user, lookup_key, application=body.application_id, email_template=body.email_template)
