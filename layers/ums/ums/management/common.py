"""What the management routers share: the request body, lookups, ids and what a client sees."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ums.errors import BadRequest, NotFound
from ums.http import Request
from ums.inputs import required_string
from ums.store import config as config_store
from ums.store.records import Kind

if TYPE_CHECKING:
    from ums.operator_secrets import SecretStore

D = TypeVar("D", bound=Mapping[str, object])
R = TypeVar("R", bound=Mapping[str, object])

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def body(router: APIGatewayHttpRouter) -> dict[str, Any]:
    """The request body as a JSON object; `ums.management.handle` puts the request in the context."""
    request: Request = router.context["request"]
    return request.json_object()


def existing(kind: Kind[Any, R], item_id: str) -> R:
    """The stored item, or a 404."""
    item = config_store.get(kind, item_id)
    if item is None:
        raise NotFound(f"No {kind.name} '{item_id}'")
    return item


def public(item: Mapping[str, object]) -> dict[str, Any]:
    """An item as the API shows it: no empty fields, never a password."""
    return {k: v for k, v in item.items() if v is not None and k != "password"}


def listed(kind: Kind[Any, Any]) -> list[dict[str, Any]]:
    return [public(item) for item in config_store.list_all(kind)]


def save(kind: Kind[D, Any], item_id: str, data: D, *, create: bool) -> dict[str, Any]:
    """Stores `data` (409 when `create` and the id is taken) and returns it as shown."""
    return public(config_store.put(kind, item_id, data, create=create))


def generated_id() -> str:
    return str(uuid.uuid4())


def name_id(body: dict[str, Any]) -> str:
    """The id of a named kind (templates, applications): its `name`, which must fit NAME_PATTERN."""
    item_id = required_string(body, "name")
    if not NAME_PATTERN.match(item_id):
        raise BadRequest("Field 'name' may hold letters, digits, '_', '.' and '-' (at most 128)")
    return item_id


def same_name(body: dict[str, Any], item_id: str) -> None:
    """400 when a PUT on a named kind tries to rename the item."""
    if body.get("name", item_id) != item_id:
        raise BadRequest("Field 'name' cannot be changed; create a new item instead")


def write_only(body: dict[str, Any], field: str) -> str | None:
    """A write-only secret field (an SMTP password, a client secret): absent, or a non-empty string
    Secrets Manager takes."""
    secret = body.get(field)
    if secret is not None and (not isinstance(secret, str) or not secret or len(secret) > 8192):
        raise BadRequest(f"Field '{field}' must be a non-empty string of at most 8192 characters")
    return secret


def keep_secret(secrets: SecretStore, item_id: str, secret: str | None, *, stored: bool) -> bool:
    """Writes a secret given; an omitted one keeps what is stored. Whether one is stored now."""
    if secret is None:
        return stored
    secrets.write(item_id, secret)
    return True


def delete_with_secret(kind: Kind[Any, Any], secrets: SecretStore, item_id: str) -> dict[str, Any]:
    existing(kind, item_id)
    secrets.delete(item_id)
    config_store.delete(kind, item_id)
    return {}


def crud_router(
    kind: Kind[D, Any], validate: Callable[[dict[str, Any], str], D], *, named: bool
) -> APIGatewayHttpRouter:
    """The five routes of a plain kind: list, create (201), read, replace, delete. A named kind
    (templates, applications) is keyed by its `name`, which a replace cannot change; the others
    get a generated id. `validate(body, item_id)` makes the item as stored, or raises a 400."""
    router = APIGatewayHttpRouter()

    @router.get("/")
    def list_items() -> list[dict[str, Any]]:
        return listed(kind)

    @router.post("/")
    def create_item() -> tuple[dict[str, Any], int]:
        data = body(router)
        item_id = name_id(data) if named else generated_id()
        return save(kind, item_id, validate(data, item_id), create=True), 201

    @router.get("/<item_id>")
    def get_item(item_id: str) -> dict[str, Any]:
        return public(existing(kind, item_id))

    @router.put("/<item_id>")
    def replace_item(item_id: str) -> dict[str, Any]:
        data = body(router)
        existing(kind, item_id)
        if named:
            same_name(data, item_id)
        return save(kind, item_id, validate(data, item_id), create=False)

    @router.delete("/<item_id>")
    def delete_item(item_id: str) -> dict[str, Any]:
        existing(kind, item_id)
        config_store.delete(kind, item_id)
        return {}

    return router
