"""Integration passwords: one module writes them (management) and reads them (mail sending)
through a cache; a rotated password is used for the next mail all the same."""

from __future__ import annotations

import smtplib
from typing import Any

import boto3
import pytest
from helpers import STACK, manage
from ums import operator_secrets
from ums.config import settings
from ums.operator_secrets import INTEGRATION_PASSWORDS


class FakeSmtp:
    """smtplib.SMTP as the mail code uses it; accepts one password, records every login."""

    password = ""
    logins: list[str] = []
    refuse_connection = False

    def __init__(self, host: str, port: int, timeout: float) -> None:
        if FakeSmtp.refuse_connection:
            raise ConnectionRefusedError("nobody listens")

    def __enter__(self) -> FakeSmtp:
        return self

    def __exit__(self, *_: Any) -> None:
        pass

    def login(self, user: str, password: str) -> None:
        FakeSmtp.logins.append(password)
        if password != FakeSmtp.password:
            raise smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication credentials invalid")

    def send_message(self, message: Any) -> None:
        pass


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> type[FakeSmtp]:
    monkeypatch.setattr(smtplib, "SMTP", FakeSmtp)
    monkeypatch.setattr(FakeSmtp, "password", "")
    monkeypatch.setattr(FakeSmtp, "logins", [])
    monkeypatch.setattr(FakeSmtp, "refuse_connection", False)
    return FakeSmtp


def smtp_integration(password: str) -> dict[str, Any]:
    body = {"name": "SMTP", "type": "smtp", "sender": "m@example.com", "host": "smtp.example.com", "port": 587,
            "tls": False, "username": "mailer", "password": password}  # fmt: skip
    created = manage("integrations", body)
    assert created.status == 201, created.body
    return {**body, "id": created.body["id"]}


def press_test_button(integration_id: str) -> Any:
    return manage(f"integrations/{integration_id}/test", {"to": "ops@example.com"})


def stored_elsewhere(integration_id: str, password: str) -> None:
    """What the management function in another process (another Lambda) does to the secret."""
    boto3.client("secretsmanager", region_name=STACK.region).put_secret_value(
        SecretId=f"{settings().integration_secret_prefix}{integration_id}", SecretString=password
    )


def test_a_password_rotated_through_put_is_used_for_the_next_mail(aws: None, smtp: type[FakeSmtp]) -> None:
    smtp.password = "first-password"
    integration = smtp_integration("first-password")
    assert press_test_button(integration["id"]).status == 200
    smtp.password = "rotated-password"
    body = {k: v for k, v in integration.items() if k != "id"}
    rotated = manage(f"integrations/{integration['id']}", {**body, "password": "rotated-password"}, "PUT")
    assert rotated.status == 200 and rotated.body["has_password"] is True
    assert press_test_button(integration["id"]).status == 200
    # The write refreshed this process's cache: no refused login on the way.
    assert smtp.logins == ["first-password", "rotated-password"]


def test_a_password_rotated_by_another_process_costs_one_refused_login(aws: None, smtp: type[FakeSmtp]) -> None:
    smtp.password = "first-password"
    integration = smtp_integration("first-password")
    assert press_test_button(integration["id"]).status == 200
    stored_elsewhere(integration["id"], "rotated-password")
    smtp.password = "rotated-password"
    assert press_test_button(integration["id"]).status == 200
    # The cached password is refused once, then read fresh.
    assert smtp.logins == ["first-password", "first-password", "rotated-password"]


def test_a_login_refused_with_the_current_password_is_refused_once_and_is_a_400(
    aws: None, smtp: type[FakeSmtp]
) -> None:
    smtp.password = "what-the-server-wants"
    integration = smtp_integration("not-it")
    answer = press_test_button(integration["id"])
    assert answer.status == 400 and answer.message.startswith("The mail was refused: SMTP 535")
    assert smtp.logins == ["not-it"]  # the fresh read gave the same password: no second try


def test_a_mail_provider_outage_on_the_test_button_is_a_502(aws: None, smtp: type[FakeSmtp]) -> None:
    smtp.refuse_connection = True
    integration = smtp_integration("pw")
    answer = press_test_button(integration["id"])
    assert answer.status == 502
    assert answer.body == [
        {
            "message": "The mail provider is unavailable (SMTP ConnectionRefusedError); try again",
            "request_id": answer.headers["X-Request-Id"],
        }
    ]


def test_reads_are_cached_for_max_age_and_a_write_refreshes_them(aws: None) -> None:
    assert operator_secrets.MAX_AGE == 300
    INTEGRATION_PASSWORDS.write("i1", "first")
    stored_elsewhere("i1", "second")
    assert INTEGRATION_PASSWORDS.read("i1") == "first"  # cached
    assert INTEGRATION_PASSWORDS.read("i1", fresh=True) == "second"
    INTEGRATION_PASSWORDS.write("i1", "third")
    assert INTEGRATION_PASSWORDS.read("i1") == "third"


def test_a_deleted_integration_loses_its_password(aws: None, smtp: type[FakeSmtp]) -> None:
    integration = smtp_integration("pw")
    assert INTEGRATION_PASSWORDS.read(integration["id"]) == "pw"
    assert manage(f"integrations/{integration['id']}", method="DELETE").status == 200
    assert INTEGRATION_PASSWORDS.read(integration["id"], fresh=True) is None
    assert INTEGRATION_PASSWORDS.read("never-had-one") is None


@pytest.mark.parametrize("password", ["", 7, "x" * 8193])
def test_a_password_secrets_manager_would_refuse_is_a_400_and_nothing_is_stored(aws: None, password: object) -> None:
    body = {"name": "SMTP", "type": "smtp", "sender": "m@example.com", "host": "smtp.example.com", "port": 587,
            "tls": False, "username": "mailer", "password": password}  # fmt: skip
    answer = manage("integrations", body)
    assert answer.status == 400 and answer.message.startswith("Field 'password' must be a non-empty string")
    assert manage("integrations", method="GET").body == []
