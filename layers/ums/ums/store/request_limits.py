"""Per-email limits on requests that mail a token (password resets, email verifications): a
counter item in the tokens table, checked and counted in the same transaction as the token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from ums.errors import NotFound
from ums.store import events
from ums.store.models import RateLimitModel, Transaction, UserModel, get_or_none

LimitState = RateLimitModel  # the record logic reads (attributes only)


class LimitReached(Exception):
    """The limit refused the request."""


@dataclass(frozen=True)
class RequestLimit:
    """At most `max_per_window` requests in the window (which ends at `window_end`, epoch
    seconds), at least `min_interval` seconds apart."""

    key: str
    max_per_window: int
    min_interval: int
    window_end: int


def counted(tx: Transaction, limit: RequestLimit, now: int) -> None:
    """Adds the counting of one request to `tx`; the transaction fails on `limit.key` when the
    limit refuses it (`raise_if_reached` turns that into LimitReached)."""
    tx.update(
        RateLimitModel(limit.key),
        actions=[
            RateLimitModel.requests.add(1),
            RateLimitModel.last_at.set(now),
            RateLimitModel.expires_at.set(limit.window_end),
        ],
        condition=RateLimitModel.pk.does_not_exist()
        | ((RateLimitModel.requests < limit.max_per_window) & (RateLimitModel.last_at <= now - limit.min_interval)),
    )


def raise_if_reached(tx: Transaction, err: TransactWriteError, limit: RequestLimit) -> None:
    if limit.key in tx.failed_keys(err):
        raise LimitReached() from None


def issue(
    limit: RequestLimit, now: int, token: Model, user: UserModel, user_actions: list[Action], event: dict[str, Any]
) -> None:
    """Counts the request against `limit` and, in the same transaction, stores `token`, applies
    `user_actions` to the user (or only checks that it exists) and writes `event`. `LimitReached`
    if the limit refuses it (nothing is written); 404 if the user is gone."""
    tx = Transaction()
    try:
        with tx:
            counted(tx, limit, now)
            tx.save(token)
            if user_actions:
                tx.update(user, actions=user_actions, condition=UserModel.pk.exists())
            else:
                tx.condition_check(UserModel, user.pk, condition=UserModel.pk.exists())
            tx.save(events.item(event))
    except TransactWriteError as err:
        raise_if_reached(tx, err, limit)
        if tx.failed_keys(err):
            raise NotFound("User not found") from None
        raise


def count_request(limit: RequestLimit, now: int) -> None:
    """Counts a request that issues nothing (nobody has the email): the same one call as issuing."""
    tx = Transaction()
    try:
        with tx:
            counted(tx, limit, now)
    except TransactWriteError as err:
        raise_if_reached(tx, err, limit)
        raise


def limit_state(limit_key: str) -> LimitState | None:
    return get_or_none(RateLimitModel, limit_key, consistent=True)
