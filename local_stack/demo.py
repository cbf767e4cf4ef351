"""`make demo`: against a running `make dev` with nothing configured, walk what a new user meets,
printing each step: sign-up, the verification mail, the hosted verify page, a reset request, the
reset mail, the hosted reset page, and signing in with the new password.

The pages are used as a browser without JavaScript uses them: GET the mailed link, then POST the
form (its hidden fields and what a user types). The mails are the stack's default ones (or your
automation's, if you made one for the event: its `{{ reset_link }}` opens the same page).
"""

from __future__ import annotations

import html
import os
import re
import sys
import time
import uuid
from typing import Any
from urllib.parse import urljoin

import requests

# The stack `make dev` started: UMS_LOCAL_PORT, as both read it (UMS_URL overrides the whole URL).
BASE = os.environ.get("UMS_URL", f"http://127.0.0.1:{os.environ.get('UMS_LOCAL_PORT', '3000')}").rstrip("/")
PASSWORD, NEW_PASSWORD = "correct horse battery staple", "a brand new passphrase"


def fail(message: str) -> None:
    sys.exit(f"   {message}")


def step(title: str, method: str, path: str, body: Any = None, expected: int = 200) -> Any:
    """One API call, printed; the demo stops if the status is not the expected one."""
    answer = requests.request(method, f"{BASE}{path}", json=body, timeout=15)
    print(f"\n== {title}\n   {method} {path} -> {answer.status_code}")
    if answer.status_code != expected:
        fail(f"expected {expected}: {answer.text}")
    data = answer.json() if answer.content else None
    if data not in (None, {}, []):
        print("   " + str(data)[:300])
    return data


def mailed_link(email: str, page: str, title: str) -> str:
    """The newest mail to `email` that links to the hosted `page`, printed; its link."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for mail in reversed(requests.get(f"{BASE}/_local/mail", timeout=5).json()):
            text = f"{mail.get('text') or ''}\n{html.unescape(mail.get('html') or '')}"
            found = re.search(rf"https?://[^\s\"'<>]+/pages/{page}\?[^\s\"'<>]+", text)
            if email in mail["to"] and found:
                print(f"\n== {title}, from {BASE}/_local/mail\n   From: {mail['from']}\n   Subject: {mail['subject']}")
                print(f"   Link: {found[0]}")
                return found[0]
        time.sleep(0.1)
    fail(f"No mail to {email} links to /pages/{page}.")
    raise AssertionError  # unreachable: fail exits


def use_page(title: str, link: str, typed: dict[str, str], expected_heading: str) -> None:
    """Opens `link` (a GET uses nothing), then submits its form with `typed` added, as a browser does."""
    shown = requests.get(link, timeout=15)
    print(f"\n== {title}\n   GET {link.split('?')[0]} -> {shown.status_code}: {heading(shown.text)}")
    form = re.search(r'<form method="post" action="([^"]*)">(.*?)</form>', shown.text, re.S)
    if shown.status_code != 200 or not form:
        fail("expected the page's form")
    assert form is not None
    fields = {
        name: html.unescape(value) for name, value in re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form[2])
    }
    target = urljoin(link, form[1])
    posted = requests.post(target, data={**fields, **typed}, timeout=15)
    print(f"   POST {target} -> {posted.status_code}: {heading(posted.text)}")
    if posted.status_code != 200 or heading(posted.text) != expected_heading:
        fail(f"expected 200 and '{expected_heading}'")


def heading(page: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", page)
    return html.unescape(found[1]) if found else "(no heading)"


def main() -> None:
    try:
        requests.get(f"{BASE}/_local/health", timeout=2).raise_for_status()
    except requests.RequestException:
        fail(f"No local stack at {BASE}: start it with `make dev` in another terminal (UMS_LOCAL_PORT picks its port).")
    print(f"Using the local stack at {BASE}")
    email = f"demo-{uuid.uuid4().hex[:6]}@example.com"
    step("Sign up", "POST", "/ums/signup", {"email": email, "password": PASSWORD}, 201)
    link = mailed_link(email, "verify", "The verification mail")
    use_page("The hosted verify page", link, {}, "Email address verified")
    # Anonymous callers get the project's default reset link (DefaultResetUrl, empty: the hosted
    # page); naming an application on this route needs the app server's API key.
    step("Request a password reset", "POST", "/ums/resetpassword", {"email": email}, 202)
    link = mailed_link(email, "reset", "The reset mail")
    use_page("The hosted reset page", link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, "Password changed")
    step("The old password is refused", "POST", "/auth", {"method": "ums", "email": email, "password": PASSWORD}, 401)
    signed_in = step(
        "The new one signs in", "POST", "/auth", {"method": "ums", "email": email, "password": NEW_PASSWORD}
    )
    access = signed_in["access_token"]
    user = requests.get(f"{BASE}/ums/user", headers={"Authorization": f"Bearer {access}"}, timeout=15).json()
    print(f"\n== The user now\n   email_verified: {user['email_verified']}")
    print(f"\nDone. See every mail at {BASE}/_local/mail.html; open a link there to see the pages in a browser.")


if __name__ == "__main__":
    main()
