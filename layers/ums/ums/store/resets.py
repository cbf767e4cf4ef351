"""Reset tokens (the per-email limit on requests is `store.request_limits`)."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import TransactWriteError

from ums.errors import NotFound
from ums.store import events, request_limits
from ums.store.models import ResetTokenModel, Transaction, UserModel, get_or_none, lost_race
from ums.store.request_limits import RequestLimit
from ums.store.users import User, password_replaced

INVALID_TOKEN = "Invalid or expired reset token"

ResetToken = ResetTokenModel  # the record logic reads (attributes only)


def token_item(token_hash: str, user: User, expires_at: int) -> ResetTokenModel:
    """A reset token's item (only its hash); the user's `reset_token_hash` must name it too."""
    return ResetTokenModel(ResetTokenModel.key_for(token_hash), user_id=user.id, expires_at=expires_at)


def issue(limit: RequestLimit, now: int, user: User, token_hash: str, expires_at: int, event: dict[str, Any]) -> None:
    """Counts the request against `limit` and, in the same transaction, stores the token (only its
    hash), marks it `user`'s only valid one (earlier tokens stop working) and writes `event`.
    `LimitReached` if the limit refuses it (nothing is written); 404 if the user is gone."""
    token = token_item(token_hash, user, expires_at)
    request_limits.issue(limit, now, token, user, [UserModel.reset_token_hash.set(token_hash)], event)


def get_token(token_hash: str) -> ResetToken | None:
    return get_or_none(ResetTokenModel, ResetTokenModel.key_for(token_hash), consistent=True)


def consume(
    token: ResetToken, user: User, token_hash: str, password_hash: str, updated_at: str, event: dict[str, Any]
) -> None:
    """Uses the token once: deletes it and sets the new password (every session revoked) only
    while it is still the user's current one, writing `event`. Of concurrent attempts exactly
    one succeeds; the others get 404."""
    try:
        with Transaction() as tx:
            tx.delete(token, condition=ResetTokenModel.pk.exists())
            tx.update(
                user,
                actions=password_replaced(password_hash, updated_at),
                condition=UserModel.reset_token_hash == token_hash,
            )
            tx.save(events.item(event))
    except TransactWriteError as err:
        if lost_race(err):
            raise NotFound(INVALID_TOKEN) from None
        raise
