"""/management/oauth-providers: the providers users sign in with (`ums.oauth.providers`).

Keyed by `name` (what Jexia's SDK passes as `provider`). The client secret goes to Secrets
Manager (`ums.operator_secrets`): the table only records `has_client_secret`, and no answer
ever holds the secret.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ums.management import common
from ums.oauth.providers import check_name, validate
from ums.operator_secrets import OAUTH_CLIENT_SECRETS
from ums.store import config as config_store
from ums.store.records import OAUTH_PROVIDERS

router = APIGatewayHttpRouter()


def shown(item: Any) -> dict[str, Any]:
    return {k: v for k, v in common.public(item).items() if k != "client_secret"}


@router.get("/")
def list_providers() -> list[dict[str, Any]]:
    return [shown(item) for item in config_store.list_all(OAUTH_PROVIDERS)]


@router.post("/")
def create_provider() -> tuple[dict[str, Any], int]:
    body = common.body(router)
    name = check_name(body.get("name", body.get("preset")))
    data = validate(body, name)
    secret = common.write_only(body, "client_secret")
    data["has_client_secret"] = secret is not None
    saved = common.save(OAUTH_PROVIDERS, name, data, create=True)  # 409 before the secret is touched
    common.keep_secret(OAUTH_CLIENT_SECRETS, name, secret, stored=False)
    return shown(saved), 201


@router.get("/<name>")
def get_provider(name: str) -> dict[str, Any]:
    return shown(common.existing(OAUTH_PROVIDERS, name))


@router.put("/<name>")
def replace_provider(name: str) -> dict[str, Any]:
    body = common.body(router)
    existing = common.existing(OAUTH_PROVIDERS, name)
    common.same_name(body, name)
    data = validate(body, name)
    secret = common.write_only(body, "client_secret")
    data["has_client_secret"] = common.keep_secret(
        OAUTH_CLIENT_SECRETS, name, secret, stored=bool(existing.get("has_client_secret"))
    )
    return shown(common.save(OAUTH_PROVIDERS, name, data, create=False))


@router.delete("/<name>")
def delete_provider(name: str) -> dict[str, Any]:
    return common.delete_with_secret(OAUTH_PROVIDERS, OAUTH_CLIENT_SECRETS, name)
