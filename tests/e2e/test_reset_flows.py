"""The seed systems end to end over HTTP: Jexia's reset flow, Quicksilver over the bus and its
API, the customer reset guide. Mail is read from the local stack's /_local/mail."""

import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests

PASSWORD = "correct horse battery staple"


def post(
    base_url: str, path: str, body: Any, headers: dict[str, str] | None = None, expected: int | None = None
) -> requests.Response:
    answer = requests.post(f"{base_url}{path}", json=body, headers=headers or {}, timeout=15)
    if expected is not None:
        assert answer.status_code == expected, answer.text
    return answer


def new_user(base_url: str, **extra: Any) -> dict[str, Any]:
    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    user: dict[str, Any] = post(
        base_url, "/ums/signup", {"email": email, "password": PASSWORD, **extra}, expected=201
    ).json()
    return user


def mail_to(
    base_url: str,
    email: str,
    count: int = 1,
    timeout: float = 10.0,
    automation: str | None = None,
    template: str | None = None,
) -> list[dict[str, Any]]:
    """Exactly `count` mails to `email` (only what `automation` sent or what `template` made, if
    given: other tests add automations of their own); fails when fewer arrive within `timeout`.
    Every test mails its own fresh address, so no test depends on another's mail or its clearing."""
    if automation:
        template = f"automation-{automation}"
    deadline = time.monotonic() + timeout
    while True:
        found = [
            m
            for m in requests.get(f"{base_url}/_local/mail", timeout=5).json()
            if email in m["to"] and (template is None or m["tags"].get("template") == template)
        ]
        if len(found) >= count:
            assert len(found) == count, f"expected {count} mail(s) to {email}, got {len(found)}: {found}"
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"expected {count} mail(s) to {email} within {timeout} s, got {len(found)}: {found}")
        time.sleep(0.1)


def found(pattern: str, text: str) -> re.Match[str]:
    """`pattern`'s first match in `text`, which the test expects there."""
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in {text!r}"
    return match


def link_in(text: str) -> str:
    return found(r"https?://[^\s'\"]+?action=resetPwd", text).group(0)


@pytest.fixture(scope="module")
def key_header(server_key: str) -> dict[str, str]:
    return {"X-API-KEY": server_key}


@pytest.fixture(scope="module")
def ses_integration(base_url: str) -> str:
    body = {"name": "SES", "type": "ses", "sender": "no-reply@example.com", "reply_to": "help@example.com"}
    return str(post(base_url, "/management/integrations", body, expected=201).json()["id"])


@pytest.fixture(scope="module")
def reset_automation(base_url: str, ses_integration: str) -> str:
    body = {
        "name": "Password reset",
        "event": "UMS: password reset request",
        "integration_id": ses_integration,
        "subject": "Reset your password, {{.email}}",
        "body": "<p>Hello {{ user.first_name }},</p><p>your token: {{.token}}</p><a href='{{ reset_link }}'>reset</a>",
    }
    return str(post(base_url, "/management/automations", body, expected=201).json()["id"])


def test_jexia_flow_mail_token_new_password(base_url: str, reset_automation: str) -> None:
    user = new_user(base_url, first_name="Elon")
    post(base_url, "/ums/resetpassword", {"email": user["email"]}, expected=202)
    [mail] = mail_to(base_url, user["email"], automation=reset_automation)
    assert mail["subject"] == f"Reset your password, {user['email']}"
    assert mail["from"] == "no-reply@example.com" and mail["reply_to"] == "help@example.com"
    assert mail["text"] and "Hello Elon" in mail["text"]
    token = found(r"your token: ([\w-]+)", mail["html"]).group(1)
    link = parse_qs(urlsplit(link_in(mail["text"])).query)
    assert link == {"accountId": ["ums"], "customerId": [user["id"]], "token": [token], "action": ["resetPwd"]}
    assert mail["tags"]["event"] == "AfterPasswordResetRequest"
    # Jexia's docs send a trailing slash
    post(base_url, f"/ums/resetpassword/{token}/", {"new_password": "a brand new passphrase"}, expected=200)
    post(base_url, "/auth", {"method": "ums", "email": user["email"], "password": PASSWORD}, expected=401)
    post(
        base_url, "/auth", {"method": "ums", "email": user["email"], "password": "a brand new passphrase"}, expected=200
    )
    post(base_url, f"/ums/resetpassword/{token}", {"new_password": "yet another passphrase"}, expected=404)


def test_template_injection_renders_literally(base_url: str, reset_automation: str) -> None:
    user = new_user(base_url, first_name="{{ 7*7 }} {{ ''.__class__ }} <b>x</b>")
    post(base_url, "/ums/resetpassword", {"email": user["email"]}, expected=202)
    [mail] = mail_to(base_url, user["email"], automation=reset_automation)
    assert "Hello {{ 7*7 }} {{ ''.__class__ }}" in mail["text"] and "Hello 49" not in mail["text"]
    assert "&lt;b&gt;x&lt;/b&gt;" in mail["html"]


def test_host_headers_never_change_the_link(base_url: str, reset_automation: str) -> None:
    user = new_user(base_url)
    headers = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    post(base_url, "/ums/resetpassword", {"email": user["email"]}, headers=headers, expected=202)
    [mail] = mail_to(base_url, user["email"], automation=reset_automation)
    assert link_in(mail["text"]).startswith(f"{base_url}/pages/reset?")  # the hosted page
    assert "evil" not in mail["text"] + mail["html"]


@pytest.fixture(scope="module")
def named_templates(base_url: str, ses_integration: str) -> None:
    for name, subject in [
        ("mb-user-password", "Reset"),
        ("mb-user-password-US", "Reset (US)"),
        ("mb-user-password-nl", "Herstel"),
    ]:
        body = {
            "name": name,
            "subject": subject + " {{ merge_vars.FNAME }}",
            "html": "<a href='{{ reset_link }}'>go</a>",
        }
        post(base_url, "/management/templates", body, expected=201)
    app = {
        "name": "US",
        "reset_url": "https://www.domain-of-your-app.org/actions/",
        "email_tags": ["drupal_user_password"],
    }
    post(base_url, "/management/applications", app, expected=201)
    post(base_url, "/management/applications", {**app, "name": "shop", "email_tags": {"channel": "shop"}}, expected=201)
    automation = {
        "name": "QS",
        "event": "AfterPasswordResetRequest",
        "integration_id": ses_integration,
        "template": "mb-user-password",
    }
    post(base_url, "/management/automations", automation, expected=201)


def test_quicksilver_message_on_the_bus_ends_in_a_mail(base_url: str, named_templates: None) -> None:
    user = new_user(base_url, country="US", language="en")
    endpoint = requests.get(f"{base_url}/_local/health", timeout=5).json()["aws_endpoint"]
    events = boto3.client("events", endpoint_url=endpoint, region_name="us-east-1")
    bus = next(b["Name"] for b in events.list_event_buses()["EventBuses"] if b["Name"].endswith("-ums"))
    detail = {
        "activity": "user_password",
        "email": user["email"],
        "uid": 1705523,
        "user_country": "US",
        "user_language": "en",
        "activity_timestamp": int(time.time()),
        "application_id": "US",
        "email_tags": ["drupal_user_password"],
        "merge_vars": [{"name": "FNAME", "content": "Elon"}],
    }
    import json

    events.put_events(
        Entries=[
            {
                "Source": "quicksilver",
                "DetailType": "user.password_reset.transactional",
                "Detail": json.dumps(detail),
                "EventBusName": bus,
            }
        ]
    )
    [mail] = mail_to(base_url, user["email"], template="mb-user-password-US")
    assert mail["subject"] == "Reset (US) Elon"
    assert link_in(mail["html"].replace("&amp;", "&")).startswith(
        "https://www.domain-of-your-app.org/actions/?accountId="
    )
    assert mail["tags"]["application"] == "US" and mail["tags"]["drupal_user_password"] == "true"


def test_quicksilver_api_by_mobile_with_language_template(
    base_url: str, named_templates: None, key_header: dict[str, str]
) -> None:
    user = new_user(base_url, country="NL", language="nl", mobile=f"+3161{uuid.uuid4().int % 10**7:07d}")
    post(
        base_url,
        "/user/password",
        {"mobile": int(user["mobile"][1:]), "application_id": "US"},
        headers=key_header,
        expected=202,
    )
    [mail] = mail_to(base_url, user["email"], template="mb-user-password-nl")  # no -NL template: -nl
    assert mail["subject"].startswith("Herstel")
    post(base_url, "/user/password", {"email": user["email"]}, expected=401)  # no key
    american = new_user(base_url, country="US", language="en")
    post(
        base_url,
        "/user/password",
        {"user_id": american["id"], "application_id": "US"},
        headers=key_header,
        expected=202,
    )
    [mail] = mail_to(base_url, american["email"], template="mb-user-password-US")
    assert mail["subject"].startswith("Reset (US)") and mail["tags"]["drupal_user_password"] == "true"


def test_customer_guide_link_and_apply(base_url: str, named_templates: None, key_header: dict[str, str]) -> None:
    user = new_user(base_url)
    post(
        base_url,
        "/notifications/customers/reset?appName=shop",
        {"email": user["email"]},
        headers=key_header,
        expected=202,
    )
    mails = mail_to(base_url, user["email"], template="mb-user-password")
    link = link_in(mails[0]["html"].replace("&amp;", "&"))
    assert link.startswith("https://www.domain-of-your-app.org/actions/?accountId=ums&customerId=" + user["id"])
    assert mails[0]["tags"]["channel"] == "shop" and mails[0]["tags"]["application"] == "shop"
    query = parse_qs(urlsplit(link).query)
    requests.patch(
        f"{base_url}/accounts/customers/{query['customerId'][0]}",
        json={"token": query["token"][0], "password": "customer passphrase 1"},
        headers=key_header,
        timeout=10,
    ).raise_for_status()
    post(
        base_url, "/auth", {"method": "ums", "email": user["email"], "password": "customer passphrase 1"}, expected=200
    )


def test_unknown_app_name_falls_back_to_the_default_url(
    base_url: str, named_templates: None, reset_automation: str, key_header: dict[str, str]
) -> None:
    # Both fixtures' automations answer the reset event (other tests may add more): one mail each.
    user = new_user(base_url)
    post(
        base_url,
        "/notifications/customers/reset?appName=nope",
        {"customer_id": user["id"]},
        headers=key_header,
        expected=202,
    )
    mails = mail_to(base_url, user["email"], automation=reset_automation)
    mails += mail_to(base_url, user["email"], template="mb-user-password")
    for mail in mails:
        assert link_in(mail["html"].replace("&amp;", "&")).startswith(
            f"{base_url}/pages/reset?accountId=ums&customerId=" + user["id"]
        )


def test_smtp_integration_and_integration_test_button(base_url: str) -> None:
    health = requests.get(f"{base_url}/_local/health", timeout=5).json()
    body = {
        "name": "SMTP",
        "type": "smtp",
        "sender": "mailer@example.com",
        "host": "127.0.0.1",
        "port": health["smtp"]["port"],
        "tls": False,
        "username": "mailer",
        "password": "smtp-secret-pw",
    }
    integration = post(base_url, "/management/integrations", body, expected=201).json()
    assert "password" not in integration and integration["has_password"] is True
    listed = requests.get(f"{base_url}/management/integrations/{integration['id']}", timeout=5).text
    assert "smtp-secret-pw" not in listed
    to = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    post(base_url, f"/management/integrations/{integration['id']}/test", {"to": to}, expected=200)
    [mail] = mail_to(base_url, to)
    assert mail["integration"] == "smtp" and mail["subject"] == "Serverless UMS: test mail"


def test_mail_list_can_be_emptied_and_read_as_a_page(base_url: str, ses_integration: str) -> None:
    to = f"clear-{uuid.uuid4().hex[:8]}@example.com"
    post(base_url, f"/management/integrations/{ses_integration}/test", {"to": to}, expected=200)
    assert mail_to(base_url, to)
    page = requests.get(f"{base_url}/_local/mail.html", timeout=5).text
    assert page.startswith("<!doctype html>") and to in page
    before = {m["id"] for m in requests.get(f"{base_url}/_local/mail", timeout=5).json()}
    assert requests.delete(f"{base_url}/_local/mail", timeout=5).status_code == 200
    after = requests.get(f"{base_url}/_local/mail", timeout=5).json()
    # mail of earlier tests may still be arriving; what was there is gone
    assert not before & {m["id"] for m in after}


def test_a_poison_outbox_record_goes_to_the_failure_queue_and_blocks_nothing(
    base_url: str, reset_automation: str
) -> None:
    endpoint = requests.get(f"{base_url}/_local/health", timeout=5).json()["aws_endpoint"]
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    table = next(t for t in dynamodb.list_tables()["TableNames"] if t.endswith("EventsTable"))
    dynamodb.put_item(TableName=table, Item={"id": {"S": "poison"}, "event": {"N": "1"}})
    user = new_user(base_url)
    post(base_url, "/ums/resetpassword", {"email": user["email"]}, expected=202)
    assert mail_to(base_url, user["email"], automation=reset_automation), "the record after the poison one was lost"
    # As Lambda's on-failure destination writes it: where the batch was in the stream; the
    # management API reads the events back from there.
    deadline = time.monotonic() + 10
    while True:
        queued = requests.get(f"{base_url}/management/failures", timeout=10).json()
        if any(m["events"] == ["poison"] for m in queued) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    [message] = [m for m in queued if m["events"] == ["poison"]]
    assert message["condition"] == "RetryAttemptsExhausted"
    redriven = requests.post(f"{base_url}/management/failures/redrive", timeout=10).json()
    assert "poison" in redriven["unchanged"]  # not an event that failed: nothing to send again
    assert not [
        m for m in requests.get(f"{base_url}/management/failures", timeout=10).json() if m["events"] == ["poison"]
    ]
