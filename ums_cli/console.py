"""`ums console`: the operator's web console, served on 127.0.0.1.

The browser only ever talks to this server: static files from `console_static/` (plain HTML, CSS
and an ES module, no build step, nothing from a CDN), and `/api/...`, which this server forwards
to the endpoint. Management requests to a deployed API are signed with SigV4 from the operator's
AWS credentials, and `/ums/users` requests carry an access token this server gets with an API key.
So no credential ever reaches the browser.

`/api` takes only requests the console's own script makes: same origin (`Origin`, when sent, must
be this server) with the `X-UMS-Console` header, which a cross-site form or image cannot send
without a preflight this server never allows. The Host header must name this server (no DNS
rebinding).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ums_cli.client import ApiError, Client

STATIC = Path(__file__).with_name("console_static")
FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
# The mail preview shows the mail's own inline styles in a sandboxed frame (no scripts run
# there): hence 'unsafe-inline' for styles only; scripts come from this server alone.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
    "connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# What the console may reach on the endpoint, by path prefix.
FORWARDED = ("/management/", "/ums/users", "/ums/resetpassword")
LOCAL_ONLY = ("/_local/mail",)
MAX_BODY = 256 * 1024


class UsersAccess:
    """An access token for `/ums/users`, from an API key (`--key`, `UMS_API_KEY`). On the local
    stack without one, the console makes its own key and a policy that lets it manage users."""

    def __init__(self, client: Client, key: str | None) -> None:
        self.client = client
        self.key = key
        self.token: str | None = None
        self.lock = threading.Lock()

    def headers(self, fresh: bool = False) -> dict[str, str]:
        with self.lock:
            if self.token is None or fresh:
                self.token = self._sign_in()
            return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _sign_in(self) -> str | None:
        if self.key is None and self.client.is_local:
            self.key = self._local_key()
        if self.key is None or ":" not in self.key:
            return None
        key, secret = self.key.split(":", 1)
        tokens = self.client.request("POST", "/auth", {"method": "apk", "key": key, "secret": secret})
        return str(tokens["access_token"])

    def _local_key(self) -> str:
        created = self.client.request("POST", "/management/keys", {"description": "ums console (local stack)"})
        actions: dict[str, list[str]] = {"create": [], "read": [], "update": [], "delete": []}
        policy = {"description": "ums console", "subjects": [f"apk:{created['key']}"], "resources": ["ums.users"]}
        self.client.request("POST", "/management/policies", {**policy, "actions": actions})
        return f"{created['key']}:{created['secret']}"


def make_server(client: Client, port: int = 0, key: str | None = None) -> ThreadingHTTPServer:
    """The console's HTTP server on 127.0.0.1:`port` (0: a free one), not yet serving."""
    users = UsersAccess(client, key)
    own: list[str] = []  # "127.0.0.1:<port>", known once the server is bound

    class Handler(BaseHTTPRequestHandler):
        server_version = "ums-console"

        def log_message(self, *args: Any) -> None:  # quiet: the operator's terminal is theirs
            pass

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._handle("PUT")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

        def _handle(self, method: str) -> None:
            host = own[0]
            if self.headers.get("Host") not in (host, host.replace("127.0.0.1", "localhost")):
                return self._answer(421, {"message": "Misdirected request: open the console at http://" + host})
            path = self.path
            if path.startswith("/api/"):
                return self._forward(method, path.removeprefix("/api"), host)
            if method == "GET" and urlsplit(path).path in FILES:
                name, content_type = FILES[urlsplit(path).path]
                return self._answer(200, (STATIC / name).read_bytes(), content_type)
            return self._answer(404, {"message": f"No page {urlsplit(path).path[:100]}"})

        def _forward(self, method: str, path: str, own: str) -> None:
            origin = self.headers.get("Origin")
            if self.headers.get("X-UMS-Console") != "1" or (origin and origin != f"http://{own}"):
                return self._answer(403, {"message": "Only the console's own page may use /api"})
            local = client.is_local and path.startswith(LOCAL_ONLY)
            if not (path.startswith(FORWARDED) or local):
                return self._answer(404, {"message": f"The console does not forward {path[:100]}"})
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self._answer(413, {"message": "Request too large for the console"})
            data = self.rfile.read(length).decode("utf-8", "replace") if length else None
            try:
                headers = users.headers() if path.startswith("/ums/users") else {}
                if path.startswith("/ums/users") and not headers:
                    return self._answer(403, [{"message": "Users need an API key: `ums console --key KEY:SECRET`"}])
                answer = client.send(method, path, data, headers)
                if answer.status_code == 401 and headers:  # the token expired: once more, fresh
                    answer = client.send(method, path, data, users.headers(fresh=True))
            except (ConnectionError, ApiError) as err:
                return self._answer(502, [{"message": str(err)}])
            content_type = answer.headers.get("Content-Type", "application/json")
            more = {name: answer.headers[name] for name in PASSED_ON if name in answer.headers}
            self._answer(answer.status_code, answer.content, content_type, more)

        def _answer(
            self, status: int, body: Any, content_type: str = "application/json", more: dict[str, str] | None = None
        ) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
            self.send_response(status)
            for name, value in (more or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    own.append(f"127.0.0.1:{server.server_address[1]}")
    return server


PASSED_ON = ("X-Next-Cursor",)  # the API's headers the page reads (the users search's next page)


def serve(client: Client, port: int, key: str | None) -> None:
    server = make_server(client, port, key)
    print(f"ums console: http://127.0.0.1:{server.server_address[1]} (for {client.endpoint}); Ctrl-C stops it")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
