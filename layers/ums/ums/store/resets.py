"""Reset tokens and the per-email limit on reset requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import TransactWriteError

from ums.errors import NotFound
from ums.store import events
from ums.store.models import RateLimitModel, ResetTokenModel, Transaction, UserModel, get_or_none
from ums.store.users import User, password_replaced

INVALID_TOKEN = "Invalid or expired reset token"

ResetToken = ResetTokenModel  # the records logic reads (attributes only)
LimitState = RateLimitModel


class LimitReached(Exception):
    """The per-email reset limit refused the request."""


@dataclass(frozen=True)
class RequestLimit:
    """The per-email counter of reset requests: at most `max_per_window` in the window (which
    ends at `window_end`, epoch seconds), at least `min_interval` seconds apart."""

    key: str
    max_per_window: int
    min_interval: int
    window_end: int


def count_request(limit: RequestLimit, now: int) -> None:
    """Counts a reset request that issues nothing (nobody has the email); `LimitReached` if the
    limit refuses it. The same one call as `issue`."""
    _request(limit, now, None)


def issue(limit: RequestLimit, now: int, user: User, token_hash: str, expires_at: int, event: dict[str, Any]) -> None:
    """Counts the request against `limit` and, in the same transaction, stores the token (only its
    hash), marks it `user`'s only valid one and writes `event`. `LimitReached` if the limit refuses
    it (nothing is written); 404 if the user is gone."""
    token = ResetTokenModel(ResetTokenModel.key_for(token_hash), user_id=user.id, expires_at=expires_at)
    _request(limit, now, (token, user, token_hash, event))


def _request(limit: RequestLimit, now: int, issued: tuple[ResetTokenModel, User, str, dict[str, Any]] | None) -> None:
    tx = Transaction()
    try:
        with tx:
            tx.update(
                RateLimitModel(limit.key),
                actions=[
                    RateLimitModel.requests.add(1),
                    RateLimitModel.last_at.set(now),
                    RateLimitModel.expires_at.set(limit.window_end),
                ],
                condition=RateLimitModel.pk.does_not_exist()
                | (
                    (RateLimitModel.requests < limit.max_per_window)
                    & (RateLimitModel.last_at <= now - limit.min_interval)
                ),
            )
            if issued:
                token, user, token_hash, event = issued
                tx.save(token)
                # Earlier tokens stop working: only this hash is the user's valid one.
                tx.update(user, actions=[UserModel.reset_token_hash.set(token_hash)], condition=UserModel.pk.exists())
                tx.save(events.item(event))
    except TransactWriteError as err:
        failed = tx.failed_keys(err)
        if limit.key in failed:
            raise LimitReached() from None
        if failed:
            raise NotFound("User not found") from None
        raise


def limit_state(limit_key: str) -> LimitState | None:
    return get_or_none(RateLimitModel, limit_key)


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
        if any(
            r is not None and r.code in ("ConditionalCheckFailed", "TransactionConflict")
            for r in err.cancellation_reasons
        ):
            raise NotFound(INVALID_TOKEN) from None
        raise
