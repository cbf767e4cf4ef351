"""Least privilege and operations, read from `template.yaml` itself (as a reviewer would)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from samtranslator.policy_template_processor.processor import PolicyTemplatesProcessor

from local_stack.template import Stack

TEMPLATE = Stack().template
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
FUNCTIONS = {lid: r for lid, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
DATA_TABLES = ("UsersTable", "ConfigTable", "EventsTable")  # what a user (or an auditor) would miss
DYNAMODB_WRITES = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
}
# SAM's policy templates (`DynamoDBReadPolicy: {...}`), as the transform expands them.
POLICY_TEMPLATES = PolicyTemplatesProcessor.get_default_policy_templates_json()["Templates"]


def _statements(value: Any) -> Iterator[dict[str, Any]]:
    """Statements of a policy document or a list of them; both branches of an `Fn::If`."""
    if isinstance(value, list):
        for item in value:
            yield from _statements(item)
    elif isinstance(value, dict) and "Fn::If" in value:
        yield from _statements(value["Fn::If"][1:])
    elif isinstance(value, dict) and "Effect" in value:
        yield value
    elif isinstance(value, dict) and "Statement" in value:
        yield from _statements(value["Statement"])


def _actions(value: Any) -> set[str]:
    return {value} if isinstance(value, str) else set(value)


def grants(function: str) -> list[tuple[set[str], str]]:
    """(actions, resource as the template writes it) for every Allow of `function`'s policies."""
    found = []
    for policy in FUNCTIONS[function]["Properties"].get("Policies", []):
        if isinstance(policy, dict) and list(policy) == ["Ref"]:  # the stack's own managed policy
            managed = RESOURCES[policy["Ref"]]
            assert managed["Type"] == "AWS::IAM::ManagedPolicy", f"{function}: {policy!r}"
            policy = managed["Properties"]["PolicyDocument"]
        elif isinstance(policy, dict) and len(policy) == 1 and next(iter(policy)) in POLICY_TEMPLATES:
            name, argument = next(iter(policy.items()))
            for statement in POLICY_TEMPLATES[name]["Definition"]["Statement"]:
                found.append((_actions(statement["Action"]), json.dumps(argument)))
            continue
        statements = list(_statements(policy))
        assert statements, f"{function}: a policy this test cannot read: {policy!r}"
        for statement in statements:
            if statement["Effect"] == "Allow":
                found.append((_actions(statement["Action"]), json.dumps(statement.get("Resource"))))
    return found


def actions_on(function: str, logical_id: str) -> set[str]:
    """Every action `function` may take on the resource `logical_id` (or an index of it)."""
    return {
        a
        for actions, resource in grants(function)
        for a in actions
        if f'"{logical_id}' in resource or f"{{{logical_id}." in resource
    }


def test_the_mail_rendering_function_cannot_write_users_or_tokens() -> None:
    assert actions_on("AutomationFunction", "UsersTable") == set()
    assert actions_on("AutomationFunction", "TokensTable") == set()
    assert not any(
        a.startswith("dynamodb:") and resource == '"*"'
        for actions, resource in grants("AutomationFunction")
        for a in actions
    )


def test_only_the_management_and_signing_key_functions_may_write_the_signing_keys() -> None:
    """A function that can write the secret can sign any token: rotation is the operator's
    (ManagementFunction, IAM-signed) and the custom resource's and schedule's (SigningKeysFunction)."""
    writers = {f for f in FUNCTIONS if actions_on(f, "JwtSigningKey") - {"secretsmanager:GetSecretValue"}}
    assert writers == {"ManagementFunction", "SigningKeysFunction"}
    assert actions_on("ManagementFunction", "JwtSigningKey") == {
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
    }


def test_the_bus_reset_path_is_a_separate_function_with_the_writes() -> None:
    assert actions_on("ResetMessageFunction", "UsersTable") & DYNAMODB_WRITES == {"dynamodb:UpdateItem"}
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem"} <= actions_on("ResetMessageFunction", "TokensTable")
    events = FUNCTIONS["ResetMessageFunction"]["Properties"]["Events"]
    assert [e["Type"] for e in events.values()] == ["EventBridgeRule"]
    assert [e["Type"] for e in FUNCTIONS["AutomationFunction"]["Properties"]["Events"].values()] == ["DynamoDB"]


def test_sign_in_cannot_delete_users_and_deletes_only_its_counters_and_oauth_states() -> None:
    """Sign-in writes users only to upgrade a hash or (POST /auth with method oauth, through
    OAuthCallbackPolicy) to create or link one; it deletes nothing but its own failure counters
    and the OAuth state a callback uses up."""
    assert actions_on("SignInFunction", "UsersTable") == {
        "dynamodb:Query",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    }
    every_action = {a for actions, _ in grants("SignInFunction") for a in actions}
    assert "dynamodb:BatchWriteItem" not in every_action  # its DeleteRequest deletes too
    assert not any(a.endswith("*") for a in every_action)
    policies = [
        RESOURCES[p["Ref"]]["Properties"]["PolicyDocument"] if isinstance(p, dict) and list(p) == ["Ref"] else p
        for p in FUNCTIONS["SignInFunction"]["Properties"]["Policies"]
    ]
    deleting = [s for policy in policies for s in _statements(policy) if "dynamodb:DeleteItem" in _actions(s["Action"])]
    assert [s["Resource"] for s in deleting] == [{"Fn::GetAtt": ["TokensTable", "Arn"]}] * 2
    assert [s["Condition"] for s in deleting] == [
        {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["limit#signin*"]}},
        {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["oauth-state#*"]}},
    ]
    assert [_actions(s["Action"]) for s in deleting] == [
        {"dynamodb:DeleteItem"},
        {"dynamodb:GetItem", "dynamodb:DeleteItem"},
    ]


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_no_function_uses_wildcard_dynamodb_actions_or_resources(function: str) -> None:
    for actions, resource in grants(function):
        assert not any(a in ("dynamodb:*", "*") for a in actions), function
        if any(a.startswith("dynamodb:") for a in actions):
            assert resource != '"*"', function


def test_only_the_mail_function_may_decrypt_reset_tokens() -> None:
    for function in FUNCTIONS:
        assert not any("kms:Decrypt" in actions for actions, _ in grants(function)), function
    statements = RESOURCES["TokenKey"]["Properties"]["KeyPolicy"]["Statement"]
    decrypting = [
        s
        for s in statements
        if any(a in ("kms:*", "kms:Decrypt", "kms:CreateGrant") or a.endswith("*") for a in _actions(s["Action"]))
    ]
    assert [s["Principal"] for s in decrypting] == [{"AWS": {"Fn::GetAtt": ["AutomationFunctionRole", "Arn"]}}]
    assert _actions(decrypting[0]["Action"]) == {"kms:Decrypt"}


def test_the_key_policy_limits_encryption_to_the_reset_token_context() -> None:
    statements = RESOURCES["TokenKey"]["Properties"]["KeyPolicy"]["Statement"]
    for statement in statements:
        if {"kms:Encrypt", "kms:Decrypt"} & _actions(statement["Action"]):
            condition = statement["Condition"]["StringEquals"]
            assert condition == {"kms:EncryptionContext:purpose": "ums-reset-token"}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_ses_send_is_scoped_to_the_stack_identities(function: str) -> None:
    for actions, resource in grants(function):
        if any(a.startswith("ses:") for a in actions):
            assert resource != '"*"' and "identity/*" not in resource, (function, resource)
            assert ("identity/${MailSender}" in resource and "MailConfigurationSet" in resource) or (
                resource == '{"Ref": "MailIdentityArns"}'
            ), (function, resource)


@pytest.mark.parametrize("table", DATA_TABLES)
def test_data_tables_are_retained_with_point_in_time_recovery(table: str) -> None:
    resource = RESOURCES[table]
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"
    assert resource["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_every_function_logs_to_a_group_with_the_retention_parameter() -> None:
    for function, resource in FUNCTIONS.items():
        group = resource["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert RESOURCES[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, function
    access_logs = RESOURCES["HttpApi"]["Properties"]["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    assert RESOURCES[access_logs]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_the_bus_rule_has_a_dead_letter_queue_and_alarms_notify_only_when_a_topic_is_given() -> None:
    rule = FUNCTIONS["ResetMessageFunction"]["Properties"]["Events"]["QuicksilverPasswordReset"]["Properties"]
    assert rule["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["ResetMessageFailures", "Arn"]}
    alarms = {lid: r for lid, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    watched = json.dumps(alarms)
    for metric in ("ApproximateNumberOfMessagesVisible", "5xx", "Errors", "Throttles", "FailedInvocations"):
        assert f'"{metric}"' in watched, metric
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == {
            "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
        }
    assert Stack().condition("HasAlarmTopic") is False
    assert Stack({"AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:ops"}).condition("HasAlarmTopic") is True


def test_the_expensive_public_routes_have_their_own_throttles() -> None:
    settings = RESOURCES["HttpApi"]["Properties"]["RouteSettings"]
    for route in (
        "POST /auth",
        "POST /ums/signup",
        "POST /ums/resetpassword",
        "POST /user/password",
        "POST /notifications/customers/reset",
        "PATCH /accounts/customers/{customerId}",
    ):
        default = RESOURCES["HttpApi"]["Properties"]["DefaultRouteSettings"]
        assert settings[route]["ThrottlingRateLimit"] < default["ThrottlingRateLimit"], route


RESET_ISSUERS = (
    "RequestResetFunction",
    "QuicksilverResetFunction",
    "CustomerResetRequestFunction",
    "ResetMessageFunction",
)


def test_the_reset_issuing_functions_share_one_managed_policy() -> None:
    holders = {f for f, r in FUNCTIONS.items() if {"Ref": "ResetRequestPolicy"} in r["Properties"].get("Policies", [])}
    assert holders == set(RESET_ISSUERS)
    assert RESOURCES["ResetRequestPolicy"]["Type"] == "AWS::IAM::ManagedPolicy"
    for function in RESET_ISSUERS:
        # (and PutItem for the reset request's lazy migration: a user the legacy store vouches for)
        migrates = {"dynamodb:PutItem"} if function == "RequestResetFunction" else set()
        assert actions_on(function, "UsersTable") & DYNAMODB_WRITES == {"dynamodb:UpdateItem"} | migrates, function
        assert actions_on(function, "TokensTable") == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
        assert actions_on(function, "EventsTable") == {"dynamodb:PutItem"}, function
        assert actions_on(function, "TokenKey") == {"kms:Encrypt"}, function
        # Nothing the managed policy grants is granted a second time by the function itself.
        own = [p for p in FUNCTIONS[function]["Properties"]["Policies"] if p != {"Ref": "ResetRequestPolicy"}]
        assert not any("KMSEncryptPolicy" in p for p in own), function
        assert '"TokensTable"' not in json.dumps(own) and '"EventsTable"' not in json.dumps(own), function
