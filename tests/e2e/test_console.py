"""`ums console` in a real headless Chromium, against a fresh local stack: a new operator configures
reset mail and sends one without the API docs (an SES integration, an automation through Jexia's
form with a variable from the picker, its preview, a reset from the users page, the mail in the
delivery view); a template that does not compile shows its line; the automation form works from
the keyboard alone. Any Content-Security-Policy violation fails the test.

`UMS_SCREENSHOTS=<dir>` (`make screenshots`) also saves the screens the README shows.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from ums_cli.client import Client
from ums_cli.console import make_server

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
SCREENSHOTS = Path(os.environ["UMS_SCREENSHOTS"]) if os.environ.get("UMS_SCREENSHOTS") else None


@pytest.fixture(scope="module")
def console(fresh_stack: str) -> Iterator[str]:
    """`ums console` for the fresh stack, on a free port."""
    server = make_server(Client(fresh_stack))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    tab.on("pageerror", lambda error: problems.append(str(error)))
    yield tab
    context.close()
    assert problems == []


def screenshot(tab: Any, name: str) -> None:
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.evaluate("window.scrollTo(0, 0)")
        tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def create_ses_integration(tab: Any, console: str, name: str, sender: str = "no-reply@example.com") -> None:
    tab.goto(f"{console}/#integrations")
    tab.get_by_role("button", name="New: Integrations").click()
    tab.get_by_label("Name", exact=True).fill(name)
    assert tab.get_by_label("Type").input_value() == "ses" and tab.get_by_label("SMTP host").is_hidden()
    tab.get_by_label("Sender").fill(sender)
    tab.get_by_role("button", name="Save").click()
    tab.get_by_role("cell", name=f"{name} (ses)").wait_for()


def test_a_new_operator_configures_reset_mail_and_sends_one(page: Any, console: str, fresh_stack: str) -> None:
    create_ses_integration(page, console, "Stack SES")

    page.goto(f"{console}/#automations")
    page.get_by_role("button", name="New automation").click()
    page.get_by_label("Name", exact=True).fill("Reset mail")
    assert page.get_by_label("Event").input_value() == "AfterPasswordResetRequest"
    page.get_by_label("Subject").fill("Reset your password, ")
    page.get_by_label("Variable").select_option("first_name")
    page.get_by_role("button", name="Add variable").click()  # into the subject: focused last
    page.get_by_label("Message (HTML)").fill("<p>Choose a new password: ")
    page.get_by_label("Variable").select_option("reset_link")
    page.get_by_role("button", name="Add variable").click()
    assert page.get_by_label("Subject").input_value() == "Reset your password, {{ first_name }}"
    assert page.get_by_label("Message (HTML)").input_value() == "<p>Choose a new password: {{ reset_link }}"
    page.get_by_role("button", name="Preview").click()
    assert page.get_by_test_id("preview-subject").inner_text() == "Reset your password, Ann"
    assert "token=sample-token-not-valid" in page.get_by_test_id("preview-text").inner_text()
    frame = page.frame_locator("iframe.mail")
    assert "Choose a new password" in frame.locator("body").inner_text()
    screenshot(page, "console-automation")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("cell", name="Reset mail").wait_for()

    email = f"ann-{uuid.uuid4().hex[:8]}@example.com"
    signed_up = requests.post(f"{fresh_stack}/ums/signup", json={"email": email, "password": PASSWORD}, timeout=10)
    assert signed_up.status_code == 201
    page.goto(f"{console}/#users")
    page.get_by_label("Field").fill("email")
    page.get_by_label("Operator").select_option("=")
    page.get_by_label("Value").fill(email)
    assert json.loads(page.get_by_test_id("cond").inner_text()) == [{"field": "email"}, "=", email]
    page.get_by_role("button", name="Search").click()
    page.get_by_role("cell", name=email).wait_for()
    screenshot(page, "console-users")
    page.get_by_role("button", name="Send reset").click()
    page.get_by_text(f"Reset mail requested for {email}").wait_for()

    page.get_by_role("link", name="Delivery").click()
    deadline = time.monotonic() + 20
    while True:  # the mail goes out when the outbox stream is read (a second or so)
        page.get_by_role("heading", name="Delivery").wait_for()
        reset_mail = page.get_by_test_id("mail").locator("tr", has_text=email).filter(has_text="Reset your password,")
        if reset_mail.count() == 1:
            break
        assert time.monotonic() < deadline, "the reset mail never reached the delivery view:\n" + page.inner_text(
            "main"
        )
        time.sleep(0.5)
        page.get_by_role("button", name="Refresh").click()
    # textContent: the body's text whether its <details> is open or not (a Refresh still under
    # way may draw the table again, closed).
    link = reset_mail.locator("pre").text_content() or ""
    assert "/pages/reset?" in link and "token=" in link and "sample" not in link  # the real link, this time


def test_a_template_that_does_not_compile_shows_the_line(page: Any, console: str) -> None:
    page.goto(f"{console}/#templates")
    page.get_by_role("button", name="New: Templates").click()
    broken = {"name": "broken", "subject": "Hello", "html": "<p>Hello</p>\n<p>{{ reset_link </p>"}
    page.get_by_label("Templates: the item as JSON").fill(json.dumps(broken))
    page.get_by_role("button", name="Save").click()
    alert = page.get_by_role("alert")
    assert "Template 'html' does not compile (line 2)" in alert.inner_text()


def test_the_automation_form_works_from_the_keyboard_alone(page: Any, console: str) -> None:
    create_ses_integration(page, console, "Keyboard SES")
    page.goto(f"{console}/#automations")
    page.get_by_role("button", name="New automation").wait_for()
    for _ in range(40):  # Tab through the page to the button, as a keyboard user does
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "New automation":
            break
    else:
        pytest.fail("Tab never reached 'New automation'")
    page.keyboard.press("Enter")
    labels = []

    def label() -> str:
        text = page.evaluate("document.activeElement.labels?.[0]?.textContent || document.activeElement.textContent")
        labels.append(text)
        return str(text)

    assert label() == "Name"  # the form opens with the first field focused
    page.keyboard.type("Keyboard mail")
    page.keyboard.press("Tab")
    assert label() == "Event"
    page.keyboard.press("Tab")
    assert label() == "Integration"
    page.keyboard.press("Tab")
    assert label() == "Subject"
    page.keyboard.type("Hello")
    page.keyboard.press("Tab")
    assert label() == "Message (HTML)"
    page.keyboard.type("<p>Reset: ")
    page.keyboard.press("Tab")
    assert label() == "Variable"
    page.keyboard.press("End")  # the last placeholder of the event's list
    page.keyboard.press("Tab")
    assert label() == "Add variable"
    page.keyboard.press("Enter")
    assert label() == "Message (HTML)"  # back where the variable went, the cursor after it
    assert page.get_by_label("Message (HTML)").input_value().startswith("<p>Reset: {{ ")
    for _ in range(6):  # variable, add variable, plain text, template, enabled, Save
        page.keyboard.press("Tab")
    assert label() == "Save"
    page.keyboard.press("Enter")
    page.get_by_role("cell", name="Keyboard mail").wait_for()
    assert all(labels), labels


def wait_in_delivery(page: Any, testid: str, *texts: str) -> Any:
    """The delivery view's row (of table `testid`) holding every text, refreshing until it shows."""
    page.get_by_role("link", name="Delivery").click()
    deadline = time.monotonic() + 20
    while True:
        page.get_by_role("heading", name="Delivery").wait_for()
        row = page.get_by_test_id(testid).locator("tr")
        for text in texts:
            row = row.filter(has_text=text)
        if row.count() == 1:
            return row
        assert time.monotonic() < deadline, f"no row with {texts} in the delivery view:\n" + page.inner_text("main")
        time.sleep(0.5)
        page.get_by_role("button", name="Refresh").click()


def test_a_failed_mail_is_sent_again_once_the_integration_is_fixed(page: Any, console: str, fresh_stack: str) -> None:
    create_ses_integration(page, console, "Unverified SES", sender="nobody@unverified.test")
    [integration] = [
        i
        for i in requests.get(f"{fresh_stack}/management/integrations", timeout=10).json()
        if i["name"] == "Unverified SES"
    ]
    automation = {
        "name": "Password changed",
        "event": "AfterPasswordChange",
        "integration_id": integration["id"],
        "subject": "Your password was changed",
        "body": "<p>Your password was changed.</p>",
    }
    assert requests.post(f"{fresh_stack}/management/automations", json=automation, timeout=10).status_code == 201
    email = f"bob-{uuid.uuid4().hex[:8]}@example.com"
    requests.post(f"{fresh_stack}/ums/signup", json={"email": email, "password": PASSWORD}, timeout=10)
    tokens = requests.post(
        f"{fresh_stack}/auth", json={"method": "ums", "email": email, "password": PASSWORD}, timeout=10
    ).json()
    changed = requests.post(
        f"{fresh_stack}/ums/changepassword",
        json={"old_password": PASSWORD, "new_password": "another long passphrase"},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    assert changed.status_code == 200

    failed = wait_in_delivery(page, "events", "AfterPasswordChange", email, "failed")
    assert "nobody@unverified.test" in failed.inner_text()  # why: SES refused the unverified sender

    page.get_by_role("link", name="Integrations").click()
    page.get_by_role("row", name="Unverified SES").get_by_role("button", name="Edit").click()
    page.get_by_role("heading", name="Integration: Unverified SES").wait_for()
    assert page.get_by_label("Sender").input_value() == "nobody@unverified.test"
    page.get_by_label("Sender").fill("no-reply@example.com")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Integrations: saved").wait_for()

    failed = wait_in_delivery(page, "events", "AfterPasswordChange", email, "failed")
    failed.get_by_role("button", name="Send again").click()
    page.get_by_text(f"AfterPasswordChange for {email}: sent again").wait_for()
    wait_in_delivery(page, "mail", email, "Your password was changed")
    sent = wait_in_delivery(page, "events", "AfterPasswordChange", email, "sent")
    assert "sent again 1\u00d7" in sent.inner_text()  # 1 times
    screenshot(page, "console-delivery")
