"""`make invoke` and `sam local invoke` see the same thing: every file in events/ has the shape
its trigger delivers (API Gateway payload 2.0, a DynamoDB stream batch, an EventBridge event its
rule matches, a scheduled event), and a function runs with the handler path, code and
environment template.yaml gives it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from local_stack.template import ROOT, FunctionSpec, Stack

EVENTS = sorted((ROOT / "events").glob("*.json"))
NOT_HTTP = {  # event file -> the function its trigger invokes
    "automation_stream.json": "AutomationFunction",
    "reset_message.json": "ResetMessageFunction",
    "signing_keys_rotation.json": "SigningKeysFunction",
}
# The example API's function is only in the stack with ExampleApi=true.
SPECS = {spec.logical_id: spec for spec in Stack({"ExampleApi": "true"}).functions()}


def function_of(path: Path, event: dict[str, Any]) -> FunctionSpec:
    if path.name in NOT_HTTP:
        return SPECS[NOT_HTTP[path.name]]
    method, _, route = str(event.get("routeKey", "")).partition(" ")
    found = [s for s in SPECS.values() for r in s.routes if (r.method, r.path) in ((method, route), ("ANY", route))]
    assert len(found) == 1, f"{path.name}: routeKey {event.get('routeKey')!r} is no route of template.yaml"
    return found[0]


@pytest.mark.parametrize("path", EVENTS, ids=lambda p: p.name)
def test_every_event_file_has_its_triggers_shape(path: Path) -> None:
    event = json.loads(path.read_text())
    spec = function_of(path, event)
    if spec.routes:  # API Gateway HTTP API, payload format 2.0
        assert event["version"] == "2.0" and isinstance(event["headers"], dict)
        http = event["requestContext"]["http"]
        method, _, route = event["routeKey"].partition(" ")
        assert method in (http["method"], "ANY") and event["rawPath"] == http["path"] and "sourceIp" in http
        assert event["requestContext"]["routeKey"] == event["routeKey"] and event["requestContext"]["requestId"]
        assert isinstance(event["isBase64Encoded"], bool) and isinstance(event.get("rawQueryString", ""), str)
        for name in re.findall(r"\{(\w+)\+?\}", route):  # what the route's {parameters} take
            assert name in event.get("pathParameters", {}), name
    elif spec.stream_sources:  # a DynamoDB stream batch
        assert event["Records"] and all(
            r["eventSource"] == "aws:dynamodb" and "dynamodb" in r for r in event["Records"]
        )
        assert all(r["eventName"] in ("INSERT", "MODIFY", "REMOVE") for r in event["Records"])
    elif spec.rules:  # an EventBridge event the function's rule matches
        assert {"version", "id", "detail-type", "source", "account", "time", "region", "detail"} <= set(event)
        assert any(
            all(event.get(key) in values for key, values in rule["pattern"].items() if key in ("source", "detail-type"))
            for rule in spec.rules
        )
    else:  # a scheduled event
        assert spec.schedules and event["source"] == "aws.events" and event["detail-type"] == "Scheduled Event"


def test_every_function_runs_its_templates_code_handler_and_environment() -> None:
    stack = Stack({"ExampleApi": "true"})
    template = stack.template
    handler = template["Globals"]["Function"]["Handler"]
    for logical_id, spec in SPECS.items():
        props = template["Resources"][logical_id]["Properties"]
        assert spec.handler == props.get("Handler", handler) == "app.handler"
        assert spec.code_uri == ROOT / props["CodeUri"] and (spec.code_uri / "app.py").is_file()
        declared = {
            **template["Globals"]["Function"]["Environment"]["Variables"],
            **props.get("Environment", {}).get("Variables", {}),
        }
        assert set(spec.environment) == set(declared), logical_id


def test_no_variable_has_two_values_across_functions() -> None:
    """The local stack runs every function in one process with their variables merged: that is
    the deployed environment only if no two functions give one variable different values."""
    values: dict[str, set[str]] = {}
    for spec in SPECS.values():
        for name, value in spec.environment.items():
            values.setdefault(name, set()).add(value)
    assert {name: found for name, found in values.items() if len(found) > 1} == {}
