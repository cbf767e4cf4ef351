"""Sending mail through an integration: SES v2 or SMTP, behind one function.

One retry layer per hop: the SES client retries throttling itself (botocore's standard mode,
SES_MAX_ATTEMPTS attempts in all); SMTP is tried once. What is still transient (SES
throttling, SMTP 4xx, connection trouble) is raised as `TransientFailure`, so the stream
retries the record (MaximumRetryAttempts in template.yaml) and then parks it in the failure
queue. Permanent rejections (SES MessageRejected, SMTP 5xx) raise `PermanentFailure` and are
never retried. One throttled mail therefore costs at most SES_MAX_ATTEMPTS * (1 + 5) = 18 calls.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ums.automation.templates import header_value
from ums.config import settings
from ums.errors import BadRequest, MailProviderUnavailable
from ums.operator_secrets import INTEGRATION_PASSWORDS
from ums.store.records import Integration, SesIntegration, SmtpIntegration

SES_MAX_ATTEMPTS = 3  # botocore standard mode: the first call and 2 retries, with backoff
SES_TRANSIENT = {
    "Throttling",
    "TooManyRequestsException",
    "ServiceUnavailable",
    "InternalFailure",
    "LimitExceededException",
}
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_.@-]")


class TransientFailure(Exception):
    """Worth trying again later."""


class PermanentFailure(Exception):
    """Trying again cannot help (the message or an address was refused)."""


@dataclass(frozen=True)
class Mail:
    sender: str  # the From address (an integration's `sender`)
    to: str
    subject: str
    html: str
    text: str
    reply_to: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@cache
def ses_client() -> Any:
    config = Config(retries={"mode": "standard", "total_max_attempts": SES_MAX_ATTEMPTS})
    return boto3.client("sesv2", region_name=settings().region, config=config)


def send(integration: Integration, mail: Mail) -> str:
    """Sends `mail` through `integration`; returns the provider's message id."""
    if integration["type"] == "ses":
        return _send_ses(integration, mail)
    return _send_smtp(integration, mail)


def send_test(integration: Integration, mail: Mail) -> dict[str, str]:
    """An operator's test mail (the integration's test button, a preview's "send test"): sent now,
    a refusal a 400 and an unavailable provider a 502 (not the operator's fault: try again)."""
    try:
        return {"message_id": send(integration, mail), "to": mail.to}
    except PermanentFailure as err:
        raise BadRequest(f"The mail was refused: {err}") from None
    except TransientFailure as err:
        raise MailProviderUnavailable(f"The mail provider is unavailable ({err}); try again") from None


def _tag(value: str) -> str:
    return _TAG_UNSAFE.sub("_", value)[:256] or "_"


def _send_ses(integration: SesIntegration, mail: Mail) -> str:
    request: dict[str, Any] = {
        "FromEmailAddress": header_value(mail.sender),
        "Destination": {"ToAddresses": [header_value(mail.to)]},
        "Content": {
            "Simple": {
                "Subject": {"Data": header_value(mail.subject), "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": mail.text, "Charset": "UTF-8"},
                    "Html": {"Data": mail.html, "Charset": "UTF-8"},
                },
            }
        },
        "EmailTags": [{"Name": _tag(k), "Value": _tag(v)} for k, v in mail.tags.items()],
    }
    if mail.reply_to:
        request["ReplyToAddresses"] = [header_value(mail.reply_to)]
    if configuration_set := integration.get("configuration_set"):
        request["ConfigurationSetName"] = configuration_set
    try:
        return str(ses_client().send_email(**request)["MessageId"])
    except ClientError as err:
        code = err.response["Error"]["Code"]
        if code in SES_TRANSIENT:
            raise TransientFailure(code) from None
        raise PermanentFailure(f"SES {code}: {err.response['Error'].get('Message', '')}") from None


def _send_smtp(integration: SmtpIntegration, mail: Mail) -> str:
    message = EmailMessage()
    message["From"] = header_value(mail.sender)
    message["To"] = header_value(mail.to)
    message["Subject"] = header_value(mail.subject)
    if mail.reply_to:
        message["Reply-To"] = header_value(mail.reply_to)
    message["Message-ID"] = make_msgid(domain=mail.sender.rpartition("@")[2] or None)
    if mail.tags:
        message["X-UMS-Tags"] = header_value(",".join(f"{_tag(k)}={_tag(v)}" for k, v in mail.tags.items()))
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    tls = integration.get("tls", "starttls")
    try:
        smtp_class = smtplib.SMTP_SSL if tls == "implicit" else smtplib.SMTP
        kwargs: dict[str, Any] = {"context": ssl.create_default_context()} if tls == "implicit" else {}
        with smtp_class(integration["host"], int(integration["port"]), timeout=15, **kwargs) as smtp:
            if tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if username := integration.get("username"):
                _login(smtp, integration["id"], username)
            smtp.send_message(message)
    except smtplib.SMTPResponseException as err:
        if 400 <= err.smtp_code < 500:
            raise TransientFailure(f"SMTP {err.smtp_code}") from None
        raise PermanentFailure(f"SMTP {err.smtp_code}: {err.smtp_error!r}") from None
    except smtplib.SMTPRecipientsRefused as err:
        codes = {code for code, _ in err.recipients.values()}
        if all(400 <= c < 500 for c in codes):
            raise TransientFailure(f"SMTP {sorted(codes)}") from None
        raise PermanentFailure(f"SMTP recipients refused {sorted(codes)}") from None
    except (OSError, smtplib.SMTPException) as err:
        raise TransientFailure(f"SMTP {type(err).__name__}") from None
    return str(message["Message-ID"])


def _login(smtp: smtplib.SMTP, integration_id: str, username: str) -> None:
    """Logs in with the integration's password. The password is read through a cache: a refused
    login is tried once more with a fresh read, in case it was rotated in the last few minutes."""
    cached = INTEGRATION_PASSWORDS.read(integration_id) or ""
    try:
        smtp.login(username, cached)
    except smtplib.SMTPAuthenticationError:
        fresh = INTEGRATION_PASSWORDS.read(integration_id, fresh=True) or ""
        if fresh == cached:
            raise
        smtp.login(username, fresh)
