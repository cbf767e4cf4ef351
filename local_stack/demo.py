"""`make demo`: against a running `make dev`, configure an SES integration and a password-reset
automation, then walk the whole reset flow, printing each step.

The configuration goes through `ums apply`'s idempotent logic (items matched by name), so running
the demo again, or after the README's walk-through, changes nothing and a reset still sends one
mail per automation (the demo's automation is the README's "Password reset").
"""

from __future__ import annotations

import os
import re
import sys
import time
import uuid
from typing import Any

import requests

from ums_cli.apply import apply_config, summary_lines
from ums_cli.client import Client, Refused, UsageError

# The stack `make dev` started: UMS_LOCAL_PORT, as both read it (UMS_URL overrides the whole URL).
BASE = os.environ.get("UMS_URL", f"http://127.0.0.1:{os.environ.get('UMS_LOCAL_PORT', '3000')}").rstrip("/")
RESET_EVENT = "UMS: password reset request"
CONFIG: dict[str, Any] = {
    "integrations": [
        {"name": "SES", "type": "ses", "sender": "no-reply@example.com", "reply_to": "support@example.com"}
    ],
    "automations": [
        {
            "name": "Password reset",
            "event": RESET_EVENT,
            "integration": "SES",
            "subject": "Reset your password",
            "body": "<p>Hello {{.email}},</p><p><a href='{{ reset_link }}'>Choose a new password</a></p>"
            "<p>Or use this token: {{.token}}</p>",
        }
    ],
}
TOKEN = re.compile(r"use this token: ([\w-]+)")


def step(title: str, method: str, path: str, body: Any = None, expected: int = 200) -> Any:
    """One HTTP call, printed; the demo stops if the status is not the expected one."""
    answer = requests.request(method, f"{BASE}{path}", json=body, timeout=15)
    print(f"\n== {title}\n   {method} {path} -> {answer.status_code}")
    if answer.status_code != expected:
        sys.exit(f"   expected {expected}: {answer.text}")
    data = answer.json() if answer.content else None
    if data not in (None, {}, []):
        print("   " + str(data)[:300])
    return data


def configure(client: Client) -> None:
    """The integration and automation, as `ums apply` would make them."""
    print("\n== Configure an SES integration and a password-reset automation")
    print("   (the same idempotent logic as `ums apply`: a second run changes nothing)")
    try:
        summary = apply_config(client, CONFIG, "the demo's configuration")
    except (Refused, UsageError) as err:
        sys.exit(f"   {err}")
    for line in summary_lines(summary):
        print(f"   {line}")
    events = {e["name"]: e["id"] for e in client.request("GET", "/management/events")}
    answering = [
        a["name"]
        for a in client.request("GET", "/management/automations")
        if a.get("event") == events[RESET_EVENT] and a.get("enabled", True)
    ]
    if len(answering) > 1:
        print(f"   Note: {len(answering)} automations answer this event ({', '.join(answering)}), so each reset sends")
        print("   that many mails; `ums automations list` and `ums automations delete ID` tidy up.")


def main() -> None:
    """Configure, then walk sign-up, reset request, the mail, the token, and sign-in."""
    try:
        requests.get(f"{BASE}/_local/health", timeout=2).raise_for_status()
    except requests.RequestException:
        sys.exit(
            f"No local stack at {BASE}: start it with `make dev` in another terminal (UMS_LOCAL_PORT picks its port)."
        )
    print(f"Using the local stack at {BASE}")
    configure(Client(BASE))
    email = f"demo-{uuid.uuid4().hex[:6]}@example.com"
    step("Sign up", "POST", "/ums/signup", {"email": email, "password": "correct horse battery staple"}, 201)
    # Anonymous callers get the project's default reset link (DefaultResetUrl); naming an
    # application on this route needs the app server's API key.
    step("Request a reset", "POST", "/ums/resetpassword", {"email": email}, 202)
    mail = None
    for _ in range(50):
        mails = [m for m in requests.get(f"{BASE}/_local/mail", timeout=5).json() if email in m["to"]]
        mail = next((m for m in mails if TOKEN.search(m.get("text") or "")), None)
        if mail:
            break
        time.sleep(0.1)
    else:
        sys.exit("No mail arrived.")
    assert mail is not None
    print(
        f"\n== The mail, from {BASE}/_local/mail\n   Subject: {mail['subject']}\n"
        + "   "
        + mail["text"].strip().replace("\n", "\n   ")
    )
    match = TOKEN.search(mail["text"])
    assert match, "no token in the mail"
    step("Apply the token", "POST", f"/ums/resetpassword/{match.group(1)}", {"new_password": "a brand new passphrase"})
    step(
        "The old password is refused",
        "POST",
        "/auth",
        {"method": "ums", "email": email, "password": "correct horse battery staple"},
        401,
    )
    step("The new one works", "POST", "/auth", {"method": "ums", "email": email, "password": "a brand new passphrase"})
    print(f"\nDone. See every mail at {BASE}/_local/mail.html")


if __name__ == "__main__":
    main()
