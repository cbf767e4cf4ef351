"""/management/failures: the automation's failure queue, as Lambda's on-failure destination
writes it (where the stream batch was, not its records), listed with the events it stands for and
redriven: each failed or pending event sent again, the message deleted."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config
from helpers import STACK, manage, sign_up
from ums.store.models import EventModel


def queue_url() -> str:
    sqs = boto3.client("sqs", region_name=STACK.region)
    return str(sqs.get_queue_url(QueueName=STACK.physical_name("AutomationFailures"))["QueueUrl"])


def give_up_on(event_id: str) -> None:
    """What Lambda sends to the on-failure queue after the last retry of the batch holding `event_id`."""
    table = boto3.client("dynamodb", region_name=STACK.region).describe_table(
        TableName=STACK.physical_name("EventsTable")
    )["Table"]
    streams = boto3.client(
        "dynamodbstreams", region_name=STACK.region, config=Config(account_id_endpoint_mode="disabled")
    )
    [shard] = streams.describe_stream(StreamArn=table["LatestStreamArn"])["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=table["LatestStreamArn"], ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    [sequence] = [r["dynamodb"]["SequenceNumber"] for r in records if r["dynamodb"]["Keys"]["id"]["S"] == event_id]
    batch = {
        "shardId": shard["ShardId"],
        "startSequenceNumber": sequence,
        "endSequenceNumber": sequence,
        "batchSize": 1,
        "streamArn": table["LatestStreamArn"],
    }
    send(
        {
            "requestContext": {"condition": "RetryAttemptsExhausted"},
            "timestamp": "2026-11-24T10:00:00.000Z",
            "DDBStreamBatchInfo": batch,
        }
    )


def send(body: dict[str, Any]) -> None:
    boto3.client("sqs", region_name=STACK.region).send_message(QueueUrl=queue_url(), MessageBody=json.dumps(body))


def test_a_batch_given_up_on_is_listed_with_its_event_and_sent_again(aws: None) -> None:
    sign_up("ann@example.com")
    [event] = list(EventModel.scan())
    give_up_on(event.id)
    listed = manage("failures", method="GET")
    assert listed.status == 200
    [message] = listed.body
    assert (message["events"], message["condition"]) == ([event.id], "RetryAttemptsExhausted")
    assert manage("failures", method="GET").body == listed.body  # listing leaves the message there

    redriven = manage("failures/redrive")
    assert redriven.status == 200 and redriven.body == {"sent_again": [event.id], "unchanged": [], "kept": []}
    assert manage("failures", method="GET").body == []
    shown = manage(f"outbox/{event.id}", method="GET").body
    assert (shown["status"], shown["redrives"]) == ("pending", 1)  # the stream hands it on again


def test_a_message_whose_batch_left_the_stream_stays_and_says_so(aws: None) -> None:
    sign_up("ann@example.com")
    [event] = list(EventModel.scan())
    give_up_on(event.id)
    gone = {
        "shardId": "shardId-gone",
        "startSequenceNumber": "1",
        "endSequenceNumber": "1",
        "streamArn": "arn:aws:dynamodb:us-east-1:123456789012:table/x/stream/2026",
    }
    send({"DDBStreamBatchInfo": gone})
    send({"not": "from Lambda"})
    listed = manage("failures", method="GET").body
    assert sorted(str(m["events"]) for m in listed) == sorted([str([event.id]), "None", "None"])
    redriven = manage("failures/redrive").body
    assert redriven["sent_again"] == [event.id] and len(redriven["kept"]) == 2
    assert [m["events"] for m in manage("failures", method="GET").body] == [None, None]


def test_the_failure_routes_refuse_what_they_do_not_serve(aws: None) -> None:
    assert manage("failures", {}, method="POST").status == 405
    assert manage("failures/redrive", method="GET").status == 405
    assert manage("failures/other", method="GET").status == 404


def test_a_long_queue_is_listed_once_each(aws: None) -> None:
    for n in range(25):
        send({"not": f"from Lambda {n}"})
    listed = manage("failures", method="GET").body
    assert len(listed) == len({m["message_id"] for m in listed}) == 25
