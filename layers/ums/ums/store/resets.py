"""Reset tokens and the per-email limit on reset requests."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from ums.errors import NotFound
from ums.store.models import (
    EventModel,
    RateLimitModel,
    ResetTokenModel,
    UserModel,
    conditional_failures,
    transaction_connection,
)

INVALID_TOKEN = "Invalid or expired reset token"


class LimitReached(Exception):
    """The per-email reset limit refused the request."""


def record_request(
    limit_key: str,
    now: int,
    max_per_window: int,
    min_interval: int,
    window_end: int,
    issue: tuple[ResetTokenModel, UserModel, list[Action], EventModel] | None,
) -> None:
    """Counts a reset request against `limit_key` and, when `issue` is given, stores the token,
    marks it the user's only valid one and writes the event: all in one transaction."""
    limit = RateLimitModel(limit_key)
    tx = TransactWrite(connection=transaction_connection())
    try:
        with tx:
            tx.update(
                limit,
                actions=[
                    RateLimitModel.requests.add(1),
                    RateLimitModel.last_at.set(now),
                    RateLimitModel.expires_at.set(window_end),
                ],
                condition=RateLimitModel.pk.does_not_exist()
                | ((RateLimitModel.requests < max_per_window) & (RateLimitModel.last_at <= now - min_interval)),
            )
            if issue:
                token, user, actions, event = issue
                tx.save(token)
                tx.update(user, actions=actions, condition=UserModel.pk.exists())
                tx.save(event)
    except TransactWriteError as err:
        failed = conditional_failures(tx, err)
        if limit_key in failed:
            raise LimitReached() from None
        if failed:
            raise NotFound("User not found") from None
        raise


def limit_state(limit_key: str) -> RateLimitModel | None:
    try:
        return RateLimitModel.get(limit_key)
    except DoesNotExist:
        return None


def get_token(token_hash: str) -> ResetTokenModel | None:
    try:
        return ResetTokenModel.get(ResetTokenModel.key_for(token_hash), consistent_read=True)
    except DoesNotExist:
        return None


def consume(token: ResetTokenModel, user: UserModel, token_hash: str, actions: list[Action], event: EventModel) -> None:
    """Uses the token once: deletes it and applies `actions` only while it is still the user's
    current one. Of concurrent attempts exactly one succeeds; the others get 404."""
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.delete(token, condition=ResetTokenModel.pk.exists())
            tx.update(user, actions=actions, condition=UserModel.reset_token_hash == token_hash)
            tx.save(event)
    except TransactWriteError as err:
        if any(
            r is not None and r.code in ("ConditionalCheckFailed", "TransactionConflict")
            for r in err.cancellation_reasons
        ):
            raise NotFound(INVALID_TOKEN) from None
        raise
