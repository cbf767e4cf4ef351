"""Each measure returns rows for the table and results.json. Times are ratios against a
baseline measured in the same run, or counts: these machines are shared and noisy."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import botocore.handlers

from bench.workload import Client, operations
from local_stack.functions import LAYER_PATH
from local_stack.template import ROOT, Stack

DYNAMODB_TARGETS = {
    "sign-up": 1,
    "sign-in": 2,
    "get user": 1,
    "refresh": 2,
    "change password": 3,
    "reset request": 2,
    "reset apply": 3,
}


class DynamoDBCalls:
    """Counts (and records) every DynamoDB API call of this process through a botocore hook
    registered before any client exists, so PynamoDB's clients and boto3's alike are seen."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        botocore.handlers.BUILTIN_HANDLERS.append(("provide-client-params.dynamodb.*", self._record))

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, json.loads(json.dumps(params, default=str))))


# --- 1. cold init ------------------------------------------------------------------------------
_IMPORT_HANDLER = """
import sys, time
sys.path[:0] = [{layer!r}, {code!r}]
start = time.perf_counter()
import app
print(time.perf_counter() - start)
"""
_BASELINE = """
import time
start = time.perf_counter()
import boto3
boto3.client("dynamodb")
print(time.perf_counter() - start)
"""


def _fresh_process_seconds(code: str, env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd="/")
    return float(out.stdout.strip().splitlines()[-1])


def cold_init(stack: Stack, runs: int) -> list[dict[str, Any]]:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "PYTHONPATH"))}
    baseline = statistics.median(_fresh_process_seconds(_BASELINE, base_env) for _ in range(runs))
    rows = []
    for spec in stack.functions():
        env = {**base_env, **spec.environment}
        code = _IMPORT_HANDLER.format(layer=str(LAYER_PATH), code=str(spec.code_uri))
        seconds = statistics.median(_fresh_process_seconds(code, env) for _ in range(runs))
        rows.append(
            {
                "function": spec.logical_id,
                "import_ms": round(seconds * 1000, 1),
                "baseline_ms": round(baseline * 1000, 1),
                "ratio": round(seconds / baseline, 2),
                "target": 1.5,
            }
        )
    return rows


# --- 2. DynamoDB round trips -----------------------------------------------------------------
def round_trips(client: Client, counter: DynamoDBCalls) -> list[dict[str, Any]]:
    rows = []
    for name, (prepare, operation, expected) in operations(client).items():
        prepare()
        start = len(counter.calls)
        status, _ = operation()
        calls = counter.calls[start:]
        assert status == expected, f"{name} answered {status}"
        rows.append(
            {
                "operation": name,
                "calls": len(calls),
                "api": [op for op, _ in calls],
                "target": DYNAMODB_TARGETS.get(name),
            }
        )
    return rows


# --- 3. handler overhead ---------------------------------------------------------------------
def handler_overhead(client: Client, counter: DynamoDBCalls, iterations: int) -> list[dict[str, Any]]:
    import boto3

    dynamodb = boto3.client("dynamodb")
    rows = []
    for name, (prepare, operation, expected) in operations(client).items():
        handler_times, direct_times = [], []
        for _ in range(iterations):
            prepare()
            start = len(counter.calls)
            t0 = time.perf_counter()
            status, _ = operation()
            handler_times.append(time.perf_counter() - t0)
            assert status == expected, f"{name} answered {status}"
            calls = counter.calls[start:]
            # The same calls made directly, their conditions made to hold so they do the same work.
            replay = [(getattr(dynamodb, botocore.xform_name(api)), _conditions_hold(params)) for api, params in calls]
            t0 = time.perf_counter()
            for method, params in replay:
                method(**params)
            direct_times.append(time.perf_counter() - t0)
        handler, direct = statistics.median(handler_times), statistics.median(direct_times)
        rows.append(
            {
                "operation": name,
                "handler_ms": round(handler * 1000, 2),
                "direct_ms": round(direct * 1000, 2),
                "ratio": round(handler / direct, 2),
                "target": 1.3,
            }
        )
    return rows


def _conditions_hold(params: dict[str, Any]) -> dict[str, Any]:
    """`params` with every ConditionExpression widened to always hold (same placeholders, so the
    emulator evaluates it the same way): a replayed write then writes instead of failing early."""
    params = json.loads(json.dumps(params))
    targets = [params] + [item for entry in params.get("TransactItems", []) for item in entry.values()]
    for target in targets:
        if "ConditionExpression" in target:
            # No parentheses (DynamoDB refuses redundant ones); OR binds loosest, so this always holds.
            condition = target["ConditionExpression"]
            target["ConditionExpression"] = f"{condition} OR attribute_exists(#replay) OR attribute_not_exists(#replay)"
            target.setdefault("ExpressionAttributeNames", {})["#replay"] = "pk"
    return params


# --- 6. artifact size --------------------------------------------------------------------------
def artifact_sizes(stack: Stack) -> list[dict[str, Any]]:
    build = ROOT / ".aws-sam" / "build"
    if not build.is_dir():
        return [{"artifact": "(run `make build` first)", "bytes": None, "target": None}]

    def size(path: Path) -> int:
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())

    rows = []
    for spec in stack.functions():
        rows.append({"artifact": spec.logical_id, "bytes": size(build / spec.logical_id), "target": 50 * 1024})
    layer = build / "UmsLayer"
    bundled = [p.name for p in (layer / "python").glob("boto*")] if layer.is_dir() else []
    rows.append({"artifact": "UmsLayer", "bytes": size(layer), "target": 15 * 1024 * 1024, "boto_bundled": bundled})
    return rows
