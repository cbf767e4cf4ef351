"""The operations the bench measures, each a real handler invocation through the local stack's
function loader, against moto with the tables of template.yaml."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from local_stack.functions import LocalFunction
from local_stack.gateway import http_api_event

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase"


class Client:
    def __init__(self, functions: dict[str, LocalFunction]) -> None:
        self.functions = functions

    def call(self, function: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        fn = self.functions[function]
        route = fn.spec.routes[0]
        headers = {"content-type": "text/plain;charset=UTF-8"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        event = http_api_event(
            method=route.method,
            path=route.path,
            route_key=f"{route.method} {route.path}",
            headers=headers,
            body=json.dumps(body).encode() if body is not None else b"",
        )
        result = fn.invoke(event)
        return int(result["statusCode"]), json.loads(result["body"])


Operation = Callable[[], Any]


def operations(client: Client) -> dict[str, tuple[Callable[[], Any], Operation, int]]:
    """name -> (prepare, operation, expected status). `prepare` runs untimed and sets up state."""
    state: dict[str, Any] = {}

    def new_user() -> None:
        state["email"] = f"bench-{uuid.uuid4().hex}@example.com"
        client.call("SignUpFunction", {"email": state["email"], "password": PASSWORD})

    def new_session() -> None:
        new_user()
        _, tokens = client.call("SignInFunction", {"method": "ums", "email": state["email"], "password": PASSWORD})
        state.update(tokens)

    def fresh_email() -> None:
        state["email"] = f"bench-{uuid.uuid4().hex}@example.com"

    return {
        "sign-up": (
            fresh_email,
            lambda: client.call("SignUpFunction", {"email": state["email"], "password": PASSWORD}),
            201,
        ),
        "sign-in": (
            new_user,
            lambda: client.call("SignInFunction", {"method": "ums", "email": state["email"], "password": PASSWORD}),
            200,
        ),
        "get user": (new_session, lambda: client.call("GetUserFunction", token=state["access_token"]), 200),
        "refresh": (
            new_session,
            lambda: client.call("RefreshTokenFunction", {"refresh_token": state["refresh_token"]}),
            200,
        ),
        "change password": (
            new_session,
            lambda: client.call(
                "ChangePasswordFunction",
                {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
                token=state["access_token"],
            ),
            200,
        ),
        "delete user": (
            new_session,
            lambda: client.call("DeleteUserFunction", {"password": PASSWORD}, token=state["access_token"]),
            200,
        ),
    }
