"""The local stack's undo-logged TransactWriteItems (local_stack.aws.undo_log_transactions): a
failed transaction leaves items and stream as they were, a successful one applies every item,
and no table is copied."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends

from local_stack.aws import prepare_in_process_moto

prepare_in_process_moto()


@pytest.fixture
def db() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        client.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"S": "old"}})
        yield client


def key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "1"}}


def table() -> Any:
    return dynamodb_backends["123456789012"]["us-east-1"].tables["t"]


def state(db: Any) -> tuple[list[dict[str, Any]], int]:
    items = sorted(db.scan(TableName="t")["Items"], key=lambda item: item["pk"]["S"])
    return items, len(table().stream_shard.items)


def test_a_failed_transaction_leaves_items_and_stream_as_they_were(db: Any) -> None:
    before = state(db)
    the_table = table()
    with pytest.raises(db.exceptions.TransactionCanceledException):
        db.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "t",
                        "Key": key("a"),
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"S": "new"}},
                    }
                },
                {"Put": {"TableName": "t", "Item": {**key("b"), "v": {"S": "b"}}}},
                {"Delete": {"TableName": "t", "Key": key("a2")}},
                {"ConditionCheck": {"TableName": "t", "Key": key("c"), "ConditionExpression": "attribute_exists(pk)"}},
            ]
        )
    assert state(db) == before
    assert before[0] == [{**key("a"), "v": {"S": "old"}}]
    assert table() is the_table  # undone in place: the table was never copied


def test_a_transaction_naming_one_item_twice_changes_nothing(db: Any) -> None:
    before = state(db)
    with pytest.raises(db.exceptions.ClientError, match="multiple operations on one item"):
        db.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {**key("a"), "v": {"S": "first"}}}},
                {"Put": {"TableName": "t", "Item": {**key("a"), "v": {"S": "second"}}}},
            ]
        )
    assert state(db) == before


def test_a_successful_transaction_applies_every_item_and_streams_them(db: Any) -> None:
    _, records = state(db)
    db.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "t", "Item": {**key("b"), "v": {"S": "b"}}}},
            {"Delete": {"TableName": "t", "Key": key("a")}},
        ]
    )
    items, after = state(db)
    assert items == [{**key("b"), "v": {"S": "b"}}]
    assert after == records + 2
