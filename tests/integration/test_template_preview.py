"""POST /management/templates/preview: the console's preview of a mail, rendered in the automation
function's sandbox against sample data or a chosen user, refusing what would fail at send time,
showing which template of the country/language chain a user gets; and its "send test"."""

from __future__ import annotations

from typing import Any

from helpers import STACK, manage, sign_up
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

RESET = {"event": "AfterPasswordResetRequest"}


def preview(body: dict[str, Any]) -> Any:
    return manage("templates/preview", body)


def test_an_automations_own_mail_renders_with_sample_data(aws: None) -> None:
    answer = preview({**RESET, "subject": "Reset for {{ email }}", "body": '<a href="{{ reset_link }}">Reset</a>'})
    assert answer.status == 200
    assert answer.body["subject"] == "Reset for ann@example.com"
    assert answer.body["html"].startswith('<a href="https://') and "token=sample-token-not-valid" in answer.body["html"]
    assert answer.body["text"].startswith("Reset")  # made from the HTML, as when it is sent
    assert answer.body["template"] == "(this automation's own)" and answer.body["to"] == "ann@example.com"


def test_a_syntax_error_is_a_400_with_the_line(aws: None) -> None:
    answer = preview({**RESET, "subject": "Hi", "body": "<p>Hello</p>\n<p>{{ reset_link </p>"})
    assert answer.status == 400
    assert answer.message.startswith("Template 'body' does not compile (line 2)")


def test_a_placeholder_the_event_does_not_offer_is_refused_as_when_saved(aws: None) -> None:
    answer = preview({"event": "AfterSignUp", "subject": "Hi", "body": "{{ reset_link }}"})
    saved = manage("automations", {"name": "x", "event": "AfterSignUp", "integration_id": "nope", "subject": "Hi"})
    assert answer.status == 400 and "reset_link" in answer.message
    assert saved.status == 400  # (the integration: what saving checks first)


def test_the_chain_shows_which_variant_a_user_gets(aws: None) -> None:
    for name, subject in (("mb-user-password", "Reset"), ("mb-user-password-NL", "Wachtwoord herstellen")):
        assert manage("templates", {"name": name, "subject": subject, "html": "<p>{{ reset_link }}</p>"}).status == 201
    dutch = sign_up("jan@example.com", country="nl", language="nl").body
    answer = preview({**RESET, "template": "mb-user-password", "user_id": dutch["id"]})
    assert answer.status == 200 and answer.body["template"] == "mb-user-password-NL"
    assert answer.body["subject"] == "Wachtwoord herstellen" and answer.body["to"] == "jan@example.com"
    assert answer.body["chain"] == [
        {"name": "mb-user-password-NL", "stored": True, "used": True},
        {"name": "mb-user-password-nl", "stored": False, "used": False},
        {"name": "mb-user-password", "stored": True, "used": False},
    ]
    sample = preview({**RESET, "template": "mb-user-password"}).body  # the sample user is in the US
    assert sample["template"] == "mb-user-password" and sample["chain"][0]["name"] == "mb-user-password-US"


def test_a_default_mails_template_previews_too(aws: None) -> None:
    answer = preview({**RESET, "template": "ums-password-reset"})
    assert answer.status == 200 and answer.body["subject"] == "Reset your password"
    assert "sample-token-not-valid" in answer.body["text"]


def test_what_cannot_be_previewed_says_why(aws: None) -> None:
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"event": "Nope", "subject": "s", "body": "b"}, 400, "Unknown event 'Nope'"),
        ({**RESET, "subject": "s"}, 400, "Field 'body' is required"),
        ({**RESET, "template": "t", "subject": "s"}, 400, "Give either 'template' or 'subject' and 'body', not both"),
        ({**RESET, "template": "missing"}, 404, "No template named 'missing' or a variant of it"),
        ({**RESET, "subject": "s", "body": "b", "user_id": "nobody"}, 404, "No user 'nobody'"),
        ({**RESET, "subject": "s", "body": "b", "application": "nope"}, 404, "No application 'nope'"),
        ({**RESET, "subject": "s", "body": "b", "colour": 1}, 400, "colour"),
        ({**RESET, "subject": "s", "body": "b", "to": "ops@example.com"}, 400, "Field 'integration_id' is required"),
    ]
    for body, status, message in cases:
        answer = preview(body)
        assert (answer.status, message in answer.message) == (status, True), (body, answer.message)


def test_send_test_through_the_stacks_own_integration_without_a_mail_sender_says_why(aws: None, setting: Any) -> None:
    setting("MAIL_SENDER", "")
    answer = preview({**RESET, "subject": "s", "body": "b", "to": "ops@example.com", "integration_id": "default"})
    assert answer.status == 400 and answer.message == (
        "The mail was refused: no automation for the event, and no MailSender for its default mail"
    )


def test_send_test_mails_the_rendered_preview_through_the_integration(aws: None) -> None:
    sender = STACK.resolve({"Ref": "MailSender"})
    answer = preview(
        {
            **RESET,
            "subject": "Reset",
            "body": "<p>{{ reset_link }}</p>",
            "to": "ops@example.com",
            "integration_id": "default",
        }
    )
    assert answer.status == 200 and answer.body["sent"]["to"] == "ops@example.com"
    [mail] = ses_backends[DEFAULT_ACCOUNT_ID][STACK.region].sent_messages
    assert mail.source == sender and mail.subject == "[Test] Reset" and "sample-token-not-valid" in mail.body
