"""The outbox: events written with the change that causes them, and their delivery status."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import UpdateError

from ums.store.models import EventModel, condition_failed, get_or_none

Event = EventModel  # the record logic reads (attributes only)
REDRIVABLE = (EventModel.FAILED, EventModel.PENDING)  # the statuses `redrive` sends on again


def item(record: dict[str, Any]) -> EventModel:
    """The outbox item for `record` (what `ums.events.new_event` makes), for a store transaction."""
    fields = dict(record)
    return EventModel(fields.pop("id"), **fields)


def from_stream_image(image: dict[str, Any]) -> Event:
    """The event of a DynamoDB stream record's `NewImage`."""
    return EventModel.from_raw_data(image)


def mark_delivered(event_id: str, status: str, reason: str | None = None) -> bool:
    """Records the event's status after delivery (`sent`, `failed` or `skipped`, with the reason
    for the last two), only while it exists: an unconditional update would recreate an expired or
    deleted event as an `{id, status}` stub. False when it is gone."""
    failed = status == EventModel.FAILED
    try:
        EventModel(event_id).update(
            actions=[
                EventModel.status.set(status),
                EventModel.failure.set(reason) if reason else EventModel.failure.remove(),
                EventModel.failed.set(EventModel.FAILED) if failed else EventModel.failed.remove(),
            ],
            condition=EventModel.id.exists(),
        )
    except UpdateError as err:
        if not condition_failed(err):
            raise
        return False
    return True


def get(event_id: str) -> Event | None:
    return get_or_none(EventModel, event_id, consistent=True)


def recent(limit: int) -> list[Event]:
    """The latest events of any status, newest first (a query of the `recent` index)."""
    return list(EventModel.recent_events.query(EventModel.FEED, scan_index_forward=False, limit=limit))


def redrive(event_id: str) -> Event | None:
    """Sends a failed (or stuck pending) event through the automation function again: back to
    `pending`, which the outbox stream's filter passes on as it does a new event. None when the
    event is gone or was sent or skipped already (nothing is mailed twice)."""
    event = EventModel(event_id)
    try:
        event.update(  # ALL_NEW: `event` holds the whole item afterwards
            actions=[
                EventModel.status.set(EventModel.PENDING),
                EventModel.failure.remove(),
                EventModel.failed.remove(),
                EventModel.redrives.add(1),
            ],
            condition=EventModel.id.exists() & EventModel.status.is_in(*REDRIVABLE),
        )
    except UpdateError as err:
        if condition_failed(err):
            return None
        raise
    return event


def failed(limit: int) -> list[Event]:
    """The latest failed events, newest first (a query of the sparse `failed` index)."""
    return list(EventModel.failed_events.query(EventModel.FAILED, scan_index_forward=False, limit=limit))
