"""The operations the bench measures, each a real handler invocation through the local stack's
function loader, against moto with the tables of template.yaml."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

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
        source_ip: str = "127.0.0.1",
        route_path: str | None = None,
        form: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """Invokes `function` through its first route, or the one whose template path is `route_path`;
        with `form`, its POST route with that form (a hosted page). A page's answer is its text."""
        fn = self.functions[function]
        method = "POST" if form is not None else None
        route = next(r for r in fn.spec.routes if route_path in (None, r.path) and method in (None, r.method))
        path = route.path.format(**path_parameters) if path_parameters else route.path
        headers = {"content-type": "text/plain;charset=UTF-8"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        raw = json.dumps(body).encode() if body is not None else b""
        if form is not None:
            headers["content-type"], raw = "application/x-www-form-urlencoded", urlencode(form).encode()
        event = http_api_event(
            method=route.method,
            path=path,
            route_key=f"{route.method} {route.path}",
            headers=headers,
            body=raw,
            path_parameters=path_parameters,
            query=query,
            source_ip=source_ip,
        )
        result = fn.invoke(event)
        page = result["headers"].get("Content-Type", "").startswith("text/html")
        return int(result["statusCode"]), result["body"] if page else json.loads(result["body"])


Operation = Callable[[], Any]


def some_source() -> str:
    """A source address of its own: refused sign-ins would otherwise reach the per-source ceiling."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def sign_in(client: Client, email: str, password: str = PASSWORD) -> tuple[int, Any]:
    body = {"method": "ums", "email": email, "password": password}
    return client.call("SignInFunction", body, source_ip=some_source())


def revoke_by_reuse(client: Client, refresh_token: str) -> None:
    """Revokes the session of `refresh_token` as a thief's late reuse would: rotate, leave the
    grace window, present the rotated token again."""
    from ums.store.models import SessionModel

    client.call("RefreshTokenFunction", {"refresh_token": refresh_token})
    session = SessionModel.get(SessionModel.key_for(refresh_token.split(".")[1]))
    session.update(actions=[SessionModel.rotated_at.set(int(session.rotated_at) - 3600)])
    status, _ = client.call("RefreshTokenFunction", {"refresh_token": refresh_token})
    assert status == 401, status


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

    def nothing() -> None:
        pass

    def fresh_email() -> None:
        state["email"] = f"bench-{uuid.uuid4().hex}@example.com"

    def revoked_session() -> None:
        new_session()
        revoke_by_reuse(client, state["refresh_token"])

    def rotated_long_ago() -> None:
        from ums.store.models import SessionModel

        new_session()
        client.call("RefreshTokenFunction", {"refresh_token": state["refresh_token"]})
        session = SessionModel.get(SessionModel.key_for(state["refresh_token"].split(".")[1]))
        session.update(actions=[SessionModel.rotated_at.set(int(session.rotated_at) - 3600)])

    def reset_requested() -> None:
        from ums.crypto import decrypt_token
        from ums.store.models import EventModel

        new_user()
        client.call("RequestResetFunction", {"email": state["email"]})
        mine = (EventModel.user["email"] == state["email"]) & (EventModel.event == "AfterPasswordResetRequest")
        event = next(EventModel.scan(mine))
        state["reset_token"] = decrypt_token(event.token_ciphertext)

    def verify_token_mailed() -> None:
        from ums.crypto import decrypt_token
        from ums.store.models import EventModel

        new_user()
        mine = (EventModel.user["email"] == state["email"]) & (EventModel.event == "AfterSignUp")
        state["verify_token"] = decrypt_token(next(EventModel.scan(mine)).token_ciphertext)

    def admin_token() -> None:
        # An API key whose policy allows `create` (once; the token lasts the run).
        if "admin" in state:
            return
        from ums import api_keys
        from ums.store import config
        from ums.store.records import POLICIES, PolicyData

        key = api_keys.create("bench")
        policy: PolicyData = {
            "description": None,
            "subjects": [f"apk:{key['key']}"],
            "resources": ["ums.users"],
            "actions": {"create": []},
        }
        config.put(POLICIES, "bench-create", policy, create=False)
        _, tokens = client.call("SignInFunction", {"method": "apk", "key": key["key"], "secret": key["secret"]})
        state["admin"] = tokens["access_token"]

    def oauth_provider() -> None:
        # A plain OAuth 2 preset: /oauth/init builds its URL without calling the provider.
        from ums.oauth import providers
        from ums.store import config
        from ums.store.records import OAUTH_PROVIDERS

        github = {"preset": "github", "client_id": "bench", "redirects": ["https://app.example.com/cb"]}
        config.put(OAUTH_PROVIDERS, "github", providers.validate(github, "github"), create=False)

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
        "sign-in (wrong password)": (new_user, lambda: sign_in(client, state["email"], NEW_PASSWORD), 401),
        "sign-in (unknown email)": (fresh_email, lambda: sign_in(client, state["email"]), 401),
        "get user": (new_session, lambda: client.call("GetUserFunction", token=state["access_token"]), 200),
        "get user (revoked session)": (
            revoked_session,
            lambda: client.call("GetUserFunction", token=state["access_token"]),
            401,
        ),
        "refresh": (
            new_session,
            lambda: client.call("RefreshTokenFunction", {"refresh_token": state["refresh_token"]}),
            200,
        ),
        "refresh (late reuse: revokes)": (
            rotated_long_ago,
            lambda: client.call("RefreshTokenFunction", {"refresh_token": state["refresh_token"]}),
            401,
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
        "logout": (new_session, lambda: client.call("LogoutFunction", token=state["access_token"]), 200),
        "revoke refresh token": (
            new_session,
            lambda: client.call("RevokeTokenFunction", {"token": state["refresh_token"]}),
            200,
        ),
        "update own fields": (
            new_session,
            lambda: client.call("UpdateUserFunction", {"city": "Delft"}, token=state["access_token"]),
            200,
        ),
        "email change request": (
            new_session,
            lambda: client.call(
                "ChangeEmailFunction",
                {"new_email": f"new-{uuid.uuid4().hex}@example.com", "password": PASSWORD},
                token=state["access_token"],
            ),
            202,
        ),
        "invite user": (
            admin_token,
            lambda: client.call(
                "UsersCreateFunction", {"email": f"invited-{uuid.uuid4().hex}@example.com"}, token=state["admin"]
            ),
            201,
        ),
        "verify request": (new_user, lambda: client.call("VerifyRequestFunction", {"email": state["email"]}), 202),
        "verify email": (
            verify_token_mailed,
            lambda: client.call("VerifyEmailFunction", path_parameters={"token": state["verify_token"]}),
            200,
        ),
        # The hosted pages, as a mailed link without an application opens them.
        "reset page (show)": (
            reset_requested,
            lambda: client.call("ResetPageFunction", query=urlencode({"token": state["reset_token"]})),
            200,
        ),
        "reset page (submit)": (
            reset_requested,
            lambda: client.call(
                "ResetPageFunction",
                form={"token": state["reset_token"], "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
            ),
            200,
        ),
        "verify page (show)": (
            verify_token_mailed,
            lambda: client.call("VerifyPageFunction", query=urlencode({"token": state["verify_token"]})),
            200,
        ),
        "verify page (submit)": (
            verify_token_mailed,
            lambda: client.call("VerifyPageFunction", form={"token": state["verify_token"]}),
            200,
        ),
        "delete user": (
            new_session,
            lambda: client.call("DeleteUserFunction", {"password": PASSWORD}, token=state["access_token"]),
            200,
        ),
        # What an API Gateway JWT authorizer (or any OIDC library) fetches: no DynamoDB call.
        "openid configuration": (
            nothing,
            lambda: client.call("WellKnownFunction", route_path="/.well-known/openid-configuration"),
            200,
        ),
        "jwks": (nothing, lambda: client.call("WellKnownFunction", route_path="/.well-known/jwks.json"), 200),
        "openapi document": (nothing, lambda: client.call("WellKnownFunction", route_path="/openapi.json"), 200),
        "oauth init": (
            oauth_provider,
            lambda: client.call("OAuthInitFunction", query="action=sign-in&provider=github"),
            200,
        ),
        # A forged or replayed callback costs one read before it is refused (no provider call).
        "oauth callback (unknown state)": (
            nothing,
            lambda: client.call("OAuthAuthFunction", {"method": "oauth", "code": "c", "state": "forged"}),
            401,
        ),
    }
