"""Server-to-server authentication for the seed compatibility routes: `X-API-KEY: <key>:<secret>`
of a managed API key, or a Bearer access token issued to one (`POST /auth {"method":"apk"}`)."""

from __future__ import annotations

from ums import api_keys
from ums.errors import Unauthorized
from ums.http import Request
from ums.sessions import authenticate_subject


def require_server_key(request: Request) -> str:
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
