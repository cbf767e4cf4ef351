"""Lazy migration (issue 14, part 3): a sign-in or reset request for an email this service does
not know asks the legacy verifier, here a real HTTP server on 127.0.0.1, and the user moves over."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from helpers import STACK, call, sign_in

LEGACY_PASSWORD = "the old system's password"
LEGACY_USERS = {"old@example.com": {"id": "555b9225bffebc31068b4567", "first_name": "Olga", "email_verified": True}}


class Verifier(ThreadingHTTPServer):
    calls: list[dict[str, Any]]
    keys: list[str | None]
    behaviour: str = "normal"  # or: slow, broken, garbage


class VerifierHandler(BaseHTTPRequestHandler):
    server: Verifier

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.calls.append(body)
        self.server.keys.append(self.headers.get("X-UMS-Verifier-Key"))
        if self.server.behaviour == "slow":
            time.sleep(4)
        if self.server.behaviour == "broken":
            return self._answer(500, {"error": "database down"})
        if self.server.behaviour == "garbage":
            return self._answer(200, ["not", "a", "profile"])
        profile = LEGACY_USERS.get(body["email"])
        if profile is None:
            return self._answer(404, {})
        if "password" in body and body["password"] != LEGACY_PASSWORD:
            return self._answer(401, {})
        self._answer(200, {**profile, "password_hash": "ignored"})

    def _answer(self, status: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def verifier(aws: None, setting: Callable[[str, str], None]) -> Iterator[Verifier]:
    server = Verifier(("127.0.0.1", 0), VerifierHandler)
    server.calls, server.keys = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    key_name = f"{STACK.name}/legacy-verifier-key"  # what template.yaml names it
    boto3.client("secretsmanager", region_name=STACK.region).create_secret(Name=key_name, SecretString="k" * 48)
    setting("LEGACY_VERIFIER_URL", f"http://127.0.0.1:{server.server_port}/verify")
    setting("LEGACY_VERIFIER_KEY_SECRET", key_name)
    yield server
    server.shutdown()
    server.server_close()


def stored_user(email: str) -> Any:
    from ums.store import users as user_store

    return user_store.owner_of_email(email)


def test_a_user_known_only_to_the_legacy_system_signs_in_and_moves_over(verifier: Verifier) -> None:
    first = sign_in("old@example.com", LEGACY_PASSWORD)
    assert first.status == 200, first.body
    assert verifier.calls == [{"email": "old@example.com", "password": LEGACY_PASSWORD}]
    assert verifier.keys == ["k" * 48]
    user = stored_user("old@example.com")
    assert user.id == "555b9225bffebc31068b4567" and user.password_hash.startswith("$argon2id$")
    me = call("GetUserFunction", token=first.body["access_token"]).body
    assert me["first_name"] == "Olga" and me["email_verified"] is True and "password_hash" not in me
    assert sign_in("old@example.com", LEGACY_PASSWORD).status == 200
    assert len(verifier.calls) == 1  # asked once: the user is here now
    assert sign_in("old@example.com", "wrong password!").status == 401
    assert len(verifier.calls) == 1


def test_a_wrong_password_or_an_unknown_email_is_the_same_401_and_creates_nothing(verifier: Verifier) -> None:
    wrong = sign_in("old@example.com", "not the old password")
    unknown = sign_in("nobody@example.com", LEGACY_PASSWORD)
    assert (wrong.status, wrong.message) == (unknown.status, unknown.message) == (401, "Invalid email or password")
    assert stored_user("old@example.com") is None and stored_user("nobody@example.com") is None


def test_a_throttled_source_is_refused_before_the_verifier_is_asked(
    verifier: Verifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ums import sessions

    monkeypatch.setattr(sessions, "SOURCE_MAX_FAILURES", 3)  # failed sign-ins from one address
    for n in range(3):
        assert sign_in(f"nobody{n}@example.com", LEGACY_PASSWORD).status == 401
    assert len(verifier.calls) == 3
    throttled = sign_in("old@example.com", LEGACY_PASSWORD)  # a real legacy user, from that address
    assert throttled.status == 429 and int(throttled.headers["Retry-After"]) > 0
    assert len(verifier.calls) == 3  # the legacy system was not asked
    assert stored_user("old@example.com") is None


@pytest.mark.parametrize("behaviour", ["broken", "garbage", "slow"])
def test_a_verifier_that_fails_is_a_502_and_creates_nothing(verifier: Verifier, behaviour: str) -> None:
    verifier.behaviour = behaviour
    answer = sign_in("old@example.com", LEGACY_PASSWORD)
    assert answer.status == 502
    assert answer.message == "The legacy user store did not answer as expected; try again shortly"
    assert stored_user("old@example.com") is None
    assert len(verifier.calls) == 1  # no retry


def test_a_reset_request_moves_the_user_over_without_a_password(verifier: Verifier) -> None:
    assert call("RequestResetFunction", {"email": "old@example.com"}).status == 202
    assert verifier.calls == [{"email": "old@example.com"}]  # no password: only whether it knows the email
    user = stored_user("old@example.com")
    assert user.id == "555b9225bffebc31068b4567" and user.password_hash == ""
    assert user.reset_token_hash  # the mail's link sets the password
    assert sign_in("old@example.com", LEGACY_PASSWORD).status == 401  # the reset is how they get in now
    assert call("RequestResetFunction", {"email": "nobody@example.com"}).status == 404


def test_a_reset_request_flood_for_one_email_is_refused_before_the_verifier_is_asked(
    verifier: Verifier, setting: Callable[[str, str], None]
) -> None:
    setting("PREVENT_USER_EXISTENCE_ERRORS", "true")  # unknown emails count against their limit too
    for _ in range(3):
        assert call("RequestResetFunction", {"email": "nobody@example.com"}).status == 202
    assert verifier.calls == [{"email": "nobody@example.com"}]  # one a minute: the limit refused the rest first
    setting("PREVENT_USER_EXISTENCE_ERRORS", "false")
    limited = call("RequestResetFunction", {"email": "nobody@example.com"})
    assert limited.status == 429 and int(limited.headers["Retry-After"]) > 0
    assert limited.message == "Too many password reset requests for this email; try again later"
    assert len(verifier.calls) == 1


# --- a Lambda function as the verifier ----------------------------------------------------------

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:legacy-verifier"


@pytest.fixture
def function_verifier(aws: None, setting: Callable[[str, str], None], monkeypatch: pytest.MonkeyPatch) -> Any:
    """LegacyVerifierUrl set to a function's ARN: its IAM (the template's, for that parameter)
    enforced; moto's Lambda without Docker answers each invoke with the next queued result."""
    import requests

    from local_stack import iam
    from local_stack.template import Stack

    stack = Stack({"LegacyVerifierUrl": FUNCTION_ARN})
    monkeypatch.setattr(iam, "_enforcer", iam.Enforcer(stack, *iam.expanded_policies(stack)))
    setting("LEGACY_VERIFIER_URL", FUNCTION_ARN)
    setting("LEGACY_VERIFIER_KEY_SECRET", "")  # as the template sets it for a function: no key

    def answers(*results: str) -> None:
        queued = requests.post(
            "http://motoapi.amazonaws.com/moto-api/static/lambda-simple/response",
            json={"results": list(results), "region": "us-east-1"},
            timeout=5,
        )
        assert queued.status_code == 201

    return answers


def test_a_function_as_verifier_moves_the_user_over_or_refuses_with_null(function_verifier: Any) -> None:
    profile = {**LEGACY_USERS["old@example.com"], "plan": "gold"}
    function_verifier(json.dumps(profile), "null")
    first = sign_in("old@example.com", LEGACY_PASSWORD)
    assert first.status == 200, first.body
    user = stored_user("old@example.com")
    assert user.id == "555b9225bffebc31068b4567" and user.profile["plan"] == "gold"
    refused = sign_in("nobody@example.com", LEGACY_PASSWORD)
    assert (refused.status, refused.message) == (401, "Invalid email or password")
    assert stored_user("nobody@example.com") is None


@pytest.mark.parametrize("answer", ['["not", "a", "profile"]', "not json", "x" * 70_000])
def test_a_function_answering_anything_else_is_a_502(function_verifier: Any, answer: str) -> None:
    function_verifier(answer)
    failed = sign_in("old@example.com", LEGACY_PASSWORD)
    assert (
        failed.status == 502 and failed.message == "The legacy user store did not answer as expected; try again shortly"
    )
    assert stored_user("old@example.com") is None


def test_a_function_verifier_needs_its_invoke_permission(aws: None, setting: Callable[[str, str], None]) -> None:
    """Under the template's default (no verifier), the functions may not invoke one: AWS would
    refuse, so the local IAM check does, and the sign-in is a 502, not a user."""
    setting("LEGACY_VERIFIER_URL", FUNCTION_ARN)
    assert sign_in("old@example.com", LEGACY_PASSWORD).status == 502
    assert stored_user("old@example.com") is None
