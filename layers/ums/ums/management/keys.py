"""/management/keys: API keys for server-side apps; the secret is shown once, on creation."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ums import api_keys
from ums.inputs import optional_string, reject_unknown_fields
from ums.management import common
from ums.store import config as config_store
from ums.store.records import API_KEYS, ApiKeyData

router = APIGatewayHttpRouter()


def description(body: dict[str, Any]) -> str | None:
    """A key's one field, or a 400."""
    reject_unknown_fields(body, {"description"})
    return optional_string(body, "description")


@router.get("/")
def list_keys() -> list[dict[str, Any]]:
    return [api_keys.public(item) for item in config_store.list_all(API_KEYS)]


@router.post("/")
def create_key() -> tuple[dict[str, Any], int]:
    return api_keys.create(description(common.body(router))), 201


@router.get("/<key>")
def get_key(key: str) -> dict[str, Any]:
    return api_keys.public(common.existing(API_KEYS, key))


@router.put("/<key>")
def replace_key(key: str) -> dict[str, Any]:
    body = common.body(router)
    existing = common.existing(API_KEYS, key)
    data: ApiKeyData = {"description": description(body), "secret_hash": existing["secret_hash"]}
    return api_keys.public(config_store.put(API_KEYS, key, data, create=False))


@router.delete("/<key>")
def delete_key(key: str) -> dict[str, Any]:
    common.existing(API_KEYS, key)
    config_store.delete(API_KEYS, key)
    return {}
