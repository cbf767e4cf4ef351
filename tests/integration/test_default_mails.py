"""Default mails: with nothing configured, every event of the service mails the user a built-in
template from the stack's MailSender; an operator's automation replaces it; DefaultMails leaves
events out; what could not be mailed is visible in /management/outbox."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import FUNCTIONS, STACK, call, manage, sign_up
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from ums.automation import mail as mail_module
from ums.store.models import EventModel

SENDER = STACK.resolve({"Ref": "MailSender"})
OUTBOX_SOURCE = STACK.resources["AutomationFunction"]["Properties"]["Events"]["Outbox"]["Properties"]


def sent_mail() -> list[Any]:
    return ses_backends[DEFAULT_ACCOUNT_ID][STACK.region].sent_messages


def events(kind: str) -> list[EventModel]:
    return [e for e in EventModel.scan() if e.event == kind]


def automate(event: EventModel) -> None:
    image = dict(event.serialize())
    record = {"eventID": event.id, "eventName": "INSERT", "dynamodb": {"NewImage": image, "SequenceNumber": "1"}}
    assert FUNCTIONS["AutomationFunction"].invoke({"Records": [record]}) == {"batchItemFailures": []}


@pytest.fixture
def ses_requests() -> Iterator[list[dict[str, Any]]]:
    """The parameters of every SES SendEmail call (moto keeps only the HTML body)."""
    seen: list[dict[str, Any]] = []

    def spy(params: dict[str, Any], **_: Any) -> None:
        seen.append(params)

    hooks = mail_module.ses_client().meta.events
    hooks.register("provide-client-params.sesv2.SendEmail", spy)
    yield seen
    hooks.unregister("provide-client-params.sesv2.SendEmail", spy)


def test_a_sign_up_with_nothing_configured_gets_the_welcome_mail(aws: None, ses_requests: list[Any]) -> None:
    sign_up("ann@example.com", first_name="Ann")
    [event] = events("AfterSignUp")
    automate(event)
    [mail] = sent_mail()
    assert mail.source == SENDER and mail.destinations == {"ToAddresses": ["ann@example.com"]}
    assert mail.subject == "Welcome: confirm your email address"  # EmailVerification=optional
    assert "Welcome, Ann" in mail.body and '<html lang="en">' in mail.body and "Confirm my email address" in mail.body
    [request] = ses_requests
    assert request["ConfigurationSetName"] == STACK.resolve({"Ref": "MailConfigurationSet"})
    text = request["Content"]["Simple"]["Body"]["Text"]["Data"]
    assert text.startswith("Welcome, Ann") and "<" not in text
    assert {t["Name"]: t["Value"] for t in request["EmailTags"]}["template"] == "ums-welcome"
    assert EventModel.get(event.id).status == "sent"


def test_a_reset_request_with_nothing_configured_mails_a_working_link(aws: None, ses_requests: list[Any]) -> None:
    sign_up("ann@example.com")
    assert call("RequestResetFunction", {"email": "ann@example.com"}).status == 202
    [event] = events("AfterPasswordResetRequest")
    automate(event)
    [mail] = sent_mail()
    assert mail.subject == "Reset your password"
    text = ses_requests[0]["Content"]["Simple"]["Body"]["Text"]["Data"]
    [link] = re.findall(r"https://\S+", text)
    hosted_page = STACK.resolve({"Fn::Sub": "${SigningKey.Issuer}/pages/reset"})  # DefaultResetUrl is empty
    assert link.startswith(hosted_page + "?") and f'href="{link}"' in mail.body.replace("&amp;", "&")
    token = re.search(r"[?&]token=([^&]+)", link)
    assert token is not None
    applied = call(
        "ApplyResetFunction", {"new_password": "a brand new passphrase"}, path_parameters={"token": token[1]}
    )
    assert applied.status == 200, applied.body


def test_an_operator_automation_replaces_the_default_even_when_disabled(aws: None) -> None:
    integration = manage("integrations", {"name": "ses", "type": "ses", "sender": SENDER}).body
    automation = {"name": "mine", "event": "AfterSignUp", "integration_id": integration["id"],
                  "subject": "Hello from us", "body": "<p>hi</p>"}  # fmt: skip
    created = manage("automations", automation)
    assert created.status == 201
    sign_up("ann@example.com")
    automate(events("AfterSignUp")[0])
    assert [m.subject for m in sent_mail()] == ["Hello from us"]
    assert manage(f"automations/{created.body['id']}", {**automation, "enabled": False}, method="PUT").status == 200
    sign_up("bob@example.com")
    [bob] = [e for e in events("AfterSignUp") if e.user["email"] == "bob@example.com"]
    automate(bob)
    assert len(sent_mail()) == 1  # the operator turned the mail off: no default instead
    stored = EventModel.get(bob.id)
    assert (stored.status, stored.failure) == ("skipped", "every automation for the event is disabled")


def test_a_stored_template_of_the_default_name_translates_it(aws: None) -> None:
    dutch = {"name": "ums-welcome-nl", "subject": "Welkom {{ first_name }}", "html": "<p>Hallo {{ email }}</p>"}
    assert manage("templates", dutch).status == 201
    sign_up("ann@example.com", first_name="Ann", language="nl")
    sign_up("bob@example.com", first_name="Bob", language="en")
    for event in events("AfterSignUp"):
        automate(event)
    assert sorted(m.subject for m in sent_mail()) == ["Welcome: confirm your email address", "Welkom Ann"]


def test_default_mails_can_be_left_out_per_event(aws: None, setting: Any) -> None:
    setting("DEFAULT_MAILS", "AfterPasswordResetRequest")
    sign_up("ann@example.com")
    [event] = events("AfterSignUp")
    automate(event)
    assert sent_mail() == []
    stored = EventModel.get(event.id)
    assert stored.status == "skipped" and "DefaultMails" in stored.failure
    assert manage("outbox", method="GET").body == []  # skipped is not failed
    assert call("RequestResetFunction", {"email": "ann@example.com"}).status == 202
    automate(events("AfterPasswordResetRequest")[0])
    assert [m.subject for m in sent_mail()] == ["Reset your password"]


def test_no_mail_sender_fails_the_event_visibly(aws: None, setting: Any) -> None:
    setting("MAIL_SENDER", "")
    sign_up("ann@example.com")
    assert call("RequestResetFunction", {"email": "ann@example.com"}).status == 202
    [event] = events("AfterPasswordResetRequest")
    automate(event)
    assert sent_mail() == []
    [failed] = manage("outbox?status=failed", method="GET").body
    assert failed["id"] == event.id and failed["status"] == "failed"
    assert failed["reason"] == (
        "default-AfterPasswordResetRequest: no automation for the event, and no MailSender for its default mail"
    )
    assert failed["user"]["email"] == "ann@example.com"
    one = manage(f"outbox/{event.id}", method="GET")
    assert one.status == 200 and one.body == failed
    assert "token" not in json.dumps(one.body)


def test_a_failed_event_is_sent_again_once_the_cause_is_fixed(aws: None, setting: Any) -> None:
    """The delivery view's "send again": back to pending, which the outbox stream's filter passes
    to the automation function (as in template.yaml), then sent; a sent event is not sent twice."""
    from local_stack.pollers import matches

    setting("MAIL_SENDER", "")
    sign_up("ann@example.com")
    assert call("RequestResetFunction", {"email": "ann@example.com"}).status == 202
    [event] = events("AfterPasswordResetRequest")
    automate(event)
    assert manage(f"outbox/{event.id}", method="GET").body["status"] == "failed"
    setting("MAIL_SENDER", SENDER)  # the operator fixes the cause

    redriven = manage(f"outbox/{event.id}/redrive")
    assert redriven.status == 200
    assert (redriven.body["status"], redriven.body["reason"], redriven.body["redrives"]) == ("pending", None, 1)
    assert manage("outbox?status=failed", method="GET").body == []
    [again] = events("AfterPasswordResetRequest")
    image: dict[str, Any] = dict(again.serialize())

    def modify(status: str, sequence: str) -> dict[str, Any]:
        new_image = {**image, "status": {"S": status}}
        return {
            "eventID": f"{event.id}-{status}",
            "eventName": "MODIFY",
            "dynamodb": {"NewImage": new_image, "SequenceNumber": sequence},
        }

    modified, delivered = modify("pending", "3"), modify("sent", "2")
    patterns = [json.loads(f["Pattern"]) for f in OUTBOX_SOURCE["FilterCriteria"]["Filters"]]
    assert any(matches(p, modified) for p in patterns)  # the stream hands it to the function again
    assert not any(matches(p, delivered) for p in patterns)  # its own status update does not loop
    # Through the real handler, as the stream delivers it: the MODIFY mails, a status update does not.
    for record in (delivered, modified):
        assert FUNCTIONS["AutomationFunction"].invoke({"Records": [record]}) == {"batchItemFailures": []}
    [mail] = sent_mail()
    assert mail.subject == "Reset your password" and mail.destinations == {"ToAddresses": ["ann@example.com"]}
    assert manage(f"outbox/{event.id}", method="GET").body["status"] == "sent"
    refused = manage(f"outbox/{event.id}/redrive")
    assert refused.status == 409 and "is sent: only a failed or pending event is sent again" in refused.message
    assert manage("outbox/nope/redrive").status == 404
    assert manage(f"outbox/{event.id}/redrive", method="GET").status == 405


def test_the_latest_events_of_any_status_newest_first(aws: None, setting: Any) -> None:
    for email in ("a@example.com", "b@example.com"):
        sign_up(email)
    for event in sorted(events("AfterSignUp"), key=lambda e: e.occurred_at):
        automate(event)
    sign_up("c@example.com")  # not delivered yet
    latest = manage("outbox?status=all&limit=10", method="GET").body
    assert [(e["user"]["email"], e["status"]) for e in latest] == [
        ("c@example.com", "pending"),
        ("b@example.com", "sent"),
        ("a@example.com", "sent"),
    ]
    assert [e["user"]["email"] for e in manage("outbox?status=all&limit=1", method="GET").body] == ["c@example.com"]


def test_the_outbox_lists_failures_newest_first_and_shows_any_event(aws: None, setting: Any) -> None:
    setting("MAIL_SENDER", "")
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        sign_up(email)
    for event in sorted(events("AfterSignUp"), key=lambda e: e.occurred_at):
        automate(event)
    listed = manage("outbox?limit=2", method="GET").body
    assert [e["user"]["email"] for e in listed] == ["c@example.com", "b@example.com"]
    setting("MAIL_SENDER", SENDER)
    sign_up("d@example.com")
    [sent] = [e for e in events("AfterSignUp") if e.user["email"] == "d@example.com"]
    assert manage(f"outbox/{sent.id}", method="GET").body["status"] == "pending"
    automate(sent)
    assert manage(f"outbox/{sent.id}", method="GET").body["status"] == "sent"
    assert len(manage("outbox", method="GET").body) == 3


@pytest.mark.parametrize(
    ("path", "method", "status", "message"),
    [
        ("outbox?status=sent", "GET", 400, "Query parameter 'status' must be 'failed'"),
        ("outbox?limit=0", "GET", 400, "Query parameter 'limit' must be a whole number from 1 to 100"),
        ("outbox?limit=%C2%B2", "GET", 400, "Query parameter 'limit' must be a whole number from 1 to 100"),
        ("outbox?limit=1&limit=2", "GET", 400, "Query parameter 'limit' must be a whole number from 1 to 100"),
        ("outbox/nope", "GET", 404, "No event 'nope'"),
        ("outbox/" + "x" * 3000, "GET", 404, "No event '" + "x" * 128 + "'"),
        ("outbox", "POST", 405, "POST is not supported on /management/outbox"),
        ("outbox/x", "DELETE", 405, "DELETE is not supported on /management/outbox/x"),
    ],
)
def test_the_outbox_refuses_what_it_cannot_answer(aws: None, path: str, method: str, status: int, message: str) -> None:
    answer = manage(path, {} if method == "POST" else None, method=method)
    assert answer.status == status and answer.message.startswith(message), answer.body


def test_a_sparse_event_still_gets_its_default_mail(aws: None) -> None:
    image = {
        "id": {"S": "sparse-2"},
        "event": {"S": "AfterPasswordChange"},
        "user": {"M": {"email": {"S": "p@example.com"}}},
    }
    record = {"eventID": "e-1", "eventName": "INSERT", "dynamodb": {"NewImage": image, "SequenceNumber": "1"}}
    assert FUNCTIONS["AutomationFunction"].invoke({"Records": [record]}) == {"batchItemFailures": []}
    [mail] = sent_mail()
    assert mail.subject == "Your password was changed" and "changed just now" in mail.body
