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

    def call(
        self,
        function: str,
        body: Any = None,
        token: str | None = None,
        path_parameters: dict[str, str] | None = None,
        query: str = "",
    ) -> tuple[int, Any]:
        fn = self.functions[function]
        route = fn.spec.routes[0]
        path = route.path.format(**path_parameters) if path_parameters else route.path
        headers = {"content-type": "text/plain;charset=UTF-8"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        event = http_api_event(
            method=route.method,
            path=path,
            route_key=f"{route.method} {route.path}",
            headers=headers,
            body=json.dumps(body).encode() if body is not None else b"",
            path_parameters=path_parameters,
            query=query,
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

    def reset_requested() -> None:
        from ums.crypto import decrypt_token
        from ums.store.models import EventModel

        new_user()
        client.call("RequestResetFunction", {"email": state["email"]})
        mine = (EventModel.user["email"] == state["email"]) & (EventModel.event == "AfterPasswordResetRequest")
        event = next(EventModel.scan(mine))
        state["reset_token"] = decrypt_token(event.token_ciphertext)

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
        "reset request": (
            new_user,
            lambda: client.call("RequestResetFunction", {"email": state["email"]}),
            202,
        ),
        "reset apply": (
            reset_requested,
            lambda: client.call(
                "ApplyResetFunction",
                {"new_password": NEW_PASSWORD},
                path_parameters={"token": state["reset_token"]},
            ),
            200,
        ),
        "delete user": (
            new_session,
            lambda: client.call("DeleteUserFunction", {"password": PASSWORD}, token=state["access_token"]),
            200,
        ),
    }
