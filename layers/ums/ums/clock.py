"""Time as the service writes it; a neutral module that the store and the logic both use."""

from __future__ import annotations

from datetime import UTC, datetime


def now_rfc3339() -> str:
    """Now as RFC 3339 UTC with microseconds and Z: 2017-12-31T23:59:59.123456Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
