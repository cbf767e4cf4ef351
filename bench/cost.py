"""Measure 7: dollars per million sign-ins and per monthly active user, from the measured
handler times (measure 3), the real Argon2 cost, the DynamoDB units each operation uses
(measure 2) and the dated prices in bench/prices.json, beside Cognito's per-MAU prices."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

PRICES = Path(__file__).resolve().parent / "prices.json"


def _argon2_seconds() -> float:
    from ums import passwords

    encoded = passwords.hash_password("correct horse battery staple")
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        passwords.verify_password(encoded, "correct horse battery staple")
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def per_request(operation: str, handler_ms: float, prices: dict[str, Any], hashing_s: float) -> float:
    """Dollars for one request of `operation`."""
    seconds = (handler_ms / 1000 + (hashing_s if operation == "sign-in" else 0)) * prices["lambda_time_factor"]
    gb_seconds = max(seconds, 0.001) * prices["memory_mb"][operation] / 1024
    units = prices["dynamodb_units"][operation]
    return float(  # prices.json's numbers are Any to mypy
        prices["http_api_per_million_requests"] / 1e6
        + prices["lambda_per_million_requests"] / 1e6
        + gb_seconds * prices["lambda_arm64_per_gb_second"]
        + units["read"] * prices["dynamodb_per_million_read_units"] / 1e6
        + units["write"] * prices["dynamodb_per_million_write_units"] / 1e6
        + prices["log_bytes_per_request"] / 1e9 * prices["cloudwatch_logs_per_gb_ingested"]
    )


def cost(results: dict[str, Any]) -> dict[str, Any]:
    prices = json.loads(PRICES.read_text())
    handler_ms = {row["operation"]: row["handler_ms"] for row in results["handler_overhead"]}
    hashing = _argon2_seconds()
    each = {op: per_request(op, handler_ms[op], prices, hashing) for op in prices["requests_per_mau"]}
    per_mau = sum(count * each[op] for op, count in prices["requests_per_mau"].items())
    return {
        "prices_as_of": prices["as_of"],
        "per_million_sign_ins": round(each["sign-in"] * 1e6, 2),
        "per_mau": round(per_mau, 6),
        "cognito_essentials_per_mau": prices["cognito_essentials_per_mau"],
        "times_cheaper_than_essentials": round(prices["cognito_essentials_per_mau"] / per_mau, 1),
        "times_cheaper_than_lite": round(prices["cognito_lite_per_mau"] / per_mau, 1),
        "argon2_ms": round(hashing * 1000, 1),
        "target": ">= 50x cheaper than Essentials",
    }
