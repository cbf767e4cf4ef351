"""`POST /management/templates/preview`: a mail as it would go out, before it does.

Renders an automation's mail (its own subject and body, or a named template resolved through
the `<name>-<COUNTRY>` → `<name>-<language>` → `<name>` chain) in the automation function's
sandbox, against sample data or a chosen user, after the checks an automation gets when it is
saved: what would fail at send time is a 400 here, with the line. With `to`, the rendered mail
is also sent through an integration ("send test").
"""

from __future__ import annotations

from typing import Any

from jinja2 import TemplateError

from ums.automation import templates
from ums.automation.mail import Mail, PermanentFailure, send_test
from ums.automation.pipeline import (
    find_integration,
    reset_link_for,
    resolve_template,
    template_chain,
    template_context,
    verify_link_for,
)
from ums.errors import BadRequest, NotFound
from ums.events import EVENT_TYPES, EventType, find_event_type
from ums.inputs import optional_string, reject_unknown_fields, required_string
from ums.store import config as config_store
from ums.store import plain
from ums.store import users as user_store
from ums.store.records import APPLICATIONS, TEMPLATES
from ums.users import normalize_email, public_record

FIELDS = {"event", "subject", "body", "text_body", "template", "user_id", "application", "to", "integration_id"}
SAMPLE_USER = {
    "id": "555b9225bffebc31068b4567",
    "email": "ann@example.com",
    "first_name": "Ann",
    "country": "US",
    "language": "en",
}
SAMPLE_TOKEN = "sample-token-not-valid"
SAMPLE_TIME = "2026-11-24T09:00:00Z"


def preview(body: dict[str, Any]) -> dict[str, Any]:
    reject_unknown_fields(body, FIELDS)
    event = _event(required_string(body, "event"))
    user = _user(optional_string(body, "user_id"))
    application = _application(optional_string(body, "application"))
    context = sample_context(event, user, application)
    name, chain, subject, html, text = _content(body, event, user, application)
    try:
        rendered_html = templates.render(html, context, html=True)
        rendered = {
            "subject": templates.header_value(templates.render(subject, context, html=False)),
            "html": rendered_html,
            "text": templates.render(text, context, html=False) if text else templates.html_to_text(rendered_html),
        }
    except (TemplateError, TypeError, ValueError, ArithmeticError) as err:  # refused when rendered
        raise BadRequest(f"The mail does not render: {err}") from None
    answer: dict[str, Any] = {"template": name, "chain": chain, "to": context["email"], **rendered}
    if body.get("to") is not None:
        answer["sent"] = _send_test(body, rendered)
    return answer


def _event(name: str) -> EventType:
    event = find_event_type(name)
    if event is None:
        raise BadRequest(f"Unknown event '{name[:64]}'; known events: {', '.join(EVENT_TYPES)}")
    return event


def _user(user_id: str | None) -> dict[str, Any]:
    if user_id is None:
        return dict(SAMPLE_USER)
    record = user_store.get(user_id[:128])
    if record is None:
        raise NotFound(f"No user '{user_id[:64]}' to preview the mail for")
    return public_record(record)


def _application(name: str | None) -> dict[str, Any] | None:
    if name is None:
        return None
    record = config_store.get(APPLICATIONS, name[:128])
    if record is None:
        raise NotFound(f"No application '{name[:64]}'")
    return plain(record)  # type: ignore[no-any-return]


def sample_context(event: EventType, user: dict[str, Any], application: dict[str, Any] | None) -> dict[str, Any]:
    """What the automation function would give the templates, with a sample token and links."""
    context = template_context(
        email=user["email"],
        user=user,
        application=application,
        event={"id": event.id, "name": event.name, "time": SAMPLE_TIME},
        merge_vars={},
        email_tags={},
    )
    context.update(
        old_email=user["email"],
        new_email="new." + user["email"],
        token=SAMPLE_TOKEN,
        verify_token=SAMPLE_TOKEN,
        reset_link=reset_link_for(application, user["id"], SAMPLE_TOKEN),
        verify_link=verify_link_for(application, SAMPLE_TOKEN),
        expires_at=SAMPLE_TIME,
    )
    offered = set(event.all_placeholders)
    return {key: value for key, value in context.items() if key in offered}


def _content(
    body: dict[str, Any], event: EventType, user: dict[str, Any], application: dict[str, Any] | None
) -> tuple[str, list[dict[str, Any]], str, str, str]:
    """(template used, the chain tried, subject, html, text), checked as a saved automation is."""
    name = optional_string(body, "template")
    if name is None:
        subject, html = required_string(body, "subject"), required_string(body, "body")
        text = optional_string(body, "text_body") or ""
        _check(event, {"subject": subject, "body": html, "text_body": text})
        return "(this automation's own)", [], subject, html, text
    if any(body.get(f) for f in ("subject", "body", "text_body")):
        raise BadRequest("Give either 'template' or 'subject' and 'body', not both")
    where = {
        "explicit": (application or {}).get("email_template"),
        "country": _text(user.get("country")),
        "language": _text(user.get("language")),
    }
    candidates = template_chain(name, **where)
    template = resolve_template(name, **where)
    if template is None:
        raise NotFound(f"No template named '{name[:64]}' or a variant of it (tried {', '.join(candidates)})")
    text = template.get("text") or ""
    _check(event, {"subject": template["subject"], "html": template["html"], "text": text})
    used = [
        {"name": c, "stored": config_store.get(TEMPLATES, c) is not None, "used": c == template["id"]}
        for c in candidates
    ]
    return template["id"], used, template["subject"], template["html"], text


def _check(event: EventType, fields: dict[str, str]) -> None:
    """What saving an automation checks: each part compiles, with the event's placeholders only."""
    for field, source in fields.items():
        if source:
            templates.check(source, field, event.all_placeholders, html=field in ("body", "html"))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _send_test(body: dict[str, Any], rendered: dict[str, str]) -> dict[str, Any]:
    to = normalize_email(body.get("to"))
    integration_id = required_string(body, "integration_id")
    try:
        integration = find_integration(integration_id[:128])
    except PermanentFailure as err:  # the stack's own integration, without a MailSender
        raise BadRequest(f"The mail was refused: {err}") from None
    if integration is None:
        raise BadRequest(f"Integration '{integration_id[:64]}' does not exist")
    mail = Mail(
        sender=integration["sender"],
        to=to,
        reply_to=integration.get("reply_to"),
        subject="[Test] " + rendered["subject"],
        html=rendered["html"],
        text=rendered["text"],
        tags={"event": "TemplatePreview"},
    )
    return send_test(integration, mail)
