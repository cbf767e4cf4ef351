"""Every DynamoDB call of the service, through PynamoDB; nothing else talks to DynamoDB.

Logic calls the functions of `store.users`, `store.sessions`, `store.resets`, `store.events` and
`store.config`, and reads the records they return (PynamoDB model instances, used as plain
records: logic never builds expressions, actions or models). `store.models` is the store's own.
"""

from __future__ import annotations

from typing import Any


def plain(value: Any) -> Any:
    """PynamoDB map and list attributes (and anything inside) as plain dicts and lists."""
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [plain(v) for v in value]
    return value
