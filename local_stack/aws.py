"""AWS underneath the local stack: moto's server on loopback, and the resources of
`template.yaml` created in it (or in an in-process `mock_aws`, for the integration tests)."""

from __future__ import annotations

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

from local_stack.template import Stack

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


class SerializedApp:
    """Runs moto's WSGI app one request at a time.

    moto's backends are not thread-safe (a failed transaction restores a deep copy of the whole
    table, undoing writes made meanwhile); DynamoDB is. Serializing requests keeps every call
    atomic, as it is in AWS, while the handlers above still run concurrently.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            return list(self._app(environ, start_response))


class MotoServer:
    """moto's server in a thread of this process, on a free loopback port."""

    def __init__(self) -> None:
        from moto.server import DomainDispatcherApplication, create_backend_app

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per emulator call
        app = SerializedApp(DomainDispatcherApplication(create_backend_app))
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
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


def create_resources(stack: Stack) -> None:
    """Creates the template's tables and secrets through the current AWS endpoint."""
    dynamodb = boto3.client("dynamodb", region_name=stack.region)
    for logical_id, resource in stack.of_type("AWS::DynamoDB::Table").items():
        _create_table(dynamodb, stack, logical_id, stack.resolve(resource["Properties"]))
    secretsmanager = boto3.client("secretsmanager", region_name=stack.region)
    for logical_id, resource in stack.of_type("AWS::SecretsManager::Secret").items():
        props = stack.resolve(resource["Properties"])
        secretsmanager.create_secret(
            Name=stack.physical_name(logical_id),
            Description=props.get("Description", ""),
            SecretString=props.get("SecretString") or _generate_secret(props["GenerateSecretString"]),
        )


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
