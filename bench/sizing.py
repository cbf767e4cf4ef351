"""What a request costs on Lambda besides its AWS calls: the handler's own CPU time (measured
with the AWS answers replayed, so the emulator's work is not counted), the memory size that
time asks for, and the bytes it logs. Measure 7 (bench/cost.py) prices these.

CPU time on Lambda: below 1,769 MB a function gets `memory / 1769` of one vCPU, so CPU-bound
work takes `cpu x 1769 / memory`; time spent waiting on DynamoDB does not shrink with memory.
Lambda cannot be measured from here, so the model is

    duration(memory) = cpu_ms x cpu_speed x max(1, 1769 / memory) + sum(aws_call_ms)

with `cpu_ms` measured on this machine (thread CPU time of a warm request against replayed
AWS answers), and `cpu_speed` (a Lambda vCPU against this machine's core) and the per-call
latencies taken from bench/prices.json: they are assumptions, printed with the figure.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import botocore.handlers
from botocore.awsrequest import AWSResponse, HTTPHeaders

from bench.workload import Client, operations
from local_stack.functions import LAYER_PATH
from local_stack.template import Stack

# The non-hashing API functions whose operations the bench drives, and which operations.
SIZED_OPERATIONS = {
    "GetUserFunction": ["get user", "get user (revoked session)"],
    "RefreshTokenFunction": ["refresh", "refresh (late reuse: revokes)"],
    "RequestResetFunction": ["reset request"],
}
# Operations whose log lines measure 7 counts (the MAU mix), and a refusal of each kind.
LOGGED_OPERATIONS = [
    "sign-in",
    "refresh",
    "get user",
    "sign-in (wrong password)",
    "get user (revoked session)",
    "refresh (late reuse: revokes)",
    "sign-up",
    "change password",
    "reset request",
]
# What the Lambda runtime sets for an invocation X-Ray does not record: every one with the stack's
# default Tracing (PassThrough), 95% with Active. The lines then carry no trace id
# (ums.observability.SampledTraceFormatter); the 5% that do add 52 B each, left out of measure 7.
TRACE_HEADER = "Root=1-6741f0c5-5c1e2e3f4a5b6c7d8e9f0a1b;Parent=53995c3f42cd8ad8;Sampled=0"


class Replayer:
    """Records the raw HTTP answers of the AWS calls an operation makes, then answers the same
    calls with them without the emulator: what is left to time is the handler's and botocore's
    own work, which is what runs on Lambda. Registered (like bench.measures.AwsCalls) before
    any AWS client exists, and first, so its answer is the one botocore keeps."""

    def __init__(self) -> None:
        self.recording: list[tuple[str, int, dict[str, str], bytes]] | None = None
        self.calls: list[str] = []  # `service:Operation` of each recorded answer
        self.replaying: Iterator[tuple[str, int, dict[str, str], bytes]] | None = None
        botocore.handlers.BUILTIN_HANDLERS.insert(0, ("before-send", self._answer))
        botocore.handlers.BUILTIN_HANDLERS.append(("after-call.*.*", self._record))

    def _answer(self, request: Any, **_: Any) -> AWSResponse | None:
        if self.replaying is None:
            return None
        from moto.core.botocore_stubber import MockRawResponse

        url, status, headers, body = next(self.replaying)
        return AWSResponse(url, status, HTTPHeaders.from_dict(headers), MockRawResponse(body))

    def _record(self, http_response: Any, model: Any, **_: Any) -> None:
        if self.recording is not None and self.replaying is None:
            headers = dict(http_response.headers.items())
            self.recording.append((http_response.url, http_response.status_code, headers, http_response.content))
            self.calls.append(f"{model.service_model.service_name}:{model.name}")

    @contextlib.contextmanager
    def record(self) -> Iterator[list[tuple[str, int, dict[str, str], bytes]]]:
        self.recording, self.calls = [], []
        try:
            yield self.recording
        finally:
            self.recording = None

    @contextlib.contextmanager
    def replay(self, answers: list[tuple[str, int, dict[str, str], bytes]]) -> Iterator[None]:
        from moto.core.models import botocore_stubber

        # botocore runs every before-send handler and keeps the first answer: switch moto's off.
        enabled, botocore_stubber.enabled = botocore_stubber.enabled, False
        self.replaying = iter(answers)
        try:
            yield
        finally:
            botocore_stubber.enabled = enabled
            left = list(self.replaying)
            self.replaying = None
            assert not left, f"{len(left)} recorded answers were not asked for again"


def handler_cpu(
    client: Client, replayer: Replayer, pause: Callable[[bool], None], iterations: int
) -> list[dict[str, Any]]:
    """Per operation: median thread CPU time of the warm handler with its AWS answers replayed,
    and the AWS calls it makes (service and operation, in order)."""
    rows = []
    ops = operations(client)
    for name, (prepare, operation, expected) in ops.items():
        prepare()
        operation()  # warm: the first call of a kind may fill a cache (the signing key, say)
        prepare()
        with replayer.record() as answers:
            status, _ = operation()
        assert status == expected, f"{name} answered {status}"
        calls = list(replayer.calls)
        times = []
        pause(True)
        try:
            for _ in range(iterations):
                with replayer.replay(answers):
                    t0 = time.thread_time()
                    status, _ = operation()
                    times.append(time.thread_time() - t0)
                assert status == expected, f"{name} replayed answered {status}"
        finally:
            pause(False)
        rows.append({"operation": name, "cpu_ms": round(statistics.median(times) * 1000, 2), "aws_calls": calls})
    return rows


def log_bytes(client: Client) -> list[dict[str, Any]]:
    """Per operation: the bytes the function writes to its log group at the template's log level
    (the Logger's JSON lines and the metrics' EMF lines), as Lambda would ingest them."""
    from ums.observability import logger

    ops = operations(client)
    rows = []
    os.environ["_X_AMZN_TRACE_ID"] = TRACE_HEADER
    try:
        for name in LOGGED_OPERATIONS:
            prepare, operation, expected = ops[name]
            prepare()
            captured = io.StringIO()
            handler = logging.StreamHandler(captured)
            handler.setFormatter(logger.registered_formatter)
            service = logging.getLogger(logger.name)  # the Logger's own std logger
            service.addHandler(handler)
            stdout = io.StringIO()
            try:
                with contextlib.redirect_stdout(stdout):  # the metrics' EMF lines are printed
                    status, _ = operation()
            finally:
                service.removeHandler(handler)
            assert status == expected, f"{name} answered {status}"
            lines = captured.getvalue().splitlines() + [
                line for line in stdout.getvalue().splitlines() if line.startswith("{")
            ]
            rows.append(
                {
                    "operation": name,
                    "lines": len(lines),
                    "bytes": sum(len(line.encode()) + 1 for line in lines),
                    "messages": [_message(line) for line in lines],
                }
            )
    finally:
        del os.environ["_X_AMZN_TRACE_ID"]
    return rows


def _message(line: str) -> str:
    record = json.loads(line)
    return str(record.get("message", "EMF metrics" if "_aws" in record else "?"))


# --- memory ------------------------------------------------------------------------------------
# VmHWM, not ru_maxrss: a child's ru_maxrss starts from its parent's peak at fork (the bench's).
_RSS = """
import sys
sys.path[:0] = [{layer!r}, {code!r}]
import app
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def resident_mb(stack: Stack, functions: list[str]) -> dict[str, float]:
    """Peak resident memory of a fresh process that imports each handler (layer on sys.path,
    env as in template.yaml): the floor under any memory size."""
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "PYTHONPATH"))}
    sizes = {}
    for spec in stack.functions():
        if spec.logical_id not in functions:
            continue
        code = _RSS.format(layer=str(LAYER_PATH), code=str(spec.code_uri))
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={**base_env, **spec.environment},
            capture_output=True,
            text=True,
            check=True,
            cwd="/",
        )
        sizes[spec.logical_id] = round(int(out.stdout.strip().splitlines()[-1]) / 1024, 1)
    return sizes


def duration_ms(cpu_ms: float, aws_calls: list[str], memory_mb: int, model: dict[str, Any]) -> float:
    """Modelled Lambda duration of a warm request (see the module docstring)."""
    share = max(1.0, model["full_vcpu_mb"] / memory_mb)
    waiting = sum(model["aws_call_ms"].get(call, model["aws_call_ms"]["default"]) for call in aws_calls)
    return float(cpu_ms * model["cpu_speed"] * share + waiting)  # the model's numbers are JSON (Any)


def smallest_memory(cpu_rows: list[dict[str, Any]], today_mb: int, model: dict[str, Any]) -> int:
    """The smallest size (Lambda's 1 MB steps, shown rounded up to 16 MB) whose modelled duration
    stays within `model["slack"]` of today's for every operation of the function."""
    for memory in range(model["minimum_mb"], today_mb + 1, 16):
        if all(
            duration_ms(r["cpu_ms"], r["aws_calls"], memory, model)
            <= (1 + model["slack"]) * duration_ms(r["cpu_ms"], r["aws_calls"], today_mb, model)
            for r in cpu_rows
        ):
            return memory
    return today_mb


def memory_sizing(
    stack: Stack, cpu: list[dict[str, Any]], model: dict[str, Any], today: dict[str, int]
) -> list[dict[str, Any]]:
    """Per sized function: its operations' CPU time, today's size and the smallest within slack."""
    by_operation = {row["operation"]: row for row in cpu}
    resident = resident_mb(stack, list(SIZED_OPERATIONS))
    rows = []
    for function, names in SIZED_OPERATIONS.items():
        mine = [by_operation[n] for n in names]
        chosen = smallest_memory(mine, today[function], model)
        chosen = max(chosen, _at_least(resident[function], model))
        rows.append(
            {
                "function": function,
                "operations": names,
                "cpu_ms": [r["cpu_ms"] for r in mine],
                "resident_mb": resident[function],
                "today_mb": today[function],
                "today_ms": [round(duration_ms(r["cpu_ms"], r["aws_calls"], today[function], model), 1) for r in mine],
                "smallest_mb": chosen,
                "smallest_ms": [round(duration_ms(r["cpu_ms"], r["aws_calls"], chosen, model), 1) for r in mine],
            }
        )
    return rows


def _at_least(resident: float, model: dict[str, Any]) -> int:
    """The smallest 16 MB step that holds the imported handler plus the runtime's headroom."""
    need = resident + model["runtime_headroom_mb"]
    return max(int(model["minimum_mb"]), int(-(-need // 16) * 16))


def template_memory(stack: Stack) -> dict[str, int]:
    """Each function's MemorySize as template.yaml resolves it (Globals, overrides, parameters)."""
    return {spec.logical_id: spec.memory_mb for spec in stack.functions()}
