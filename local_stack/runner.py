"""Starts and stops the whole local stack: emulator, resources, functions, gateway."""

from __future__ import annotations

import json
import secrets
import socket
import threading
from html import escape
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local_stack.aws import MotoServer, create_resources, use_endpoint
from local_stack.functions import LocalFunction, prepare_process
from local_stack.gateway import Gateway, GatewayHandler, http_api_event
from local_stack.idp import LocalIdentityProvider
from local_stack.mailbox import Mailbox, SmtpCapture
from local_stack.pollers import pollers
from local_stack.template import Stack

IDP_PREFIX = "/_local/idp"
CALLBACK_PATH = "/_local/oauth/callback"
LOCAL_CLIENT_ID = "ums-local"


def callback_page(base_url: str, params: dict[str, str]) -> str:
    """The default redirect of provider `local`: what the provider sent back, and how to finish."""
    code, state = escape(params.get("code", "")), escape(params.get("state", ""))
    if "error" in params:
        error, description = escape(params["error"]), escape(params.get("error_description", ""))
        body = f"<p>The provider answered <code>{error}</code>: {description}</p>"
    else:
        finish = json.dumps({"method": "oauth", "code": params.get("code", ""), "state": params.get("state", "")})
        body = (
            f"<p>code <code>{code}</code><br>state <code>{state}</code></p>"
            "<p>An app would now call <code>ums.signIn({code, state})</code>. With curl:</p>"
            f"<pre>curl -s -X POST {escape(base_url)}/oauth/auth -d '{escape(finish)}'</pre>"
        )
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>OAuth callback</title>'
        "<style>body{font:16px sans-serif;max-width:50em;margin:3em auto}pre{white-space:pre-wrap}</style>"
        f"<h1>Back from the provider</h1>{body}</html>"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def aws_environment(endpoint: str, region: str) -> str:
    """The shell line that points any AWS client (the aws CLI, boto3) at the emulator."""
    credentials = "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing"
    return f"AWS_ENDPOINT_URL={endpoint} {credentials} AWS_DEFAULT_REGION={region}"


class LocalStack:
    def __init__(
        self,
        port: int = 3000,
        smtp_port: int = 2525,
        overrides: dict[str, str] | None = None,
        aws_port: int = 0,
    ) -> None:
        self.overrides = dict(overrides or {})
        self.stack = Stack(overrides)
        self.port = port
        self.smtp_port = smtp_port
        self.aws_port = aws_port
        self.mailbox = Mailbox()
        self.moto: MotoServer | None = None
        self.smtp: SmtpCapture | None = None
        self.gateway: Gateway | None = None
        self.functions: dict[str, LocalFunction] = {}
        self.idp: LocalIdentityProvider | None = None
        self._stopped = threading.Event()

    def start(self) -> LocalStack:
        self.moto = MotoServer(on_mail=self.mailbox.add_ses_request, port=self.aws_port).start()
        use_endpoint(self.moto.endpoint, self.stack.region)
        # The gateway's base URL is the tokens' issuer (and the hosted pages' base), as the API's
        # URL is in AWS: the port is known before the gateway binds, so clients see no gateway
        # until everything is ready.
        self.port = self.port or free_port()
        self.stack.custom_properties["Issuer"] = f"http://127.0.0.1:{self.port}"
        self.functions = prepare_process(self.stack)
        create_resources(self.stack, self.functions)
        self.idp = self._local_oauth_provider()
        self.smtp = SmtpCapture(self.mailbox, self.smtp_port).start()
        for poller in pollers(self.stack, self.functions, self._stopped):
            poller.start()
        authorizers = {
            route.auth: self.stack.jwt_authorizer(route.auth)  # issuers are known now
            for fn in self.functions.values()
            for route in fn.spec.routes
            if route.auth is not None
        }
        self.gateway = Gateway(
            self.port,
            self.functions,
            self.stack.allowed_origins(),
            self._local_routes(),
            authorizers,
            mounts={IDP_PREFIX: self.idp.handle},
        )
        threading.Thread(target=self.gateway.serve_forever, name="gateway", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self.gateway:
            self.gateway.shutdown()
            self.gateway.server_close()
        if self.smtp:
            self.smtp.stop()
        if self.moto:
            self.moto.stop()

    @property
    def base_url(self) -> str:
        assert self.gateway is not None
        return self.gateway.base_url

    def _local_oauth_provider(self) -> LocalIdentityProvider:
        """The local OpenID Connect provider, configured as provider `local` through the real
        management function (its client secret goes to the emulator's Secrets Manager)."""
        base = f"http://127.0.0.1:{self.port}"
        idp = LocalIdentityProvider(f"{base}{IDP_PREFIX}")
        client_secret = secrets.token_urlsafe(24)
        idp.add_client(LOCAL_CLIENT_ID, client_secret)
        provider = {
            "name": "local",
            "type": "oidc",
            "issuer": idp.issuer,
            "client_id": LOCAL_CLIENT_ID,
            "client_secret": client_secret,
            "redirects": [f"{base}{CALLBACK_PATH}"],
        }
        event = http_api_event(
            method="POST",
            path="/management/oauth-providers",
            route_key="ANY /management/{proxy+}",
            body=json.dumps(provider).encode(),
            path_parameters={"proxy": "oauth-providers"},
        )
        # Discovery is read at the first sign-in, when the gateway serves it: nothing is fetched here.
        answer = self.functions["ManagementFunction"].invoke(event)
        if answer["statusCode"] != 201:
            raise RuntimeError(f"could not configure the local OAuth provider: {answer['body']}")
        return idp

    def _local_routes(self) -> dict[tuple[str, str], Any]:
        def health(_: GatewayHandler) -> tuple[int, Any]:
            assert self.moto is not None and self.smtp is not None
            return 200, {
                "status": "ok",
                "aws_endpoint": self.moto.endpoint,
                "region": self.stack.region,
                "aws_env": aws_environment(self.moto.endpoint, self.stack.region),
                "smtp": {"host": "127.0.0.1", "port": self.smtp.port},
                "parameter_overrides": self.overrides,
                "oauth_issuer": self.idp.issuer if self.idp else None,
            }

        def mail(_: GatewayHandler) -> tuple[int, Any]:
            return 200, self.mailbox.all()

        def clear_mail(_: GatewayHandler) -> tuple[int, Any]:
            self.mailbox.clear()
            return 200, {}

        def mail_page(_: GatewayHandler) -> tuple[int, Any]:
            return 200, self.mailbox.html_page()

        def oauth_callback(handler: GatewayHandler) -> tuple[int, Any]:
            return 200, callback_page(self.base_url, dict(parse_qsl(urlsplit(handler.path).query)))

        return {
            ("GET", "/_local/oauth/callback"): oauth_callback,
            ("GET", "/_local/health"): health,
            ("GET", "/_local/mail"): mail,
            ("DELETE", "/_local/mail"): clear_mail,
            ("GET", "/_local/mail.html"): mail_page,
        }
