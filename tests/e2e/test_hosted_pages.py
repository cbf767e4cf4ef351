"""The hosted pages in a real headless Chromium (Debian's, driven by Playwright), on a fresh local
stack with no configuration at all: a sign-up's default mail links to the verify page, a reset
request's to the reset page, and both walks end where a user expects, with JavaScript off.

`UMS_SCREENSHOTS=<dir>` (`make screenshots`) also saves the pages the README shows.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase"
SCREENSHOTS = Path(os.environ["UMS_SCREENSHOTS"]) if os.environ.get("UMS_SCREENSHOTS") else None


@pytest.fixture(scope="module")
def stack(fresh_stack: str) -> str:
    """A fresh `make dev`: no integration, automation or application configured."""
    return fresh_stack


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A tab with JavaScript off (the pages need none) that fails on any CSP violation."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 800, "height": 720})
    tab = context.new_page()
    violations: list[str] = []
    tab.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    yield tab
    context.close()
    assert violations == []


def screenshot(tab: Any, name: str) -> None:
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def sign_up(stack: str) -> str:
    email = f"walk-{uuid.uuid4().hex[:8]}@example.com"
    answer = requests.post(f"{stack}/ums/signup", json={"email": email, "password": PASSWORD}, timeout=15)
    assert answer.status_code == 201, answer.text
    return email


def sign_in(stack: str, email: str, password: str) -> requests.Response:
    return requests.post(f"{stack}/auth", json={"method": "ums", "email": email, "password": password}, timeout=15)


def mailed_link(stack: str, email: str, page: str) -> str:
    """The link to the hosted `page` in the newest default mail to `email`."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for mail in reversed(requests.get(f"{stack}/_local/mail", timeout=5).json()):
            found = re.search(rf"{re.escape(stack)}/pages/{page}\?\S+", mail["text"]) if email in mail["to"] else None
            if found:
                return found[0]
        time.sleep(0.1)
    pytest.fail(f"no mail to {email} links to /pages/{page}")


def test_a_sign_up_mail_links_to_the_verify_page_that_verifies(stack: str, page: Any) -> None:
    email = sign_up(stack)
    link = mailed_link(stack, email, "verify")
    for _ in range(2):  # a mail scanner opened it first: showing the page uses nothing
        shown = page.goto(link)
        assert shown.status == 200
        assert page.inner_text("h1") == "Confirm your email address"
    screenshot(page, "verify-page")
    page.get_by_role("button", name="Confirm").click()
    assert page.inner_text("h1") == "Email address verified"
    assert f"{email} is verified" in page.inner_text("main")
    access = sign_in(stack, email, PASSWORD).json()["access_token"]
    user = requests.get(f"{stack}/ums/user", headers={"Authorization": f"Bearer {access}"}, timeout=15).json()
    assert user["email_verified"] is True


def test_a_reset_mail_links_to_the_reset_page_that_sets_the_password(stack: str, page: Any) -> None:
    email = sign_up(stack)
    answer = requests.post(f"{stack}/ums/resetpassword", json={"email": email}, timeout=15)
    assert answer.status_code == 202
    link = mailed_link(stack, email, "reset")
    page.goto(link)
    assert page.inner_text("h1") == "Choose a new password"
    screenshot(page, "reset-page")
    page.get_by_label("New password", exact=True).fill("password")
    page.get_by_label("Repeat the new password").fill("password")
    page.get_by_role("button", name="Change password").click()
    assert page.get_by_role("alert").inner_text() == "Password is too common; choose a less guessable one"
    assert page.get_by_label("New password", exact=True).input_value() == ""  # never echoed
    screenshot(page, "reset-page-refused")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    assert page.inner_text("h1") == "Password changed"
    assert sign_in(stack, email, PASSWORD).status_code == 401
    assert sign_in(stack, email, NEW_PASSWORD).status_code == 200
    assert page.goto(link).status == 404 and page.inner_text("h1") == "Link expired"  # used


def test_a_wrong_or_missing_token_says_what_to_do(stack: str, page: Any) -> None:
    shown = page.goto(f"{stack}/pages/reset?token={'x' * 43}")
    assert shown.status == 404 and page.inner_text("h1") == "Link expired"
    assert "Ask for a new password reset email" in page.get_by_role("alert").inner_text()
    screenshot(page, "link-expired")
    shown = page.goto(f"{stack}/pages/verify")
    assert shown.status == 400 and page.inner_text("h1") == "Link incomplete"


def test_an_applications_branding_and_a_phone_sized_screen(stack: str, browser: Any) -> None:
    app = {"name": "shop", "display_name": "Acme Shop", "brand_color": "#b45309", "background_color": "#fef3c7",
           "after_reset_url": "https://shop.example/signin"}  # fmt: skip
    assert requests.post(f"{stack}/management/applications", json=app, timeout=15).status_code == 201
    key = requests.post(f"{stack}/management/keys", json={"description": "pages"}, timeout=15).json()
    email = sign_up(stack)
    headers = {"X-API-KEY": f"{key['key']}:{key['secret']}"}
    body = {"email": email, "application": "shop"}
    assert requests.post(f"{stack}/ums/resetpassword", json=body, headers=headers, timeout=15).status_code == 202
    link = mailed_link(stack, email, "reset")
    assert "app=shop" in link
    context = browser.new_context(viewport={"width": 390, "height": 760}, is_mobile=True)  # JavaScript on: to measure
    tab = context.new_page()
    tab.goto(link)
    assert tab.inner_text("header") == "Acme Shop"
    button = tab.get_by_role("button", name="Change password")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(180, 83, 9)"
    assert tab.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    screenshot(tab, "reset-page-branded-phone")
    tab.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    tab.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    button.click()
    assert tab.inner_text("h1") == "Password changed"
    assert tab.get_by_role("link", name="Continue to Acme Shop").get_attribute("href") == app["after_reset_url"]
    context.close()
