"""The management API: events (read only), integrations, automations, templates, applications.

Items are validated when saved (templates compile, references exist) so nothing fails later
when mail is due. SMTP passwords go to Secrets Manager and are never stored in the table or
returned.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from functools import cache
from html import escape
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import ClientError

from ums import api_keys
from ums.automation import templates
from ums.automation.mail import Mail, PermanentFailure, TransientFailure, send
from ums.config import settings
from ums.errors import BadRequest, NotFound, UmsError
from ums.events import EVENT_TYPES, find_event_type
from ums.http import Response, optional_string, reject_unknown_fields, required_string
from ums.store import config as config_store
from ums.users import normalize_email

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
TLS_MODES = ("starttls", "implicit", "none")


class MailProviderUnavailable(UmsError):
    status = 502


class MethodNotAllowed(UmsError):
    status = 405


@cache
def _secrets() -> Any:
    return boto3.client("secretsmanager", region_name=settings().region)


def _secret_name(integration_id: str) -> str:
    return f"{settings().integration_secret_prefix}{integration_id}"


# --- validation, one function per kind -------------------------------------------------------
def _integration(body: dict[str, Any], item_id: str) -> dict[str, Any]:
    reject_unknown_fields(
        body,
        {"name", "type", "sender", "reply_to", "configuration_set", "host", "port", "tls", "username", "password"},
    )
    kind = body.get("type")
    if kind not in ("ses", "smtp"):
        raise BadRequest("Field 'type' must be 'ses' or 'smtp'")
    data: dict[str, Any] = {
        "name": required_string(body, "name"),
        "type": kind,
        "sender": normalize_email(body.get("sender")) if body.get("sender") else _missing("sender"),
        "reply_to": normalize_email(body["reply_to"]) if body.get("reply_to") else None,
    }
    if kind == "ses":
        data["configuration_set"] = optional_string(body, "configuration_set")
        return data
    port = body.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise BadRequest("Field 'port' must be a number from 1 to 65535")
    tls = body.get("tls", "starttls")
    tls = {True: "starttls", False: "none"}.get(tls, tls) if isinstance(tls, bool) else tls
    if tls not in TLS_MODES:
        raise BadRequest(f"Field 'tls' must be true, false or one of {', '.join(TLS_MODES)}")
    data.update(host=required_string(body, "host"), port=port, tls=tls, username=optional_string(body, "username"))
    return data


def _missing(name: str) -> Any:
    raise BadRequest(f"Field '{name}' is required")


def _automation(body: dict[str, Any], item_id: str) -> dict[str, Any]:
    reject_unknown_fields(
        body, {"name", "event", "integration_id", "subject", "body", "text_body", "template", "enabled"}
    )
    event_name = required_string(body, "event")
    event = find_event_type(event_name)
    if event is None:
        known = ", ".join(f"{e.id} ({e.name})" for e in EVENT_TYPES.values())
        raise BadRequest(f"Unknown event '{event_name}'; known events: {known}")
    integration_id = required_string(body, "integration_id")
    if config_store.get("integration", integration_id) is None:
        raise BadRequest(f"Integration '{integration_id}' does not exist")
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise BadRequest("Field 'enabled' must be true or false")
    data: dict[str, Any] = {
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
    for field in ("subject", "body"):
        templates.check(required_string(body, field), field, event.all_placeholders, html=field == "body")
        data[field] = body[field]
    if body.get("text_body") is not None:
        templates.check(required_string(body, "text_body"), "text_body", event.all_placeholders, html=False)
        data["text_body"] = body["text_body"]
    return data


def _template(body: dict[str, Any], item_id: str) -> dict[str, Any]:
    reject_unknown_fields(body, {"name", "subject", "html", "text"})
    data = {"name": item_id, "subject": required_string(body, "subject"), "html": required_string(body, "html")}
    if body.get("text") is not None:
        data["text"] = required_string(body, "text")
    # A named template may serve any event: it may use what any event offers.
    placeholders = {name for event in EVENT_TYPES.values() for name in event.all_placeholders}
    for field, source in data.items():
        if field != "name":
            templates.check(source, field, placeholders, html=field == "html")
    return data


def _application(body: dict[str, Any], item_id: str) -> dict[str, Any]:
    reject_unknown_fields(body, {"name", "reset_url", "email_tags", "email_template"})
    reset_url = required_string(body, "reset_url")
    parts = urlsplit(reset_url)
    if parts.scheme != "https" or not parts.netloc or parts.fragment:
        raise BadRequest("Field 'reset_url' must be an https URL without a fragment")
    tags = body.get("email_tags", [])
    valid_list = isinstance(tags, list) and all(isinstance(t, str) for t in tags)
    valid_map = isinstance(tags, dict) and all(isinstance(v, str) for v in tags.values())
    if not (valid_list or valid_map):
        raise BadRequest("Field 'email_tags' must be a list of strings or an object of strings")
    return {
        "name": item_id,
        "reset_url": reset_url,
        "email_tags": tags,
        "email_template": optional_string(body, "email_template"),
    }


SUBJECT_PATTERN = re.compile(r"^(ums|apk):(<[^<>]+>|[A-Za-z0-9_-]+)$")
RESOURCES = ("ums.users",)
ACTIONS = ("read", "update", "delete")


def _policy(body: dict[str, Any], item_id: str) -> dict[str, Any]:
    """Jexia's policy: who (`ums:<id>`, `ums:<.*>`, `apk:<key>`, `apk:<.*>`) may do what to `ums.users`."""
    reject_unknown_fields(body, {"description", "subjects", "resources", "actions"})
    subjects, resources, actions = body.get("subjects"), body.get("resources"), body.get("actions")
    if not isinstance(subjects, list) or not subjects or not all(isinstance(s, str) for s in subjects):
        raise BadRequest("Field 'subjects' must be a non-empty list such as [\"ums:<.*>\"]")
    for subject in subjects:
        if not SUBJECT_PATTERN.match(subject):
            raise BadRequest(f"Subject '{subject}' must be ums:<user id>, ums:<.*>, apk:<key> or apk:<.*>")
        if subject.endswith(">"):
            try:
                re.compile(subject[5:-1])
            except re.error as err:
                raise BadRequest(f"Subject '{subject}': invalid pattern: {err}") from None
    if not isinstance(resources, list) or not resources or any(r not in RESOURCES for r in resources):
        raise BadRequest(f"Field 'resources' must be a list of: {', '.join(RESOURCES)}")
    if not isinstance(actions, dict) or not actions or any(a not in ACTIONS for a in actions):
        raise BadRequest(
            f"Field 'actions' must be an object with keys among {', '.join(ACTIONS)}, e.g. {{\"read\": []}}"
        )
    return {
        "description": optional_string(body, "description"),
        "subjects": subjects,
        "resources": resources,
        "actions": {a: [] for a in actions},
    }


def _key(body: dict[str, Any], item_id: str) -> dict[str, Any]:
    reject_unknown_fields(body, {"description"})
    return {"description": optional_string(body, "description")}


# kind in the path -> (kind in the table, validator, named by `name` rather than a generated id)
KINDS: dict[str, tuple[str, Callable[[dict[str, Any], str], dict[str, Any]], bool]] = {
    "integrations": ("integration", _integration, False),
    "automations": ("automation", _automation, False),
    "templates": ("template", _template, True),
    "applications": ("application", _application, True),
    "policies": ("policy", _policy, False),
    "keys": (api_keys.KIND, _key, False),
}


# --- routing ----------------------------------------------------------------------------------
def handle(method: str, path: str, body: Callable[[], dict[str, Any]]) -> Response:
    """`path` is what follows /management/; `body` parses the request body when called."""
    parts = [p for p in path.split("/") if p]
    if parts == ["events"] and method == "GET":
        return Response(200, [e.describe() for e in EVENT_TYPES.values()])
    if not parts or parts[0] not in KINDS or len(parts) > 3:
        raise NotFound(f"No management resource '/management/{path}'; try events, {', '.join(KINDS)}")
    kind, validate, named = KINDS[parts[0]]
    if len(parts) == 1:
        if method == "GET":
            return Response(200, [_public(kind, item) for item in config_store.list_all(kind)])
        if method == "POST":
            return Response(201, _create(kind, validate, named, body()))
    elif len(parts) == 2:
        item_id = parts[1]
        if method == "GET":
            return Response(200, _public(kind, _existing(kind, item_id)))
        if method == "PUT":
            return Response(200, _replace(kind, validate, item_id, body()))
        if method == "DELETE":
            _existing(kind, item_id)
            if kind == "integration":
                _forget_password(item_id)
            config_store.delete(kind, item_id)
            return Response(200, {})
    elif parts[2] == "test" and kind == "integration" and method == "POST":
        return Response(200, _test_integration(_existing(kind, parts[1]), body()))
    raise MethodNotAllowed(f"{method} is not supported on /management/{path}")


def _existing(kind: str, item_id: str) -> dict[str, Any]:
    item = config_store.get(kind, item_id)
    if item is None:
        raise NotFound(f"No {kind} '{item_id}'")
    return item


def _create(kind: str, validate: Callable[..., dict[str, Any]], named: bool, body: dict[str, Any]) -> dict[str, Any]:
    if kind == api_keys.KIND:  # the one time the secret is shown
        return api_keys.create(validate(body, "")["description"])
    if named:
        item_id = required_string(body, "name")
        if not NAME_PATTERN.match(item_id):
            raise BadRequest("Field 'name' may hold letters, digits, '_', '.' and '-' (at most 128)")
    else:
        item_id = str(uuid.uuid4())
    data = validate(body, item_id)
    if kind == "integration":
        data["has_password"] = _store_password(item_id, body.get("password"))
    return _public(kind, config_store.put(kind, item_id, data, create=True))


def _replace(kind: str, validate: Callable[..., dict[str, Any]], item_id: str, body: dict[str, Any]) -> dict[str, Any]:
    existing = _existing(kind, item_id)
    named = next(named for stored, _, named in KINDS.values() if stored == kind)
    if named and body.get("name", item_id) != item_id:
        raise BadRequest("Field 'name' cannot be changed; create a new item instead")
    data = validate(body, item_id)
    if kind == api_keys.KIND:
        data["secret_hash"] = existing["secret_hash"]
    if kind == "integration":
        # An omitted password keeps the stored one.
        stored = _store_password(item_id, body.get("password"))
        data["has_password"] = stored or bool(existing.get("has_password"))
    return _public(kind, config_store.put(kind, item_id, data, create=False))


def _public(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    if kind == api_keys.KIND:
        return api_keys.public(item)
    return {k: v for k, v in item.items() if v is not None and k != "password"}


def _store_password(integration_id: str, password: Any) -> bool:
    if password is None:
        return False
    if not isinstance(password, str) or not password:
        raise BadRequest("Field 'password' must be a non-empty string")
    try:
        _secrets().put_secret_value(SecretId=_secret_name(integration_id), SecretString=password)
    except ClientError as err:
        if err.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        _secrets().create_secret(Name=_secret_name(integration_id), SecretString=password)
    return True


def _forget_password(integration_id: str) -> None:
    try:
        _secrets().delete_secret(SecretId=_secret_name(integration_id), ForceDeleteWithoutRecovery=True)
    except ClientError as err:
        if err.response["Error"]["Code"] != "ResourceNotFoundException":
            raise


def _test_integration(integration: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Jexia's "Test integration" button: one mail to `to` through the integration."""
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
    try:
        return {"message_id": send(integration, mail), "to": to}
    except PermanentFailure as err:
        raise BadRequest(f"The mail was refused: {err}") from None
    except TransientFailure as err:
        raise MailProviderUnavailable(f"The mail provider is unavailable ({err}); try again") from None
