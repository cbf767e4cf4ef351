"""`make bench [QUICK=1]`: the measures of spec/performance.md; see bench/results.json.
`python -m bench --cost` runs only what measure 7 needs (handler CPU, log bytes, memory sizing);
`python -m bench --only 1,3` runs only those measures. A partial run updates its measures in
bench/results.json and appends when it ran, and the machine's load, to `partial_runs`."""

from __future__ import annotations

import argparse
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from bench.cost import cost
from bench.measures import (
    AwsCalls,
    artifact_sizes,
    cold_init,
    handler_overhead,
    import_calls,
    mail_latency,
    refusal_timing,
    revocation_cost,
    round_trips,
    running_local_stack,
    throughput,
    users_import,
    users_select,
)
from bench.sizing import Replayer, handler_cpu, log_bytes, memory_sizing

RESULTS = Path(__file__).resolve().parent / "results.json"


MEASURES = {1, 2, 3, 4, 5, 6, 7, 8}  # 8: users at scale (select over many users, import)


def _measures(text: str) -> set[int]:
    chosen = {int(part) for part in text.replace(",", " ").split()}
    if not chosen or not chosen <= MEASURES:
        raise argparse.ArgumentTypeError(f"measures are numbers among {sorted(MEASURES)}, e.g. 1,3")
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few repetitions: keeps the bench from rotting in CI")
    parser.add_argument("--cost", action="store_true", help="only measure 7 and what it needs; updates results.json")
    parser.add_argument(
        "--only",
        type=_measures,
        metavar="1,2,3",
        help="only these measures (the unnumbered ones run in a full run only); updates results.json",
    )
    parser.add_argument("--iterations", type=int, help="repetitions of measure 3 and of measure 7's CPU (default 41)")
    args = parser.parse_args()
    runs, iterations, mails, crowd, load_seconds = (3, 5, 5, 1000, 2.0) if args.quick else (9, 41, 50, 10_000, 20.0)
    imported = 300 if args.quick else 10_000  # users of the import measure
    iterations = args.iterations or iterations
    selected: set[int] = {7} if args.cost else args.only or MEASURES
    full = selected == MEASURES and not args.only

    counter = AwsCalls()  # before any AWS client exists
    replayer = Replayer()
    from moto import mock_aws

    from bench.workload import Client
    from local_stack.aws import create_resources, prepare_in_process_moto, use_endpoint
    from local_stack.functions import prepare_process
    from local_stack.template import Stack

    stack = Stack()
    use_endpoint(None, stack.region)
    prepare_in_process_moto()
    functions = prepare_process(stack, enforce_iam=False)  # measure the handlers, not the local IAM check
    # The machine's load beside the figures: times are ratios, but a busy machine widens them.
    run = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "quick": args.quick,
        "iterations": iterations,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    results: dict[str, Any] = dict(run)
    if 1 in selected:
        print("1. cold init (import of the handler / import boto3 + client, fresh processes)")
        results["cold_init"] = cold_init(stack, runs)
    if selected & {2, 3, 7, 8}:
        with mock_aws():
            create_resources(stack, functions)
            client = Client(functions)
            if 7 in selected:
                results.update(_cost_inputs(client, counter, replayer, iterations))
            if 2 in selected:
                print("2. DynamoDB round trips per operation")
                results["dynamodb_round_trips"] = round_trips(client, counter)
            if 3 in selected:
                print("3. handler overhead (handler / the same DynamoDB calls made directly; fixed-cost hasher)")
                results["handler_overhead"] = _with_fixed_cost_hasher(
                    lambda: handler_overhead(client, counter, iterations)
                )
            if full:
                print("sign-in refusals: real account (wrong password) vs unknown email (real Argon2)")
                results["sign_in_refusals"] = refusal_timing(client, counter, iterations)
                print("revocation cost (the user item every authenticated request reads)")
                results["revocation_cost"] = revocation_cost()
            if 8 in selected:
                print(
                    f"8. users select over {crowd:,} users (DynamoDB calls, Scan pages, items read; the 1 M-user model)"
                )
                results["users_select"] = users_select(client, counter, crowd)
                print("8. users import: DynamoDB calls per user (a batch of new users, then again)")
                results["import_calls"] = import_calls(client, counter)
    if selected & {4, 5}:
        with running_local_stack() as base:
            if 4 in selected:
                print("4. mail latency (local stack: 202 of a reset request to the mail in /_local/mail)")
                results["mail_latency"] = mail_latency(base, mails)
            if 5 in selected:
                print(f"5. throughput ({load_seconds:g} s each, 8 concurrent clients)")
                results["throughput"] = throughput(base, load_seconds)
    if 8 in selected:
        print(
            f"8. users import: `ums users import` of {imported:,} users into a local stack, twice; every one signs in"
        )
        with TemporaryDirectory() as tmp:
            results["users_import"] = users_import(imported, Path(tmp))
    if 7 in selected:
        print("7. cost (measured handler CPU and log bytes, template memory, the prices in bench/prices.json)")
        results["memory_sizing"] = _memory_sizing(stack, results["handler_cpu"])
        results["cost"] = cost(results)
    if 6 in selected:
        print("6. artifact size (after make build)")
        results["artifact_size"] = artifact_sizes(stack)
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if full:
        results["partial_runs"] = []
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    else:
        # A partial run updates its measures and says when it ran; the rest keep the full run's figures.
        previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        measured = {key: value for key, value in results.items() if key not in run}
        partial = {**run, "measures": sorted(selected), "load_average_at_end": results["load_average_at_end"]}
        del measured["load_average_at_end"]
        previous.update(measured)
        previous["partial_runs"] = [*previous.get("partial_runs", []), partial]
        RESULTS.write_text(json.dumps(previous, indent=2) + "\n")
    if selected == {7}:
        print_cost(results)
    else:
        print_table(results)
    start, end = results["load_average_at_start"], results["load_average_at_end"]
    print(f"load average (1, 5, 15 min): {start} at start, {end} at end")
    print(f"\nwritten to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")


def _cost_inputs(client: Any, counter: AwsCalls, replayer: Replayer, iterations: int) -> dict[str, Any]:
    def pause(paused: bool) -> None:
        counter.paused = paused

    print("handler CPU time, AWS answers replayed (fixed-cost hasher)")
    cpu = _with_fixed_cost_hasher(lambda: handler_cpu(client, replayer, pause, iterations))
    print("bytes logged per request (INFO, with the metrics' EMF lines)")
    return {"handler_cpu": cpu, "log_bytes": log_bytes(client)}


def _memory_sizing(stack: Any, cpu: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from bench.cost import PRICES

    model = json.loads(PRICES.read_text())["lambda_model"]
    reference = {function: model["sizing_reference_mb"] for function in stack_function_ids(stack)}
    return memory_sizing(stack, cpu, model, reference)


def stack_function_ids(stack: Any) -> list[str]:
    return [spec.logical_id for spec in stack.functions()]


def print_cost(results: dict[str, Any]) -> None:
    rows = results["memory_sizing"]
    print("\nmemory sizing (modelled Lambda time within 10% of the reference size; bench/sizing.py)")
    for row in rows:
        print(
            f"  {row['function']}: cpu {row['cpu_ms']} ms, resident {row['resident_mb']} MB; "
            f"{row['today_mb']} MB -> {row['today_ms']} ms; smallest {row['smallest_mb']} MB -> {row['smallest_ms']} ms"
        )
    print("\nbytes logged per request at INFO (the function's lines, EMF included)")
    for row in results["log_bytes"]:
        print(f"  {row['operation']}: {row['bytes']} B in {row['lines']} lines {row['messages']}")
    c = results["cost"]
    print(
        f"\n7. cost: ${c['per_mau']} per MAU, ${c['per_million_sign_ins']} per million sign-ins: "
        f"{c['times_cheaper_than_essentials']}x cheaper than Cognito Essentials "
        f"(floor {c['floor_times_cheaper_than_essentials']}x; requests are {c['share_of_floor']:.0%} of the cost), "
        f"{c['times_cheaper_than_lite']}x than Lite"
    )
    print("  per MAU by component: " + ", ".join(f"{k} ${v}" for k, v in c["per_mau_by_component"].items()))
    print("  assumptions:")
    for line in c["assumptions"]:
        print(f"    - {line}")


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

    # A partial run (--only) prints only what it measured.
    if "cold_init" in results:
        table(
            "1. cold init (target ratio <= 1.5; cpu_ratio: the same in CPU time, steadier on a busy machine)",
            results["cold_init"],
            ["function", "import_ms", "baseline_ms", "ratio", "import_cpu_ms", "baseline_cpu_ms", "cpu_ratio"],
        )
        worst = max((r for r in results["cold_init"] if r["api"]), key=lambda r: r["ratio"])
        print(f"  worst API function: {worst['function']} {worst['ratio']}")
    if "dynamodb_round_trips" in results:
        table("2. DynamoDB round trips", results["dynamodb_round_trips"], ["operation", "calls", "target", "api"])
    if "handler_overhead" in results:
        table(
            "3. handler overhead (target ratio <= 1.3; cpu_ratio: in thread CPU time; none: no AWS call)",
            results["handler_overhead"],
            ["operation", "handler_ms", "direct_ms", "ratio", "cpu_ratio"],
        )
    if "sign_in_refusals" in results:
        table(
            "sign-in refusals: known email + wrong password vs unknown email (same status, calls and hashing)",
            [results["sign_in_refusals"]],
            ["iterations", "known_ms", "unknown_ms", "ratio", "same_calls", "known_calls"],
        )
    if "revocation_cost" in results:
        table(
            "revocation cost (revoked sessions ride on the user item: no extra call)",
            results["revocation_cost"],
            ["revoked_sessions", "user_item_bytes", "read_units", "get_user_calls"],
        )
    if "mail_latency" in results:
        table(
            "4. mail latency (target p95 <= 1000 ms)",
            [results["mail_latency"]],
            ["requests", "p50_ms", "p95_ms", "max_ms"],
        )
    if "throughput" in results:
        table(
            "5. throughput and errors (target: 0 errors)",
            results["throughput"],
            ["operation", "clients", "seconds", "requests", "errors", "per_second"],
        )
    if "cost" in results:
        print_cost(results)
    if "users_select" in results:
        table(
            "users select (GET /ums/users)",
            results["users_select"]["selects"],
            ["select", "users", "matched", "dynamodb_calls", "scan_pages", "items_read", "ms", "api"],
        )
        table(
            "a scan of 1 M users on DynamoDB (modelled: pages at an assumed latency; serial, and in parallel rounds)",
            [results["users_select"]["at_1m_users"]],
            [
                "users",
                "scan_pages",
                "page_latency_ms_assumed",
                "segments",
                "serial_s",
                "parallel_s",
                "requests_with_cursor",
            ],
        )
    if "import_calls" in results:
        calls = results["import_calls"]
        rows = [{"run": run, "batch": calls["batch"], **calls[run]} for run in ("first_run", "second_run")]
        table(
            "users import: DynamoDB calls per user",
            rows,
            ["run", "batch", "created", "exists", "dynamodb_calls_per_user", "api"],
        )
    if "users_import" in results:
        imported = results["users_import"]
        rows = [{"run": run, "users": imported["users"], **imported[run]} for run in ("first_run", "second_run")]
        table(
            f"users import on the local stack ({imported['signed_in']:,} of {imported['users']:,} then signed in)",
            rows,
            ["run", "users", "summary", "seconds", "users_per_s"],
        )
    if "artifact_size" in results:
        table("6. artifact size", results["artifact_size"], ["artifact", "bytes", "target", "boto_bundled"])


if __name__ == "__main__":
    main()
