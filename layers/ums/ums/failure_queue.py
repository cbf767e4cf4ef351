"""The automation's failure queue (AutomationFailures): outbox stream batches the automation
function gave up on after its retries, as Lambda's on-failure destination writes them. Listed
for the operator and redriven: each message's events are sent again (`events.redrive`), then the
message is deleted."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import boto3

from ums.config import settings
from ums.errors import UpstreamUnavailable
from ums.store import events as event_store
from ums.store import stream

BATCH = 10  # SQS hands out at most 10 messages a call
MAX_MESSAGES = 100
HOLD_SECONDS = 60  # how long a message read here stays hidden unless released or deleted


@cache
def _queue() -> tuple[Any, str]:
    client = boto3.client("sqs", region_name=settings().region)
    if not settings().failure_queue_name:
        raise UpstreamUnavailable("No failure queue is configured (FAILURE_QUEUE_NAME)")
    return client, client.get_queue_url(QueueName=settings().failure_queue_name)["QueueUrl"]


def _receive() -> list[dict[str, Any]]:
    """Up to MAX_MESSAGES messages, each once: received ones stay hidden (HOLD_SECONDS) while
    the next call reads on; the caller deletes or releases each."""
    client, url = _queue()
    messages: dict[str, dict[str, Any]] = {}
    while len(messages) < MAX_MESSAGES:
        page = client.receive_message(QueueUrl=url, MaxNumberOfMessages=BATCH, VisibilityTimeout=HOLD_SECONDS).get(
            "Messages", []
        )
        new = {m["MessageId"]: m for m in page if m["MessageId"] not in messages}
        messages.update(new)
        if not new:
            break
    return list(messages.values())


def _release(messages: list[dict[str, Any]]) -> None:
    """Visible again at once: the operator still sees them, the queue is as it was."""
    client, url = _queue()
    for start in range(0, len(messages), BATCH):
        entries = [
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for n, m in enumerate(messages[start : start + BATCH])
        ]
        client.change_message_visibility_batch(QueueUrl=url, Entries=entries)


def _described(message: dict[str, Any]) -> dict[str, Any]:
    try:
        body = json.loads(message.get("Body") or "{}")
    except ValueError:
        body = {}
    batch = body.get("DDBStreamBatchInfo") if isinstance(body, dict) else None
    ids = stream.event_ids(batch) if isinstance(batch, dict) else None
    return {
        "message_id": message["MessageId"],
        "condition": (body.get("requestContext") or {}).get("condition") if isinstance(body, dict) else None,
        "failed_at": body.get("timestamp") if isinstance(body, dict) else None,
        "events": ids,  # None: the stream no longer holds the batch (24 h), or not a stream batch
    }


def listed() -> list[dict[str, Any]]:
    """The queue's messages (up to 100), each with the ids of the events it stands for; left
    in the queue, visible, as they were."""
    messages = _receive()
    try:
        return [_described(m) for m in messages]
    finally:
        _release(messages)


def redrive() -> dict[str, Any]:
    """Sends every queued batch's failed or pending events again and deletes its message; a
    message whose events cannot be read any more stays (its events: find them by status)."""
    client, url = _queue()
    sent_again: list[str] = []
    unchanged: list[str] = []
    kept: list[str] = []
    unread: list[dict[str, Any]] = []
    for message in _receive():
        described = _described(message)
        if described["events"] is None:
            unread.append(message)
            kept.append(described["message_id"])
            continue
        for event_id in described["events"]:
            (sent_again if event_store.redrive(event_id) else unchanged).append(event_id)
        client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    _release(unread)
    return {"sent_again": sent_again, "unchanged": unchanged, "kept": kept}
