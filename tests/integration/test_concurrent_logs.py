"""Functions that run at once in one process (the local stack's threads) each log their own
request line: their route, status, request id and refusal reason, none of the other's keys."""

import io
import json
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from helpers import Answer, call
from ums import http
from ums.observability import logger


def test_two_functions_at_once_each_log_their_own_request_line(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    # Both invocations wait here until the other has set its keys too: the lines logged after
    # this point are where shared keys would show the last invocation's request id on both.
    both_started = threading.Barrier(2, timeout=10)
    from_event = http.Request.from_event

    def waiting_from_event(event: dict[str, Any], request_id: str) -> http.Request:
        both_started.wait()
        return from_event(event, request_id)

    monkeypatch.setattr(http.Request, "from_event", waiting_from_event)

    def invoke(function: str) -> Answer:
        # Each is refused (no token, a bad body) and logs its request line with its keys.
        return call(function, {} if function == "SignInFunction" else None)

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            functions = ["GetUserFunction", "SignInFunction"]
            answers = dict(zip(functions, pool.map(invoke, functions), strict=True))
    finally:
        logging.getLogger(logger.name).removeHandler(handler)  # the standard logger Powertools' wraps

    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    refused = {line["route"]: line for line in lines if line["message"] == "request"}
    assert set(refused) == {"/ums/user", "/auth"}
    routes = {"GetUserFunction": "/ums/user", "SignInFunction": "/auth"}
    for function, answer in answers.items():
        assert answer.status in (400, 401)
        line = refused[routes[function]]
        assert line["request_id"] == answer.body[0]["request_id"]
        assert line["status"] == answer.status
        assert line["reason"] == answer.body[0]["message"]


def test_a_new_invocation_starts_without_the_previous_ones_keys(aws: None) -> None:
    logger.append_keys(leftover="from an earlier invocation")
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    try:
        call("GetUserFunction")
    finally:
        logging.getLogger(logger.name).removeHandler(handler)
    [line] = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert "leftover" not in line
    assert (line["message"], line["route"], line["status"]) == ("request", "/ums/user", 401)
    assert line["service"]  # the constructor's keys are still there


@pytest.fixture(autouse=True)
def _no_keys_left_behind() -> Iterator[None]:
    yield
    logger.thread_safe_clear_keys()
