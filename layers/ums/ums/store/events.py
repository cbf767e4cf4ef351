"""The outbox: events written with the change that causes them, and their delivery status."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import UpdateError

from ums.store.models import EventModel, condition_failed

Event = EventModel  # the record logic reads (attributes only)


def item(record: dict[str, Any]) -> EventModel:
    """The outbox item for `record` (what `ums.events.new_event` makes), for a store transaction."""
    fields = dict(record)
    return EventModel(fields.pop("id"), **fields)


def from_stream_image(image: dict[str, Any]) -> Event:
    """The event of a DynamoDB stream record's `NewImage`."""
    return EventModel.from_raw_data(image)


def mark_delivered(event_id: str, failures: list[str]) -> bool:
    """Records the event's status after delivery (`failed` with the reasons, or `sent`), only
    while it exists: an unconditional update would recreate an expired or deleted event as an
    `{id, status}` stub. False when it is gone."""
    try:
        EventModel(event_id).update(
            actions=[
                EventModel.status.set("failed" if failures else "sent"),
                EventModel.failure.set("; ".join(failures)) if failures else EventModel.failure.remove(),
            ],
            condition=EventModel.id.exists(),
        )
    except UpdateError as err:
        if not condition_failed(err):
            raise
        return False
    return True
