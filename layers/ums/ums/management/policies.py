"""/management/policies: who may read, update or delete `/ums/users` (the rules: `ums.policies`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ums import policies
from ums.inputs import optional_string, reject_unknown_fields
from ums.management import common
from ums.store import config as config_store

KIND = "policy"

router = APIGatewayHttpRouter()


def validate(body: dict[str, Any]) -> dict[str, Any]:
    """Jexia's policy: who (`ums:<id>`, `ums:<.*>`, `apk:<key>`, `apk:<.*>`) may do what to `ums.users`."""
    reject_unknown_fields(body, {"description", "subjects", "resources", "actions"})
    rules = policies.rules(body.get("subjects"), body.get("resources"), body.get("actions"))
    return {"description": optional_string(body, "description"), **rules}


@router.get("/")
def list_policies() -> list[dict[str, Any]]:
    return common.listed(KIND)


@router.post("/")
def create_policy() -> tuple[dict[str, Any], int]:
    data = validate(common.body(router))
    return common.save(KIND, common.generated_id(), data, create=True), 201


@router.get("/<item_id>")
def get_policy(item_id: str) -> dict[str, Any]:
    return common.public(common.existing(KIND, item_id))


@router.put("/<item_id>")
def replace_policy(item_id: str) -> dict[str, Any]:
    body = common.body(router)
    common.existing(KIND, item_id)
    return common.save(KIND, item_id, validate(body), create=False)


@router.delete("/<item_id>")
def delete_policy(item_id: str) -> dict[str, Any]:
    common.existing(KIND, item_id)
    config_store.delete(KIND, item_id)
    return {}
