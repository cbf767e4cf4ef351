"""GET /management/events: the events automations can send mail on (read only)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ums.events import EVENT_TYPES

router = APIGatewayHttpRouter()


@router.get("/")
def list_events() -> list[dict[str, Any]]:
    return [event.describe() for event in EVENT_TYPES.values()]
