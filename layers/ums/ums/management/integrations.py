"""/management/integrations: how mail leaves (SES or SMTP), and the "Test integration" button.

SMTP passwords go to `ums.operator_secrets`: the table only records `has_password`.
"""

from __future__ import annotations

from html import escape
from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ums.errors import BadRequest
from ums.inputs import optional_string, reject_unknown_fields, required_string
from ums.management import common
from ums.operator_secrets import INTEGRATION_PASSWORDS
from ums.store.records import INTEGRATIONS, IntegrationData, TlsMode
from ums.users import normalize_email

TLS_MODES: tuple[TlsMode, ...] = ("starttls", "implicit", "none")
FIELDS = {"name", "type", "sender", "reply_to", "configuration_set", "host", "port", "tls", "username", "password"}

router = APIGatewayHttpRouter()


def validate(body: dict[str, Any]) -> IntegrationData:
    """An integration as stored (the password aside), or a 400 naming the field."""
    reject_unknown_fields(body, FIELDS)
    kind = body.get("type")
    if kind not in ("ses", "smtp"):
        raise BadRequest("Field 'type' must be 'ses' or 'smtp'")
    name = required_string(body, "name")
    if not body.get("sender"):
        raise BadRequest("Field 'sender' is required")
    sender = normalize_email(body["sender"])
    reply_to = normalize_email(body["reply_to"]) if body.get("reply_to") else None
    if kind == "ses":
        return {
            "name": name,
            "type": "ses",
            "sender": sender,
            "reply_to": reply_to,
            "configuration_set": optional_string(body, "configuration_set"),
        }
    port = body.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise BadRequest("Field 'port' must be a number from 1 to 65535")
    return {
        "name": name,
        "type": "smtp",
        "sender": sender,
        "reply_to": reply_to,
        "host": required_string(body, "host"),
        "port": port,
        "tls": _tls(body.get("tls", "starttls")),
        "username": optional_string(body, "username"),
    }


def _tls(value: Any) -> TlsMode:
    """`tls` as stored: true is STARTTLS, false none, or one of TLS_MODES by name."""
    if value is True:
        return "starttls"
    if value is False:
        return "none"
    for mode in TLS_MODES:
        if value == mode:
            return mode
    raise BadRequest(f"Field 'tls' must be true, false or one of {', '.join(TLS_MODES)}")


@router.get("/")
def list_integrations() -> list[dict[str, Any]]:
    return common.listed(INTEGRATIONS)


@router.post("/")
def create_integration() -> tuple[dict[str, Any], int]:
    body = common.body(router)
    item_id = common.generated_id()
    data = validate(body)
    data["has_password"] = common.keep_secret(
        INTEGRATION_PASSWORDS, item_id, common.write_only(body, "password"), stored=False
    )
    return common.save(INTEGRATIONS, item_id, data, create=True), 201


@router.get("/<item_id>")
def get_integration(item_id: str) -> dict[str, Any]:
    return common.public(common.existing(INTEGRATIONS, item_id))


@router.put("/<item_id>")
def replace_integration(item_id: str) -> dict[str, Any]:
    body = common.body(router)
    existing = common.existing(INTEGRATIONS, item_id)
    data = validate(body)
    password = common.write_only(body, "password")
    data["has_password"] = common.keep_secret(
        INTEGRATION_PASSWORDS, item_id, password, stored=bool(existing.get("has_password"))
    )
    return common.save(INTEGRATIONS, item_id, data, create=False)


@router.delete("/<item_id>")
def delete_integration(item_id: str) -> dict[str, Any]:
    return common.delete_with_secret(INTEGRATIONS, INTEGRATION_PASSWORDS, item_id)


@router.post("/<item_id>/test")
def test_integration(item_id: str) -> dict[str, Any]:
    """Jexia's "Test integration" button: one mail to `to` through the integration."""
    # Imported here (as the template checks of automations and templates): mail brings jinja2,
    # tens of milliseconds of cold start that reads and most writes never need.
    from ums.automation.mail import Mail, send_test

    integration = common.existing(INTEGRATIONS, item_id)
    body = common.body(router)
    reject_unknown_fields(body, {"to"})
    to = normalize_email(body.get("to"))
    mail = Mail(
        sender=integration["sender"],
        to=to,
        reply_to=integration.get("reply_to"),
        subject="Serverless UMS: test mail",
        html=f"<p>This is a test mail from the integration <b>{escape(integration['name'])}</b>.</p>",
        text=f"This is a test mail from the integration {integration['name']}.\n",
        tags={"event": "IntegrationTest"},
    )
    return send_test(integration, mail)
