"""Operator configuration items (integrations, automations, templates, applications)."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import PutError

from ums.clock import now_rfc3339
from ums.errors import Conflict
from ums.store import plain
from ums.store.models import ConfigModel, condition_failed, get_or_none


def get(kind: str, item_id: str) -> dict[str, Any] | None:
    item = get_or_none(ConfigModel, kind, item_id)
    return _public(item) if item is not None else None


def list_all(kind: str) -> list[dict[str, Any]]:
    return [_public(item) for item in ConfigModel.query(kind)]


def put(kind: str, item_id: str, data: dict[str, Any], *, create: bool) -> dict[str, Any]:
    """Creates (409 if it exists) or replaces an item; returns it as stored."""
    now = now_rfc3339()
    existing = None if create else get(kind, item_id)
    item = ConfigModel(kind, item_id, data=data, created_at=existing["created_at"] if existing else now, updated_at=now)
    try:
        item.save(condition=ConfigModel.id.does_not_exist() if create else None)
    except PutError as err:
        if condition_failed(err):
            raise Conflict(f"{kind} '{item_id}' already exists") from None
        raise
    return _public(item)


def delete(kind: str, item_id: str) -> None:
    ConfigModel(kind, item_id).delete()


def _public(item: ConfigModel) -> dict[str, Any]:
    return {"id": item.id, **plain(item.data), "created_at": item.created_at, "updated_at": item.updated_at}
