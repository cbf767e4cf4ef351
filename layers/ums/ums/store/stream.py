"""The outbox stream read back: which events a stream batch held, for a failure-queue message.

Lambda's on-failure destination for a stream records where the batch was, not what it held
(`DDBStreamBatchInfo`: the shard and the first and last sequence numbers); the records stay in
the stream for 24 hours.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ums.config import settings

MAX_PAGES = 10  # a batch is at most BatchSize (10) records: a few pages at most
GONE = ("TrimmedDataAccessException", "ResourceNotFoundException", "ExpiredIteratorException")


@cache
def _client() -> Any:
    # Addressed by stream ARN, never by account endpoint (moto's streams need this too).
    return boto3.client(
        "dynamodbstreams", region_name=settings().region, config=Config(account_id_endpoint_mode="disabled")
    )


def _is_outbox(stream_arn: str) -> bool:
    return f":table/{settings().events_table}/stream/" in stream_arn


def event_ids(batch: dict[str, Any]) -> list[str] | None:
    """The ids of the events in the batch `batch` (a DDBStreamBatchInfo) describes, in order; None
    when its records are no longer in the stream, or it is not a batch of the outbox stream."""
    fields = ("streamArn", "shardId", "startSequenceNumber", "endSequenceNumber")
    if not all(isinstance(batch.get(f), str) for f in fields) or not _is_outbox(batch["streamArn"]):
        return None  # not a batch of this stack's outbox stream: nothing to read
    if not (batch["startSequenceNumber"].isdigit() and batch["endSequenceNumber"].isdigit()):
        return None
    start, end = int(batch["startSequenceNumber"]), int(batch["endSequenceNumber"])
    try:
        iterator = _client().get_shard_iterator(
            StreamArn=batch["streamArn"],
            ShardId=batch["shardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=batch["startSequenceNumber"],
        )["ShardIterator"]
        ids: list[str] = []
        for _ in range(MAX_PAGES):
            page = _client().get_records(ShardIterator=iterator, Limit=100)
            for record in page["Records"]:
                sequence = int(record["dynamodb"]["SequenceNumber"])
                if sequence > end:
                    return ids
                if sequence >= start and record.get("eventName") != "REMOVE":
                    ids.append(record["dynamodb"]["Keys"]["id"]["S"])
            iterator = page.get("NextShardIterator")
            if not iterator or not page["Records"]:
                return ids
        return ids
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in GONE:
            return None
        raise
