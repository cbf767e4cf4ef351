"""HTTP to a Serverless UMS endpoint: the local stack as it is, a deployed API signed with SigV4
from the normal AWS credential chain."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_ENDPOINT = f"http://127.0.0.1:{os.environ.get('UMS_LOCAL_PORT', '3000')}"


class Refused(Exception):
    """The API, or the project's state, does not allow what was asked (exit code 1)."""


class ApiError(Refused):
    """The API answered with an error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class UsageError(Exception):
    """A problem on this side of the wire: bad arguments, an unreadable or invalid local file,
    no credentials to sign with (exit code 2, one line, no HTTP status)."""


@dataclass
class Client:
    endpoint: str
    timeout: float = 30.0

    @property
    def is_local(self) -> bool:
        return (urlsplit(self.endpoint).hostname or "") in LOCAL_HOSTS

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        """The answer's JSON; an error answer raises ApiError with its message."""
        return self.answer(method, path, body, headers)[0]

    def answer(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[Any, Mapping[str, str]]:
        """The answer's JSON and headers; an error answer raises ApiError with its message."""
        url = self.endpoint.rstrip("/") + path
        answer = self.send(method, path, json.dumps(body) if body is not None else None, headers)
        try:
            payload = answer.json() if answer.content else None
        except ValueError:  # not JSON: not a Serverless UMS endpoint, or a proxy's error page
            payload = None
            if answer.status_code < 400:
                raise ApiError(answer.status_code, f"{url} did not answer JSON (is the endpoint right?)") from None
        if answer.status_code >= 400:
            raise ApiError(answer.status_code, _message(payload, answer.text))
        return payload, answer.headers

    def send(
        self, method: str, path: str, data: str | None = None, headers: dict[str, str] | None = None
    ) -> requests.Response:
        """The raw answer (a `requests.Response`); management requests to a deployed API signed."""
        url = self.endpoint.rstrip("/") + path
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if not self.is_local and path.startswith("/management/"):
            all_headers = self._signed(method, url, data, all_headers)
        try:
            return requests.request(method, url, data=data, headers=all_headers, timeout=self.timeout)
        except requests.ConnectionError:
            raise ConnectionError(f"Cannot reach {self.endpoint} (is `make dev` running?)") from None
        except requests.Timeout:
            raise ConnectionError(f"{method} {path.split('?')[0]} did not answer within {self.timeout:g} s") from None

    def _signed(self, method: str, url: str, data: str | None, headers: dict[str, str]) -> dict[str, str]:
        """SigV4 for API Gateway (`execute-api`), credentials from the default chain."""
        import botocore.session
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        session = botocore.session.Session()
        credentials = session.get_credentials()
        if credentials is None:
            raise UsageError("no AWS credentials found to sign the request (the management API needs IAM)")
        match = re.search(r"execute-api\.([a-z0-9-]+)\.amazonaws\.com", url)
        region = match.group(1) if match else session.get_config_variable("region") or "us-east-1"
        aws_request = AWSRequest(method=method, url=url, data=data, headers=headers)
        SigV4Auth(credentials, "execute-api", region).add_auth(aws_request)
        return dict(aws_request.headers.items())


def _message(payload: Any, text: str) -> str:
    if isinstance(payload, list) and payload and isinstance(payload[0], dict):
        return str(payload[0].get("message"))
    if isinstance(payload, dict) and "message" in payload:
        return str(payload["message"])
    return text[:500]
