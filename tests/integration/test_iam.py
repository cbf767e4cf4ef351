"""Each function's IAM policy from template.yaml is enforced on its AWS calls (local_stack.iam):
every other test runs under it, and here a permission removed from the template makes the
handler fail as in AWS, with an AccessDeniedException that names the action and the resource."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import STACK, sign_up

from local_stack import iam
from local_stack.iam import Need
from local_stack.template import Stack

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/ums-local-{}"


@pytest.fixture
def enforcer() -> Iterator[iam.Enforcer]:
    current = iam.current()
    assert current is not None, "tests run with IAM enforced (helpers.py: prepare_process)"
    saved = dict(current.roles)  # the same lists back afterwards (the enforcer caches them by identity)
    yield current
    current.roles.clear()
    current.roles.update(saved)


def without(statements: list[dict[str, Any]], action: str, table: str) -> list[dict[str, Any]]:
    """The statements with `action` on `table` taken out (the rest of each statement kept)."""
    kept = []
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement.get("Resource") == {"Fn::GetAtt": [table, "Arn"]} and action in actions:
            rest = [a for a in actions if a != action]
            if rest:
                kept.append({**statement, "Action": rest})
            continue
        kept.append(statement)
    return kept


def test_a_permission_removed_from_the_template_fails_the_handler_with_access_denied(
    aws: None, enforcer: iam.Enforcer, caplog: pytest.LogCaptureFixture
) -> None:
    assert sign_up("before@example.com").status == 201
    enforcer.roles["SignUpFunction"] = without(enforcer.roles["SignUpFunction"], "dynamodb:PutItem", "EventsTable")
    answer = sign_up("after@example.com")
    assert answer.status == 500 and answer.message == "Internal error"  # the handler's error path, as in AWS
    logged = caplog.text
    assert "AccessDeniedException" in logged
    assert f"is not authorized to perform: dynamodb:PutItem on resource: {TABLE.format('EventsTable')}" in logged


@pytest.mark.parametrize(
    ("function", "need", "allowed"),
    [
        ("SignUpFunction", Need("dynamodb:PutItem", (TABLE.format("UsersTable"),)), True),
        ("SignUpFunction", Need("dynamodb:DeleteItem", (TABLE.format("UsersTable"),)), False),
        ("GetUserFunction", Need("dynamodb:PutItem", (TABLE.format("EventsTable"),)), False),
        # dynamodb:LeadingKeys: the verify page may use verification tokens, not reset tokens
        (
            "VerifyPageFunction",
            Need("dynamodb:DeleteItem", (TABLE.format("TokensTable"),), {"dynamodb:LeadingKeys": ["verify#ab"]}),
            True,
        ),
        (
            "VerifyPageFunction",
            Need("dynamodb:DeleteItem", (TABLE.format("TokensTable"),), {"dynamodb:LeadingKeys": ["reset#ab"]}),
            False,
        ),
        # the key policy: only the mail function decrypts, with the tokens' encryption context
        (
            "AutomationFunction",
            Need("kms:Decrypt", ("KEY",), {"kms:EncryptionContext:purpose": ["ums-reset-token"]}),
            True,
        ),
        ("AutomationFunction", Need("kms:Decrypt", ("KEY",), {"kms:EncryptionContext:purpose": ["other"]}), False),
        (
            "ApplyResetFunction",
            Need("kms:Decrypt", ("KEY",), {"kms:EncryptionContext:purpose": ["ums-reset-token"]}),
            False,
        ),
        (
            "RequestResetFunction",
            Need("kms:Encrypt", ("KEY",), {"kms:EncryptionContext:purpose": ["ums-reset-token"]}),
            True,
        ),
        (
            "GetUserFunction",
            Need("kms:Encrypt", ("KEY",), {"kms:EncryptionContext:purpose": ["ums-reset-token"]}),
            False,
        ),
    ],
)
def test_what_each_function_may_do(aws: None, enforcer: iam.Enforcer, function: str, need: Need, allowed: bool) -> None:
    if need.resources == ("KEY",):
        key = str(STACK.resolve({"Fn::GetAtt": ["TokenKey", "Arn"]}))
        need = Need(need.action, (key,), need.context)
    assert enforcer.allows(function, need) is allowed


def test_a_call_names_what_aws_would_check() -> None:
    put = {"TableName": "ums-local-TokensTable", "Item": {"pk": {"S": "verify#x"}}}
    assert iam.needs(STACK, "dynamodb", "PutItem", put) == [
        Need("dynamodb:PutItem", (TABLE.format("TokensTable"),), {"dynamodb:LeadingKeys": ["verify#x"]})
    ]
    transaction = {
        "TransactItems": [
            {"Put": {"TableName": "ums-local-EventsTable", "Item": {"pk": {"S": "e"}}}},
            {"ConditionCheck": {"TableName": "ums-local-UsersTable", "Key": {"pk": {"S": "u"}}}},
        ]
    }
    assert [n.action for n in iam.needs(STACK, "dynamodb", "TransactWriteItems", transaction)] == [
        "dynamodb:PutItem",
        "dynamodb:ConditionCheckItem",
    ]
    mail = {"FromEmailAddress": "Shop <no-reply@example.com>", "ConfigurationSetName": "cs"}
    assert [n.resources for n in iam.needs(STACK, "ses", "SendEmail", mail)] == [
        (
            "arn:aws:ses:us-east-1:123456789012:identity/no-reply@example.com",
            "arn:aws:ses:us-east-1:123456789012:identity/example.com",
        ),
        ("arn:aws:ses:us-east-1:123456789012:configuration-set/cs",),
    ]
    queue = {"QueueUrl": "http://sqs.local/123456789012/ums-local-AutomationFailures", "Entries": []}
    assert iam.needs(STACK, "sqs", "ChangeMessageVisibilityBatch", queue) == [  # a batch needs its single action
        Need("sqs:ChangeMessageVisibility", ("arn:aws:sqs:us-east-1:123456789012:ums-local-AutomationFailures",))
    ]
    stream = "arn:aws:dynamodb:us-east-1:123456789012:table/ums-local-EventsTable/stream/2026"
    assert iam.needs(STACK, "dynamodb", "GetShardIterator", {"StreamArn": stream, "ShardId": "s"}) == [
        Need("dynamodb:GetShardIterator", (stream,))
    ]


def test_the_report_lists_each_grant_and_whether_a_test_used_it(tmp_path: Path) -> None:
    used = {"GetUserFunction": [["dynamodb:GetItem", TABLE.format("UsersTable")]]}
    (tmp_path / "usage-1.json").write_text(json.dumps(used))
    lines = iam.report(Stack(), tmp_path)
    get_user = lines[lines.index("GetUserFunction") + 1 :]
    get_user = get_user[: next(i for i, line in enumerate(get_user) if not line.startswith("  "))]
    assert any(
        "dynamodb:GetItem" in line and "table/ums-local-UsersTable " in line and line.endswith(" used")
        for line in get_user
    )
    assert any(line.endswith("NOT USED by any test") for line in get_user)  # e.g. its secret, unread here
    assert lines[-1].endswith('on Resource "*"') and " grants, " in lines[-1]
