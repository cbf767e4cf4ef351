"""Email verification tokens: issued at sign-up or on request, used once to mark the email verified."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import TransactWriteError

from ums.errors import EmailTaken, NotFound
from ums.store import events, request_limits
from ums.store.models import Transaction, UniqueValueModel, UserModel, VerifyTokenModel, get_or_none, lost_race
from ums.store.request_limits import RequestLimit
from ums.store.users import User

INVALID_TOKEN = "Invalid or expired verification token"

VerifyToken = VerifyTokenModel  # the record logic reads (attributes only)


def token_item(token_hash: str, user: User, expires_at: int, new_email: str | None = None) -> VerifyTokenModel:
    """The token's item, bound to `user`'s current email (also for `store.users.create` at
    sign-up); with `new_email`, it confirms a change to that address."""
    return VerifyTokenModel(
        VerifyTokenModel.key_for(token_hash),
        user_id=user.id,
        email_key=user.email_key,
        new_email=new_email,
        expires_at=expires_at,
    )


def issue(limit: RequestLimit, now: int, token: VerifyToken, user: User, event: dict[str, Any]) -> None:
    """Counts the request against `limit` and, in the same transaction, stores `token` and writes
    `event` while the user exists. `LimitReached` if the limit refuses it; 404 if the user is gone."""
    request_limits.issue(limit, now, token, user, [], event)


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
        if lost_race(err):
            raise NotFound(INVALID_TOKEN) from None
        raise


def change_email(token: VerifyToken, user: User, new_email_key: str, updated_at: str, event: dict[str, Any]) -> None:
    """Uses an email-change token once: moves the user's email marker to the new address and sets
    the email (verified: the token reached it), only while the user still has the address the
    change was asked from, writing `event`. `EmailTaken` when someone took the new address first;
    404 for a used token or a user whose email changed meanwhile."""
    new_marker = UniqueValueModel(UniqueValueModel.email_key(new_email_key), user_id=user.id)
    tx = Transaction()
    try:
        with tx:
            tx.delete(token, condition=VerifyTokenModel.pk.exists())
            tx.delete(
                UniqueValueModel(UniqueValueModel.email_key(str(token.email_key))),
                condition=UniqueValueModel.user_id == user.id,
            )
            tx.save(new_marker, condition=UniqueValueModel.pk.does_not_exist())
            tx.update(
                user,
                actions=[
                    UserModel.email.set(str(token.new_email)),
                    UserModel.email_key.set(new_email_key),
                    UserModel.email_verified.set(True),
                    UserModel.updated_at.set(updated_at),
                ],
                condition=UserModel.email_key == token.email_key,
            )
            tx.save(events.item(event))
    except TransactWriteError as err:
        if new_marker.pk in tx.failed_keys(err):
            raise EmailTaken() from None
        if lost_race(err):
            raise NotFound(INVALID_TOKEN) from None
        raise
