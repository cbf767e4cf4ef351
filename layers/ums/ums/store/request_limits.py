"""Per-email limits on requests that mail a token (password resets, email verifications): a
counter item in the tokens table, checked and counted in the same transaction as the token."""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import TransactWriteError

from ums.store.models import RateLimitModel, Transaction, get_or_none

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
    return get_or_none(RateLimitModel, limit_key)
