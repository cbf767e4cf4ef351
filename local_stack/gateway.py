"""An HTTP server on loopback that does what API Gateway's HTTP API does for the stack:
matches the template's routes, sends payload 2.0 events to the handlers, applies CORS."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from local_stack.authorizers import Authorized, KeySets, Refusal, authorize
from local_stack.functions import LocalFunction
from local_stack.idp import request_parts
from local_stack.template import JwtAuthorizer, Route, RouteAuth

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
LocalRoute = Callable[["GatewayHandler"], tuple[int, Any]]
# A local server mounted under a path prefix (the identity provider): (method, path below the
# prefix, query, form, headers) -> (status, headers, body).
Mount = Callable[[str, str, dict[str, str], dict[str, str], dict[str, str]], tuple[int, dict[str, str], bytes]]


class Gateway(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 resets bursts of concurrent clients

    def __init__(
        self,
        port: int,
        functions: dict[str, LocalFunction],
        allowed_origins: list[str],
        local_routes: dict[tuple[str, str], LocalRoute],
        authorizers: dict[RouteAuth, JwtAuthorizer] | None = None,
        mounts: dict[str, Mount] | None = None,
    ) -> None:
        super().__init__(("127.0.0.1", port), GatewayHandler)
        # The JWT authorizers of the routes that name one (Stack.jwt_authorizer), and the key sets
        # they read through their issuers' discovery documents.
        self.authorizers = authorizers or {}
        self.key_sets = KeySets()
        # API Gateway picks the most specific route: exact paths, then ones with {variables},
        # then greedy {proxy+} ones; a method before ANY.
        self.routes: list[tuple[Route, re.Pattern[str], LocalFunction]] = sorted(
            ((route, route.pattern(), fn) for fn in functions.values() for route in fn.spec.routes),
            key=lambda entry: ("+}" in entry[0].path, entry[0].path.count("{"), entry[0].method == "ANY"),
        )
        self.allowed_origins = allowed_origins
        self.local_routes = local_routes
        self.mounts = mounts or {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str], LocalFunction] | None:
        # API Gateway routes `/a/b/` to the route `/a/b`.
        normalized = path.rstrip("/") or "/"
        for route, pattern, fn in self.routes:
            found = pattern.match(normalized)
            if found and route.method in (method, "ANY"):
                return route, found.groupdict(), fn
        return None


class BadFraming(Exception):
    """The request's body cannot be read as its headers describe it: the connection is closed
    after the answer, since what follows on it is not a request boundary anyone can trust."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class GatewayHandler(BaseHTTPRequestHandler):
    server: Gateway
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the handlers log each request themselves

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def do_OPTIONS(self) -> None:
        try:
            self.read_body()
        except BadFraming as err:
            self._send_error(err.status, err.message, close=True)
            return
        origin = self._allowed_origin()
        if origin is None:
            self._send(204, b"", {})
            return
        self._send(
            204,
            b"",
            {
                **self._cors_headers(origin),
                "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
                "Access-Control-Allow-Headers": "authorization, content-type, x-api-key",
                "Access-Control-Max-Age": "600",
            },
        )

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a malformed request line or headers, an unknown method)
        in Jexia's error format; the body, if any, was not read, so the connection closes."""
        if code == HTTPStatus.NOT_IMPLEMENTED:  # http.server's answer to a method it has no do_ for
            code, message = HTTPStatus.METHOD_NOT_ALLOWED, None
        self._send_error(code, message or HTTPStatus(code).phrase, close=True)

    def read_body(self) -> bytes:
        """The body as Content-Length or chunked transfer encoding frames it, at most
        MAX_REQUEST_BYTES; BadFraming (400, 413) when it cannot be read as framed."""
        coding = self.headers.get("Transfer-Encoding")
        if coding is not None:
            if coding.strip().lower() != "chunked":
                raise BadFraming(400, "Unsupported Transfer-Encoding")
            return self._read_chunked()
        lengths = {value.strip() for value in self.headers.get_all("Content-Length") or []}
        if not lengths:
            return b""
        if len(lengths) > 1 or not re.fullmatch(r"[0-9]{1,20}", next(iter(lengths))):
            raise BadFraming(400, "Invalid Content-Length header")
        length = int(lengths.pop())
        if length > MAX_REQUEST_BYTES:
            raise BadFraming(413, "Request Entity Too Large")
        body = self.rfile.read(length)
        if len(body) < length:
            raise BadFraming(400, "Request body shorter than its Content-Length")
        return body

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size_text = self.rfile.readline(1024).split(b";", 1)[0].strip()
            if not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", size_text):
                raise BadFraming(400, "Invalid chunked request body")
            size = int(size_text, 16)
            if size == 0:
                while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                    pass  # trailer fields, unused
                return bytes(body)
            if len(body) + size > MAX_REQUEST_BYTES:
                raise BadFraming(413, "Request Entity Too Large")
            chunk = self.rfile.read(size)
            if len(chunk) < size or self.rfile.readline(3).strip():
                raise BadFraming(400, "Invalid chunked request body")
            body += chunk

    def _handle(self) -> None:
        url = urlsplit(self.path)
        try:
            body = self.read_body()
        except BadFraming as err:
            self._send_error(err.status, err.message, close=True)
            return
        for prefix, mount in self.server.mounts.items():
            if url.path.startswith(prefix + "/"):
                lowered = {k.lower(): v for k, v in self.headers.items()}
                path, query, form = request_parts(self.path, body, lowered)
                status, answer_headers, raw = mount(self.command, path.removeprefix(prefix), query, form, lowered)
                self._send(status, raw, answer_headers)
                return
        local = self.server.local_routes.get((self.command, url.path))
        if local is not None:
            status, answer = local(self)
            if isinstance(answer, str):
                self._send(status, answer.encode(), {"Content-Type": "text/html; charset=utf-8"})
            else:
                self._send_json(status, answer)
            return
        found = self.server.match(self.command, url.path)
        if found is None:
            self._send_error(404, "Not Found")
            return
        route, path_parameters, fn = found
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        authorized: Authorized | None = None
        if route.auth is not None:
            if route.auth not in self.server.authorizers:
                raise KeyError(f"no JWT authorizer {route.auth.authorizer} for {route.method} {route.path}")
            verdict = authorize(self.server.authorizers[route.auth], route.auth.scopes, headers, self.server.key_sets)
            if isinstance(verdict, Refusal):
                self._send(
                    verdict.status,
                    json.dumps(verdict.body, separators=(",", ":")).encode(),
                    {"Content-Type": "application/json", "www-authenticate": verdict.www_authenticate},
                )
                return
            authorized = verdict
        event = http_api_event(
            method=self.command,
            path=url.path,
            route_key=f"{route.method} {route.path}",
            query=url.query,
            headers=headers,
            body=body,
            path_parameters=path_parameters,
            source_ip=self.client_address[0],
        )
        if authorized is not None:
            event["requestContext"]["authorizer"] = authorized.context()
        try:
            result = fn.invoke(event)
        except Exception as err:  # the runtime answers 500 when a handler raises
            print(f"{fn.spec.logical_id} raised {type(err).__name__}: {err}", flush=True)
            self._send_error(500, "Internal Server Error")
            return
        self._send_result(result)

    def _send_result(self, result: Any) -> None:
        if not isinstance(result, dict) or "statusCode" not in result:
            # HTTP API payload 2.0: anything else is a 200 with the JSON of the result.
            self._send_json(200, result)
            return
        body = result.get("body") or ""
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        self._send(int(result["statusCode"]), raw, headers)

    def _send_json(self, status: int, body: Any) -> None:
        self._send(status, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def _send_error(self, status: int, message: str, close: bool = False) -> None:
        """The gateway's own errors, in the handlers' (Jexia's) error format."""
        body = [{"message": message, "request_id": str(uuid.uuid4())}]
        self._send(status, json.dumps(body).encode(), {"Content-Type": "application/json"}, close=close)

    def _send(self, status: int, raw: bytes, headers: dict[str, str], close: bool = False) -> None:
        self.send_response(status)
        origin = self._allowed_origin()
        for name, value in {**headers, **(self._cors_headers(origin) if origin else {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        if close:
            self.send_header("Connection", "close")  # also sets self.close_connection
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    def _allowed_origin(self) -> str | None:
        # http.server may refuse a request before its headers were read.
        origin = self.headers.get("Origin") if getattr(self, "headers", None) else None
        allowed = self.server.allowed_origins
        if not origin:
            return None
        if "*" in allowed:
            return "*"
        return origin if origin in allowed else None

    @staticmethod
    def _cors_headers(origin: str) -> dict[str, str]:
        headers = {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": "x-next-cursor, x-request-id",
        }
        if origin != "*":
            headers["Vary"] = "Origin"
        return headers


EXPOSED_HEADERS = "x-next-cursor, x-request-id"  # template.yaml's CorsConfiguration.ExposeHeaders


def http_api_event(
    *,
    method: str,
    path: str,
    route_key: str,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    path_parameters: dict[str, str] | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The API Gateway HTTP API payload 2.0 event for one request."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    now = datetime.now(UTC)
    query_parameters: dict[str, str] = {}
    for pair in query.split("&") if query else []:
        name, _, value = pair.partition("=")
        key, text = unquote_plus(name), unquote_plus(value)
        # Repeated parameters arrive comma-joined, as API Gateway does it.
        query_parameters[key] = f"{query_parameters[key]},{text}" if key in query_parameters else text
    try:
        text_body, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text_body, encoded = base64.b64encode(body).decode(), True
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if "cookie" in headers:
        event["cookies"] = [c.strip() for c in headers["cookie"].split(";")]
    if query_parameters:
        event["queryStringParameters"] = query_parameters
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        event["body"] = text_body
    return event
