"""Operator configuration items (integrations, automations, templates, applications, policies,
API keys), typed by their `Kind` (`ums.store.records`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from pynamodb.exceptions import PutError

from ums.clock import now_rfc3339
from ums.errors import Conflict
from ums.store import plain
from ums.store.models import ConfigModel, condition_failed, get_or_none
from ums.store.records import Kind

D = TypeVar("D", bound=Mapping[str, object])
R = TypeVar("R", bound=Mapping[str, object])


def get(kind: Kind[Any, R], item_id: str) -> R | None:
    """The item, or None."""
    item = get_or_none(ConfigModel, kind.name, item_id)
    return _record(kind, item) if item is not None else None


def list_all(kind: Kind[Any, R]) -> list[R]:
    return [_record(kind, item) for item in ConfigModel.query(kind.name)]


def put(kind: Kind[D, R], item_id: str, data: D, *, create: bool) -> R:
    """Creates (409 if it exists) or replaces an item; returns it as stored."""
    name = kind.name
    now = now_rfc3339()
    existing = None if create else get_or_none(ConfigModel, name, item_id)
    created_at = existing.created_at if existing else now
    item = ConfigModel(name, item_id, data=data, created_at=created_at, updated_at=now)
    try:
        item.save(condition=ConfigModel.id.does_not_exist() if create else None)
    except PutError as err:
        if condition_failed(err):
            raise Conflict(f"{name} '{item_id}' already exists") from None
        raise
    return _record(kind, item)


def delete(kind: Kind[Any, Any], item_id: str) -> None:
    ConfigModel(kind.name, item_id).delete()


def _fields(item: ConfigModel) -> dict[str, Any]:
    return {"id": item.id, **plain(item.data), "created_at": item.created_at, "updated_at": item.updated_at}


def _record(kind: Kind[Any, R], item: ConfigModel) -> R:
    """The item as its kind's record: the one place a table item becomes a typed record, on the
    word of the management API that validated its data before storing it."""
    return cast(R, _fields(item))
