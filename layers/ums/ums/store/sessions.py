"""Refresh-token families (sessions) and the sign-in failure counters, in the tokens table."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from ums.errors import NotFound
from ums.store import plain
from ums.store.models import (
    RateLimitModel,
    SessionModel,
    Transaction,
    UserModel,
    condition_failed,
    conflicted,
    get_many,
    get_or_none,
)

Session = SessionModel  # the record logic reads (attributes only)

# Concurrent transactions on one item may be cancelled with TransactionConflict; try again.
TRANSACTION_ATTEMPTS = 3
# Rotated refresh tokens a session remembers (`SessionModel.rotated_hashes`): 8 keep the item
# under 1 KB, and a reuse is still caught 8 rotations later (16 hours of use with 2-hour access
# tokens). An older token is refused like an unknown one, without revoking.
ROTATIONS_REMEMBERED = 8


def new(session_id: str, owner: str, token_hash: str, generation: int, created_at: str, expires_at: int) -> Session:
    """A session record not yet stored (`save` or `start_session` stores it)."""
    return SessionModel(
        SessionModel.key_for(session_id),
        user_id=owner,
        token_hash=token_hash,
        generation=generation,
        created_at=created_at,
        expires_at=expires_at,
    )


def save(session: Session) -> None:
    session.save()


def get(session_id: str) -> Session | None:
    return get_or_none(SessionModel, SessionModel.key_for(session_id), consistent=True)


def get_with_user(session_id: str, user_id: str) -> tuple[SessionModel | None, UserModel | None]:
    """The session and its user, each strongly consistent, in one `BatchGetItem`.

    Not a snapshot, and it need not be: a revocation only ever adds (the session's `revoked`, the
    user's generation or `revoked_sessions`), so one committed before this read shows in the item
    it wrote, and one committed after it is caught as after a transactional read: by the
    rotation's condition, or by the generation every access-token check reads."""
    session, user = get_many((SessionModel, SessionModel.key_for(session_id)), (UserModel, UserModel.key_for(user_id)))
    return cast(SessionModel | None, session), cast(UserModel | None, user)


def rotated_hashes(session: Session) -> list[str]:
    """The hashes of the session's remembered rotated tokens, oldest first (those of a session
    last rotated before 2026-11-25 are in the unordered `used_hashes`, taken as the oldest)."""
    return [*sorted(session.used_hashes or ()), *(session.rotated_hashes or ())]


def rotate(
    session: SessionModel, old_hash: str, new_hash: str, salt: str, generation: int, expires_at: int, now: int
) -> bool:
    """Replaces the current refresh token (remembering the rotation for the grace window, and
    its hash among the last `ROTATIONS_REMEMBERED`); False if it was rotated or revoked meanwhile
    (a concurrent refresh won). The condition on the old hash also makes the list written here
    the one read with `session`."""
    remembered = [*rotated_hashes(session), old_hash][-ROTATIONS_REMEMBERED:]
    try:
        session.update(
            actions=[
                SessionModel.token_hash.set(new_hash),
                SessionModel.rotated_hashes.set(remembered),
                SessionModel.used_hashes.remove(),
                SessionModel.previous_hash.set(old_hash),
                SessionModel.rotation_salt.set(salt),
                SessionModel.rotated_at.set(now),
                SessionModel.generation.set(generation),
                SessionModel.expires_at.set(expires_at),
            ],
            condition=(SessionModel.token_hash == old_hash) & (SessionModel.revoked == False),  # noqa: E712
        )
    except UpdateError as err:
        if condition_failed(err):
            return False
        raise
    return True


def revoke(session_id: str, user: UserModel | None, now: int, forget_before: int, max_entries: int) -> None:
    """Revokes the session (no read: the update names it by key) and, in the same transaction,
    adds it to its user's `revoked_sessions` so its access tokens stop at once. Entries revoked
    before `forget_before` (their access tokens have expired) are pruned; past `max_entries` live
    ones, every session of the user is revoked (token generation + 1) instead, which keeps the
    user item small."""
    session = SessionModel(SessionModel.key_for(session_id))
    for _ in range(TRANSACTION_ATTEMPTS):
        tx = Transaction()
        try:
            with tx:
                tx.update(session, actions=[SessionModel.revoked.set(True)], condition=SessionModel.pk.exists())
                if user is not None:
                    actions, condition = _revoked_session_update(user, session.pk, now, forget_before, max_entries)
                    tx.update(user, actions=actions, condition=condition)
            return
        except TransactWriteError as err:
            failed = tx.failed_keys(err)
            if session.pk in failed:
                return  # the session is gone: nothing left to revoke
            if user is None or (user.pk not in failed and not conflicted(err)):
                raise
            # The user's map changed (or the user went) meanwhile: read it again.
            user = _get_user(user.id)
    raise RuntimeError("Could not revoke the session: too many concurrent changes")


def _revoked_session_update(
    user: UserModel, session_pk: str, now: int, forget_before: int, max_entries: int
) -> tuple[list[Action], Condition]:
    session_id = session_pk.removeprefix("session#")
    current = plain(user.revoked_sessions) if user.revoked_sessions is not None else None
    if current is None:
        return [UserModel.revoked_sessions.set({session_id: now})], (
            UserModel.pk.exists() & UserModel.revoked_sessions.does_not_exist()
        )
    live = {sid for sid, at in current.items() if at >= forget_before}
    if len(live) >= max_entries:
        return [
            UserModel.token_generation.add(1),
            UserModel.kept_session.remove(),
            UserModel.revoked_sessions.set({session_id: now}),
        ], UserModel.pk.exists()
    stale = [sid for sid in current if sid not in live and sid != session_id]
    actions = [UserModel.revoked_sessions[session_id].set(now)]
    actions += [UserModel.revoked_sessions[sid].remove() for sid in stale]
    return actions, UserModel.pk.exists() & UserModel.revoked_sessions.exists()


def _get_user(user_id: str) -> UserModel | None:
    return get_or_none(UserModel, UserModel.key_for(user_id), consistent=True)


# --- sign-in failure counters ------------------------------------------------------------------
@dataclass(frozen=True)
class Counter:
    """A sign-in failure counter (a `RateLimitModel` item: `requests` counts failures, `last_at`
    is the last one). The window is in the key, so an old window is never read again (TTL
    deletion may lag). It is locked once `max_failures` is reached: until the window ends, or,
    with `delays`, for delays[0] after the last failure, then delays[1] after the next, ...,
    the last delay repeating."""

    key: str
    window_end: int
    max_failures: int
    delays: tuple[int, ...] = ()
    reset_on_success: bool = False

    def unlocked(self, now: int) -> Condition:
        """The condition, evaluated by DynamoDB, that this counter lets an attempt through at `now`."""
        # PynamoDB's `Condition.__or__`/`__and__` are unannotated: the declared types say what they return.
        condition: Condition = RateLimitModel.pk.does_not_exist() | (RateLimitModel.requests < self.max_failures)
        for extra, delay in enumerate(self.delays):
            waited: Condition = RateLimitModel.last_at <= now - delay
            if extra < len(self.delays) - 1:
                waited = waited & (RateLimitModel.requests < self.max_failures + extra + 1)
            condition = condition | waited
        return condition

    def retry_after(self, item: RateLimitModel | None, now: int) -> int:
        """Seconds until this counter lets an attempt through again (0: it does now)."""
        if item is None or item.requests < self.max_failures:
            return 0
        if not self.delays:
            return max(0, self.window_end - now)
        delay = self.delays[min(int(item.requests) - self.max_failures, len(self.delays) - 1)]
        return max(0, int(item.last_at) + delay - now)


class Throttled(Exception):
    """A sign-in counter refused the attempt; `retry_after` seconds until it would not."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def raise_if_locked(counters: list[Counter], now: int) -> None:
    """`Throttled` if a counter would refuse an attempt at `now` (one BatchGetItem, nothing
    counted): for a check that must come before the attempt's own write."""
    items = {item.pk: item for item in RateLimitModel.batch_get([c.key for c in counters], consistent_read=True)}
    wait = max(counter.retry_after(items.get(counter.key), now) for counter in counters)
    if wait > 0:
        raise Throttled(wait)


def record_failure(counters: list[Counter], now: int) -> None:
    """Counts a failed sign-in on every counter, in one transaction; `Throttled` (and nothing
    counted) if one of them is locked."""
    _transact(counters, now, lambda tx: _count_failure(tx, counters, now))


def start_session(
    session: Session | None,
    counters: list[Counter],
    now: int,
    *,
    user: UserModel | None = None,
    new_password_hash: str | None = None,
) -> None:
    """A successful sign-in, in one transaction: the session (if any) is written, and `user`'s
    password hash replaced by `new_password_hash` (a rehash with today's parameters) when given,
    only if no counter is locked (`Throttled` otherwise); counters that reset on success are
    deleted. NotFound if the user was deleted meanwhile."""

    def write(tx: Transaction) -> None:
        if session is not None:
            tx.save(session)
        for counter in counters:
            if counter.reset_on_success:
                tx.delete(RateLimitModel(counter.key), condition=counter.unlocked(now))
            else:
                tx.condition_check(RateLimitModel, counter.key, condition=counter.unlocked(now))
        if user is not None and new_password_hash is not None:
            tx.update(user, actions=[UserModel.password_hash.set(new_password_hash)], condition=UserModel.pk.exists())

    _transact(counters, now, write)


def _count_failure(tx: Transaction, counters: list[Counter], now: int) -> None:
    for counter in counters:
        tx.update(
            RateLimitModel(counter.key),
            actions=[
                RateLimitModel.requests.add(1),
                RateLimitModel.last_at.set(now),
                RateLimitModel.expires_at.set(counter.window_end),
            ],
            condition=counter.unlocked(now),
        )


def _transact(counters: list[Counter], now: int, write: Callable[[Transaction], None]) -> None:
    keys = {counter.key: counter for counter in counters}
    for attempt in range(TRANSACTION_ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0.01, 0.05) * attempt)  # noqa: S311 (jitter, not a secret)
        tx = Transaction()
        try:
            with tx:
                write(tx)
            return
        except TransactWriteError as err:
            failed = tx.failed_keys(err)
            locked = [keys[key] for key in failed if key in keys]
            if locked:
                raise Throttled(_retry_after(locked, now)) from None
            if failed:
                raise NotFound("User not found") from None
            if not conflicted(err):
                raise
    # Concurrent attempts on the same counters (one account, or one source) kept colliding: an
    # attack, or a burst from one address; the client retries after a second.
    raise Throttled(1)


def _retry_after(locked: list[Counter], now: int) -> int:
    """Read only on this rare path: the longest wait among the counters that refused."""
    waits = []
    for counter in locked:
        item = get_or_none(RateLimitModel, counter.key, consistent=True)
        waits.append(counter.retry_after(item, now))
    return max(1, *waits)
