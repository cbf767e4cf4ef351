"""HTTP plumbing for API Gateway HTTP API (payload 2.0): requests in, Jexia-format answers out.

Every handler is wrapped by `api_handler`, the one place where exceptions become HTTP answers:
`UmsError`s become their status with `[{"message", "request_id"}]`, anything else a logged 500.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs
from uuid import uuid4

from ums.errors import BadRequest, PayloadTooLarge, TooManyRequests, UmsError, Unauthorized
from ums.inputs import invalid_unicode_at, load_json, shown
from ums.observability import log_request, logger, metrics

MAX_BODY_BYTES = 64 * 1024
BASE_HEADERS = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class Html:
    """A rendered page (the hosted pages): sent as it is, not as JSON."""

    text: str


@dataclass(frozen=True)
class Response:
    status: int
    body: Any  # JSON-serialisable, or Html
    headers: dict[str, str] = field(default_factory=dict)

    def to_api_gateway(self, request_id: str) -> dict[str, Any]:
        html = isinstance(self.body, Html)
        return {
            "statusCode": self.status,
            "headers": {
                **BASE_HEADERS,
                **({"Content-Type": "text/html; charset=utf-8"} if html else {}),
                "X-Request-Id": request_id,
                **self.headers,
            },
            "body": self.body.text if html else json.dumps(self.body, separators=(",", ":")),
            "isBase64Encoded": False,
        }


@dataclass(frozen=True)
class Request:
    """What a handler needs of an HTTP API payload 2.0 event."""

    request_id: str
    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, list[str]]
    path_parameters: dict[str, str]
    raw_body: bytes
    source_ip: str = ""  # API Gateway's requestContext.http.sourceIp: what throttling keys on

    @classmethod
    def from_event(cls, event: dict[str, Any], request_id: str) -> Request:
        """The request of `event`; 400 when a header, query or path parameter is not valid Unicode."""
        http = event.get("requestContext", {}).get("http", {})
        request = cls(
            request_id=request_id,
            method=http.get("method", ""),
            path=event.get("rawPath", http.get("path", "")),
            headers={k.lower(): v for k, v in (event.get("headers") or {}).items()},
            query=parse_qs(event.get("rawQueryString") or "", keep_blank_values=True),
            path_parameters=event.get("pathParameters") or {},
            raw_body=_body_bytes(event),
            source_ip=str(http.get("sourceIp") or ""),
        )
        for kind, values in (
            ("Header", request.headers),
            ("Query parameter", request.query),
            ("Path parameter", request.path_parameters),
        ):
            for name, value in values.items():
                if invalid_unicode_at(name) is not None or invalid_unicode_at(value) is not None:
                    raise BadRequest(f"{kind} '{shown(name)}' is not valid Unicode (unpaired surrogate)")
        return request

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, whatever the Content-Type says (Jexia's SDK sends text/plain).

        400 for a body that is not UTF-8, not JSON, nested deeper than MAX_JSON_DEPTH, or holds
        a string (key or value) that is not valid Unicode."""
        if not self.raw_body.strip():
            raise BadRequest("Request body must be a JSON object")
        try:
            text = self.raw_body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("Request body is not valid UTF-8") from None
        body = load_json(text, "Request body")
        if not isinstance(body, dict):
            raise BadRequest("Request body must be a JSON object")
        return body

    def form(self) -> dict[str, str]:
        """An HTML form's fields (application/x-www-form-urlencoded); 400 for a body that is not
        UTF-8 or repeats a field."""
        try:
            text = self.raw_body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("Request body is not valid UTF-8") from None
        fields = parse_qs(text, keep_blank_values=True)
        for name, values in fields.items():
            if len(values) > 1:
                raise BadRequest(f"Form field '{shown(name)}' is given more than once")
            if invalid_unicode_at(name) is not None or invalid_unicode_at(values[0]) is not None:
                raise BadRequest(f"Form field '{shown(name)}' is not valid Unicode (unpaired surrogate)")
        return {name: values[0] for name, values in fields.items()}

    def bearer_token(self) -> str:
        """The access token of `Authorization: Bearer <token>`; 401 when there is none."""
        scheme, _, token = self.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Missing or malformed Authorization header; expected 'Bearer <access_token>'")
        return token.strip()


def _body_bytes(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("Request body is not valid base64") from None
    else:
        raw = body.encode("utf-8", "surrogateescape")
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"Request body is larger than {MAX_BODY_BYTES} bytes")
    return raw


Handler = Callable[[Request], Response]


def api_handler(route: Handler) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Turns `route(Request) -> Response` into a Lambda handler for HTTP API payload 2.0."""

    @metrics.log_metrics
    @functools.wraps(route)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        request_id = event.get("requestContext", {}).get("requestId") or str(uuid4())
        logger.thread_safe_clear_keys()  # this invocation's keys only
        logger.append_keys(request_id=request_id)
        try:
            response = route(Request.from_event(event, request_id))
        except UmsError as err:
            logger.append_keys(reason=err.message)
            headers = {"Retry-After": str(err.retry_after)} if isinstance(err, TooManyRequests) else {}
            response = Response(err.status, [{"message": err.message, "request_id": request_id}], headers)
        except Exception:
            logger.exception("Unhandled error")
            response = Response(500, [{"message": "Internal error", "request_id": request_id}])
        log_request(event, context, response.status, started)
        return response.to_api_gateway(request_id)

    return handler
