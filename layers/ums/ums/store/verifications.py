"""Email verification tokens: issued at sign-up or on request, used once to mark the email verified."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import TransactWriteError

from ums.errors import NotFound
from ums.store import events
from ums.store.models import Transaction, UserModel, VerifyTokenModel, get_or_none
from ums.store.request_limits import RequestLimit, counted, raise_if_reached
from ums.store.users import User

INVALID_TOKEN = "Invalid or expired verification token"

VerifyToken = VerifyTokenModel  # the record logic reads (attributes only)


def token_item(token_hash: str, user: User, expires_at: int) -> VerifyTokenModel:
    """The token's item for `user`'s current email (for `store.users.create` at sign-up)."""
    return VerifyTokenModel(
        VerifyTokenModel.key_for(token_hash), user_id=user.id, email_key=user.email_key, expires_at=expires_at
    )


def issue(limit: RequestLimit, now: int, user: User, token_hash: str, expires_at: int, event: dict[str, Any]) -> None:
    """Counts the request against `limit` and, in the same transaction, stores the token and writes
    `event` while the user exists. `LimitReached` if the limit refuses it; 404 if the user is gone."""
    tx = Transaction()
    try:
        with tx:
            counted(tx, limit, now)
            tx.save(token_item(token_hash, user, expires_at))
            tx.condition_check(UserModel, user.pk, condition=UserModel.pk.exists())
            tx.save(events.item(event))
    except TransactWriteError as err:
        raise_if_reached(tx, err, limit)
        if tx.failed_keys(err):
            raise NotFound("User not found") from None
        raise


def get_token(token_hash: str) -> VerifyToken | None:
    return get_or_none(VerifyTokenModel, VerifyTokenModel.key_for(token_hash), consistent=True)


def consume(token: VerifyToken, user: User, updated_at: str, event: dict[str, Any]) -> None:
    """Uses the token once: deletes it and marks the email verified, only while the user's email is
    still the one the token was mailed to, writing `event`. Of concurrent attempts exactly one
    succeeds; the others get 404."""
    try:
        with Transaction() as tx:
            tx.delete(token, condition=VerifyTokenModel.pk.exists())
            tx.update(
                user,
                actions=[UserModel.email_verified.set(True), UserModel.updated_at.set(updated_at)],
                condition=UserModel.email_key == token.email_key,
            )
            tx.save(events.item(event))
    except TransactWriteError as err:
        if any(
            r is not None and r.code in ("ConditionalCheckFailed", "TransactionConflict")
            for r in err.cancellation_reasons
        ):
            raise NotFound(INVALID_TOKEN) from None
        raise
