"""The SMTP sender against a real SMTP server on loopback (the local stack's capture server)."""

import socket
from collections.abc import Iterator

import pytest
from ums.automation.mail import Mail, send
from ums.store.records import SmtpIntegration

from local_stack.mailbox import Mailbox, SmtpCapture


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    mailbox = Mailbox()
    capture = SmtpCapture(mailbox, port).start()
    yield mailbox, port
    capture.stop()


def smtp_integration(port: int) -> SmtpIntegration:
    return {
        "id": "i1",
        "name": "test",
        "type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "tls": "none",
        "username": None,
        "sender": "m@example.com",
        "reply_to": None,
        "created_at": "2026-01-01T00:00:00.000000Z",
        "updated_at": "2026-01-01T00:00:00.000000Z",
    }


def test_smtp_mail_has_text_html_reply_to_and_no_injected_header(smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    integration = smtp_integration(port)
    mail = Mail(
        sender="m@example.com",
        to="ann@example.com",
        reply_to="help@example.com",
        subject="Hello Ann\r\nBcc: attacker@example.com",
        html="<p>hi</p>",
        text="hi\n",
        tags={"event": "AfterSignUp"},
    )
    send(integration, mail)
    [captured] = mailbox.all()
    assert captured["to"] == ["ann@example.com"]
    assert captured["subject"] == "Hello Ann  Bcc: attacker@example.com"
    assert "Bcc" not in captured["headers"]
    assert captured["reply_to"] == "help@example.com"
    assert captured["text"].strip() == "hi" and captured["html"].strip() == "<p>hi</p>"
    assert captured["tags"] == {"event": "AfterSignUp"}


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085", "\x0b"])
def test_a_line_separator_in_a_subject_value_does_not_stop_the_mail(smtp: tuple[Mailbox, int], separator: str) -> None:
    mailbox, port = smtp
    mail = Mail(sender="m@example.com", to="ann@example.com", subject=f"Hello Ann{separator}Bcc: x@example.com",
                html="<p>hi</p>", text="hi\n")  # fmt: skip
    send(smtp_integration(port), mail)
    [captured] = mailbox.all()
    assert captured["subject"] == "Hello Ann Bcc: x@example.com"
    assert "Bcc" not in captured["headers"]
