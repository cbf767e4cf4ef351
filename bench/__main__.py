"""`make bench [QUICK=1]`: measures 1, 2, 3 and 6 of spec/performance.md; see bench/results.json."""

from __future__ import annotations

import argparse
import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.cost import cost
from bench.measures import (
    AwsCalls,
    artifact_sizes,
    cold_init,
    handler_overhead,
    mail_latency,
    refusal_timing,
    revocation_cost,
    round_trips,
    running_local_stack,
    throughput,
    users_select,
)

RESULTS = Path(__file__).resolve().parent / "results.json"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few repetitions: keeps the bench from rotting in CI")
    args = parser.parse_args()
    runs, iterations, mails, crowd, load_seconds = (3, 5, 5, 1000, 2.0) if args.quick else (9, 41, 50, 10_000, 20.0)

    counter = AwsCalls()  # before any AWS client exists
    from moto import mock_aws

    from bench.workload import Client
    from local_stack.aws import create_resources, use_endpoint
    from local_stack.functions import prepare_process
    from local_stack.template import Stack

    stack = Stack()
    use_endpoint(None, stack.region)
    functions = prepare_process(stack)
    results: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "quick": args.quick,
    }
    print("1. cold init (import of the handler / import boto3 + client, fresh processes)")
    results["cold_init"] = cold_init(stack, runs)
    with mock_aws():
        create_resources(stack)
        client = Client(functions)
        print("2. DynamoDB round trips per operation")
        results["dynamodb_round_trips"] = round_trips(client, counter)
        print("3. handler overhead (handler / the same DynamoDB calls made directly; fixed-cost hasher)")
        results["handler_overhead"] = _with_fixed_cost_hasher(lambda: handler_overhead(client, counter, iterations))
        print("sign-in refusals: real account (wrong password) vs unknown email (real Argon2)")
        results["sign_in_refusals"] = refusal_timing(client, counter, iterations)
        print("revocation cost (the user item every authenticated request reads)")
        results["revocation_cost"] = revocation_cost()
        print(f"users select over {crowd} users (DynamoDB calls, items read)")
        results["users_select"] = users_select(client, counter, crowd)
    with running_local_stack() as base:
        print("4. mail latency (local stack: 202 of a reset request to the mail in /_local/mail)")
        results["mail_latency"] = mail_latency(base, mails)
        print(f"5. throughput ({load_seconds:g} s each, 8 concurrent clients)")
        results["throughput"] = throughput(base, load_seconds)
    print("7. cost (from measures 1-3 and the dated prices in bench/prices.json)")
    results["cost"] = cost(results)
    print("6. artifact size (after make build)")
    results["artifact_size"] = artifact_sizes(stack)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"\nwritten to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")


def _with_fixed_cost_hasher(measure: Any) -> Any:
    """Password hashing is excluded from measure 3: swap in the cheapest Argon2 for its duration."""
    from argon2 import PasswordHasher
    from ums import passwords

    original = passwords._hasher
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    passwords._hasher = lambda: cheap  # type: ignore[assignment]
    passwords._dummy_hash.cache_clear()
    try:
        return measure()
    finally:
        passwords._hasher = original
        passwords._dummy_hash.cache_clear()


def print_table(results: dict[str, Any]) -> None:
    def table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
        print(f"\n{title}")
        widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns]
        print("  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
        for row in rows:
            print("  " + "  ".join(str(row.get(c, "")).ljust(w) for c, w in zip(columns, widths, strict=True)))

    table("1. cold init (target ratio <= 1.5)", results["cold_init"], ["function", "import_ms", "baseline_ms", "ratio"])
    worst = max((r for r in results["cold_init"] if r["api"]), key=lambda r: r["ratio"])
    print(f"  worst API function: {worst['function']} {worst['ratio']}")
    table("2. DynamoDB round trips", results["dynamodb_round_trips"], ["operation", "calls", "target", "api"])
    table(
        "3. handler overhead (target ratio <= 1.3)",
        results["handler_overhead"],
        ["operation", "handler_ms", "direct_ms", "ratio"],
    )
    table(
        "sign-in refusals: known email + wrong password vs unknown email (same status, calls and hashing)",
        [results["sign_in_refusals"]],
        ["iterations", "known_ms", "unknown_ms", "ratio", "same_calls", "known_calls"],
    )
    table(
        "revocation cost (revoked sessions ride on the user item: no extra call)",
        results["revocation_cost"],
        ["revoked_sessions", "user_item_bytes", "read_units", "get_user_calls"],
    )
    table(
        "4. mail latency (target p95 <= 1000 ms)", [results["mail_latency"]], ["requests", "p50_ms", "p95_ms", "max_ms"]
    )
    table(
        "5. throughput and errors (target: 0 errors)",
        results["throughput"],
        ["operation", "clients", "seconds", "requests", "errors", "per_second"],
    )
    table("7. cost (target: >= 50x cheaper than Cognito Essentials per MAU)", [results["cost"]], list(results["cost"]))
    table(
        "users select (GET /ums/users)",
        results["users_select"],
        ["select", "users", "matched", "dynamodb_calls", "items_read", "ms", "api"],
    )
    table("6. artifact size", results["artifact_size"], ["artifact", "bytes", "target", "boto_bundled"])


if __name__ == "__main__":
    main()
