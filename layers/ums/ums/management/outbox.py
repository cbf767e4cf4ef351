"""/management/outbox: what became of the mail of an event, and sending a failed one again.

`GET /management/outbox?status=failed[&limit=N]` lists the latest events whose mail failed, with
the reason, newest first (`status=all`: the latest events of any status); `GET
/management/outbox/{event_id}` shows any event's status: `pending` (not processed yet), `sent`,
`failed` or `skipped` (no mail was due: no automation and no default mail, or every automation
disabled). `POST /management/outbox/{event_id}/redrive` sends a failed or stuck pending event
through the automation function again (`redrives` counts how often). Never the reset token, not
even encrypted.
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ums.errors import BadRequest, Conflict, NotFound
from ums.http import Request
from ums.store import events as event_store
from ums.store import plain
from ums.store.events import Event

router = APIGatewayHttpRouter()
MAX_LIMIT = 100
_EVENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


def shown(event: Event) -> dict[str, Any]:
    user, application = plain(event.user), plain(event.application)
    user = user if isinstance(user, dict) else {}
    application = application if isinstance(application, dict) else {}
    return {
        "id": event.id,
        "event": event.event,
        "occurred_at": event.occurred_at,
        "user": {"id": user.get("id"), "email": user.get("email")},
        "application": application.get("name"),
        "status": event.status,
        "reason": event.failure,
        "redrives": int(event.redrives or 0),
    }


@router.get("/")
def list_failed() -> list[dict[str, Any]]:
    request: Request = router.context["request"]
    status = request.query.get("status", ["failed"])
    if status not in (["failed"], ["all"]):
        raise BadRequest("Query parameter 'status' must be 'failed' or 'all' (look an event up by id for one event)")
    limit = request.query.get("limit", ["50"])
    if len(limit) != 1 or not re.fullmatch(r"[0-9]{1,3}", limit[0]) or not 1 <= int(limit[0]) <= MAX_LIMIT:
        raise BadRequest(f"Query parameter 'limit' must be a whole number from 1 to {MAX_LIMIT}")
    listed = event_store.failed if status == ["failed"] else event_store.recent
    return [shown(event) for event in listed(int(limit[0]))]


@router.get("/<event_id>")
def get_event(event_id: str) -> dict[str, Any]:
    return shown(_existing(event_id))


def _existing(event_id: str) -> Event:
    event = event_store.get(event_id) if _EVENT_ID.match(event_id) else None
    if event is None:
        raise NotFound(f"No event '{event_id[:128]}' (events are kept for EventRetentionDays)")
    return event


@router.post("/<event_id>/redrive")
def redrive_event(event_id: str) -> dict[str, Any]:
    """The delivery view's "send again": a failed (or stuck pending) event back to the automation
    function, which sends what is still due (a mail already sent is not sent twice). One
    conditional write; only a refusal reads the event, to say why."""
    redriven = event_store.redrive(event_id) if _EVENT_ID.match(event_id) else None
    if redriven is None:
        event = _existing(event_id)  # 404 when there is none
        raise Conflict(f"Event '{event_id}' is {event.status}: only a failed or pending event is sent again")
    return shown(redriven)
