"""/management/automations: which mail goes out on which event, through which integration."""

from __future__ import annotations

from typing import Any

from ums.errors import BadRequest
from ums.events import EVENT_TYPES, find_event_type
from ums.inputs import optional_string, reject_unknown_fields, required_string
from ums.management import common
from ums.store import config as config_store
from ums.store.records import AUTOMATIONS, INTEGRATIONS, AutomationData

FIELDS = {"name", "event", "integration_id", "subject", "body", "text_body", "template", "enabled"}


def validate(body: dict[str, Any]) -> AutomationData:
    """An automation as stored, or a 400: the event and integration exist, the mail compiles
    with the event's placeholders (or names a template instead)."""
    from ums.automation import templates  # jinja2: imported when a mail is checked, not at cold start

    reject_unknown_fields(body, FIELDS)
    event_name = required_string(body, "event")
    event = find_event_type(event_name)
    if event is None:
        known = ", ".join(f"{e.id} ({e.name})" for e in EVENT_TYPES.values())
        raise BadRequest(f"Unknown event '{event_name}'; known events: {known}")
    integration_id = required_string(body, "integration_id")
    if config_store.get(INTEGRATIONS, integration_id) is None:
        raise BadRequest(f"Integration '{integration_id}' does not exist")
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise BadRequest("Field 'enabled' must be true or false")
    data: AutomationData = {
        "name": required_string(body, "name"),
        "event": event.id,
        "integration_id": integration_id,
        "enabled": enabled,
    }
    template = optional_string(body, "template")
    if template:
        if any(body.get(f) for f in ("subject", "body", "text_body")):
            raise BadRequest("Give either 'template' or 'subject' and 'body', not both")
        data["template"] = template
        return data
    data["subject"] = required_string(body, "subject")
    templates.check(data["subject"], "subject", event.all_placeholders, html=False)
    data["body"] = required_string(body, "body")
    templates.check(data["body"], "body", event.all_placeholders, html=True)
    if body.get("text_body") is not None:
        data["text_body"] = required_string(body, "text_body")
        templates.check(data["text_body"], "text_body", event.all_placeholders, html=False)
    return data


router = common.crud_router(AUTOMATIONS, lambda body, _item_id: validate(body), named=False)
