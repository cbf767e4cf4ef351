"""API keys for server-side apps: `{key, secret}` created by the management API (the secret is
shown once and stored as SHA-256), used with `POST /auth {"method": "apk"}` or `X-API-KEY`."""

from __future__ import annotations

import secrets
from typing import Any

from ums.crypto import secrets_equal, sha256_hex
from ums.store import config as config_store
from ums.store.records import API_KEYS, ApiKey, ApiKeyData


def create(description: str | None) -> dict[str, Any]:
    # Hex, never base64url: an id starting with '-' reads as an option on a command line
    # (`ums keys get -x...`). Older ids of any shape keep working: `find` looks up whatever is given.
    key = secrets.token_hex(12)
    secret = secrets.token_urlsafe(32)
    data: ApiKeyData = {"description": description, "secret_hash": sha256_hex(secret)}
    item = config_store.put(API_KEYS, key, data, create=True)
    return {**public(item), "key": key, "secret": secret}


def public(item: ApiKey) -> dict[str, Any]:
    """What the management API shows of a key: never the secret or its hash."""
    return {"key": item["id"], **{k: v for k, v in item.items() if k not in ("id", "secret_hash") and v is not None}}


def find(key: str) -> ApiKey | None:
    return config_store.get(API_KEYS, key) if key and len(key) <= 64 else None


def verify(key: str, secret: str) -> bool:
    item = find(key)
    # compare even for unknown keys: no timing difference between the two refusals
    return secrets_equal(item["secret_hash"] if item else "0" * 64, sha256_hex(secret)) and item is not None
