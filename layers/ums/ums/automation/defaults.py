"""The mails the stack sends on day one. An event with no automation of the operator's gets a
default one: a built-in template (HTML and text, English) sent through the stack's own SES
identity (`MailSender`). Any operator automation for the event, enabled or not, replaces it;
`DefaultMails` leaves events out. A stored template of the same name (or a `-<COUNTRY>` /
`-<language>` variant of it) is preferred to the built-in one, so an operator translates or
restyles a default mail without writing an automation.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ums.automation.mail import PermanentFailure
from ums.config import settings
from ums.events import (
    EMAIL_CHANGE,
    EMAIL_CHANGE_REQUEST,
    EMAIL_VERIFICATION_REQUEST,
    PASSWORD_CHANGE,
    PASSWORD_RESET_REQUEST,
    SIGN_UP,
    USER_DELETE,
    USER_INVITE,
)
from ums.store.records import Automation, SesIntegration, Template

INTEGRATION_ID = "default"
_FILES = Path(__file__).with_name("default_mails")
_CONTENT = "<!-- content -->"
# event id → (template name, subject); AfterEmailVerification sends none (the page said it all).
MAILS = {
    PASSWORD_RESET_REQUEST.id: ("ums-password-reset", "Reset your password"),
    SIGN_UP.id: (
        "ums-welcome",
        "Welcome{% if verify_link %}: confirm your email address{% else %}, your account is ready{% endif %}",
    ),
    EMAIL_VERIFICATION_REQUEST.id: ("ums-verify-email", "Confirm your email address"),
    EMAIL_CHANGE_REQUEST.id: ("ums-email-change", "Confirm your new email address"),
    EMAIL_CHANGE.id: ("ums-email-changed", "Your email address was changed"),
    USER_INVITE.id: ("ums-invite", "You are invited: choose your password"),
    PASSWORD_CHANGE.id: ("ums-password-changed", "Your password was changed"),
    USER_DELETE.id: ("ums-account-deleted", "Your account was deleted"),
}
_STAMP = "1970-01-01T00:00:00Z"  # built-ins were never saved: a fixed time keeps them comparable


def automation(event_id: str) -> Automation | None:
    """The default automation of the event; None when it has none or `DefaultMails` leaves it out."""
    chosen = settings().default_mails
    if event_id not in MAILS or not ("all" in chosen or event_id in chosen):
        return None
    return {
        "id": f"default-{event_id}",
        "name": f"Default mail: {event_id}",
        "event": event_id,
        "integration_id": INTEGRATION_ID,
        "enabled": True,
        "template": MAILS[event_id][0],
        "created_at": _STAMP,
        "updated_at": _STAMP,
    }


def integration() -> SesIntegration:
    """SES through the stack's `MailSender` identity and configuration set."""
    sender = settings().mail_sender
    if not sender:
        raise PermanentFailure("no automation for the event, and no MailSender for its default mail")
    return {
        "id": INTEGRATION_ID,
        "name": "Default (MailSender)",
        "type": "ses",
        "sender": sender,
        "reply_to": None,
        "configuration_set": settings().mail_configuration_set or None,
        "created_at": _STAMP,
        "updated_at": _STAMP,
    }


@cache
def template(name: str) -> Template | None:
    """The built-in template `name` (its body inside the shared layout), or None."""
    subject = next((s for n, s in MAILS.values() if n == name), None)
    if subject is None:
        return None
    layout = (_FILES / "layout.html").read_text(encoding="utf-8")
    html = layout.replace(_CONTENT, (_FILES / f"{name}.html").read_text(encoding="utf-8").strip())
    return {
        "id": name,
        "name": name,
        "subject": subject,
        "html": html.replace("<!-- title -->", subject),
        "text": (_FILES / f"{name}.txt").read_text(encoding="utf-8"),
        "created_at": _STAMP,
        "updated_at": _STAMP,
    }
