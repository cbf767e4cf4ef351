"""Helpers shared by the unit and integration tests.

The process gets the functions' environment from `template.yaml` before anything imports `ums`,
so tables, secrets and settings are named exactly as the template names them. It also sets the
test-only `UMS_TEST_FAST_HASHING`: Argon2id at its lowest cost, except in the tests that ask for the
service's own parameters (the `real_hashing` fixture).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from local_stack.aws import use_endpoint
from local_stack.functions import LocalFunction, forget_caches, prepare_process
from local_stack.gateway import http_api_event
from local_stack.template import Stack

os.environ["UMS_TEST_FAST_HASHING"] = "1"
STACK = Stack()
use_endpoint(None, STACK.region)
FUNCTIONS: dict[str, LocalFunction] = prepare_process(STACK)
HTTP_FUNCTIONS = sorted(name for name, fn in FUNCTIONS.items() if fn.spec.routes)
PASSWORD = "correct horse battery staple"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def message(self) -> str:
        assert isinstance(self.body, list), f"not a Jexia error array: {self.body!r}"
        return str(self.body[0]["message"])


def reset_aws_clients() -> None:
    """Forget cached AWS clients and cached secrets: each test has a fresh emulator."""
    from pynamodb.models import Model
    from ums.store import models

    for model in vars(models).values():
        if isinstance(model, type) and issubclass(model, Model) and model is not Model:
            model._connection = None
    forget_caches()  # every function's Powertools parameter caches


def call(
    function: str,
    body: Any = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    raw_body: bytes | None = None,
    path: str | None = None,
    path_parameters: dict[str, str] | None = None,
    query: str = "",
    method: str | None = None,
) -> Answer:
    """Invoke a function of template.yaml with the event API Gateway would send it."""
    fn = FUNCTIONS[function]
    route = fn.spec.routes[0]
    method = method or ("POST" if route.method == "ANY" else route.method)
    path_parameters = path_parameters or {name: "unknown" for name in re.findall(r"\{(\w+)\+?\}", route.path)}
    all_headers = {"content-type": "text/plain;charset=UTF-8", **(headers or {})}
    if token:
        all_headers["authorization"] = f"Bearer {token}"
    if raw_body is None:
        raw_body = json.dumps(body).encode() if body is not None else b""
    event = http_api_event(
        method=method,
        path=path or re.sub(r"\{(\w+)\+?\}", lambda m: path_parameters[m.group(1)], route.path),
        route_key=f"{route.method} {route.path}",
        query=query,
        headers=all_headers,
        body=raw_body,
        path_parameters=path_parameters,
    )
    result = fn.invoke(event)
    html = result["headers"].get("Content-Type", "").startswith("text/html")  # a hosted page: its text
    return Answer(result["statusCode"], result["headers"], result["body"] if html else json.loads(result["body"]))


def sign_up(email: str = "ann@example.com", password: str = PASSWORD, **extra: Any) -> Answer:
    return call("SignUpFunction", {"email": email, "password": password, **extra})


def sign_in(email: str = "ann@example.com", password: str = PASSWORD) -> Answer:
    return call("SignInFunction", {"method": "ums", "email": email, "password": password})


def manage(path: str, body: Any = None, method: str = "POST") -> Answer:
    """The management API: `manage("integrations", {...})`, `manage("keys/abc", method="DELETE")`,
    `manage("outbox?limit=2", method="GET")`."""
    path, _, query = path.partition("?")
    return call(
        "ManagementFunction",
        body,
        method=method,
        path=f"/management/{path}",
        path_parameters={"proxy": path},
        query=query,
    )
