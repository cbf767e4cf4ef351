"""Every mail the stack sends, as the local stack sees it: SES v2 calls tapped at the emulator,
and SMTP integrations delivered to a capture server on loopback."""

from __future__ import annotations

import email
import email.policy
import json
import threading
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from html import escape
from typing import Any


class Mailbox:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mails: list[dict[str, Any]] = []

    def add(self, mail: dict[str, Any]) -> None:
        mail = {"id": str(uuid.uuid4()), **mail, "sent_at": datetime.now(UTC).isoformat(timespec="microseconds")}
        with self._lock:
            self._mails.append(mail)

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._mails)

    def clear(self) -> None:
        with self._lock:
            self._mails.clear()

    def add_ses_request(self, body: bytes) -> None:
        """A successful SES v2 SendEmail request, as the handler sent it."""
        request = json.loads(body)
        simple = request.get("Content", {}).get("Simple", {})
        parts = simple.get("Body", {})
        self.add(
            {
                "integration": "ses",
                "from": request.get("FromEmailAddress"),
                "to": request.get("Destination", {}).get("ToAddresses", []),
                "reply_to": (request.get("ReplyToAddresses") or [None])[0],
                "subject": simple.get("Subject", {}).get("Data"),
                "text": parts.get("Text", {}).get("Data"),
                "html": parts.get("Html", {}).get("Data"),
                "tags": {t["Name"]: t["Value"] for t in request.get("EmailTags", [])},
                "configuration_set": request.get("ConfigurationSetName"),
            }
        )

    def add_smtp_message(self, data: bytes, recipients: list[str]) -> None:
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        tags = dict(pair.split("=", 1) for pair in str(message.get("X-UMS-Tags", "")).split(",") if "=" in pair)
        self.add(
            {
                "integration": "smtp",
                "from": str(message["From"]),
                "to": recipients,
                "reply_to": str(message["Reply-To"]) if message["Reply-To"] else None,
                "subject": str(message["Subject"]),
                "text": text.get_content() if text else None,
                "html": html.get_content() if html else None,
                "tags": tags,
                "headers": {k: str(v) for k, v in message.items()},
            }
        )

    def html_page(self) -> str:
        rows = []
        for mail in reversed(self.all()):
            rows.append(
                f"<article><h2>{escape(mail.get('subject') or '')}</h2>"
                f"<p><b>From</b> {escape(str(mail.get('from')))} <b>To</b> {escape(', '.join(mail.get('to') or []))}"
                f" <b>via</b> {escape(mail['integration'])} <b>at</b> {escape(mail['sent_at'])}"
                f" <b>tags</b> {escape(json.dumps(mail.get('tags')))}</p>"
                f"<pre>{escape(mail.get('text') or '')}</pre>"
                f'<iframe sandbox srcdoc="{escape(mail.get("html") or "")}"></iframe></article>'
            )
        body = "".join(rows) or "<p>No mail yet.</p>"
        return (
            "<!doctype html><meta charset=utf-8><title>Local mail</title>"
            "<style>body{font:14px sans-serif;max-width:60em;margin:auto}article{border-bottom:1px solid #ccc}"
            "iframe{width:100%;height:16em;border:1px solid #eee}</style>"
            f"<h1>Local mail ({len(rows)})</h1>{body}"
        )


class SmtpCapture:
    """An SMTP server on loopback that keeps every message it receives."""

    def __init__(self, mailbox: Mailbox, port: int) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                mailbox.add_smtp_message(envelope.original_content or envelope.content, list(envelope.rcpt_tos))
                return "250 Message accepted for delivery"

        def accept_any_login(*_: Any) -> AuthResult:
            return AuthResult(success=True)  # a capture server: integrations with a username work too

        self._controller = Controller(
            Handler(), hostname="127.0.0.1", port=port, authenticator=accept_any_login, auth_require_tls=False
        )

    def start(self) -> SmtpCapture:
        self._controller.start()
        return self

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def stop(self) -> None:
        self._controller.stop()
