"""Each function's IAM policy, enforced on the AWS calls its handler makes.

moto does not enforce IAM, so a permission missing from `template.yaml` would pass every local
run and fail in AWS. Here the template is expanded by the SAM translator, as CloudFormation
gets it, into each function's role statements (inline statements, policy templates, the
template's managed policies) and the KMS key's policy; a botocore hook then checks every AWS
call made while a handler runs (`make dev`, `make invoke`, the tests) and refuses what the
function may not do with the AccessDeniedException AWS would send, naming the action and the
resource, so the handler takes its normal error path.

Evaluated: actions and resources with wildcards, and the conditions the template uses
(`dynamodb:LeadingKeys`, `kms:EncryptionContext:*`; a condition on any other key counts as met).
A KMS call is allowed by the key policy naming the function's role, or by the key policy naming
the account together with the role's statements, as in AWS. Not modelled: explicit denies (the
template has none), boundaries and organisation policies, and calls made from threads a handler
starts without its context (a thread run in `contextvars.copy_context()`, as the users scan's
are, is checked). The calls each function made are kept (`used`) for the IAM report.
"""

from __future__ import annotations

import atexit
import contextvars
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import botocore.handlers
from botocore.exceptions import ClientError

from local_stack.template import ACCOUNT_ID, Stack, translated

ANY_RESOURCE = "*"
_acting_as: contextvars.ContextVar[str | None] = contextvars.ContextVar("acting_as", default=None)


@dataclass(frozen=True)
class Need:
    """One permission a call needs: `action` on any one of `resources`, in `context`."""

    action: str
    resources: tuple[str, ...]
    context: dict[str, list[str]] = field(default_factory=dict, hash=False)


@dataclass
class Enforcer:
    stack: Stack
    roles: dict[str, list[dict[str, Any]]]  # function -> its role's statements, unresolved
    key_policies: dict[str, list[dict[str, Any]]]  # KMS key logical id -> its policy's statements
    used: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # function -> (action, resource)
    _cache: dict[tuple[int, tuple[Any, ...]], list[dict[str, Any]]] = field(default_factory=dict, repr=False)

    def check(self, function: str, service: str, operation: str, params: dict[str, Any]) -> None:
        for need in needs(self.stack, service, operation, params):
            self.used.setdefault(function, set()).add((need.action, self.named(need.resources[0])))
            if not self.allows(function, need):
                resource = need.resources[0]
                message = (
                    f"User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/{function}Role/{function} is not authorized "
                    f"to perform: {need.action} on resource: {resource} because no identity-based policy "
                    f"allows the {need.action} action (template.yaml, {function})"
                )
                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": message}}, operation)

    def allows(self, function: str, need: Need) -> bool:
        identity = any(_allows(s, need) for s in self._resolved(self.roles.get(function, [])))
        if not need.action.startswith("kms:"):
            return identity
        role_arn = str(self.stack.resolve({"Fn::GetAtt": [f"{function}Role", "Arn"]}))
        account = f"arn:aws:iam::{ACCOUNT_ID}:root"
        for statements in self.key_policies.values():
            for statement in self._resolved(statements):
                principals = _list((statement.get("Principal") or {}).get("AWS"))
                if _allows(statement, need) and (role_arn in principals or (account in principals and identity)):
                    return True
        return False

    def named(self, resource: str) -> str:
        """A KMS key's ARN as `key/<logical id>` (its ARN differs with each emulator), else as is."""
        if ":kms:" in resource or resource.startswith("arn:aws:local:"):
            for logical_id in self.key_policies:
                if resource == self.stack.resolve({"Fn::GetAtt": [logical_id, "Arn"]}):
                    return f"key/{logical_id}"
        return resource

    def _resolved(self, statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # Cached per emulator: KMS key ARNs change with each one (every test has its own).
        keys = tuple(str(self.stack.attributes.get(k, {}).get("Arn")) for k in self.key_policies)
        found = self._cache.get((id(statements), keys))
        if found is None:
            found = self._cache[(id(statements), keys)] = self.stack.resolve(statements)  # NoValue drops out
        return found


_enforcer: Enforcer | None = None


def enforce(stack: Stack) -> Enforcer:
    """Turns enforcement on for this process with `stack`'s policies (prepare_process calls it).
    With UMS_IAM_USAGE_DIR set (`make iam-report`), what each function used is written there when
    the process ends."""
    global _enforcer
    _enforcer = Enforcer(stack, *expanded_policies(stack))
    if os.environ.get(USAGE_DIR) and not _usage_registered:
        _register_usage_writer()
    return _enforcer


USAGE_DIR = "UMS_IAM_USAGE_DIR"
_usage_registered = False


def _register_usage_writer() -> None:
    global _usage_registered
    _usage_registered = True

    def write() -> None:
        if _enforcer is None or not _enforcer.used:
            return
        directory = Path(os.environ[USAGE_DIR])
        directory.mkdir(parents=True, exist_ok=True)
        used = {fn: sorted(calls) for fn, calls in _enforcer.used.items()}
        (directory / f"usage-{os.getpid()}.json").write_text(json.dumps(used))

    atexit.register(write)


def current() -> Enforcer | None:
    return _enforcer


@contextmanager
def acting_as(function: str) -> Iterator[None]:
    """The AWS calls made inside are `function`'s (LocalFunction.invoke)."""
    token = _acting_as.set(function)
    try:
        yield
    finally:
        _acting_as.reset(token)


def _check_call(params: dict[str, Any], model: Any, **_: Any) -> None:
    function = _acting_as.get()
    if function is None or _enforcer is None:
        return
    service = model.service_model.signing_name or model.service_model.service_name
    _enforcer.check(function, service, model.name, params)


# Registered before any botocore session exists (this module is imported by local_stack.functions).
botocore.handlers.BUILTIN_HANDLERS.append(("provide-client-params.*.*", _check_call))


# --- the template, expanded ---------------------------------------------------------------------
def expanded_policies(stack: Stack) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """(each function's role statements, each KMS key's policy statements), as the SAM translator
    writes them (intrinsic functions left for `stack.resolve`; a secret's `Ref` is its ARN)."""
    resources = translated(stack.parameters, stack.region)["Resources"]
    secrets = {lid for lid, r in stack.resources.items() if r["Type"] == "AWS::SecretsManager::Secret"}
    secret_arn = f"arn:aws:secretsmanager:{stack.region}:{ACCOUNT_ID}:secret:{{}}"

    def arns(value: Any) -> Any:  # CloudFormation's Ref of a secret is its ARN (locally: its name)
        if isinstance(value, dict):
            if set(value) == {"Ref"} and value["Ref"] in secrets:
                return secret_arn.format(stack.physical_name(value["Ref"]))
            return {k: arns(v) for k, v in value.items()}
        if isinstance(value, list):
            return [arns(v) for v in value]
        return value

    roles: dict[str, list[dict[str, Any]]] = {}
    for logical_id in stack.of_type("AWS::Serverless::Function"):
        role = resources.get(f"{logical_id}Role", {}).get("Properties", {})
        statements = [s for p in role.get("Policies", []) for s in _list(p["PolicyDocument"]["Statement"])]
        for arn in role.get("ManagedPolicyArns", []):
            if isinstance(arn, dict) and "Ref" in arn:  # the template's own managed policies
                document = resources[arn["Ref"]]["Properties"]["PolicyDocument"]
                statements += _list(document["Statement"])
        roles[logical_id] = arns(statements)
    keys = {
        lid: arns(_list(r["Properties"]["KeyPolicy"]["Statement"]))
        for lid, r in stack.resources.items()
        if r["Type"] == "AWS::KMS::Key"
    }
    return roles, keys


# --- what a call needs ----------------------------------------------------------------------------
def needs(stack: Stack, service: str, operation: str, params: dict[str, Any]) -> list[Need]:
    """The permissions AWS checks for one API call, for the services the handlers use; for any
    other, the action on any resource."""
    region, account = stack.region, ACCOUNT_ID
    if service == "sts":
        return []  # GetCallerIdentity needs no permission
    if service == "dynamodb":
        return _dynamodb(stack, operation, params)
    if service == "kms":
        return [Need(f"kms:{operation}", (_kms_key(stack, operation, params),), _encryption_context(params))]
    if service == "secretsmanager":
        name = str(params.get("SecretId") or params.get("Name") or "*")
        arn = name if name.startswith("arn:") else f"arn:aws:secretsmanager:{region}:{account}:secret:{name}"
        return [Need(f"secretsmanager:{operation}", (arn,))]
    if service == "ses":
        identity = f"arn:aws:ses:{region}:{account}:identity/"
        found = []
        sender = params.get("FromEmailAddress") or params.get("EmailIdentity")
        if sender:
            address = re.sub(r"^.*<([^>]*)>.*$", r"\1", str(sender)).strip()
            domain = address.rpartition("@")[2]
            found.append(Need(f"ses:{operation}", (identity + address, identity + domain)))
        if params.get("ConfigurationSetName"):
            found.append(
                Need(
                    f"ses:{operation}",
                    (f"arn:aws:ses:{region}:{account}:configuration-set/{params['ConfigurationSetName']}",),
                )
            )
        return found or [Need(f"ses:{operation}", (ANY_RESOURCE,))]
    if service == "events" and operation == "PutEvents":
        buses = {str(e.get("EventBusName") or "default") for e in params.get("Entries", [])}
        return [
            Need(
                "events:PutEvents", (b if b.startswith("arn:") else f"arn:aws:events:{region}:{account}:event-bus/{b}",)
            )
            for b in sorted(buses)
        ]
    if service == "lambda" and operation == "Invoke":
        return [Need("lambda:InvokeFunction", (str(params.get("FunctionName", "*")),))]
    if service == "sqs":
        name = str(params.get("QueueName") or str(params.get("QueueUrl", "*")).rstrip("/").rpartition("/")[2])
        # SQS authorizes a batch call by its single action (SendMessageBatch needs sqs:SendMessage).
        return [Need(f"sqs:{operation.removesuffix('Batch')}", (f"arn:aws:sqs:{region}:{account}:{name}",))]
    return [Need(f"{service}:{operation}", (ANY_RESOURCE,))]


def _dynamodb(stack: Stack, operation: str, params: dict[str, Any]) -> list[Need]:
    def table(name: str, index: str | None = None) -> str:
        arn = f"arn:aws:dynamodb:{stack.region}:{ACCOUNT_ID}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    def leading(name: str, *items: dict[str, Any]) -> dict[str, list[str]]:
        key = _hash_keys(stack).get(name)
        values = [next(iter(item[key].values())) for item in items if key and isinstance(item.get(key), dict)]
        return {"dynamodb:LeadingKeys": [str(v) for v in values]} if values else {}

    if operation in ("TransactWriteItems", "TransactGetItems"):
        actions = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
            "Get": "GetItem",
        }
        found = []
        for item in params.get("TransactItems", []):
            for kind, request in item.items():
                name = request["TableName"]
                key = request.get("Item") or request.get("Key") or {}
                found.append(Need(f"dynamodb:{actions[kind]}", (table(name),), leading(name, key)))
        return found
    if operation in ("BatchGetItem", "BatchWriteItem"):
        found = []
        for name, request in params.get("RequestItems", {}).items():
            keys = (
                request.get("Keys", [])
                if isinstance(request, dict)
                else [
                    (r.get("PutRequest") or {}).get("Item") or (r.get("DeleteRequest") or {}).get("Key") or {}
                    for r in request
                ]
            )
            found.append(Need(f"dynamodb:{operation}", (table(name),), leading(name, *keys)))
        return found
    if params.get("StreamArn"):  # DynamoDB Streams: GetShardIterator, DescribeStream
        return [Need(f"dynamodb:{operation}", (str(params["StreamArn"]),))]
    name = params.get("TableName")
    if not name:  # GetRecords: the iterator names the stream; the action is what is checked here
        return [Need(f"dynamodb:{operation}", (ANY_RESOURCE,))]
    item = params.get("Key") or params.get("Item")
    context = leading(name, item) if isinstance(item, dict) else _query_leading_key(stack, name, params)
    return [Need(f"dynamodb:{operation}", (table(name, params.get("IndexName")),), context)]


def _query_leading_key(stack: Stack, name: str, params: dict[str, Any]) -> dict[str, list[str]]:
    """A Query's partition key value, from `<key> = :value` in its key condition."""
    if params.get("IndexName") or not params.get("KeyConditionExpression"):
        return {}
    names = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}
    for attribute, value in re.findall(r"([#\w]+)\s*=\s*(:\w+)", params["KeyConditionExpression"]):
        if names.get(attribute, attribute) == _hash_keys(stack).get(name) and value in values:
            return {"dynamodb:LeadingKeys": [str(next(iter(values[value].values())))]}
    return {}


@cache
def _hash_keys(stack: Stack) -> dict[str, str]:
    """Physical table name -> its partition key attribute."""
    return {
        stack.physical_name(lid): next(
            k["AttributeName"] for k in r["Properties"]["KeySchema"] if k["KeyType"] == "HASH"
        )
        for lid, r in stack.of_type("AWS::DynamoDB::Table").items()
    }


def _kms_key(stack: Stack, operation: str, params: dict[str, Any]) -> str:
    """The key ARN a KMS call acts on: an alias is followed, a ciphertext names its key (moto
    puts the key id first)."""
    key = str(params.get("KeyId") or "")
    if not key and operation == "Decrypt":
        key = bytes(params.get("CiphertextBlob") or b"")[:36].decode("ascii", "replace")
    if key.startswith("alias/"):
        for alias in stack.of_type("AWS::KMS::Alias").values():
            props = alias["Properties"]
            if stack.resolve(props["AliasName"]) == key:
                return str(stack.resolve({"Fn::GetAtt": [props["TargetKeyId"]["Ref"], "Arn"]}))
    return key if key.startswith("arn:") else f"arn:aws:kms:{stack.region}:{ACCOUNT_ID}:key/{key}"


def _encryption_context(params: dict[str, Any]) -> dict[str, list[str]]:
    return {f"kms:EncryptionContext:{k}": [str(v)] for k, v in (params.get("EncryptionContext") or {}).items()}


# --- policy evaluation ----------------------------------------------------------------------------
def _allows(statement: dict[str, Any], need: Need) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    if not any(_matches(pattern, need.action, fold=True) for pattern in _list(statement.get("Action"))):
        return False
    patterns = _list(statement.get("Resource"))
    if need.resources != (ANY_RESOURCE,) and not any(_matches(p, r) for p in patterns for r in need.resources):
        return False
    return all(
        _condition(op, key, _list(want), need.context)
        for op, tests in (statement.get("Condition") or {}).items()
        for key, want in tests.items()
    )


def _condition(operator: str, key: str, wanted: list[Any], context: dict[str, list[str]]) -> bool:
    modelled = key == "dynamodb:LeadingKeys" or key.startswith("kms:EncryptionContext:")
    if not modelled:
        return True  # a condition this module does not model counts as met
    qualifier, _, base = operator.rpartition(":")
    like = base in ("StringLike", "StringNotLike")
    values = context.get(key)
    if values is None:
        return qualifier == "ForAllValues"  # AWS: true over no values; a missing key fails the others
    hit = [any(_matches(str(w), v) if like else str(w) == v for w in wanted) for v in values]
    positive = all(hit) if qualifier == "ForAllValues" else any(hit)
    return not positive if base.startswith("StringNot") else positive


def _matches(pattern: str, value: str, fold: bool = False) -> bool:
    if not isinstance(pattern, str):
        return False
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if fold else 0) is not None


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --- the report -----------------------------------------------------------------------------------
def report(stack: Stack, usage_dir: Path) -> list[str]:
    """`make iam-report`: per function, every (action, resource) its policy grants, and whether
    the tests used it (the usage files of UMS_IAM_USAGE_DIR); unused grants and `Resource: "*"`
    are flagged for review."""
    used: dict[str, set[tuple[str, str]]] = {}
    for path in sorted(usage_dir.glob("usage-*.json")):
        for function, calls in json.loads(path.read_text()).items():
            used.setdefault(function, set()).update((a, r) for a, r in calls)
    enforcer = Enforcer(stack, *expanded_policies(stack))
    lines, unused, starred, total = [], 0, 0, 0
    for function in sorted(enforcer.roles):
        role_arn = str(stack.resolve({"Fn::GetAtt": [f"{function}Role", "Arn"]}))
        statements = enforcer._resolved(enforcer.roles[function]) + [
            s
            for policy in enforcer.key_policies.values()
            for s in enforcer._resolved(policy)
            if role_arn in _list((s.get("Principal") or {}).get("AWS"))
        ]
        lines.append(function)
        for statement in statements:
            for action in _list(statement.get("Action")):
                for resource in map(enforcer.named, _list(statement.get("Resource"))):
                    total += 1
                    hit = any(
                        _matches(action, a, fold=True) and (r == ANY_RESOURCE or _matches(resource, r))
                        for a, r in used.get(function, ())
                    )
                    flags = [] if hit else ["NOT USED by any test"]
                    if resource == "*":
                        flags.append('Resource "*"')
                    unused += not hit
                    starred += resource == "*"
                    shown = re.sub(r"^arn:aws:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:", "", resource)
                    lines.append(f"  {action:<34} {shown:<60} {'; '.join(flags) or 'used'}")
    lines.append(f'{total} grants, {unused} not used by any test, {starred} on Resource "*"')
    return lines
