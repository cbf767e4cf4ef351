"""Server-to-server authentication for the seed compatibility routes (`X-API-KEY: key:secret`).

Interim: one key pair from the `ServerApiKey` stack parameter, until API keys are managed.
"""

from __future__ import annotations

from ums.config import settings
from ums.errors import Unauthorized
from ums.http import Request
from ums.passwords import secrets_equal


def require_server_key(request: Request) -> None:
    """401 unless the request carries the configured `X-API-KEY`."""
    configured = settings().server_api_key
    presented = request.headers.get("x-api-key", "").strip()
    if not presented:
        raise Unauthorized("Missing X-API-KEY header; expected 'X-API-KEY: <key>:<secret>'")
    if not configured or not secrets_equal(presented, configured):
        raise Unauthorized("Invalid API key")
