"""What Lambda's event source mappings and EventBridge do for the stack, done locally:
the outbox stream polled into its function in batches (partial-batch failures honoured,
bounded retries, then the on-failure queue), and rule targets handed to their function."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config

from local_stack.aws import rule_queue_name
from local_stack.functions import LocalFunction
from local_stack.template import ACCOUNT_ID, Stack

POLL_SECONDS = 0.1  # the contract says at most 250 ms


def matches(pattern: Any, value: Any) -> bool:
    """EventBridge/Lambda filter patterns: objects nest, lists hold the accepted values."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and matches(p, value[k]) for k, p in pattern.items())
    if isinstance(pattern, list):
        return value in pattern
    return bool(pattern == value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(type(value).__name__)


class StreamPoller(threading.Thread):
    """One DynamoDB stream event source of one function."""

    def __init__(self, stack: Stack, fn: LocalFunction, source: dict[str, Any], stopped: threading.Event) -> None:
        super().__init__(name=f"stream-{fn.spec.logical_id}", daemon=True)
        self.fn = fn
        self.stopped = stopped
        self.table = stack.physical_name(source["Table"])
        self.batch_size = int(source.get("BatchSize", 100))
        self.max_retries = int(source.get("MaximumRetryAttempts", -1))
        self.filters = [json.loads(f["Pattern"]) for f in source.get("FilterCriteria", {}).get("Filters", [])]
        destination = source.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination", "")
        self.failure_queue = destination.rsplit(":", 1)[-1] if destination else None
        config = Config(account_id_endpoint_mode="disabled")
        self.streams = boto3.client("dynamodbstreams", region_name=stack.region, config=config)
        self.region = stack.region
        self.stream_arn = boto3.client("dynamodb", region_name=stack.region).describe_table(TableName=self.table)[
            "Table"
        ]["LatestStreamArn"]
        self.positions: dict[str, str] = {}  # shard id -> last sequence number read

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.poll_once()
            except Exception as err:  # keep polling, as Lambda's poller does
                print(f"stream poller for {self.fn.spec.logical_id}: {type(err).__name__}: {err}", flush=True)
            self.stopped.wait(POLL_SECONDS)

    def poll_once(self) -> int:
        """Reads every shard once and delivers what arrived; returns how many records."""
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        delivered = 0
        for shard in shards:
            shard_id = shard["ShardId"]
            # A fresh iterator each time: moto replaces a table's object when a transaction on it
            # fails, and an older iterator would go on reading the replaced (stale) shard.
            position = self.positions.get(shard_id)
            where = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": position}
                if position
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard_id, **where)
            answer = self.streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=self.batch_size)
            records = json.loads(json.dumps(answer["Records"], default=_jsonable))
            if records:
                self.positions[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
            for record in records:
                record["eventSourceARN"] = self.stream_arn
            records = [r for r in records if not self.filters or any(matches(f, r) for f in self.filters)]
            if records:
                self.deliver(records, shard_id)
                delivered += len(records)
        return delivered

    def deliver(self, records: list[dict[str, Any]], shard_id: str) -> None:
        """Invokes until the batch succeeds; after a failure, retries from the first failed
        record; past MaximumRetryAttempts, that record goes to the on-failure queue."""
        attempts = 0
        while records and not self.stopped.is_set():
            failed_at = self._invoke(records)
            if failed_at is None:
                return
            attempts += 1
            if 0 <= self.max_retries < attempts:
                self._give_up(records[failed_at], shard_id, attempts)
                records, attempts = records[failed_at + 1 :], 0
            else:
                records = records[failed_at:]
                time.sleep(min(0.05 * attempts, 0.5))

    def _invoke(self, records: list[dict[str, Any]]) -> int | None:
        try:
            answer = self.fn.invoke({"Records": records})
        except Exception as err:
            print(f"{self.fn.spec.logical_id} raised {type(err).__name__}: {err}", flush=True)
            return 0
        failures = (answer or {}).get("batchItemFailures") or []
        if not failures:
            return None
        failed = {f["itemIdentifier"] for f in failures}
        return next(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] in failed)

    def _give_up(self, record: dict[str, Any], shard_id: str, attempts: int) -> None:
        """What Lambda's on-failure destination receives for a stream batch: where the batch was
        in the stream (`DDBStreamBatchInfo`), not its records."""
        print(f"{self.fn.spec.logical_id}: giving up on stream record {record['eventID']}", flush=True)
        if not self.failure_queue:
            return
        sequence = record["dynamodb"]["SequenceNumber"]
        arrival = datetime.fromtimestamp(record["dynamodb"].get("ApproximateCreationDateTime", 0), UTC)
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.fn.spec.logical_id}",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": sequence,
                "endSequenceNumber": sequence,
                "approximateArrivalOfFirstRecord": arrival.isoformat().replace("+00:00", "Z"),
                "approximateArrivalOfLastRecord": arrival.isoformat().replace("+00:00", "Z"),
                "batchSize": 1,
                "streamArn": self.stream_arn,
            },
        }
        sqs = boto3.client("sqs", region_name=self.region)
        url = sqs.get_queue_url(QueueName=self.failure_queue)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))


class RulePoller(threading.Thread):
    """One EventBridge rule: what matched it arrives in a queue; each event is one invocation."""

    def __init__(self, stack: Stack, fn: LocalFunction, rule: dict[str, Any], stopped: threading.Event) -> None:
        super().__init__(name=f"rule-{rule['name']}", daemon=True)
        self.fn = fn
        self.stopped = stopped
        self.sqs = boto3.client("sqs", region_name=stack.region)
        self.queue_url = self.sqs.get_queue_url(QueueName=rule_queue_name(rule["name"]))["QueueUrl"]

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.poll_once()
            except Exception as err:
                print(f"rule poller for {self.fn.spec.logical_id}: {type(err).__name__}: {err}", flush=True)
            self.stopped.wait(POLL_SECONDS)

    def poll_once(self) -> int:
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            try:
                self.fn.invoke(json.loads(message["Body"]))
            except Exception as err:  # left in the queue: EventBridge would retry
                print(f"{self.fn.spec.logical_id} raised {type(err).__name__}: {err}", flush=True)
                continue
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)


def pollers(stack: Stack, functions: dict[str, LocalFunction], stopped: threading.Event) -> list[threading.Thread]:
    found: list[threading.Thread] = []
    for fn in functions.values():
        found += [StreamPoller(stack, fn, source, stopped) for source in fn.spec.stream_sources]
        found += [RulePoller(stack, fn, rule, stopped) for rule in fn.spec.rules]
    return found
