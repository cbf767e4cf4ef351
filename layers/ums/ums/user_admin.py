"""Users CRUD (`/ums/users`): select, update and delete users with Jexia's conditions, for
callers a policy allows. An email equality in the condition uses the email index; anything
else scans the users page by page. Every request has a deadline (SELECT_DEADLINE_SECONDS): a
condition still matching when it passes is a 400 that changed nothing; an update or delete whose
writes reach it stops there and answers with the users it did change."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from time import monotonic
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from ums import accounts, policies
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
    token = new_token(settings().verify_token_ttl)
    user.reset_token_hash = token.token_hash
    reset_token = reset_store.token_item(token.token_hash, user, token.expires_at)
    user_store.create(user, new_event(USER_INVITE, user, **token.event_fields()), tokens=[reset_token])
    metrics.add_metric(name="UsersInvited", unit=MetricUnit.Count, value=1)
    logger.append_keys(user_id=user.id)
    return public_record(user)


def select(subject: str, params: dict[str, list[str]]) -> list[dict[str, Any]]:
    policies.require(subject, "read")
    query = parse_query(params)
    matching: Iterable[User] = _matching(query, _deadline())
    if query.limit is not None and not query.order:
        # Unordered, the answer is the first offset + limit matches: reading stops there.
        matching = islice(matching, min(query.offset + query.limit, sys.maxsize))  # a huge limit: no limit
    return apply_window([public_record(u) for u in matching], query)


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
    return query


def _deadline() -> float:
    return monotonic() + settings().select_deadline_seconds


def _matching(query: Query, deadline: float) -> Iterator[User]:
    """The users `query` selects, by index when it can; a 400 once `deadline` (a monotonic()
    time) passes, so a slow scan answers before the function's timeout."""
    candidates: Iterable[User]
    email = equality_on(query.condition, "email") if query.condition else None
    user_id = equality_on(query.condition, "id") if query.condition else None
    if isinstance(email, str):
        found = user_store.find_by_email(email_key(email))
        candidates = [found] if found else []
    elif isinstance(user_id, str):
        found = user_store.get(user_id)
        candidates = [found] if found else []
    else:
        candidates = user_store.scan_all()
    condition = query.condition
    for user in candidates:
        if monotonic() > deadline:
            raise BadRequest(TOO_SLOW.format(seconds=settings().select_deadline_seconds))
        if condition is None or matches(condition, public_record(user)):
            yield user
