"""From an outbox event to mail: find the automations for the event, build the placeholders,
resolve and render the template, send through the integration, publish to EventBridge.

Every delivery is idempotent on (event id, automation id): a redelivered stream record sends
no second mail. Events go to the bus without the token or any hash.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from urllib.parse import urlencode, urlsplit

import boto3
from aws_lambda_powertools.metrics import MetricUnit

from ums.automation import defaults, templates
from ums.automation.idempotency import once_per
from ums.automation.mail import Mail, PermanentFailure, send
from ums.config import settings
from ums.crypto import decrypt_token
from ums.events import EVENT_TYPES, PASSWORD_RESET_REQUEST, USER_INVITE
from ums.observability import logger, metrics
from ums.store import config as config_store
from ums.store import events as event_store
from ums.store import plain
from ums.store.events import Event
from ums.store.records import APPLICATIONS, AUTOMATIONS, INTEGRATIONS, TEMPLATES, Automation, Integration, Template


@cache
def _events_client() -> Any:
    return boto3.client("events", region_name=settings().region)


def is_due(record: dict[str, Any]) -> bool:
    """A stream record to process: a new event, or one sent again (MODIFY back to pending, as
    `events.redrive` writes it); not the function's own status updates, nor TTL removals."""
    if record.get("eventName") == "INSERT":
        return True
    status = record.get("dynamodb", {}).get("NewImage", {}).get("status", {})
    return record.get("eventName") == "MODIFY" and status == {"S": "pending"}


def process_stream_image(image: dict[str, Any]) -> None:
    """`process_event` for the `NewImage` of an outbox stream record."""
    process_event(event_store.from_stream_image(image))


def process_event(event: Event) -> None:
    """Sends every enabled automation's mail for `event`, then publishes it. A permanent
    failure marks the event failed; a transient one raises so the record is retried. A record
    that is not an event at all raises too: it ends in the failure queue for an operator."""
    if event.event not in EVENT_TYPES or not isinstance(_mapping(event.user).get("email"), str):
        raise ValueError(f"Outbox record {event.id!r} is not an event of this service (no known event or email)")
    automations = [a for a in config_store.list_all(AUTOMATIONS) if a.get("event") == event.event]
    if not automations and (default := defaults.automation(event.event)) is not None:
        automations = [default]
    enabled = [a for a in automations if a.get("enabled", True)]
    failures = []
    context = placeholders(event) if enabled else {}  # once: it decrypts the token
    for automation in enabled:
        try:
            delivery = {"event_id": event.id, "automation_id": automation["id"]}
            _deliver_once(delivery=delivery, event=event, automation=automation, context=context)
        except PermanentFailure as err:
            failures.append(f"{automation['id']}: {err}")
            metrics.add_metric(name="MailRejected", unit=MetricUnit.Count, value=1)
            logger.error("Mail permanently refused", extra={"event_id": event.id, "reason": str(err)})
    publish_event(event)
    if failures:
        status, reason = "failed", "; ".join(failures)
    elif enabled:
        status, reason = "sent", None
    else:
        status, reason = "skipped", _why_no_mail(event.event, automations)
        logger.warning("No mail for event", extra={"event": event.event, "event_id": event.id, "reason": reason})
        metrics.add_metric(name="EventsWithoutAutomation", unit=MetricUnit.Count, value=1)
    if not event_store.mark_delivered(event.id, status, reason):
        logger.warning("Event gone before its status was recorded", extra={"event_id": event.id})


def _why_no_mail(event_id: str, automations: list[Automation]) -> str:
    if automations:
        return "every automation for the event is disabled"
    if event_id in defaults.MAILS:
        return "no automation for the event, and DefaultMails leaves its default mail out"
    return "no automation for the event"


def _deliver(*, delivery: dict[str, str], event: Event, automation: Automation, context: dict[str, Any]) -> str:
    """Renders and sends one automation's mail. Idempotent on `delivery` alone (event and
    automation ids); the other arguments are what it needs, not part of the key."""
    integration = find_integration(automation["integration_id"])
    if integration is None:
        raise PermanentFailure(f"integration {automation['integration_id']} does not exist")
    subject, html, text, template_name = _content(automation, event, context)
    tags = {
        "application": (context["application"] or {}).get("name") or "default",
        "event": event.event,
        "template": template_name,
        **context["email_tags"],
    }
    html_body = templates.render(html, context, html=True)
    mail = Mail(
        sender=integration["sender"],
        to=context["email"],
        reply_to=integration.get("reply_to"),
        subject=templates.header_value(templates.render(subject, context, html=False)),
        html=html_body,
        text=templates.render(text, context, html=False) if text else templates.html_to_text(html_body),
        tags=tags,
    )
    message_id = send(integration, mail)
    metrics.add_metric(name="MailSent", unit=MetricUnit.Count, value=1)
    logger.info("Mail sent", extra={"event_id": event.id, "automation_id": automation["id"], "template": template_name})
    return message_id


def find_integration(integration_id: str) -> Integration | None:
    """A stored integration, or the stack's own (`default`: SES through MailSender, which
    raises PermanentFailure when the stack has no MailSender)."""
    if integration_id == defaults.INTEGRATION_ID:
        return defaults.integration()
    return config_store.get(INTEGRATIONS, integration_id)


# One mail per (event, automation): the key is the `delivery` argument.
_deliver_once = once_per("delivery")(_deliver)


def _content(automation: Automation, event: Event, context: dict[str, Any]) -> tuple[str, str, str, str]:
    """Subject, HTML, text and the template's name: the automation's own, or a named template
    resolved for the user's country and language."""
    if not automation.get("template"):
        return (
            automation["subject"],
            automation["body"],
            automation.get("text_body") or "",
            f"automation-{automation['id']}",
        )
    template = resolve_template(
        automation["template"],
        explicit=event.email_template or (context["application"] or {}).get("email_template"),
        country=event.country or context["user"].get("country"),
        language=event.locale or context["user"].get("language"),
    )
    if template is None:
        raise PermanentFailure(f"no template named {automation['template']!r} or a variant of it")
    return template["subject"], template["html"], template.get("text") or "", template["id"]


def template_chain(name: str, *, explicit: str | None, country: str | None, language: str | None) -> list[str]:
    """`explicit` → `<name>-<COUNTRY>` → `<name>-<language>` (`pt-BR`, then `pt`) → `<name>`."""
    candidates = [explicit] if explicit else []
    if country:
        candidates.append(f"{name}-{country.upper()}")
    if language:
        candidates.append(f"{name}-{language}")
        if "-" in language:
            candidates.append(f"{name}-{language.split('-')[0]}")
    candidates.append(name)
    return candidates


def resolve_template(name: str, *, explicit: str | None, country: str | None, language: str | None) -> Template | None:
    """The first stored template of the chain, else a default mail's built-in one named `name`."""
    for candidate in template_chain(name, explicit=explicit, country=country, language=language):
        template = config_store.get(TEMPLATES, candidate)
        if template:
            return template
    return defaults.template(name)


def placeholders(event: Event) -> dict[str, Any]:
    """What a template can use. The token is decrypted here and nowhere else."""
    user = plain(event.user)
    app_name = (plain(event.application) or {}).get("name")
    application = config_store.get(APPLICATIONS, app_name) if app_name else None
    tags = _tags(application.get("email_tags") if application else None)
    tags.update(_tags(list(event.email_tags or [])))
    context = template_context(
        email=event.mail_to or user["email"],  # where the mail goes: the new address of an email change
        user=user,
        application=application,
        event={"id": event.event, "name": event.name, "time": event.occurred_at},
        merge_vars=plain(event.merge_vars) or {},
        email_tags=tags,
    )
    context.update(_mapping(event.email_change))  # old_email, new_email
    if event.token_ciphertext:
        token = decrypt_token(event.token_ciphertext)
        if event.event in (PASSWORD_RESET_REQUEST.id, USER_INVITE.id):
            context.update(token=token, reset_link=reset_link_for(application, user["id"], token))
        else:  # a verification link: sign-up, a verification request or an email change
            context.update(verify_token=token, verify_link=verify_link_for(application, token))
        context["expires_at"] = event.token_expires_at
    return context


def template_context(
    *,
    email: str,
    user: dict[str, Any],
    application: Any,
    event: dict[str, Any],
    merge_vars: dict[str, Any],
    email_tags: dict[str, str],
) -> dict[str, Any]:
    """The placeholders every event offers (COMMON_PLACEHOLDERS)."""
    return {
        "email": email,
        "user": user,
        "first_name": user.get("first_name", ""),
        "application": {
            "name": application["id"],
            "email_tags": application.get("email_tags", []),
            "email_template": application.get("email_template"),
        }
        if application
        else None,
        "project_id": settings().project_id,
        "event": event,
        "merge_vars": merge_vars,
        "email_tags": email_tags,
    }


def reset_link_for(application: Any, user_id: str, token: str) -> str:
    """The application's own reset page, else the default one (the hosted page unless
    DefaultResetUrl names another), told which application's branding to show."""
    if application and application.get("reset_url"):
        return reset_link(application["reset_url"], user_id, token)
    return reset_link(settings().default_reset_url, user_id, token, {"app": application["id"]} if application else {})


def verify_link_for(application: Any, token: str) -> str:
    return with_query(
        settings().default_verify_url, {"token": token, **({"app": application["id"]} if application else {})}
    )


def reset_link(base: str, user_id: str, token: str, extra: dict[str, str] | None = None) -> str:
    """`<base>?accountId=<project>&customerId=<user>&token=<token>&action=resetPwd` (Quicksilver's
    link), then `extra`; the base comes from configuration only, never from a request."""
    params = {"accountId": settings().project_id, "customerId": user_id, "token": token, "action": "resetPwd"}
    return with_query(base, {**params, **(extra or {})})


def with_query(base: str, params: dict[str, str]) -> str:
    return f"{base}{'&' if urlsplit(base).query else '?'}{urlencode(params)}"


def _tags(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(v): "true" for v in value}
    return {}


def _mapping(value: Any) -> dict[str, Any]:
    """A map attribute as a dict; anything else (missing, malformed) as an empty one."""
    value = plain(value)
    return value if isinstance(value, dict) else {}


def publish_event(event: Event) -> None:
    """The event on the stack's bus, without the token: for other consumers (`*.*.transactional`).
    Fields the record lacks are published as null rather than failing the delivery."""
    user = _mapping(event.user)
    event_type = EVENT_TYPES.get(str(event.event))
    detail = {
        "event_id": event.id,
        "event": event.event,
        "user": {k: user.get(k) for k in ("id", "email", "country", "language")},
        "application": _mapping(event.application).get("name"),
        "occurred_at": event.occurred_at,
        "routing_key": event.routing_key or (event_type.routing_key if event_type else None),
    }
    _events_client().put_events(
        Entries=[
            {
                "Source": "ums",
                "DetailType": event_type.name if event_type else str(event.name or event.event or "UMS event"),
                "Detail": json.dumps(detail, default=str),
                "EventBusName": settings().event_bus_name,
            }
        ]
    )
