"""Each measure returns rows for the table and results.json. Times are ratios against a
baseline measured in the same run, or counts: these machines are shared and noisy."""

from __future__ import annotations

import copy
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import botocore.handlers

from bench.workload import Client, operations
from local_stack.functions import LAYER_PATH
from local_stack.template import ACCOUNT_ID, ROOT, Stack

DYNAMODB_TARGETS = {
    "sign-up": 1,
    "sign-in": 2,
    "sign-in (wrong password)": 2,
    "sign-in (unknown email)": 2,
    "get user": 1,
    "get user (revoked session)": 1,
    "refresh": 2,
    "refresh (late reuse: revokes)": 2,
    "change password": 3,
    "reset request": 2,
    "reset apply": 3,
    "openid configuration": 0,
    "jwks": 0,
    "openapi document": 0,
    "logout": 2,
    "revoke refresh token": 3,
    "update own fields": 2,
    "email change request": 3,
    "invite user": 3,
    "verify request": 2,
    "verify email": 3,
    "reset page (show)": 2,  # reads only: the token and its user
    "reset page (submit)": 3,  # what reset apply does
    "verify page (show)": 2,
    "verify page (submit)": 3,
    "oauth init": 2,
    "oauth callback (unknown state)": 1,
}


class AwsCalls:
    """Records every AWS API call of this process (service, operation, parameters) through a
    botocore hook registered before any client exists, so PynamoDB's clients and boto3's alike
    are seen."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.items_read: list[int] = []  # per DynamoDB call: items read (scanned, queried or got)
        self.paused = False  # bench.sizing times replayed calls: recording them is not the handler's work
        botocore.handlers.BUILTIN_HANDLERS.append(("provide-client-params.*.*", self._record))
        botocore.handlers.BUILTIN_HANDLERS.append(("after-call.dynamodb.*", self._count))

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self.paused:
            return
        self.calls.append((model.service_model.service_name, model.name, copy.deepcopy(params)))

    def _count(self, parsed: dict[str, Any], **_: Any) -> None:
        if self.paused:
            return
        responses = parsed.get("Responses")
        got = len(responses) if isinstance(responses, list) else 1 if parsed.get("Item") else 0
        self.items_read.append(int(parsed.get("ScannedCount", parsed.get("Count", got))))


def dynamodb_calls(calls: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    return [operation for service, operation, _ in calls if service == "dynamodb"]


# --- 1. cold init ------------------------------------------------------------------------------
# Each prints wall seconds and CPU seconds (process_time: less sensitive to a busy machine).
_IMPORT_HANDLER = """
import sys, time
sys.path[:0] = [{layer!r}, {code!r}]
start, cpu = time.perf_counter(), time.process_time()
import app
print(time.perf_counter() - start, time.process_time() - cpu)
"""
_BASELINE = """
import time
start, cpu = time.perf_counter(), time.process_time()
import boto3
boto3.client("dynamodb")
print(time.perf_counter() - start, time.process_time() - cpu)
"""


def _fresh_process_seconds(code: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of `code`'s timed part in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd="/")
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def cold_init(stack: Stack, runs: int) -> list[dict[str, Any]]:
    """Per function: medians of `runs` fresh imports of its handler, each run paired with a fresh
    baseline process, so a machine whose load drifts during the measure skews both alike."""
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "PYTHONPATH"))}
    rows = []
    for spec in stack.functions():
        env = {**base_env, **spec.environment}
        code = _IMPORT_HANDLER.format(layer=str(LAYER_PATH), code=str(spec.code_uri))
        handler, baseline = [], []
        for _ in range(runs):
            baseline.append(_fresh_process_seconds(_BASELINE, base_env))
            handler.append(_fresh_process_seconds(code, env))
        wall, cpu = (statistics.median(t[i] for t in handler) for i in (0, 1))
        base_wall, base_cpu = (statistics.median(t[i] for t in baseline) for i in (0, 1))
        rows.append(
            {
                "function": spec.logical_id,
                "api": bool(spec.routes),
                "import_ms": round(wall * 1000, 1),
                "baseline_ms": round(base_wall * 1000, 1),
                "ratio": round(wall / base_wall, 2),
                "import_cpu_ms": round(cpu * 1000, 1),
                "baseline_cpu_ms": round(base_cpu * 1000, 1),
                "cpu_ratio": round(cpu / base_cpu, 2),
                "target": 1.5 if spec.routes else None,  # the target is for API functions
            }
        )
    return rows


# --- 2. DynamoDB round trips -----------------------------------------------------------------
def round_trips(client: Client, counter: AwsCalls) -> list[dict[str, Any]]:
    rows = []
    for name, (prepare, operation, expected) in operations(client).items():
        prepare()
        start = len(counter.calls)
        status, _ = operation()
        calls = counter.calls[start:]
        assert status == expected, f"{name} answered {status}"
        dynamodb = dynamodb_calls(calls)
        rows.append({"operation": name, "calls": len(dynamodb), "api": dynamodb, "target": DYNAMODB_TARGETS.get(name)})
    return rows


# --- 3. handler overhead ---------------------------------------------------------------------
def handler_overhead(client: Client, counter: AwsCalls, iterations: int) -> list[dict[str, Any]]:
    """The AWS calls are replayed directly: DynamoDB's, and KMS's for the reset request."""
    import boto3

    clients: dict[str, Any] = {}
    rows = []
    for name, (prepare, operation, expected) in operations(client).items():
        handler_times, direct_times = [], []
        handler_cpu, direct_cpu = [], []  # thread CPU time: moto runs in this thread, and load barely moves it
        compared = True  # False when a request makes no AWS call (the discovery routes): nothing to compare
        deleting = _tables_it_deletes_from(prepare, operation, counter)
        for _ in range(iterations):
            prepare()
            before = _items_of(deleting)
            start = len(counter.calls)
            t0, c0 = time.perf_counter(), time.thread_time()
            status, _ = operation()
            handler_times.append(time.perf_counter() - t0)
            handler_cpu.append(time.thread_time() - c0)
            assert status == expected, f"{name} answered {status}"
            calls = counter.calls[start:]
            _put_back_deleted(calls, before)
            # The same calls made directly, their conditions made to hold so they do the same work.
            replay = []
            for service, api, params in calls:
                aws = clients.setdefault(service, boto3.client(service))  # type: ignore[call-overload]
                replay.append((getattr(aws, botocore.xform_name(api)), _conditions_hold(params)))
            compared = compared and bool(replay)
            t0, c0 = time.perf_counter(), time.thread_time()
            for method, params in replay:
                method(**params)
            direct_times.append(time.perf_counter() - t0)
            direct_cpu.append(time.thread_time() - c0)
        handler, direct = statistics.median(handler_times), statistics.median(direct_times)
        cpu, direct_cpu_s = statistics.median(handler_cpu), statistics.median(direct_cpu)
        rows.append(
            {
                "operation": name,
                "handler_ms": round(handler * 1000, 2),
                "direct_ms": round(direct * 1000, 2) if compared else None,
                "ratio": round(handler / direct, 2) if compared else None,
                "cpu_ratio": round(cpu / direct_cpu_s, 2) if compared else None,
                "target": 1.3 if expected < 400 and compared else None,  # refusals: for comparison only
            }
        )
    return rows


def _deletes(calls: list[tuple[str, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The `{TableName, Key}` of every item the calls delete (DeleteItem, or a transaction's Delete)."""
    found = [params for service, api, params in calls if service == "dynamodb" and api == "DeleteItem"]
    for service, api, params in calls:
        if service == "dynamodb" and api == "TransactWriteItems":
            found += [entry["Delete"] for entry in params["TransactItems"] if "Delete" in entry]
    return [{"TableName": d["TableName"], "Key": d["Key"]} for d in found]


def _tables_it_deletes_from(prepare: Any, operation: Any, counter: AwsCalls) -> set[str]:
    """The tables whose existing items the operation deletes (two untimed runs: the first names
    the tables, the second, with their items noted before it, tells which deleted items existed)."""
    prepare()
    start = len(counter.calls)
    operation()
    tables = {d["TableName"] for d in _deletes(counter.calls[start:])}
    if not tables:
        return set()
    prepare()
    before = _items_of(tables)
    start = len(counter.calls)
    operation()
    return {d["TableName"] for d in _deletes(counter.calls[start:]) if _key_in(before, d) is not None}


def _items_of(tables: set[str]) -> dict[str, dict[Any, Any]]:
    """The emulator's items of these tables: a copy of moto's dict of them (no scan, no AWS call)."""
    tables_now = _moto_backend().tables
    return {
        name: {h: dict(r) for h, r in tables_now[name].items.items()}
        if tables_now[name].range_key_attr
        else dict(tables_now[name].items)
        for name in tables
    }


def _key_in(before: dict[str, dict[Any, Any]], deleted: dict[str, Any]) -> tuple[Any, Any] | None:
    """moto's (hash, range) key of a deleted item that existed before, or None."""
    backend = _moto_backend()
    hash_key, range_key = backend.get_keys_value(backend.tables[deleted["TableName"]], deleted["Key"])
    items = before.get(deleted["TableName"], {})
    held = items.get(hash_key, {}).get(range_key) if range_key is not None else items.get(hash_key)
    return None if held is None else (hash_key, range_key)


def _put_back_deleted(calls: list[tuple[str, str, dict[str, Any]]], before: dict[str, dict[Any, Any]]) -> None:
    """Puts back, in the emulator, the items the handler deleted, so its calls made again directly
    read and delete the same items instead of finding them gone (a read of a missing item, and a
    delete of one, cost the emulator less: that made delete user's ratio look 0.2 worse than it is)."""
    tables = _moto_backend().tables
    for deleted in _deletes(calls):
        found = _key_in(before, deleted)
        if found is None:
            continue
        hash_key, range_key = found
        name = deleted["TableName"]
        if range_key is None:
            tables[name].items[hash_key] = before[name][hash_key]
        else:
            tables[name].items.setdefault(hash_key, {})[range_key] = before[name][hash_key][range_key]


def _moto_backend() -> Any:
    """The in-process emulator's DynamoDB (its tables, read and changed without an AWS call)."""
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]]


def _conditions_hold(params: dict[str, Any]) -> dict[str, Any]:
    """`params` with every ConditionExpression widened to always hold (same placeholders, so the
    emulator evaluates it the same way): a replayed write then writes instead of failing early."""
    params = copy.deepcopy(params)
    targets = [params] + [item for entry in params.get("TransactItems", []) for item in entry.values()]
    for target in targets:
        if "ConditionExpression" in target:
            # No parentheses (DynamoDB refuses redundant ones); OR binds loosest, so this always holds.
            condition = target["ConditionExpression"]
            target["ConditionExpression"] = f"{condition} OR attribute_exists(#replay) OR attribute_not_exists(#replay)"
            target.setdefault("ExpressionAttributeNames", {})["#replay"] = "pk"
    return params


# --- sign-in refusals: a real account and an unknown email cost the same ---------------------
def refusal_timing(client: Client, counter: AwsCalls, iterations: int) -> dict[str, Any]:
    """Medians of a wrong password on a real account and of an unknown email (real Argon2,
    interleaved so both see the same noise), and the DynamoDB calls of each."""
    from bench.workload import PASSWORD, sign_in

    client.call("SignUpFunction", {"email": "timing@example.com", "password": PASSWORD})
    cases = {"known email, wrong password": "timing@example.com", "unknown email": "nobody@example.com"}
    times: dict[str, list[float]] = {name: [] for name in cases}
    calls: dict[str, list[str]] = {}
    for _ in range(iterations):
        for name, email in cases.items():
            start = len(counter.calls)
            t0 = time.perf_counter()
            status, _ = sign_in(client, email, "not the password at all")
            times[name].append(time.perf_counter() - t0)
            assert status == 401, f"{name} answered {status}"
            calls[name] = dynamodb_calls(counter.calls[start:])
    known, unknown = (statistics.median(times[name]) for name in cases)
    return {
        "iterations": iterations,
        "known_ms": round(known * 1000, 1),
        "unknown_ms": round(unknown * 1000, 1),
        "ratio": round(unknown / known, 2),
        "known_calls": calls["known email, wrong password"],
        "unknown_calls": calls["unknown email"],
        "same_calls": calls["known email, wrong password"] == calls["unknown email"],
    }


# --- revocation: what the user item carries ---------------------------------------------------
def revocation_cost() -> list[dict[str, Any]]:
    """Size of a user item (and the read units of the strongly consistent GetItem every
    authenticated request makes) with no, one and the most individually revoked sessions."""
    import math
    import secrets

    from ums.sessions import MAX_REVOKED_SESSIONS
    from ums.users import new_user

    rows = []
    for entries in (0, 1, MAX_REVOKED_SESSIONS):
        user = new_user("someone@example.com", "$argon2id$v=19$m=19456,t=2,p=1$" + "x" * 66, {"name": "Ann"}, None)
        if entries:
            now = int(time.time())
            user.revoked_sessions = {secrets.token_urlsafe(16): now for _ in range(entries)}
        size = item_bytes(user.serialize())
        rows.append(
            {
                "revoked_sessions": entries,
                "user_item_bytes": size,
                "read_units": math.ceil(size / 4096),
                "get_user_calls": 1,
            }
        )
    return rows


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (numbers ~1 byte per 2 digits + 1, maps
    and lists 3 bytes plus 1 per element)."""

    def value(v: dict[str, Any]) -> int:
        kind, data = next(iter(v.items()))
        if kind == "S":
            return len(data.encode())
        if kind == "N":
            return (len(data.lstrip("-").replace(".", "")) + 1) // 2 + 1
        if kind in ("BOOL", "NULL"):
            return 1
        if kind == "M":
            return 3 + sum(1 + len(k.encode()) + value(x) for k, x in data.items())
        if kind == "L":
            return 3 + sum(1 + value(x) for x in data)
        if kind == "SS":
            return sum(len(x.encode()) for x in data)
        raise ValueError(kind)

    return sum(len(name.encode()) + value(v) for name, v in item.items())


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


# --- the local stack, for measures 4 and 5 -----------------------------------------------------
@contextmanager
def running_local_stack(*, fast_hashing: bool = False) -> Iterator[str]:
    """`make dev` in a process of its own on free ports; yields its base URL. `fast_hashing`:
    Argon2id at the test suites' cost (UMS_TEST_FAST_HASHING), for a measure that signs in
    thousands of users to check them rather than to time them."""
    import socket

    import requests

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")}
    env.update(UMS_LOCAL_PORT=str(port), UMS_LOCAL_SMTP_PORT=str(free_port()), UMS_CONSOLE_PORT="0")
    if fast_hashing:
        env["UMS_TEST_FAST_HASHING"] = "1"
    command = [sys.executable, "-m", "local_stack", "serve"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/_local/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


# --- 4. mail latency ---------------------------------------------------------------------------
def mail_latency(base: str, requests_count: int) -> dict[str, Any]:
    """From the 202 of a reset request to the mail in /_local/mail."""
    import requests

    ses = {"name": "ses", "type": "ses", "sender": "no-reply@example.com"}
    integration = requests.post(f"{base}/management/integrations", json=ses, timeout=10).json()
    automation = {
        "name": "r",
        "event": "AfterPasswordResetRequest",
        "integration_id": integration["id"],
        "subject": "Reset",
        "body": "<a href='{{ reset_link }}'>reset</a>",
    }
    requests.post(f"{base}/management/automations", json=automation, timeout=10).raise_for_status()
    latencies = []
    for i in range(requests_count):
        email = f"latency-{i}@example.com"
        body = {"email": email, "password": "correct horse battery staple"}
        requests.post(f"{base}/ums/signup", json=body, timeout=10).raise_for_status()
        answer = requests.post(f"{base}/ums/resetpassword", json={"email": email}, timeout=10)
        accepted = time.perf_counter()
        assert answer.status_code == 202, answer.text
        while not any(email in m["to"] for m in requests.get(f"{base}/_local/mail", timeout=10).json()):
            if time.perf_counter() - accepted > 30:
                raise TimeoutError(f"no mail for {email}")
            time.sleep(0.01)
        latencies.append(time.perf_counter() - accepted)
    latencies.sort()
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    return {
        "requests": requests_count,
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "target_p95_ms": 1000,
    }


# --- 5. throughput and errors --------------------------------------------------------------------
def throughput(base: str, seconds: float, clients: int = 8) -> list[dict[str, Any]]:
    """`GET /ums/user` and sign-in, `clients` concurrent clients each, for `seconds`."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    credentials = {"method": "ums", "email": "load@example.com", "password": "correct horse battery staple"}
    requests.post(
        f"{base}/ums/signup", json={"email": credentials["email"], "password": credentials["password"]}, timeout=10
    )
    token = requests.post(f"{base}/auth", json=credentials, timeout=10).json()["access_token"]
    operations = {
        "GET /ums/user": lambda s: s.get(f"{base}/ums/user", headers={"Authorization": f"Bearer {token}"}, timeout=30),
        "POST /auth": lambda s: s.post(f"{base}/auth", json=credentials, timeout=30),
    }
    rows = []
    for name, operation in operations.items():

        def client(_: int, operation: Any = operation) -> tuple[int, int]:
            done = errors = 0
            with requests.Session() as session:
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    done += 1
                    try:
                        errors += operation(session).status_code != 200
                    except requests.RequestException:
                        errors += 1
            return done, errors

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            results = list(pool.map(client, range(clients)))
        elapsed = time.perf_counter() - t0
        total, errors = sum(r[0] for r in results), sum(r[1] for r in results)
        rows.append(
            {
                "operation": name,
                "clients": clients,
                "seconds": round(elapsed, 1),
                "requests": total,
                "errors": errors,
                "per_second": round(total / elapsed, 1),
            }
        )
    return rows


# --- users select over many users ------------------------------------------------------------
# DynamoDB's time for one Scan page of up to 500 user items (~250 KB): an assumption, not a
# measurement (AWS quotes single-digit milliseconds per item read, and a page is network-bound).
SCAN_PAGE_LATENCY_MS = 50
MILLION = 1_000_000


def users_select(client: Client, counter: AwsCalls, users: int) -> dict[str, Any]:
    """Selects over `users` users: an email equality (the index), a limit without order (stops
    at enough matches), a rare match with a limit, the newest users (the created_at index, with
    and without a condition), the first by email (its index), and a condition that must read
    everything;
    each with its DynamoDB calls, Scan pages and items read. Then the 1 M-user model: pages
    (scaled from the full scan's) at SCAN_PAGE_LATENCY_MS a page, serially and in rounds of
    ScanSegments parallel pages."""
    from urllib.parse import quote

    from ums import api_keys
    from ums.config import settings
    from ums.store import config as config_store
    from ums.store.models import UserModel
    from ums.store.records import POLICIES, PolicyData
    from ums.users import new_user

    with UserModel.batch_write() as batch:
        for i in range(users):
            user = new_user(f"crowd{i}@example.com", "bench-hash", {"age": i % 90, "city": f"c{i % 50}"}, None)
            user.active = i % 7 != 0
            batch.save(user)
    key = api_keys.create("bench")
    policy: PolicyData = {
        "description": None,
        "subjects": ["apk:<.*>"],
        "resources": ["ums.users"],
        "actions": {"read": []},
    }
    config_store.put(POLICIES, "bench", policy, create=True)
    _, tokens = client.call("SignInFunction", {"method": "apk", "key": key["key"], "secret": key["secret"]})
    rare = users * 3 // 4
    newest = {"fields": ["created_at"], "direction": "desc"}
    cases: dict[str, tuple[Any, dict[str, int] | None, dict[str, Any] | None]] = {
        "email equality": ([{"field": "email"}, "=", f"crowd{users // 2}@example.com"], None, None),
        "limit 10, no order": ([{"field": "active"}, "=", True], {"limit": 10}, None),
        "rare match, limit 1": ([{"field": "email"}, "like", f"crowd{rare}@%"], {"limit": 1}, None),
        "newest 10 (created_at index)": (None, {"limit": 10}, newest),
        "newest 10 with age > 80 (index, filtered)": ([{"field": "age"}, ">", 80], {"limit": 10}, newest),
        "first 10 by email (email order index)": (None, {"limit": 10}, {"fields": ["email"], "direction": "asc"}),
        "age > 80 and active (all read)": (
            [{"field": "age"}, ">", 80, "and", {"field": "active"}, "=", True],
            None,
            None,
        ),
    }
    rows: list[dict[str, Any]] = []
    os.environ["SELECT_DEADLINE_SECONDS"] = "3600"
    settings.cache_clear()
    for name, (cond, window, order) in cases.items():
        query = f"outputs={quote(json.dumps(['id', 'email']))}"
        if cond:
            query += f"&cond={quote(json.dumps(cond))}"
        if window:
            query += f"&range={quote(json.dumps(window))}"
        if order:
            query += f"&order={quote(json.dumps(order))}"
        start_calls, start_items = len(counter.calls), len(counter.items_read)
        t0 = time.perf_counter()
        status, body = client.call("UsersSelectFunction", token=tokens["access_token"], query=query)
        seconds = time.perf_counter() - t0
        assert status == 200, body
        calls = dynamodb_calls(counter.calls[start_calls:])
        rows.append(
            {
                "select": name,
                "users": users,
                "matched": len(body),
                "dynamodb_calls": len(calls),
                "scan_pages": calls.count("Scan"),
                "api": sorted(set(calls)),
                "items_read": sum(counter.items_read[start_items:]),
                "ms": round(seconds * 1000, 1),
            }
        )
    del os.environ["SELECT_DEADLINE_SECONDS"]
    settings.cache_clear()
    return {
        "selects": rows,
        "at_1m_users": scan_model(rows[-1], settings().scan_segments, settings().select_deadline_seconds),
    }


ITEMS_PER_USER = 2  # the user and its email marker (a mobile adds a third); the bench's crowd has no markers


def scan_model(full_scan: dict[str, Any], segments: int, deadline_s: float) -> dict[str, Any]:
    """A scan of 1 M users on DynamoDB: pages of SCAN_PAGE_SIZE items, SCAN_PAGE_LATENCY_MS each
    (assumed), serially and in rounds of `segments` parallel pages; how many requests a client
    makes with the cursor at `deadline_s` a request. `full_scan` (the measured select that read
    everything) gives the local time per page."""
    from ums.store.users import SCAN_PAGE_SIZE

    pages = math.ceil(MILLION * ITEMS_PER_USER / SCAN_PAGE_SIZE)
    serial_s = pages * SCAN_PAGE_LATENCY_MS / 1000
    parallel_s = math.ceil(pages / segments) * SCAN_PAGE_LATENCY_MS / 1000
    return {
        "users": MILLION,
        "items_per_user": ITEMS_PER_USER,
        "scan_pages": pages,
        "page_latency_ms_assumed": SCAN_PAGE_LATENCY_MS,
        "segments": segments,
        "serial_s": round(serial_s, 1),
        "parallel_s": round(parallel_s, 1),
        "deadline_s": deadline_s,
        "requests_with_cursor": math.ceil(parallel_s / deadline_s),
        "local_ms_per_page": round(full_scan["ms"] / max(1, full_scan["scan_pages"]), 1),
    }


# --- import (issue 14) ---------------------------------------------------------------------------
def import_calls(client: Client, counter: AwsCalls, users: int = 100) -> dict[str, Any]:
    """DynamoDB calls per user of `POST /management/users/import`: a batch of new users, then
    the same batch again (all `exists`)."""
    from bench.legacy_users import legacy_user

    rows = [legacy_user(n) for n in range(users) if n % 50 != 4]  # (no Firebase: no signer key to store)
    figures: dict[str, Any] = {"batch": len(rows)}
    for run in ("first_run", "second_run"):
        start = len(counter.calls)
        status, body = client.call("UsersImportFunction", {"users": rows})
        assert status == 200, body
        calls = dynamodb_calls(counter.calls[start:])
        figures[run] = {
            "created": body["created"],
            "exists": body["exists"],
            "dynamodb_calls_per_user": round(len(calls) / len(rows), 2),
            "api": sorted(set(calls)),
        }
    return figures


def users_import(users: int, tmp: Path) -> dict[str, Any]:
    """`ums users import` of `users` legacy users (five hash formats) into a local stack of its
    own: users per second, a second run (creates nothing), then every user signs in (8 clients).
    That stack hashes the sign-ins' Argon2id upgrades at the test suites' low cost: the sign-ins
    check every password, they are not timed here (measure 3 times hashing)."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from bench.legacy_users import FIREBASE_OPTIONS, legacy_user, password

    path = tmp / "legacy-users.jsonl"
    path.write_text("".join(json.dumps(legacy_user(n)) + "\n" for n in range(users)))
    figures: dict[str, Any] = {"users": users}
    with running_local_stack(fast_hashing=True) as base:
        command = [sys.executable, "-m", "ums_cli", "--endpoint", base, "users", "import", str(path), *FIREBASE_OPTIONS]
        for run in ("first_run", "second_run"):
            t0 = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=3600)
            seconds = time.perf_counter() - t0
            figures[run] = {
                "summary": done.stdout.strip(),
                "seconds": round(seconds, 1),
                "users_per_s": round(users / seconds),
            }
        figures["progress_last_line"] = done.stderr.strip().splitlines()[-1]

        def signs_in(n: int) -> bool:
            body = {"method": "ums", "email": f"legacy{n}@example.com", "password": password(n)}
            return requests.post(f"{base}/auth", json=body, timeout=60).status_code == 200

        with ThreadPoolExecutor(8) as pool:
            signed_in = sum(pool.map(signs_in, range(users)))
    figures["signed_in"] = signed_in
    assert figures["first_run"]["summary"] == f"{users:,} created, 0 exists, 0 rejected", figures
    assert figures["second_run"]["summary"] == f"0 created, {users:,} exists, 0 rejected", figures
    assert signed_in == users, figures
    return figures
