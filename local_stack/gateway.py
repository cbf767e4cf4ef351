"""An HTTP server on loopback that does what API Gateway's HTTP API does for the stack:
matches the template's routes, sends payload 2.0 events to the handlers, applies CORS."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from local_stack.functions import LocalFunction
from local_stack.template import Route

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
LocalRoute = Callable[["GatewayHandler"], tuple[int, Any]]


class Gateway(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 resets bursts of concurrent clients

    def __init__(
        self,
        port: int,
        functions: dict[str, LocalFunction],
        allowed_origins: list[str],
        local_routes: dict[tuple[str, str], LocalRoute],
    ) -> None:
        super().__init__(("127.0.0.1", port), GatewayHandler)
        self.routes: list[tuple[Route, re.Pattern[str], LocalFunction]] = [
            (route, route.pattern(), fn) for fn in functions.values() for route in fn.spec.routes
        ]
        self.allowed_origins = allowed_origins
        self.local_routes = local_routes

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


class GatewayHandler(BaseHTTPRequestHandler):
    server: Gateway
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the handlers log each request themselves

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def do_OPTIONS(self) -> None:
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

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            self._send_json(413, {"message": "Request Entity Too Large"})
            return
        local = self.server.local_routes.get((self.command, url.path))
        if local is not None:
            status, body = local(self)
            if isinstance(body, str):
                self._send(status, body.encode(), {"Content-Type": "text/html; charset=utf-8"})
            else:
                self._send_json(status, body)
            return
        found = self.server.match(self.command, url.path)
        if found is None:
            self.read_body()
            self._send_json(404, {"message": "Not Found"})
            return
        route, path_parameters, fn = found
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        event = http_api_event(
            method=self.command,
            path=url.path,
            route_key=f"{route.method} {route.path}",
            query=url.query,
            headers=headers,
            body=self.read_body(),
            path_parameters=path_parameters,
            source_ip=self.client_address[0],
        )
        try:
            result = fn.invoke(event)
        except Exception as err:  # the runtime answers 500 when a handler raises
            print(f"{fn.spec.logical_id} raised {type(err).__name__}: {err}", flush=True)
            self._send_json(500, {"message": "Internal Server Error"})
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

    def _send(self, status: int, raw: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        origin = self._allowed_origin()
        for name, value in {**headers, **(self._cors_headers(origin) if origin else {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    def _allowed_origin(self) -> str | None:
        origin = self.headers.get("Origin")
        allowed = self.server.allowed_origins
        if not origin:
            return None
        if "*" in allowed:
            return "*"
        return origin if origin in allowed else None

    @staticmethod
    def _cors_headers(origin: str) -> dict[str, str]:
        headers = {"Access-Control-Allow-Origin": origin}
        if origin != "*":
            headers["Vary"] = "Origin"
        return headers


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
