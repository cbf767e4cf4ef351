"""`ums users import` and `ums users export` against a local stack of their own: users with
mixed foreign password hashes moved in over HTTP, every password signing in, a second run
creating nothing, and an export that pages to the end (issue 14)."""

import json
import subprocess
import sys
from pathlib import Path

import bcrypt
import pytest
import requests
from test_cli import aws_client

from bench.legacy_users import FIREBASE_OPTIONS, legacy_user
from bench.legacy_users import password as legacy_password

USERS = 600  # more than one export page of 500 items per segment, and six import batches


def ums(base_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "ums_cli", "--endpoint", base_url, *args], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def legacy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("import") / "legacy.jsonl"
    path.write_text("".join(json.dumps(legacy_user(n)) + "\n" for n in range(USERS)))
    return path


def test_import_signs_every_password_in_and_a_second_run_creates_nothing(fresh_stack: str, legacy_file: Path) -> None:
    dry = ums(fresh_stack, "users", "import", str(legacy_file), "--dry-run", *FIREBASE_OPTIONS)
    assert dry.stdout.strip() == f"0 created, 0 exists, 0 rejected, {USERS} would create"
    first = ums(fresh_stack, "users", "import", str(legacy_file), *FIREBASE_OPTIONS)
    assert first.stdout.strip() == f"{USERS} created, 0 exists, 0 rejected"
    progress = first.stderr.splitlines()
    assert progress[-1].startswith(f"[{'#' * 30}] {USERS}/{USERS} users imported, ") and "/s, ETA 0 s" in progress[-1]
    assert len(progress) >= 5  # a line every 10% without a terminal

    # A sample of every format (all of them: `make bench`'s import measure signs in 10,000):
    # a fifth of the users, spread over the five formats, and every Firebase one.
    for n in [n for n in range(USERS) if n % 5 == (n // 5) % 5 or n % 50 == 4]:
        email = f"legacy{n}@example.com"
        answer = requests.post(
            f"{fresh_stack}/auth", json={"method": "ums", "email": email, "password": legacy_password(n)}, timeout=10
        )
        assert answer.status_code == 200, (n, answer.text)
    wrong = requests.post(
        f"{fresh_stack}/auth", json={"method": "ums", "email": "legacy4@example.com", "password": "x" * 9}, timeout=10
    )
    assert wrong.status_code == 401

    again = ums(fresh_stack, "users", "import", str(legacy_file), *FIREBASE_OPTIONS)
    assert again.stdout.strip() == f"0 created, {USERS} exists, 0 rejected"


def test_export_writes_every_user_once_as_rows_import_takes(
    fresh_stack: str, legacy_file: Path, tmp_path: Path
) -> None:
    ums(fresh_stack, "users", "import", str(legacy_file), *FIREBASE_OPTIONS)  # (the first test's, or now)
    exported = ums(fresh_stack, "users", "export", "--with-password-hashes", "--limit", "250")
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(f"{n:024x}" for n in range(USERS))
    imported = {row["id"]: row for row in map(json.loads, legacy_file.read_text().splitlines())}
    upgraded = {f"{n:024x}" for n in range(USERS) if n % 5 == (n // 5) % 5 or n % 50 == 4}  # the first test's sign-ins
    for row in rows:  # the users who signed in have a new Argon2id hash; the others their imported one
        before = imported[row["id"]]["password_hash"]
        if row["id"] in upgraded:
            assert row["password_hash"].startswith("$argon2id$") and row["password_hash"] != before
        else:
            assert row["password_hash"] == before
    assert "keep the file as secret as the users table" in exported.stderr
    assert exported.stderr.strip().endswith(f"ums: {USERS} users exported")
    gold = ums(fresh_stack, "users", "export", "--cond", "plan = 'gold'").stdout.splitlines()
    assert len(gold) == len([n for n in range(USERS) if n % 3]) and "password_hash" not in gold[0]
    out = tmp_path / "users.jsonl"
    out.write_text(exported.stdout)
    assert ums(fresh_stack, "users", "import", str(out)).stdout.strip() == f"0 created, {USERS} exists, 0 rejected"


def test_a_csv_import_reports_each_rejected_line(fresh_stack: str, tmp_path: Path) -> None:
    csv_file = tmp_path / "people.csv"
    hashed = bcrypt.hashpw(b"csv-password-1", bcrypt.gensalt(rounds=4)).decode()
    csv_file.write_text(
        "id,email,password_hash,email_verified,city\n"
        f"csv-1,csv1@example.com,{hashed},true,Utrecht\n"
        "csv-2,not-an-email,,,\n"
        "csv-3,csv3@example.com,md5:5f4dcc3b,,\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "ums_cli", "--endpoint", fresh_stack, "users", "import", str(csv_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == "1 created, 0 exists, 2 rejected"
    assert "line 2: Field 'email' must be a valid email address" in result.stderr
    assert "line 3: password_hash is not in a format this service verifies" in result.stderr
    signed_in = requests.post(
        f"{fresh_stack}/auth",
        json={"method": "ums", "email": "csv1@example.com", "password": "csv-password-1"},
        timeout=10,
    )
    assert signed_in.status_code == 200
    me = requests.get(
        f"{fresh_stack}/ums/user", headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"}, timeout=10
    )
    assert me.json()["city"] == "Utrecht" and me.json()["email_verified"] is True


def test_users_find_follows_the_cursor_to_the_end(hurried_stack: str, legacy_file: Path) -> None:
    ums(hurried_stack, "users", "import", str(legacy_file), *FIREBASE_OPTIONS)
    key = json.loads(ums(hurried_stack, "--json", "keys", "create", "--data", '{"description": "find"}').stdout)
    policy = {"subjects": ["apk:<.*>"], "resources": ["ums.users"], "actions": {"read": []}}
    ums(hurried_stack, "policies", "create", "--data", json.dumps(policy))
    credentials = f"{key['key']}:{key['secret']}"
    one_page = requests.get(
        f"{hurried_stack}/ums/users",
        params={"cond": json.dumps([{"field": "plan"}, "=", "gold"])},
        headers={"Authorization": "Bearer " + sign_in_key(hurried_stack, key)},
        timeout=30,
    )
    assert one_page.headers["X-Next-Cursor"] and len(one_page.json()) < 400  # one round of a few pages
    found = ums(hurried_stack, "--json", "users", "find", "plan = 'gold'", "--outputs", "id", "--key", credentials)
    ids = [json.loads(line)["id"] for line in found.stdout.splitlines()]
    assert sorted(ids) == sorted(f"{n:024x}" for n in range(USERS) if n % 3)  # every gold user, once
    limited = ums(hurried_stack, "--json", "users", "find", "plan = 'gold'", "--limit", "300", "--key", credentials)
    assert len(limited.stdout.splitlines()) == 300


def sign_in_key(base_url: str, key: dict[str, str]) -> str:
    body = {"method": "apk", "key": key["key"], "secret": key["secret"]}
    return str(requests.post(f"{base_url}/auth", json=body, timeout=10).json()["access_token"])


def test_reindex_puts_an_older_stacks_users_in_the_created_at_index(hurried_stack: str, legacy_file: Path) -> None:
    """As a stack deployed before `by_created_at`: users without their shard and no mark that the
    index is complete. `ums users reindex` follows the cursor (one scan page a request here) to
    the end; then `order` by created_at pages through every user newest first."""
    ums(hurried_stack, "users", "import", str(legacy_file), *FIREBASE_OPTIONS)
    db = aws_client(hurried_stack, "dynamodb")
    [users_table] = [name for name in db.list_tables()["TableNames"] if name.endswith("UsersTable")]
    [config_table] = [name for name in db.list_tables()["TableNames"] if name.endswith("ConfigTable")]
    scan = {"TableName": users_table, "FilterExpression": "begins_with(pk, :user)", "ProjectionExpression": "pk"}
    keys = [
        item["pk"]
        for page in db.get_paginator("scan").paginate(**scan, ExpressionAttributeValues={":user": {"S": "user#"}})
        for item in page["Items"]
    ]
    for pk in keys:
        db.update_item(TableName=users_table, Key={"pk": pk}, UpdateExpression="REMOVE order_shard")
    db.delete_item(TableName=config_table, Key={"kind": {"S": "users-index"}, "id": {"S": "order-shards"}})
    done = ums(hurried_stack, "--json", "users", "reindex")
    assert json.loads(done.stdout) == {"updated": len(keys), "complete": True}
    assert "users updated so far" in done.stderr  # it took more than one request
    again = ums(hurried_stack, "--json", "users", "reindex")
    assert json.loads(again.stdout) == {"updated": 0, "complete": True}
    key = json.loads(ums(hurried_stack, "--json", "keys", "create", "--data", '{"description": "order"}').stdout)
    policy = {"subjects": ["apk:<.*>"], "resources": ["ums.users"], "actions": {"read": []}}
    ums(hurried_stack, "policies", "create", "--data", json.dumps(policy))
    credentials = f"{key['key']}:{key['secret']}"
    found = ums(
        hurried_stack,
        "--json",
        "users",
        "find",
        "plan = 'gold'",
        "--order",
        "created_at:desc",
        "--outputs",
        "id,created_at",
        "--key",
        credentials,
    )
    records = [json.loads(line) for line in found.stdout.splitlines()]
    assert sorted(r["id"] for r in records) == sorted(f"{n:024x}" for n in range(USERS) if n % 3)  # each once
    times = [r["created_at"] for r in records]
    assert times == sorted(times, reverse=True)  # newest first across every page
