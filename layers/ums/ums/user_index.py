"""The order indexes (`by_created_at`, `by_email_order`) hold every user: users made before them
(a stack deployed before the indexes) get their shard from a scan, and once a scan has covered
the table the indexes serve `order` by `created_at` or `email` (`ums.user_admin`). The deploy
runs a pass (the UsersIndex custom resource); `ums users reindex` finishes one a deploy could
not, a request's time at a time."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from time import monotonic
from typing import Any

from ums import cursors
from ums.clock import now_rfc3339
from ums.config import settings
from ums.errors import BadRequest
from ums.observability import logger
from ums.store import users as user_store
from ums.user_admin import Scan

_READING = "reindex"  # what its cursors are bound to
WRITE_BATCH = 100  # users given their shard together (in parallel)


@dataclass(frozen=True)
class Reindexed:
    updated: int  # users given their shard by this pass
    next_cursor: str | None  # where the next pass goes on; None: every user is in the index

    def record(self) -> dict[str, Any]:
        return {"updated": self.updated, "complete": self.next_cursor is None}


def reindex(params: dict[str, list[str]]) -> Reindexed:
    """`POST /management/users/reindex`: a pass for one request's time, from `cursor` if given."""
    if set(params) - {"cursor"} or len(params.get("cursor", [])) > 1:
        raise BadRequest("reindex takes one query parameter, cursor (from the last answer's X-Next-Cursor)")
    text = params.get("cursor", [None])[0]
    digest = cursors.condition_digest("", _READING)
    cursor = cursors.decode(text, digest) if text is not None else None
    if user_store.order_index_complete():
        return Reindexed(0, None)  # every user made since has its shard
    updated, scan = _pass(cursor, monotonic() + settings().select_deadline_seconds)
    if not scan.positions:
        return Reindexed(updated, None)
    return Reindexed(updated, cursors.encode(cursors.Cursor(scan.segments, scan.positions, 0), digest))


def reindex_for(seconds: float) -> dict[str, Any]:
    """The deploy's pass, from the start, for up to `seconds`, unless an earlier one finished;
    `Complete` says whether every user is in the index."""
    if user_store.order_index_complete():
        return {"Updated": "0", "Complete": "true"}
    updated, scan = _pass(None, monotonic() + seconds)
    return {"Updated": str(updated), "Complete": "false" if scan.positions else "true"}  # strings: stack outputs


def _pass(cursor: cursors.Cursor | None, deadline: float) -> tuple[int, Scan]:
    scan = Scan(cursor, deadline)
    users, updated = scan.users(), 0
    while batch := list(islice(users, WRITE_BATCH)):  # (itertools.batched is 3.12+; dev may run 3.11)
        updated += user_store.add_to_order_index(batch)
    if not scan.positions:
        user_store.mark_order_index_complete(now_rfc3339())
    logger.append_keys(updated=updated, complete=not scan.positions)  # on the request's INFO line
    return updated, scan
