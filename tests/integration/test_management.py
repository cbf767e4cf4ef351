"""The management API: validation on save, references, write-only secrets, CRUD answers."""

from typing import Any

import boto3
from helpers import STACK, Answer, manage
from ums.config import settings
from ums.store.models import ConfigModel


def ses_integration() -> dict[str, Any]:
    answer = manage("integrations", {"name": "SES", "type": "ses", "sender": "no-reply@example.com"})
    assert answer.status == 201 and isinstance(answer.body, dict)
    return answer.body


def test_events_list_jexia_names_and_placeholders(aws: None) -> None:
    events = {e["id"]: e for e in manage("events", method="GET").body}
    assert events["AfterPasswordResetRequest"]["name"] == "UMS: password reset request"
    assert {"token", "reset_link", "email"} <= set(events["AfterPasswordResetRequest"]["placeholders"])
    assert {"verify_link", "verify_token"} <= set(events["AfterSignUp"]["placeholders"])
    assert set(events) == {
        "AfterPasswordResetRequest",
        "AfterSignUp",
        "AfterPasswordChange",
        "AfterUserDelete",
        "AfterEmailVerificationRequest",
        "AfterEmailVerification",
        "AfterEmailChangeRequest",
        "AfterEmailChange",
        "AfterUserInvite",
    }


def test_integration_crud(aws: None) -> None:
    created = ses_integration()
    assert manage(f"integrations/{created['id']}", method="GET").body["name"] == "SES"
    assert [i["id"] for i in manage("integrations", method="GET").body] == [created["id"]]
    replaced = manage(
        f"integrations/{created['id']}", {"name": "SES 2", "type": "ses", "sender": "a@example.com"}, "PUT"
    )
    assert replaced.status == 200 and replaced.body["name"] == "SES 2"
    assert manage(f"integrations/{created['id']}", method="DELETE").status == 200
    assert manage(f"integrations/{created['id']}", method="GET").status == 404


def test_smtp_password_goes_to_secrets_manager_and_is_never_returned(aws: None) -> None:
    body = {
        "name": "SMTP",
        "type": "smtp",
        "sender": "m@example.com",
        "host": "smtp.example.com",
        "port": 587,
        "tls": True,
        "username": "u",
        "password": "hunter2-but-longer",
    }
    created = manage("integrations", body)
    assert created.status == 201 and "password" not in created.body and created.body["has_password"] is True
    assert created.body["tls"] == "starttls"
    stored = ConfigModel.get("integration", created.body["id"])
    assert "hunter2" not in str(stored.serialize())
    secret = boto3.client("secretsmanager", region_name=STACK.region).get_secret_value(
        SecretId=f"{settings().integration_secret_prefix}{created.body['id']}"
    )
    assert secret["SecretString"] == "hunter2-but-longer"
    # a PUT without the password keeps it
    del body["password"]
    again = manage(f"integrations/{created.body['id']}", body, "PUT")
    assert again.body["has_password"] is True
    assert "hunter2" not in str(manage("integrations", method="GET").body)


def test_bad_integrations_are_400(aws: None) -> None:
    assert manage("integrations", {"name": "x", "type": "pigeon", "sender": "a@b.co"}).status == 400
    assert (
        manage("integrations", {"name": "x", "type": "smtp", "sender": "a@b.co", "host": "h", "port": 0}).status == 400
    )
    assert manage("integrations", {"name": "x", "type": "ses"}).status == 400
    assert manage("integrations", {"name": "x", "type": "ses", "sender": "a@b.co", "color": 1}).status == 400


def test_automation_references_must_exist_and_templates_must_compile(aws: None) -> None:
    integration = ses_integration()
    base = {
        "name": "r",
        "event": "UMS: password reset request",
        "integration_id": integration["id"],
        "subject": "Reset",
        "body": "<p>{{.token}}</p>",
    }
    created = manage("automations", base)
    assert created.status == 201 and created.body["event"] == "AfterPasswordResetRequest"
    unknown_event = manage("automations", {**base, "event": "AfterLunch"})
    assert unknown_event.status == 400 and "AfterLunch" in unknown_event.message
    unknown_integration = manage("automations", {**base, "integration_id": "nope"})
    assert unknown_integration.status == 400 and "nope" in unknown_integration.message
    broken = manage("automations", {**base, "body": "<p>\n{% if %}</p>"})
    assert broken.status == 400 and "line 2" in broken.message and "'body'" in broken.message
    both = manage("automations", {**base, "template": "mb-user-password"})
    assert both.status == 400


def test_templates_are_named_and_checked(aws: None) -> None:
    created = manage("templates", {"name": "mb-user-password-US", "subject": "Hi {{ .email }}", "html": "<p>x</p>"})
    assert created.status == 201 and created.body["id"] == "mb-user-password-US"
    assert manage("templates", {"name": "mb-user-password-US", "subject": "s", "html": "h"}).status == 409
    assert manage("templates", {"name": "bad name!", "subject": "s", "html": "h"}).status == 400
    assert manage("templates", {"name": "t2", "subject": "{{ unclosed", "html": "h"}).status == 400
    renamed = manage("templates/mb-user-password-US", {"name": "other", "subject": "s", "html": "h"}, "PUT")
    assert renamed.status == 400


def test_applications_take_https_reset_urls_only(aws: None) -> None:
    ok = manage("applications", {"name": "shop", "reset_url": "https://shop.example.com/actions/", "email_tags": ["a"]})
    assert ok.status == 201
    for url in ("http://shop.example.com/", "javascript:alert(1)", "https://", "https://x.example/#frag"):
        assert manage("applications", {"name": "s2", "reset_url": url}).status == 400
    assert manage("applications", {"name": "s3", "reset_url": "https://a.example", "email_tags": [1]}).status == 400


def test_unknown_resources_and_methods(aws: None) -> None:
    assert manage("nothing", method="GET").status == 404
    assert manage("integrations/x/y/z", method="GET").status == 404
    assert manage("integrations", method="DELETE").status == 405


def assert_jexia_error(answer: Answer, status: int, message: str) -> None:
    """`answer` is Jexia's error array with the request id, sent with the API's usual headers."""
    assert answer.status == status
    [error] = answer.body
    assert error == {"message": message, "request_id": answer.headers["X-Request-Id"]}
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Content-Type"] == "application/json"


def test_a_method_a_path_does_not_take_is_a_405_through_the_router(aws: None) -> None:
    created = ses_integration()
    assert_jexia_error(
        manage("integrations", method="PATCH"), 405, "PATCH is not supported on /management/integrations"
    )
    assert_jexia_error(
        manage(f"integrations/{created['id']}", {}, "POST"),
        405,
        f"POST is not supported on /management/integrations/{created['id']}",
    )
    assert_jexia_error(manage("events", {}, "POST"), 405, "POST is not supported on /management/events")
    assert_jexia_error(
        manage(f"integrations/{created['id']}/test", method="GET"),
        405,
        f"GET is not supported on /management/integrations/{created['id']}/test",
    )


def test_a_path_no_route_serves_is_a_404_through_the_router(aws: None) -> None:
    known = "try events, integrations, automations, templates, applications, policies, keys, oauth-providers, "
    known += "signing-keys, outbox, failures"
    assert_jexia_error(manage("nothing", method="GET"), 404, f"No management resource '/management/nothing'; {known}")
    assert_jexia_error(
        manage("templates/t/test", {}, "POST"), 404, f"No management resource '/management/templates/t/test'; {known}"
    )
    assert manage("events/AfterSignUp", method="GET").status == 404
    assert_jexia_error(manage("policies/nope", method="GET"), 404, "No policy 'nope'")


def test_trailing_and_doubled_slashes_reach_the_same_route(aws: None) -> None:
    created = manage("integrations/", {"name": "SES", "type": "ses", "sender": "no-reply@example.com"})
    assert created.status == 201
    assert [i["id"] for i in manage("integrations/", method="GET").body] == [created.body["id"]]
    assert manage(f"integrations//{created.body['id']}/", method="GET").body["name"] == "SES"
    assert manage("events/", method="GET").status == 200
    assert manage(f"integrations/{created.body['id']}/", method="DELETE").status == 200


def test_a_2xx_answer_has_the_api_headers_and_its_status(aws: None) -> None:
    created = manage("keys", {"description": "ci"})
    assert created.status == 201 and created.body["secret"]
    assert created.headers["Cache-Control"] == "no-store" and created.headers["X-Request-Id"]
    listed = manage("keys", method="GET")
    assert listed.status == 200 and [k["key"] for k in listed.body] == [created.body["key"]]
    assert "secret" not in listed.body[0] and "secret_hash" not in listed.body[0]
