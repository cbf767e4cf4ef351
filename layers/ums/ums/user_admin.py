"""Users CRUD (`/ums/users`): select, update and delete users with Jexia's conditions, for
callers a policy allows. An email or id equality in the condition is one read; a select
ordered by `created_at` or `email` alone reads that field's order index (once every user is in
it); anything else is a parallel scan (SCAN_SEGMENTS segments, a page of each at a time), and
`order` then sorts in memory. Every request has a
deadline (SELECT_DEADLINE_SECONDS): a select that reaches it answers with what it matched and a
cursor to go on; an update or delete still matching is a 400 that changed nothing, and one whose
writes reach it stops there and answers with the users it did change."""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from time import monotonic
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from ums import accounts, cursors, policies
from ums.bodies import SignUp, UserChanges, UserCreate
from ums.clock import now_rfc3339
from ums.conditions import Query, apply_window, equality_on, matches, parse_query
from ums.config import settings
from ums.errors import BadRequest
from ums.events import USER_DELETE, USER_INVITE, new_event
from ums.mailed_tokens import new_token
from ums.observability import logger, metrics
from ums.store import resets as reset_store
from ums.store import users as user_store
from ums.store.users import User
from ums.users import email_key, new_user, public_record

# An ordered select over a scan holds every match to sort it: beyond this many users read, the
# caller narrows the condition or pages with the cursor.
ORDER_SCAN_MAX_USERS = 10_000
ORDER_TOO_BIG = (
    "order needs every matching user in memory, and this condition scans more than {users:,} users: "
    "narrow cond (an email or id equality is one read), order by created_at alone (or email, with the "
    "EmailOrderIndex parameter), which reads an index, or drop order and page with range.limit and the "
    "X-Next-Cursor cursor (order then sorts each page)"
)
TOO_SLOW = (
    "The condition took too long to match (over {seconds:g} s): narrow it, "
    "e.g. with an email or id equality, which uses an index instead of a scan"
)


def create(subject: str, body: UserCreate) -> dict[str, Any]:
    """`POST /ums/users` by a policy holder (`create`): with a password, exactly a sign-up; without
    one, an invitation: the user exists with no password and gets a link (AfterUserInvite, a reset
    token valid for VerifyTokenLifetimeSeconds) that sets the first one."""
    policies.require(subject, "create")
    logger.append_keys(by=subject)  # on the request's INFO line
    if body.password is not None:
        return accounts.sign_up(SignUp(body.password, body.email, body.mobile, body.profile))
    user = new_user(body.email, "", body.profile, body.mobile)  # no password signs in until it is set
    event, tokens = invitation(user)
    user_store.create(user, event, tokens=tokens)
    metrics.add_metric(name="UsersInvited", unit=MetricUnit.Count, value=1)
    logger.append_keys(user_id=user.id)
    return public_record(user)


@dataclass(frozen=True)
class Selection:
    records: list[dict[str, Any]]
    next_cursor: str | None  # set when the select stopped before the end of its scan


def invitation(user: User) -> tuple[dict[str, Any], list[reset_store.ResetToken]]:
    """The AfterUserInvite event of a user without a password, and the reset token it mails
    (valid for VerifyTokenLifetimeSeconds) to store with the user."""
    token = new_token(settings().verify_token_ttl)
    user.reset_token_hash = token.token_hash
    reset_token = reset_store.token_item(token.token_hash, user, token.expires_at)
    return new_event(USER_INVITE, user, **token.event_fields()), [reset_token]


def select(subject: str, params: dict[str, list[str]]) -> Selection:
    """`GET /ums/users` for a caller a policy allows to read."""
    policies.require(subject, "read")
    return selected(params, public_record)


def selected(params: dict[str, list[str]], record: Callable[[User], dict[str, Any]]) -> Selection:
    """The users the query `params` selects, each as `record` shows it. Unordered, reading stops
    at `offset + limit` matches or at the deadline, and the answer carries a cursor when users
    are left unread; so too ordered by `created_at` or `email` alone, read in that order from
    its index.
    Ordered otherwise, every match is needed: a scan that reads more than ORDER_SCAN_MAX_USERS
    users or reaches the deadline is a 400, unless the caller pages with a cursor (then each
    page is sorted)."""
    query = parse_query(params)
    found = _indexed(query)
    if found is not None:
        if query.cursor is not None:
            raise BadRequest(cursors.INVALID)  # an index lookup never issues one
        return Selection(apply_window([record(u) for u in found], query), None)
    indexed = _index_order(query)
    ordering = f"{indexed[0]} {'desc' if indexed[1] else 'asc'}" if indexed else ""
    digest = cursors.condition_digest(params.get("cond", [""])[0], ordering)
    cursor = cursors.decode(query.cursor, digest) if query.cursor is not None else None
    skip = cursor.skip if cursor else query.offset
    wanted = None if query.limit is None else min(skip + query.limit, sys.maxsize)  # a huge limit: no limit
    scan: _Reader
    if indexed:
        page = user_store.ORDER_PAGE_MAX if query.condition or wanted is None else wanted
        scan = _InIndexOrder(cursor, _deadline(), *indexed, page)
    else:
        scan = Scan(cursor, _deadline())
    if query.order and cursor is None and not indexed:
        records = [record(u) for u in scan.matching(query, limit=ORDER_SCAN_MAX_USERS + 1)]
        if scan.positions:
            raise BadRequest(ORDER_TOO_BIG.format(users=ORDER_SCAN_MAX_USERS) if not scan.late else _too_slow())
        return Selection(apply_window(records, query), None)
    records = [record(u) for u in islice(scan.matching(query), wanted)]
    window = Query(None, query.outputs, query.limit, skip, query.order)
    if not scan.positions:
        return Selection(apply_window(records, window), None)
    left_to_skip = max(0, skip - len(records))
    next_cursor = cursors.encode(cursors.Cursor(scan.segments, scan.positions, left_to_skip), digest)
    return Selection(apply_window(records, window), next_cursor)


def update(subject: str, params: dict[str, list[str]], changes: UserChanges) -> list[dict[str, Any]]:
    policies.require(subject, "update")
    query = _with_condition(params, "update")
    active = changes.active
    updated_at = now_rfc3339()

    def write(user: User) -> None:
        suspend = active is False and user.active  # suspending a user ends every session
        user_store.update_profile(
            user,
            changes.set_fields,
            changes.removed,
            updated_at,
            active=active,
            email_verified=changes.email_verified,
            suspend=suspend,
        )

    updated = _write_each(query, write, "update", subject)
    metrics.add_metric(name="UsersUpdated", unit=MetricUnit.Count, value=len(updated))
    logger.append_keys(by=subject, count=len(updated))  # on the request's INFO line
    logger.debug("Users updated")
    return apply_window(updated, Query(None, query.outputs, None, 0, query.order))


def delete(subject: str, params: dict[str, list[str]]) -> list[dict[str, Any]]:
    policies.require(subject, "delete")
    query = _with_condition(params, "delete")

    def write(user: User) -> None:
        user_store.delete(user, new_event(USER_DELETE, user))
        user_store.delete_tokens(user.id)

    deleted = _write_each(query, write, "delete", subject)
    metrics.add_metric(name="UsersDeleted", unit=MetricUnit.Count, value=len(deleted))
    logger.append_keys(by=subject, count=len(deleted))  # on the request's INFO line
    logger.debug("Users deleted")
    return apply_window(deleted, Query(None, query.outputs, None, 0, query.order))


def _write_each(query: Query, write: Callable[[User], None], action: str, subject: str) -> list[dict[str, Any]]:
    """`write` for every user `query` matches, all matched first (a condition too slow for the
    deadline changes nothing); if the deadline passes between writes, they stop and the answer
    lists only the users written."""
    deadline = _deadline()
    done: list[dict[str, Any]] = []
    for user in list(_matching(query, deadline)):
        if monotonic() > deadline:
            extra = {"action": action, "by": subject, "count": len(done)}
            logger.warning("Deadline reached: stopped early", extra=extra)
            break
        write(user)
        done.append(public_record(user))
    return done


def _with_condition(params: dict[str, list[str]], action: str) -> Query:
    query = parse_query(params)
    if query.condition is None:
        raise BadRequest(f'action "{action}" needs at least one condition')
    if query.cursor is not None:
        raise BadRequest(f'action "{action}" takes no cursor: it applies to every user the condition matches')
    return query


def _deadline() -> float:
    return monotonic() + settings().select_deadline_seconds


def _too_slow() -> str:
    return TOO_SLOW.format(seconds=settings().select_deadline_seconds)


def _indexed(query: Query) -> list[User] | None:
    """The users an email or id equality in the condition names (one read); None: scan."""
    email = equality_on(query.condition, "email") if query.condition else None
    user_id = equality_on(query.condition, "id") if query.condition else None
    found: User | None
    if isinstance(email, str):
        found = user_store.find_by_email(email_key(email))
    elif isinstance(user_id, str):
        found = user_store.get(user_id)
    else:
        return None
    if found is None or (query.condition is not None and not matches(query.condition, public_record(found))):
        return []
    return [found]


def _index_order(query: Query) -> tuple[str, bool] | None:
    """(field, descending) when a select's order is one field an order index holds (`created_at`,
    and `email` when the stack has its index) and every user is in it; else None."""
    if len(query.order) != 1:
        return None
    field, descending = query.order[0]
    indexed = ("created_at", "email") if settings().email_order_index else ("created_at",)
    if field not in indexed or not user_store.order_index_complete():
        return None
    return field, descending


class _Reader:
    """Users read a page at a time, that can stop after any user and go on later: `positions`
    holds where each unfinished part (`segments` of them) reads on, "" at its start (empty once
    every user was read). `late` is set when it stopped at the deadline."""

    def __init__(self, cursor: cursors.Cursor | None, deadline: float, segments: int) -> None:
        self.segments = cursor.segments if cursor else segments
        self.positions = dict(cursor.positions) if cursor else dict.fromkeys(range(self.segments), "")
        self.deadline = deadline
        self.late = False

    def users(self) -> Iterator[User]:
        raise NotImplementedError

    def matching(self, query: Query, limit: int | None = None) -> Iterator[User]:
        """The users `query.condition` matches, in reading order; stops after reading `limit` users."""
        for user in islice(self.users(), limit):
            if query.condition is None or matches(query.condition, public_record(user)):
                yield user


class Scan(_Reader):
    """A parallel scan of the users in `segments` segments, a page of each at a time."""

    def __init__(self, cursor: cursors.Cursor | None, deadline: float) -> None:
        super().__init__(cursor, deadline, settings().scan_segments)

    def users(self) -> Iterator[User]:
        first = True
        while self.positions:
            if not first and monotonic() > self.deadline:  # a round at least: every request gets on
                self.late = True
                return
            first = False
            for page in user_store.scan_round(self.positions, self.segments):
                for user in page.users:
                    self.positions[page.segment] = user.pk  # read: a stop here goes on after it
                    yield user
                if page.resume_after is None:
                    del self.positions[page.segment]
                else:
                    self.positions[page.segment] = page.resume_after


class _InIndexOrder(_Reader):
    """Users in `field`'s order (ascending or descending): the shards of its order index, a page
    of each at a time (`page_size` users), merged."""

    def __init__(
        self, cursor: cursors.Cursor | None, deadline: float, field: str, descending: bool, page_size: int
    ) -> None:
        super().__init__(cursor, deadline, user_store.ORDER_SHARDS)
        if self.segments != user_store.ORDER_SHARDS or not set(self.positions) <= set(range(self.segments)):
            raise BadRequest(cursors.INVALID)
        self.field = field
        self.descending = descending
        self.page_size = page_size

    def users(self) -> Iterator[User]:
        read: dict[int, deque[User]] = {shard: deque() for shard in self.positions}  # not given out yet
        starts: dict[int, str | None] = dict(self.positions)  # where each next page starts; None: no more
        first = True
        while self.positions:
            hungry = {
                shard: start for shard in self.positions if not read[shard] and (start := starts[shard]) is not None
            }
            if hungry:
                if not first and monotonic() > self.deadline:  # a round at least: every request gets on
                    self.late = True
                    return
                first = False
                for page in user_store.order_round(self.field, hungry, self.descending, self.page_size):
                    read[page.shard].extend(page.users)
                    starts[page.shard] = page.resume_after
                    if not page.users and page.resume_after is not None:
                        self.positions[page.shard] = page.resume_after  # nothing before it to give out
                continue
            for shard in [shard for shard in self.positions if not read[shard]]:
                del self.positions[shard]  # finished, every user of it given out
            if self.positions:
                pick = (max if self.descending else min)(
                    self.positions, key=lambda shard: (getattr(read[shard][0], self.field), read[shard][0].pk)
                )
                user = read[pick].popleft()
                self.positions[pick] = user_store.order_position(user, self.field)  # a stop here goes on after it
                yield user


def _matching(query: Query, deadline: float) -> Iterator[User]:
    """Every user `query` selects (for an update or delete); a 400 when the deadline (a
    monotonic() time) passes first, so a slow scan answers before the function's timeout."""
    found = _indexed(query)
    if found is not None:
        yield from found
        return
    scan = Scan(None, deadline)
    yield from scan.matching(query)
    if scan.late:
        raise BadRequest(_too_slow())
