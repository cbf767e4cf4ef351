"""Email verification (`EmailVerification`: off, optional or required).

Unless it is off, a sign-up whose email no OAuth provider vouched for mails a verification link
(the AfterSignUp event carries `verify_token` and `verify_link`); `POST /ums/verify {email}`
mails a new one (AfterEmailVerificationRequest), limited per email like reset requests and with
the same answers for unknown emails when PreventUserExistenceErrors is on; `POST
/ums/verify/{token}` uses a token once and marks the email verified (AfterEmailVerification).
A token proves the address it was mailed to only: it verifies nothing once the email changed.
With `required`, signing in answers 403 until the email is verified.

Changing one's email (`POST /ums/user/email`) mails the new address such a token too; using it
moves the email there (verified) and mails the old address a notice.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from ums.bodies import VerifyRequest
from ums.clock import now_rfc3339
from ums.config import settings
from ums.crypto import sha256_hex
from ums.errors import BadRequest, Conflict, EmailTaken, NotFound, TooManyRequests
from ums.events import EMAIL_CHANGE, EMAIL_CHANGE_REQUEST, EMAIL_VERIFICATION_REQUEST, EMAIL_VERIFIED, new_event
from ums.mailed_tokens import new_token, per_email_limit, retry_after
from ums.observability import logger, metrics
from ums.store import users as user_store
from ums.store import verifications as verify_store
from ums.store.request_limits import LimitReached, count_request
from ums.store.users import User
from ums.users import email_key, public_record

NOT_VERIFIED = "Email is not verified"


def enabled() -> bool:
    return settings().email_verification != "off"


def blocks_sign_in(user: User) -> bool:
    """Whether `EmailVerification` is `required` and the user's email is not verified yet (a 403)."""
    return settings().email_verification == "required" and not user.email_verified


def for_sign_up(user: User) -> tuple[dict[str, str], list[verify_store.VerifyToken]]:
    """The AfterSignUp event's token fields and the token items to store with the new user; none
    when verification is off or the email is verified already (an OAuth provider vouched for it)."""
    if not enabled() or user.email_verified:
        return {}, []
    token = new_token(settings().verify_token_ttl)
    return token.event_fields(), [verify_store.token_item(token.token_hash, user, token.expires_at)]


def request_verification(body: VerifyRequest) -> None:
    """`POST /ums/verify`: a new link for an unverified email. 404 for an unknown (or suspended)
    user and 409 for a verified email, unless existence errors are prevented: then nothing is
    sent, with the same answer (202) and calls; 429 past the per-email limit."""
    if not enabled():
        raise NotFound("Email verification is off (EmailVerification=off)")
    user = user_store.find_by_email(email_key(body.email))
    if user is not None and not user.active:
        user = None
    prevent = settings().prevent_user_existence_errors
    if user is None and not prevent:
        raise NotFound("No user is registered with this email")
    if user is not None and user.email_verified:
        if not prevent:
            raise Conflict("Email is already verified")
        user = None  # verified: nothing to send, answered like anyone else
    now = int(time.time())
    limit = per_email_limit("verify", body.email, now)
    token = new_token(settings().verify_token_ttl)  # for every request: the same calls and time
    try:
        if user is None:
            count_request(limit, now)
        else:
            event = new_event(EMAIL_VERIFICATION_REQUEST, user, **token.event_fields())
            verify_store.issue(
                limit, now, verify_store.token_item(token.token_hash, user, token.expires_at), user, event
            )
    except LimitReached:
        metrics.add_metric(name="VerificationRequestsLimited", unit=MetricUnit.Count, value=1)
        if prevent:
            return
        raise TooManyRequests(
            "Too many verification requests for this email; try again later", retry_after(limit, now)
        ) from None
    if user is not None:
        metrics.add_metric(name="VerificationRequests", unit=MetricUnit.Count, value=1)
        logger.append_keys(user_id=user.id)  # on the request's INFO line


def verify(token: str) -> dict[str, Any]:
    """`POST /ums/verify/{token}`: marks the email verified. 404 for a token that is unknown, used,
    expired, or mailed to an address the user no longer has: one message."""
    stored, user = live_token(token)
    if stored.new_email:
        return _change_email(stored, user, str(stored.new_email))
    if user.email_verified:  # an older link, opened after a newer one: nothing left to do
        return public_record(user)
    user.updated_at = now_rfc3339()
    user.email_verified = True
    verify_store.consume(stored, user, user.updated_at, new_event(EMAIL_VERIFIED, user))
    metrics.add_metric(name="EmailsVerified", unit=MetricUnit.Count, value=1)
    logger.append_keys(user_id=user.id)  # on the request's INFO line
    return public_record(user)


def live_token(token: str) -> tuple[verify_store.VerifyToken, User]:
    """The stored token and its user, reading only (the hosted page's GET uses it). 404 for a token
    that is unknown, used, expired, or mailed to an address the user no longer has: one message."""
    stored = verify_store.get_token(sha256_hex(token)) if 16 <= len(token) <= 128 else None
    if stored is None or stored.expires_at <= time.time():
        raise NotFound(verify_store.INVALID_TOKEN)
    user = user_store.get(stored.user_id)
    if user is None or user.email_key != stored.email_key:
        raise NotFound(verify_store.INVALID_TOKEN)
    return stored, user


def request_email_change(user: User, new_email: str) -> None:
    """`POST /ums/user/email` (the caller checked): mails the new address a link that confirms the
    change (AfterEmailChangeRequest); the email stays as it is until then. 409 if the address is
    taken; 429 past the per-account limit."""
    new_key = email_key(new_email)
    if new_key == user.email_key:
        raise BadRequest("Field 'new_email' is the current email")
    if user_store.owner_of_email(new_key) is not None:
        raise EmailTaken()
    now = int(time.time())
    limit = per_email_limit("email-change", user.email, now)  # per account: one can't mail-bomb an address
    token = new_token(settings().verify_token_ttl)
    change = {"old_email": user.email, "new_email": new_email}
    event = new_event(EMAIL_CHANGE_REQUEST, user, mail_to=new_email, email_change=change, **token.event_fields())
    try:
        verify_store.issue(
            limit, now, verify_store.token_item(token.token_hash, user, token.expires_at, new_email), user, event
        )
    except LimitReached:
        raise TooManyRequests("Too many email change requests; try again later", retry_after(limit, now)) from None
    metrics.add_metric(name="EmailChangeRequests", unit=MetricUnit.Count, value=1)


def _change_email(token: verify_store.VerifyToken, user: User, new_email: str) -> dict[str, Any]:
    """The confirmed change: the new address, verified; a notice to the old one (AfterEmailChange).
    Sessions go on. 409 if someone took the address since the request."""
    old_email = user.email
    user.email, user.email_key, user.email_verified = new_email, email_key(new_email), True
    user.updated_at = now_rfc3339()
    change = {"old_email": old_email, "new_email": new_email}
    event = new_event(EMAIL_CHANGE, user, mail_to=old_email, email_change=change)
    verify_store.change_email(token, user, user.email_key, user.updated_at, event)
    metrics.add_metric(name="EmailChanges", unit=MetricUnit.Count, value=1)
    logger.append_keys(user_id=user.id)  # on the request's INFO line
    return public_record(user)
