"""`make demo`: against a running `make dev`, configure an SES integration, a password-reset
automation and an application, then walk the whole reset flow, printing each step."""

from __future__ import annotations

import os
import re
import sys
import time
import uuid
from typing import Any

import requests

BASE = os.environ.get("UMS_URL", f"http://127.0.0.1:{os.environ.get('UMS_LOCAL_PORT', '3000')}")


def step(title: str, method: str, path: str, body: Any = None, expected: int = 200) -> Any:
    answer = requests.request(method, f"{BASE}{path}", json=body, timeout=15)
    print(f"\n== {title}\n   {method} {path} -> {answer.status_code}")
    if answer.status_code != expected:
        sys.exit(f"   expected {expected}: {answer.text}")
    data = answer.json() if answer.content else None
    if data not in (None, {}, []):
        print("   " + str(data)[:300])
    return data


def main() -> None:
    try:
        requests.get(f"{BASE}/_local/health", timeout=2).raise_for_status()
    except requests.RequestException:
        sys.exit(f"No local stack at {BASE}: start it with `make dev` in another terminal.")
    email = f"demo-{uuid.uuid4().hex[:6]}@example.com"
    integration = step(
        "An SES integration (the sender is verified in the local emulator)",
        "POST",
        "/management/integrations",
        {"name": "Demo SES", "type": "ses", "sender": "no-reply@example.com", "reply_to": "support@example.com"},
        201,
    )
    application = step(
        "An application with its own reset page",
        "POST",
        "/management/applications",
        {"name": f"demo-{uuid.uuid4().hex[:6]}", "reset_url": "https://app.example.com/reset", "email_tags": ["demo"]},
        201,
    )
    step(
        "A password-reset automation (Jexia's placeholders work)",
        "POST",
        "/management/automations",
        {
            "name": "Password reset",
            "event": "UMS: password reset request",
            "integration_id": integration["id"],
            "subject": "Reset your password",
            "body": "<p>Hello {{.email}},</p><p><a href='{{ reset_link }}'>Choose a new password</a></p>"
            "<p>Or use this token: {{.token}}</p>",
        },
        201,
    )
    step("Sign up", "POST", "/ums/signup", {"email": email, "password": "correct horse battery staple"}, 201)
    step(
        "Request a reset for that application",
        "POST",
        "/ums/resetpassword",
        {"email": email, "application": application["name"]},
        202,
    )
    for _ in range(50):
        mails = [m for m in requests.get(f"{BASE}/_local/mail", timeout=5).json() if email in m["to"]]
        if mails:
            break
        time.sleep(0.1)
    else:
        sys.exit("No mail arrived.")
    print(
        f"\n== The mail, from {BASE}/_local/mail\n   Subject: {mails[0]['subject']}\n"
        + "   "
        + mails[0]["text"].strip().replace("\n", "\n   ")
    )
    match = re.search(r"token: ([\w-]+)", mails[0]["text"])
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
