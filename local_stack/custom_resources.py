"""Runs the template's custom resources as CloudFormation would on a stack's creation: a Create
request to the function named by `ServiceToken`, whose answer arrives as a PUT to `ResponseURL`
(a one-request HTTP server here). A FAILED answer, or none, stops the local stack's start."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from local_stack.functions import LocalFunction
from local_stack.template import ACCOUNT_ID, Stack

CUSTOM_TYPES = ("AWS::CloudFormation::CustomResource",)


class CustomResourceFailed(RuntimeError):
    pass


def custom_resources(stack: Stack) -> dict[str, dict[str, Any]]:
    return {
        lid: r for lid, r in stack.resources.items() if r["Type"] in CUSTOM_TYPES or r["Type"].startswith("Custom::")
    }


def run_custom_resources(stack: Stack, functions: dict[str, LocalFunction]) -> dict[str, dict[str, Any]]:
    """Creates every custom resource; `stack.custom_properties` replace resolved ones (the local
    issuer: the template's is the deployed API's URL). Returns each resource's `Data`."""
    data = {}
    for logical_id, resource in custom_resources(stack).items():
        target = resource["Properties"]["ServiceToken"]["Fn::GetAtt"]  # !GetAtt <Function>.Arn
        function_id = target[0] if isinstance(target, list) else target.split(".")[0]
        resolved = {**stack.resolve(resource["Properties"]), **stack.custom_properties}
        answer = _create(stack, logical_id, resource["Type"], resolved, functions[function_id])
        if answer.get("Status") != "SUCCESS":
            raise CustomResourceFailed(f"{logical_id}: {answer.get('Reason', 'no reason given')}")
        data[logical_id] = answer.get("Data") or {}
        stack.attributes[logical_id] = data[logical_id]  # for `!GetAtt <resource>.<attribute>`
    return data


def _create(
    stack: Stack, logical_id: str, resource_type: str, properties: dict[str, Any], function: LocalFunction
) -> dict[str, Any]:
    answers: list[dict[str, Any]] = []

    class Catcher(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            answers.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0")))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Catcher)
    thread = threading.Thread(target=server.handle_request, name="cfn-response", daemon=True)
    thread.start()
    stack_id = f"arn:aws:cloudformation:{stack.region}:{ACCOUNT_ID}:stack/{stack.name}/local"
    event = {
        "RequestType": "Create",
        "ServiceToken": properties["ServiceToken"],
        "ResponseURL": f"http://127.0.0.1:{server.server_port}/{logical_id}",
        "StackId": stack_id,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "ResourceProperties": properties,
    }
    try:
        function.invoke(event)
        thread.join(timeout=10)
    finally:
        server.server_close()
    return answers[0] if answers else {"Status": "FAILED", "Reason": "no answer on ResponseURL"}
