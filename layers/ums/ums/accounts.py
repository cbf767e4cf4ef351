"""A user's own account: sign up, read, update its fields, change password, delete."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from ums import passwords, verification
from ums.bodies import ChangePassword, DeleteSelf, EmailChange, OwnChanges, SignUp
from ums.clock import now_rfc3339
from ums.errors import Forbidden
from ums.events import PASSWORD_CHANGE, SIGN_UP, USER_DELETE, new_event
from ums.observability import logger, metrics
from ums.sessions import authenticate, signed_in_recently
from ums.store import users as user_store
from ums.store.users import User
from ums.tokens import AccessClaims
from ums.users import new_user, public_record

RECENT_SIGN_IN_REQUIRED = "Recent sign-in required: sign in again, or send the password"


def sign_up(body: SignUp) -> dict[str, Any]:
    """Registers a user; extra fields are kept schemaless. 400 for a weak password, 409 if the email is taken."""
    passwords.check_policy(body.password, body.email)
    user = new_user(body.email, passwords.hash_password(body.password), body.profile, body.mobile)
    token_fields, tokens = verification.for_sign_up(user)
    user_store.create(user, new_event(SIGN_UP, user, **token_fields), tokens=tokens)
    metrics.add_metric(name="SignUps", unit=MetricUnit.Count, value=1)
    logger.append_keys(user_id=user.id)  # on the request's INFO line
    logger.debug("User signed up")
    return public_record(user)


def current_user(access_token: str) -> dict[str, Any]:
    user, _ = authenticate(access_token)
    return public_record(user)


def update_own(access_token: str, body: OwnChanges) -> dict[str, Any]:
    """`PATCH /ums/user`: sets and removes the caller's own schemaless fields."""
    user, _ = authenticate(access_token)
    user.updated_at = now_rfc3339()
    user_store.update_profile(user, body.set_fields, body.removed, user.updated_at)
    logger.debug("Own fields updated")
    return public_record(user)


def request_email_change(access_token: str, body: EmailChange) -> None:
    """`POST /ums/user/email`: after the password (or a recent sign-in), a confirmation link to
    the new address (`ums.verification`)."""
    user, claims = authenticate(access_token)
    _require_password_or_recent_sign_in(user, claims, body.password)
    verification.request_email_change(user, body.new_email)


def change_password(access_token: str, body: ChangePassword) -> dict[str, Any]:
    """Changes the password; keeps the session that asked and revokes every other one."""
    user, claims = authenticate(access_token)
    _require_password(user, body.old_password)
    passwords.check_policy(body.new_password, user.email)
    user.updated_at = now_rfc3339()
    user_store.replace_password(
        user,
        passwords.hash_password(body.new_password),
        user.updated_at,
        new_event(PASSWORD_CHANGE, user),
        keep_session=claims.session_id,
    )
    metrics.add_metric(name="PasswordChanges", unit=MetricUnit.Count, value=1)
    logger.debug("Password changed")
    return public_record(user)


def delete_self(access_token: str, body: DeleteSelf) -> dict[str, Any]:
    """Deletes the signed-in user after checking the password (or, without one, that the token
    comes from a recent sign-in); all sessions die with it."""
    user, claims = authenticate(access_token)
    _require_password_or_recent_sign_in(user, claims, body.password)
    user_store.delete(user, new_event(USER_DELETE, user))
    metrics.add_metric(name="UserDeletions", unit=MetricUnit.Count, value=1)
    logger.debug("User deleted")
    return public_record(user)


def _require_password_or_recent_sign_in(user: User, claims: AccessClaims, password: str | None) -> None:
    """What a sensitive change needs: the password, or (without one) a sign-in within RecentSignInSeconds."""
    if password is not None:
        _require_password(user, password)
    elif not signed_in_recently(claims):
        raise Forbidden(RECENT_SIGN_IN_REQUIRED)


def _require_password(user: User, password: str) -> None:
    if not passwords.verify_password(user.password_hash, password):
        raise Forbidden("Wrong password")
