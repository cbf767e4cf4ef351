"""/management/outbox: what became of the mail of an event (read only).

`GET /management/outbox?status=failed[&limit=N]` lists the latest events whose mail failed, with
the reason, newest first; `GET /management/outbox/{event_id}` shows any event's status:
`pending` (not processed yet), `sent`, `failed` or `skipped` (no mail was due: no automation and
no default mail, or every automation disabled). Never the reset token, not even encrypted.
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ums.errors import BadRequest, NotFound
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
    }


@router.get("/")
def list_failed() -> list[dict[str, Any]]:
    request: Request = router.context["request"]
    if request.query.get("status", ["failed"]) != ["failed"]:
        raise BadRequest("Query parameter 'status' must be 'failed' (look an event up by id for any other status)")
    limit = request.query.get("limit", ["50"])
    if len(limit) != 1 or not re.fullmatch(r"[0-9]{1,3}", limit[0]) or not 1 <= int(limit[0]) <= MAX_LIMIT:
        raise BadRequest(f"Query parameter 'limit' must be a whole number from 1 to {MAX_LIMIT}")
    return [shown(event) for event in event_store.failed(int(limit[0]))]


@router.get("/<event_id>")
def get_event(event_id: str) -> dict[str, Any]:
    event = event_store.get(event_id) if _EVENT_ID.match(event_id) else None
    if event is None:
        raise NotFound(f"No event '{event_id[:128]}' (events are kept for EventRetentionDays)")
    return shown(event)
