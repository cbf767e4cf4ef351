"""AWS underneath the local stack: moto's server on loopback, and the resources of
`template.yaml` created in it (or in an in-process `mock_aws`, for the integration tests)."""

from __future__ import annotations

import contextvars
import copy
import io
import json
import logging
import os
import secrets
import string
import threading
from collections.abc import Callable, Iterable
from typing import Any

import boto3
from werkzeug.serving import BaseWSGIServer, make_server

from local_stack.custom_resources import run_custom_resources
from local_stack.functions import LocalFunction
from local_stack.template import Stack

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


SES_SEND_EMAIL_PATH = "/v2/email/outbound-emails"


class SerializedApp:
    """Runs moto's WSGI app one request at a time, and shows successful SES v2 SendEmail
    requests to `on_mail`.

    moto's backends are not thread-safe (a failed transaction puts back what it found, undoing
    writes made meanwhile); DynamoDB is. Serializing requests keeps every call
    atomic, as it is in AWS, while the handlers above still run concurrently.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], on_mail: Callable[[bytes], None] | None) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._on_mail = on_mail

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        tapped = (
            self._on_mail is not None
            and environ.get("REQUEST_METHOD") == "POST"
            and environ.get("PATH_INFO") == SES_SEND_EMAIL_PATH
        )
        if not tapped:
            with self._lock:
                return list(self._app(environ, start_response))
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        status: list[str] = []

        def recording_start_response(code: str, headers: Any, *args: Any) -> Any:
            status.append(code)
            return start_response(code, headers, *args)

        with self._lock:
            answer = list(self._app(environ, recording_start_response))
        if status and status[0].startswith("200") and self._on_mail:
            self._on_mail(body)
        return answer


def prepare_in_process_moto() -> None:
    """The same for an in-process `mock_aws` (the integration tests, the bench): moto's stubber
    answers one request at a time, so calls from threads (the users scan, the import's parallel
    writes, two concurrent imports) stay atomic; and transactions are undo-logged. Idempotent."""
    from moto.core.botocore_stubber import BotocoreStubber

    undo_log_transactions()
    if getattr(BotocoreStubber.process_request, "serialized", False):
        return
    lock = threading.RLock()
    process = BotocoreStubber.process_request

    def serialized(self: BotocoreStubber, request: Any) -> Any:
        with lock:
            return process(self, request)

    serialized.serialized = True  # type: ignore[attr-defined]
    BotocoreStubber.process_request = serialized  # type: ignore[method-assign]


def undo_log_transactions() -> None:
    """Makes moto's TransactWriteItems cost what its items cost, not what its tables hold.

    moto backs a transaction up by deep-copying every table it names, once per item, so the
    local stack slowed as tables grew (a 3-item transaction took ~0.1 s at 1,000 users, seconds
    at 10,000) and a long bench ran out of memory. Here the backup is an undo log instead: the
    items the transaction names, as they were, and each table's stream length, restored if the
    transaction fails. What a caller sees is unchanged. Needs serialized requests (as both the
    server and `prepare_in_process_moto` give). Idempotent."""
    from moto.dynamodb import models
    from moto.dynamodb.exceptions import MockValidationException
    from moto.dynamodb.models.table import Table

    if getattr(models.DynamoDBBackend.transact_write_items, "undo_logged", False):
        return
    in_transaction: contextvars.ContextVar[bool] = contextvars.ContextVar("in_transaction", default=False)

    class TableCopies:
        """moto's `copy` module, except that a table is not copied while a transaction runs:
        its "backup" is the table itself, and putting it back changes nothing."""

        def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
            if in_transaction.get() and isinstance(value, Table):
                return value
            return copy.deepcopy(value, memo)

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

    def undo_log(backend: Any, transact_items: list[dict[str, Any]]) -> Callable[[], None]:
        saved: list[tuple[Any, Any, Any, Any]] = []  # (table, hash key, range key, item as it was)
        streams: dict[str, tuple[Any, int]] = {}
        for entry in transact_items:
            for op in entry.values():
                table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
                if table is None:
                    continue
                if table.stream_shard is not None:
                    streams.setdefault(table.name, (table.stream_shard, len(table.stream_shard.items)))
                try:
                    key = op.get("Key") or {
                        name: op["Item"][name] for name in (table.hash_key_attr, table.range_key_attr) if name
                    }
                    hash_key, range_key = backend.get_keys_value(table, key)
                    current = table.get_item(hash_key, range_key)
                except (KeyError, TypeError, AttributeError, MockValidationException):
                    continue  # an item moto cannot key is never written
                saved.append((table, hash_key, range_key, copy.deepcopy(current)))

        def undo() -> None:
            for table, hash_key, range_key, item in reversed(saved):  # the first save is the original
                bucket, key = (table.items[hash_key], range_key) if range_key else (table.items, hash_key)
                if item is None:
                    bucket.pop(key, None)
                else:
                    bucket[key] = item
            for shard, length in streams.values():
                del shard.items[length:]

        return undo

    transact = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        undo = undo_log(self, transact_items)
        token = in_transaction.set(True)
        try:
            transact(self, transact_items)
        except Exception:
            undo()
            raise
        finally:
            in_transaction.reset(token)

    transact_write_items.undo_logged = True  # type: ignore[attr-defined]
    models.copy = TableCopies()  # type: ignore[attr-defined,assignment]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


class MotoServer:
    """moto's server in a thread of this process, on a loopback port (0: a free one)."""

    def __init__(self, on_mail: Callable[[bytes], None] | None = None, port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per emulator call
        undo_log_transactions()
        app = SerializedApp(DomainDispatcherApplication(create_backend_app), on_mail)
        self._server: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True)
        self.endpoint = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    def start(self) -> MotoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def use_endpoint(endpoint: str | None, region: str) -> None:
    """Points every AWS client of this process (boto3 and PynamoDB alike) at `endpoint`."""
    os.environ.update(CREDENTIALS)
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
    if endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
    # moto 5.2 with a recent botocore: DynamoDB Streams fail unless this is disabled.
    os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"


def rule_queue_name(rule_name: str) -> str:
    """The SQS queue the local stack puts behind an EventBridge rule (moto cannot invoke Lambda)."""
    return f"{rule_name}-target"[-80:]


def create_resources(stack: Stack, functions: dict[str, LocalFunction]) -> None:
    """Creates the template's resources through the current AWS endpoint: tables, secrets, the
    KMS key and alias, event bus, queues (dead-letter queues included), SES configuration set and
    identity, and each EventBridge rule with a queue as its target (the local stack hands what
    arrives there to the rule's function).

    Last, the custom resources run (`functions` are the stack's; `stack.custom_properties`
    replace resolved properties: the local stack's issuer is its own base URL).

    Not created: IAM (moto does not enforce it; `local_stack.iam` checks each function's calls
    against its policy and the key policy instead), log groups and alarms (functions log to the
    console locally), and queue policies."""
    region = stack.region
    dynamodb = boto3.client("dynamodb", region_name=region)
    for logical_id, resource in stack.of_type("AWS::DynamoDB::Table").items():
        _create_table(dynamodb, stack, logical_id, stack.resolve(resource["Properties"]))
    secretsmanager = boto3.client("secretsmanager", region_name=region)
    for logical_id, resource in stack.of_type("AWS::SecretsManager::Secret").items():
        props = stack.resolve(resource["Properties"])
        value = props.get("SecretString") or (
            _generate_secret(props["GenerateSecretString"]) if "GenerateSecretString" in props else None
        )
        name = props.get("Name") or stack.physical_name(logical_id)
        args: dict[str, Any] = {"Name": name, "Description": props.get("Description", "")}
        if value is not None:  # none: an empty secret, as in AWS
            args["SecretString"] = value
        secretsmanager.create_secret(**args)
    kms = boto3.client("kms", region_name=region)
    key_ids = {}
    for logical_id, resource in stack.of_type("AWS::KMS::Key").items():
        metadata = kms.create_key(Description=resource["Properties"].get("Description", ""))["KeyMetadata"]
        key_ids[logical_id] = metadata["KeyId"]
        stack.attributes[logical_id] = {"Arn": metadata["Arn"], "KeyId": metadata["KeyId"]}  # `!GetAtt <key>.Arn`
    for resource in stack.of_type("AWS::KMS::Alias").values():
        props = resource["Properties"]
        kms.create_alias(AliasName=stack.resolve(props["AliasName"]), TargetKeyId=key_ids[props["TargetKeyId"]["Ref"]])
    events = boto3.client("events", region_name=region)
    for resource in stack.of_type("AWS::Events::EventBus").values():
        events.create_event_bus(Name=stack.resolve(resource["Properties"]["Name"]))
    sqs = boto3.client("sqs", region_name=region)
    for logical_id in stack.of_type("AWS::SQS::Queue"):
        sqs.create_queue(QueueName=stack.physical_name(logical_id))
    sesv2 = boto3.client("sesv2", region_name=region)
    for resource in stack.of_type("AWS::SES::ConfigurationSet").values():
        sesv2.create_configuration_set(ConfigurationSetName=stack.resolve(resource["Properties"]["Name"]))
    for resource in stack.of_type("AWS::SES::EmailIdentity").values():
        props = stack.resolve(resource["Properties"])
        default_set = props.get("ConfigurationSetAttributes", {}).get("ConfigurationSetName")
        sesv2.create_email_identity(
            EmailIdentity=props["EmailIdentity"], **({"ConfigurationSetName": default_set} if default_set else {})
        )
    for spec in stack.functions():
        for rule in spec.rules:
            queue_url = sqs.create_queue(QueueName=rule_queue_name(rule["name"]))["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            events.put_rule(Name=rule["name"], EventBusName=rule["bus"], EventPattern=json.dumps(rule["pattern"]))
            events.put_targets(
                Rule=rule["name"], EventBusName=rule["bus"], Targets=[{"Id": "function", "Arn": queue_arn}]
            )
    run_custom_resources(stack, functions)


def _create_table(client: Any, stack: Stack, logical_id: str, props: dict[str, Any]) -> None:
    name = stack.physical_name(logical_id)
    args: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if args["BillingMode"] == "PROVISIONED":
        args["ProvisionedThroughput"] = props["ProvisionedThroughput"]
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"):
        if key in props:
            args[key] = props[key]
    if "StreamSpecification" in args:
        args["StreamSpecification"] = {"StreamEnabled": True, **args["StreamSpecification"]}
    client.create_table(**args)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)


def _generate_secret(spec: dict[str, Any]) -> str:
    """What Secrets Manager's GenerateSecretString makes of the template's settings."""

    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    alphabet = "".join(c for c in alphabet if c not in spec.get("ExcludeCharacters", ""))
    value = "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))
    key = spec.get("GenerateStringKey")
    if not key:
        return value
    document = json.loads(spec.get("SecretStringTemplate", "{}"))
    document[key] = value
    return json.dumps(document)
