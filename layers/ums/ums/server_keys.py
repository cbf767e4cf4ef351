"""Server-to-server authentication for the seed compatibility routes: `X-API-KEY: <key>:<secret>`
of a managed API key, or a Bearer access token issued to one (`POST /auth {"method":"apk"}`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from ums import api_keys
from ums.errors import Unauthorized
from ums.sessions import authenticate_subject


class HeaderSource(Protocol):
    """What this check reads of a request (`ums.http.Request` is one): no HTTP import here."""

    @property
    def headers(self) -> Mapping[str, str]: ...

    def bearer_token(self) -> str: ...


def require_server_key(request: HeaderSource) -> str:
    """The API key the request authenticates with; 401 otherwise."""
    presented = request.headers.get("x-api-key", "").strip()
    if presented:
        key, _, secret = presented.partition(":")
        if not api_keys.verify(key, secret):
            raise Unauthorized("Invalid API key")
        return key
    if request.headers.get("authorization"):
        subject = authenticate_subject(request.bearer_token())
        if subject.startswith("apk:"):
            return subject.removeprefix("apk:")
        raise Unauthorized("This route takes an API key, not a user's token")
    raise Unauthorized("Missing X-API-KEY header; expected 'X-API-KEY: <key>:<secret>' or an API key's Bearer token")
