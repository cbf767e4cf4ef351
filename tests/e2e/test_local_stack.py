"""Over HTTP against the local stack: what a user of `make dev` and Jexia's SDKs sees."""

import json
import os
import socket
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"


def unique_email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


def test_health_names_the_aws_endpoint(base_url: str) -> None:
    body = requests.get(f"{base_url}/_local/health", timeout=5).json()
    assert body["status"] == "ok"
    assert body["aws_endpoint"].startswith("http://127.0.0.1:")
    assert body["region"]


def test_the_readme_flow_sign_up_sign_in_get_change_delete(base_url: str) -> None:
    email = unique_email()
    # Jexia's JS SDK sends JSON without a Content-Type: it arrives as text/plain.
    signup = requests.post(
        f"{base_url}/ums/signup",
        data=f'{{"email":"{email}","password":"{PASSWORD}","age":3}}',
        headers={"Content-Type": "text/plain;charset=UTF-8"},
        timeout=10,
    )
    assert signup.status_code == 201 and signup.json()["age"] == 3
    tokens = requests.post(
        f"{base_url}/auth", json={"method": "ums", "email": email, "password": PASSWORD}, timeout=10
    ).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = requests.get(f"{base_url}/ums/user", headers=auth, timeout=10)
    assert me.status_code == 200 and me.json()["email"] == email
    assert me.headers["Cache-Control"] == "no-store"
    changed = requests.post(
        f"{base_url}/ums/changepassword",
        json={"old_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=auth,
        timeout=10,
    )
    assert changed.status_code == 200
    deleted = requests.delete(
        f"{base_url}/ums/user", json={"password": "a brand new passphrase"}, headers=auth, timeout=10
    )
    assert deleted.status_code == 200 and deleted.json()["id"] == signup.json()["id"]
    assert requests.get(f"{base_url}/ums/user", headers=auth, timeout=10).status_code == 404


def test_fifty_concurrent_sign_ups_with_one_email_give_one_201(base_url: str) -> None:
    email = unique_email()

    def attempt(_: int) -> int:
        body = {"email": email, "password": PASSWORD}
        return requests.post(f"{base_url}/ums/signup", json=body, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(attempt, range(50)))
    assert statuses.count(201) == 1
    assert statuses.count(409) == 49


def test_trailing_slash_and_errors_in_jexia_format(base_url: str) -> None:
    answer = requests.post(f"{base_url}/ums/signup/", data="{broken", timeout=10)
    assert answer.status_code == 400
    [error] = answer.json()
    assert "not valid JSON" in error["message"]
    assert uuid.UUID(error["request_id"])


def test_cors_preflight_and_headers(base_url: str) -> None:
    preflight = requests.options(
        f"{base_url}/auth",
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    answer = requests.post(f"{base_url}/auth", data="{}", headers={"Origin": "https://app.example.com"}, timeout=10)
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.headers["Access-Control-Expose-Headers"] == "x-next-cursor, x-request-id"  # as template.yaml's


def test_refresh_retry_and_reuse_over_http(base_url: str) -> None:
    email = unique_email()
    requests.post(f"{base_url}/ums/signup", json={"email": email, "password": PASSWORD}, timeout=10)
    tokens = requests.post(
        f"{base_url}/auth", json={"method": "ums", "email": email, "password": PASSWORD}, timeout=10
    ).json()

    def refresh(token: str) -> requests.Response:
        return requests.post(f"{base_url}/auth/refresh", json={"refresh_token": token}, timeout=10)

    first = refresh(tokens["refresh_token"])
    assert first.status_code == 200
    # A client's retry of the just-rotated token (within the grace window) gets the same new one.
    retry = refresh(tokens["refresh_token"])
    assert retry.status_code == 200 and retry.json()["refresh_token"] == first.json()["refresh_token"]
    second = refresh(first.json()["refresh_token"])
    assert second.status_code == 200
    # The first token is no longer the just-rotated one: its reuse revokes the session.
    assert refresh(tokens["refresh_token"]).status_code == 401
    assert refresh(second.json()["refresh_token"]).status_code == 401


# --- the gateway, over a raw socket -------------------------------------------------------


def raw_exchange(base_url: str, data: bytes) -> bytes:
    """Sends `data` on one connection and reads until the gateway closes it (or 10 s pass)."""
    host, port = urlsplit(base_url).hostname, urlsplit(base_url).port
    received = b""
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(data)
        try:
            while chunk := conn.recv(65536):
                received += chunk
        except TimeoutError:
            received += b"<still open after 10 s>"
    return received


def error_answer(raw: bytes) -> tuple[int, dict[str, str], str]:
    """Status, headers and the message of the one Jexia error answer in `raw`."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
    [error] = json.loads(body)
    assert uuid.UUID(error["request_id"])
    return int(status_line.split()[1]), headers, error["message"]


def test_a_body_over_the_limit_closes_the_connection_before_the_next_request(base_url: str) -> None:
    email = unique_email()
    smuggled = json.dumps({"email": email, "password": PASSWORD}).encode()
    second = b"POST /ums/signup HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(smuggled), smuggled)
    raw = raw_exchange(base_url, b"POST /ums/signup HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\n" + second)
    assert raw.count(b"HTTP/1.1 ") == 1  # one answer, then the connection closed
    status, headers, message = error_answer(raw)
    assert status == 413 and headers["connection"] == "close" and "Too Large" in message
    # The second request never ran: the email is still free.
    signup = requests.post(f"{base_url}/ums/signup", json={"email": email, "password": PASSWORD}, timeout=10)
    assert signup.status_code == 201


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "5, 5"])
def test_an_invalid_content_length_is_400_and_closes(base_url: str, length: str) -> None:
    raw = raw_exchange(base_url, f"POST /ums/signup HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode())
    status, headers, message = error_answer(raw)
    assert (status, message) == (400, "Invalid Content-Length header")
    assert headers["connection"] == "close"


def test_a_chunked_body_is_read_as_one(base_url: str) -> None:
    email = unique_email()
    body = json.dumps({"email": email, "password": PASSWORD}).encode()
    chunks = (body[i : i + 10] for i in range(0, len(body), 10))  # requests sends a generator chunked
    answer = requests.post(f"{base_url}/ums/signup", data=chunks, timeout=10)
    assert answer.status_code == 201 and answer.json()["email"] == email


@pytest.mark.parametrize("request_line", ["FOO /ums/user HTTP/1.1", "TRACE / HTTP/1.1", "CONNECT x:443 HTTP/1.1"])
def test_unknown_methods_are_405_in_the_error_format(base_url: str, request_line: str) -> None:
    status, headers, message = error_answer(raw_exchange(base_url, f"{request_line}\r\nHost: x\r\n\r\n".encode()))
    assert (status, message) == (405, "Method Not Allowed")
    assert headers["content-type"] == "application/json"


def test_the_gateways_own_404_is_in_the_error_format(base_url: str) -> None:
    answer = requests.get(f"{base_url}/no/such/route", timeout=10)
    [error] = answer.json()
    assert answer.status_code == 404 and error["message"] == "Not Found" and uuid.UUID(error["request_id"])


# --- the emulator, `make invoke STACK=running`, ports ------------------------------------


def test_health_gives_an_aws_environment_line_any_aws_client_can_use(base_url: str, tmp_path: Path) -> None:
    health = requests.get(f"{base_url}/_local/health", timeout=5).json()
    line = health["aws_env"]
    assert f"AWS_ENDPOINT_URL={health['aws_endpoint']}" in line
    # A fresh process with only that line (no other AWS settings) reads the stack's users table.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(pair.split("=", 1) for pair in line.split())
    script = "import boto3; print(boto3.client('dynamodb').scan(TableName='ums-local-UsersTable')['Count'])"
    scan = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert scan.returncode == 0, scan.stderr
    assert int(scan.stdout) >= 0


def test_invoke_against_the_running_stack_accepts_its_tokens(base_url: str, tmp_path: Path) -> None:
    email = unique_email()
    requests.post(f"{base_url}/ums/signup", json={"email": email, "password": PASSWORD}, timeout=10)
    tokens = requests.post(
        f"{base_url}/auth", json={"method": "ums", "email": email, "password": PASSWORD}, timeout=10
    ).json()
    event = json.loads((ROOT / "events" / "get_user.json").read_text())
    event["headers"]["authorization"] = f"Bearer {tokens['access_token']}"
    event_file = tmp_path / "get_user.json"
    event_file.write_text(json.dumps(event))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["UMS_LOCAL_PORT"] = str(urlsplit(base_url).port)
    invoked = subprocess.run(
        [sys.executable, "-m", "local_stack", "invoke", "--stack", "running", "GetUserFunction", str(event_file)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert invoked.returncode == 0, invoked.stderr
    assert f"Invoking against the running stack at {base_url}" in invoked.stderr
    result = json.loads(invoked.stdout)
    assert result["statusCode"] == 200 and json.loads(result["body"])["email"] == email


def serve_with(**ports: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "UMS_LOCAL_PORT": "0",
        "UMS_LOCAL_SMTP_PORT": "0",
        "UMS_LOCAL_AWS_PORT": "0",
        "UMS_CONSOLE_PORT": "0",
    }
    env.update(ports)
    return subprocess.run(
        [sys.executable, "-m", "local_stack", "serve"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("variable", ["UMS_LOCAL_PORT", "UMS_LOCAL_SMTP_PORT", "UMS_LOCAL_AWS_PORT"])
def test_a_port_in_use_is_one_line_naming_it_and_its_variable(base_url: str, variable: str) -> None:
    health = requests.get(f"{base_url}/_local/health", timeout=5).json()
    taken = {
        "UMS_LOCAL_PORT": urlsplit(base_url).port,
        "UMS_LOCAL_SMTP_PORT": health["smtp"]["port"],
        "UMS_LOCAL_AWS_PORT": urlsplit(health["aws_endpoint"]).port,
    }[variable]
    served = serve_with(**{variable: str(taken)})
    assert served.returncode == 1
    [line] = served.stderr.splitlines()
    assert f"Port {taken} on 127.0.0.1 is already in use" in line and variable in line
    assert served.stdout == ""  # nothing started


def test_a_port_that_is_not_a_number_is_a_usage_error(base_url: str) -> None:
    served = serve_with(UMS_LOCAL_SMTP_PORT="25x")
    assert served.returncode == 2
    [line] = served.stderr.splitlines()
    assert "UMS_LOCAL_SMTP_PORT='25x' is not a port number" in line
