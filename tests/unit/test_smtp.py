"""The SMTP sender against a real SMTP server on loopback (the local stack's capture server)."""

import socket

import pytest
from ums.automation.mail import Mail, send

from local_stack.mailbox import Mailbox, SmtpCapture


@pytest.fixture
def smtp():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mailbox = Mailbox()
    capture = SmtpCapture(mailbox, port).start()
    yield mailbox, port
    capture.stop()


def test_smtp_mail_has_text_html_reply_to_and_no_injected_header(smtp):
    mailbox, port = smtp
    integration = {
        "id": "i1",
        "type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "tls": "none",
        "sender": "m@example.com",
    }
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
