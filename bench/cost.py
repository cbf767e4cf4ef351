"""Measure 7: dollars per million sign-ins and per monthly active user (MAU), beside Cognito's
per-MAU prices and beside the floor that the request prices alone set.

Per request: API Gateway and Lambda request prices; Lambda GB-seconds from the modelled duration
(bench/sizing.py: measured handler CPU, assumed AWS call latencies) at the memory size that
template.yaml gives the function; the DynamoDB units of the operation (measure 2, priced in
bench/prices.json); the bytes logged (the function's lines as measured, Lambda's START/END/REPORT
lines when the function's LoggingConfig lets them through, the API access log line of template.yaml's
format); X-Ray traces at the sampled fraction, for a function whose template `Tracing` is Active.
Every assumption is in bench/prices.json and printed with the figure."""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.sizing import duration_ms

if TYPE_CHECKING:
    from local_stack.template import Stack

PRICES = Path(__file__).resolve().parent / "prices.json"

# What Lambda writes per invocation in the Text log format with active tracing (the shape AWS
# documents; ids and numbers of typical length).
PLATFORM_LINES = [
    "START RequestId: 6bc28136-2d4e-4365-b021-0ce6b2e64ab0 Version: $LATEST",
    "END RequestId: 6bc28136-2d4e-4365-b021-0ce6b2e64ab0",
    "REPORT RequestId: 6bc28136-2d4e-4365-b021-0ce6b2e64ab0\tDuration: 21.53 ms\tBilled Duration: 22 ms\t"
    "Memory Size: 256 MB\tMax Memory Used: 94 MB\t\nXRAY TraceId: 1-6741f0c5-5c1e2e3f4a5b6c7d8e9f0a1b\t"
    "SegmentId: 07f5d1e22d1f6f85\tSampled: true\t",
]
# Typical values of the $context variables of the access log format.
ACCESS_LOG_VALUES = {
    "requestId": "Jb0j8hK6IAMEV8A=",
    "identity.sourceIp": "203.0.113.54",
    "requestTime": "23/Nov/2026:22:03:33 +0000",
    "routeKey": "GET /ums/user",
    "status": "200",
    "responseLatency": "24",
    "integrationStatus": "200",
    "integrationErrorMessage": "-",
    "responseLength": "412",
}


def platform_log_bytes() -> int:
    return sum(len(line.encode()) + 1 for line in PLATFORM_LINES)


def logging_config(template: dict[str, Any], function: str) -> dict[str, Any]:
    """The function's LoggingConfig as the SAM transform makes it: Globals' merged with its own."""
    globals_ = template.get("Globals", {}).get("Function", {}).get("LoggingConfig", {})
    own = template["Resources"][function]["Properties"].get("LoggingConfig", {})
    return {**globals_, **own}


def platform_lines_emitted(template: dict[str, Any], function: str) -> bool:
    """Whether Lambda writes its START/END/REPORT lines to the function's log group: always in the
    Text format; in JSON only when SystemLogLevel is INFO (the default) or DEBUG, not WARN."""
    config = logging_config(template, function)
    if config.get("LogFormat", "Text") != "JSON":
        return True
    return bool(config.get("SystemLogLevel", "INFO") != "WARN")


def traced(stack: Stack, function: str) -> bool:
    """Whether the function records X-Ray traces: its `Tracing` (or Globals'), parameters resolved."""
    globals_ = stack.template.get("Globals", {}).get("Function", {})
    own = stack.template["Resources"][function]["Properties"]
    return bool(stack.resolve(own.get("Tracing", globals_.get("Tracing", "PassThrough"))) == "Active")


def access_log_bytes(template: dict[str, Any]) -> int:
    """Bytes of one access log line in template.yaml's format with typical values."""
    api = template["Resources"]["HttpApi"]["Properties"]
    line = re.sub(
        r"\$context\.([A-Za-z.]+)", lambda m: ACCESS_LOG_VALUES[m.group(1)], api["AccessLogSettings"]["Format"]
    )
    return len(line.replace("\n", "").encode()) + 1


def _argon2_seconds() -> float:
    from ums import passwords

    encoded = passwords.hash_password("correct horse battery staple")
    times = []
    for _ in range(5):
        t0 = time.thread_time()
        passwords.verify_password(encoded, "correct horse battery staple")
        times.append(time.thread_time() - t0)
    return statistics.median(times)


def per_request(
    operation: str, prices: dict[str, Any], duration: float, memory_mb: int, log_bytes: int, tracing: bool
) -> dict[str, float]:
    """Dollars for one request of `operation`, by component."""
    billed_ms = -(-duration // 1)  # Lambda bills whole milliseconds
    units = prices["dynamodb_units"][operation]
    return {
        "requests": (prices["http_api_per_million_requests"] + prices["lambda_per_million_requests"]) / 1e6,
        "lambda_compute": billed_ms / 1000 * memory_mb / 1024 * prices["lambda_arm64_per_gb_second"],
        "dynamodb": (
            units["read"] * prices["dynamodb_per_million_read_units"]
            + units["write"] * prices["dynamodb_per_million_write_units"]
        )
        / 1e6,
        "logs": log_bytes / 1e9 * prices["cloudwatch_logs_per_gb_ingested"],
        "xray": prices["xray_sampled_fraction"] * prices["xray_per_million_traces_recorded"] / 1e6 if tracing else 0.0,
    }


def cost(results: dict[str, Any]) -> dict[str, Any]:
    from local_stack.template import Stack

    prices = json.loads(PRICES.read_text())
    model = prices["lambda_model"]
    stack = Stack()
    memory = {spec.logical_id: spec.memory_mb for spec in stack.functions()}
    cpu = {row["operation"]: row for row in results["handler_cpu"]}
    logged = {row["operation"]: row["bytes"] for row in results["log_bytes"]}
    hashing_ms = _argon2_seconds() * 1000
    each: dict[str, dict[str, float]] = {}
    operations = []
    for op, count in prices["requests_per_mau"].items():
        function = prices["functions"][op]
        platform = platform_log_bytes() if platform_lines_emitted(stack.template, function) else 0
        fixed_log_bytes = platform + access_log_bytes(stack.template)
        row = cpu[op]
        cpu_ms = row["cpu_ms"] + (hashing_ms if op == "sign-in" else 0)
        duration = duration_ms(cpu_ms, row["aws_calls"], memory[function], model)
        each[op] = per_request(
            op, prices, duration, memory[function], logged[op] + fixed_log_bytes, traced(stack, function)
        )
        units = prices["dynamodb_units"][op]
        operations.append(
            f"{op} x{count}: {function} {memory[function]} MB, {duration:.0f} ms modelled "
            f"(cpu {cpu_ms:.1f} ms, calls {', '.join(row['aws_calls'])}), "
            f"logs {logged[op]} + {fixed_log_bytes} B, DynamoDB {units['read']} RRU / {units['write']} WRU"
        )
    components = {
        name: sum(count * each[op][name] for op, count in prices["requests_per_mau"].items())
        for name in next(iter(each.values()))
    }
    per_mau = sum(components.values())
    floor = components["requests"]
    requests = sum(prices["requests_per_mau"].values())
    functions = sorted({prices["functions"][op] for op in prices["requests_per_mau"]})
    essentials = prices["cognito_essentials_per_mau"]
    return {
        "prices_as_of": prices["as_of"],
        "per_million_sign_ins": round(sum(each["sign-in"].values()) * 1e6, 2),
        "per_mau": round(per_mau, 7),
        "times_cheaper_than_essentials": round(essentials / per_mau, 1),
        "times_cheaper_than_lite": round(prices["cognito_lite_per_mau"] / per_mau, 1),
        "floor_times_cheaper_than_essentials": round(essentials / floor, 1),
        "share_of_floor": round(floor / per_mau, 2),
        "per_mau_by_component": {name: round(value, 8) for name, value in components.items()},
        "target": ">= 50x cheaper than Essentials (spec); >= 280x (issue 8)",
        "assumptions": [*_assumptions(prices, requests, hashing_ms, stack, functions), *operations],
    }


def _assumptions(
    prices: dict[str, Any], requests: int, hashing_ms: float, stack: Stack, functions: list[str]
) -> list[str]:
    p, model, template = prices, prices["lambda_model"], stack.template
    tracing = [f for f in functions if traced(stack, f)]
    emitting = [f for f in functions if platform_lines_emitted(template, f)]
    platform = (
        f"Lambda's START/END/REPORT {platform_log_bytes()} B ({', '.join(emitting)})"
        if emitting
        else "no START/END/REPORT lines (template.yaml: LogFormat JSON, SystemLogLevel WARN)"
    )
    per_request = p["http_api_per_million_requests"] + p["lambda_per_million_requests"]
    return [
        f"{requests} requests per MAU: " + ", ".join(f"{c} {op}" for op, c in p["requests_per_mau"].items()),
        f"prices {p['region']} as of {p['as_of']}, no free tier: HTTP API ${p['http_api_per_million_requests']}/M, "
        f"Lambda ${p['lambda_per_million_requests']}/M + ${p['lambda_arm64_per_gb_second']}/GB-s (arm64), "
        f"DynamoDB ${p['dynamodb_per_million_read_units']}/M RRU + ${p['dynamodb_per_million_write_units']}/M WRU, "
        f"logs ${p['cloudwatch_logs_per_gb_ingested']}/GB ingested, "
        f"X-Ray ${p['xray_per_million_traces_recorded']}/M traces x {p['xray_sampled_fraction']:.0%} sampled "
        + (f"({', '.join(tracing)})" if tracing else "(no function traced: template.yaml Tracing PassThrough)"),
        f"floor: the request prices alone, {requests} x ${per_request:.2f}/M",
        f"Lambda duration = cpu x {model['cpu_speed']} x max(1, {model['full_vcpu_mb']} MB / memory) "
        f"+ AWS call latencies (assumed, ms) {model['aws_call_ms']}; Argon2id {hashing_ms:.1f} ms cpu per sign-in",
        f"logs per request: the function's lines measured at INFO + {platform} "
        f"+ one API access log line {access_log_bytes(template)} B",
    ]
