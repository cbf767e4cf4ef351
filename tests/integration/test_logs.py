"""Nothing secret reaches the logs: passwords, hashes, access and refresh tokens, signing keys.
At INFO a request logs one line with what an operator needs (docs/bench.md, "Logs")."""

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from helpers import PASSWORD, STACK, call, sign_in, sign_up
from ums.config import settings
from ums.observability import logger


@contextlib.contextmanager
def info_lines() -> Iterator[list[dict[str, Any]]]:
    """The JSON lines the service's own formatter writes at its level inside the block (the list
    fills when the block ends)."""
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        logging.getLogger(logger.name).removeHandler(handler)  # the standard logger Powertools' wraps
        lines += [json.loads(line) for line in captured.getvalue().splitlines()]


def test_a_whole_session_logs_no_secret(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    # The service's own formatter, so the JSON lines with every extra key are what is checked;
    # at DEBUG, so the lines an operator may turn on are checked too.
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    level = logger.log_level
    logger.setLevel(logging.DEBUG)
    sign_up()
    sign_in(password="wrong password here")
    tokens = sign_in().body
    refreshed = call("RefreshTokenFunction", {"refresh_token": tokens["refresh_token"]}).body
    call("RefreshTokenFunction", {"refresh_token": tokens["refresh_token"]})  # reuse, logged as a warning
    call("GetUserFunction", token=refreshed["access_token"])
    new_password = "a brand new passphrase"
    call(
        "ChangePasswordFunction",
        {"old_password": PASSWORD, "new_password": new_password},
        token=refreshed["access_token"],
    )
    call("RequestResetFunction", {"email": "ann@example.com"})
    from ums.crypto import decrypt_token
    from ums.store.models import EventModel

    [reset] = [e for e in EventModel.scan() if e.event == "AfterPasswordResetRequest"]
    reset_token = decrypt_token(reset.token_ciphertext)
    reset_password = "reset passphrase for ann"
    call("ApplyResetFunction", {"new_password": reset_password}, path_parameters={"token": reset_token})
    fresh = sign_in(password=reset_password).body
    call("DeleteUserFunction", {"password": reset_password}, token=fresh["access_token"])
    call("SignUpFunction", raw_body=b'{"email": "x@y.zz", "password": "' + PASSWORD.encode() + b'", "n": 1e999}')

    logging.getLogger(logger.name).removeHandler(handler)  # the standard logger Powertools' wraps
    logger.setLevel(level)
    logs = capsys.readouterr()
    text = captured.getvalue() + logs.out + logs.err
    assert "User signed in" in text and "Password reset applied" in text  # the logs were captured
    key = json.loads(
        boto3.client("secretsmanager", region_name=STACK.region).get_secret_value(SecretId=settings().jwt_secret_name)[
            "SecretString"
        ]
    )["keys"][0]["private_key"].splitlines()[1]  # a line of the RSA private key's PEM
    secrets = [PASSWORD, new_password, reset_password, reset_token, "wrong password here", "$argon2id$", key]
    secrets += [tokens["access_token"], tokens["refresh_token"], refreshed["access_token"], refreshed["refresh_token"]]
    secrets += [t.split(".")[-1] for t in (tokens["refresh_token"], refreshed["refresh_token"])]
    for secret in secrets:
        assert secret not in text


def test_at_info_each_request_logs_one_line_with_what_an_operator_needs(aws: None) -> None:
    with info_lines() as lines:
        user_id = sign_up().body["id"]
        tokens = sign_in().body
        got = call("GetUserFunction", token=tokens["access_token"])
        wrong = sign_in(password="wrong password here")
        refreshed = call("RefreshTokenFunction", {"refresh_token": tokens["refresh_token"]})
    assert [line["level"] for line in lines] == ["INFO"] * 5  # one line each, nothing else at INFO
    assert [(line["message"], line["method"], line["route"], line["status"]) for line in lines] == [
        ("request", "POST", "/ums/signup", 201),
        ("request", "POST", "/auth", 200),
        ("request", "GET", "/ums/user", 200),
        ("request", "POST", "/auth", 401),
        ("request", "POST", "/auth/refresh", 200),
    ]
    for line in lines:
        assert isinstance(line["ms"], float) and line["request_id"]
        # The Lambda context is not repeated on every line (Lambda's REPORT line has it).
        assert not {"function_arn", "function_request_id", "function_memory_size", "location"} & set(line)
    assert got.body["id"] == user_id and refreshed.status == 200
    assert [line.get("user_id") for line in lines] == [user_id, user_id, user_id, None, user_id]
    assert lines[2]["request_id"] == got.headers["X-Request-Id"]
    assert lines[3]["reason"] == wrong.body[0]["message"]


@pytest.mark.parametrize(
    ("trace_header", "logged"),
    [
        ("Root=1-6741f0c5-5c1e2e3f4a5b6c7d8e9f0a1b;Parent=53995c3f42cd8ad8;Sampled=1", True),
        ("Root=1-6741f0c5-5c1e2e3f4a5b6c7d8e9f0a1b;Parent=53995c3f42cd8ad8;Sampled=0", False),
        (None, False),
    ],
)
def test_the_xray_trace_id_is_logged_only_for_a_trace_xray_records(
    aws: None, monkeypatch: pytest.MonkeyPatch, trace_header: str | None, logged: bool
) -> None:
    if trace_header is None:
        monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    else:
        monkeypatch.setenv("_X_AMZN_TRACE_ID", trace_header)  # what the Lambda runtime sets per invocation
    with info_lines() as lines:
        answer = call("GetUserFunction", token="not a token")
    [line] = lines
    assert (line["route"], line["status"]) == ("/ums/user", answer.status) == ("/ums/user", 401)
    if logged:
        assert line["xray_trace_id"] == "1-6741f0c5-5c1e2e3f4a5b6c7d8e9f0a1b"
    else:
        assert "xray_trace_id" not in line
