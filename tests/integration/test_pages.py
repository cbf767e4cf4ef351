"""The hosted pages through their real handlers against moto: /pages/reset and /pages/verify show
a form on GET without using the token, apply it on POST (once, in parallel too), answer a wrong,
used or expired token with a page that says so, show the password policy's messages inline, and
wear the named application's branding under a strict CSP. The walk in a real browser is
tests/e2e/test_hosted_pages.py."""

from __future__ import annotations

import base64
import html
import re
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from helpers import FUNCTIONS, PASSWORD, Answer, call, manage, sign_in, sign_up
from test_default_mails import automate, events
from ums.crypto import decrypt_token, sha256_hex
from ums.store.models import ResetTokenModel, VerifyTokenModel

from local_stack.gateway import http_api_event

NEW_PASSWORD = "a brand new passphrase"


def page(function: str, method: str = "GET", **fields: str) -> Answer:
    """A browser's request: a GET with the link's query, or the form's POST."""
    form = urlencode(fields)
    if method == "GET":
        return call(function, method="GET", query=form)
    headers = {"content-type": "application/x-www-form-urlencoded"}
    return call(function, method="POST", raw_body=form.encode(), headers=headers)


def heading(answer: Answer) -> str:
    found = re.search(r"<h1>(.*?)</h1>", answer.body)
    assert found, answer.body
    return html.unescape(found[1])


def reset_token(email: str = "ann@example.com") -> str:
    assert call("RequestResetFunction", {"email": email}).status == 202
    return decrypt_token(events("AfterPasswordResetRequest")[-1].token_ciphertext)


def verify_token() -> str:
    return decrypt_token(events("AfterSignUp")[-1].token_ciphertext)


def test_the_reset_page_shows_a_form_without_using_the_token(aws: None) -> None:
    sign_up()
    token = reset_token()
    for _ in range(2):  # a mail scanner opened the link first
        shown = page("ResetPageFunction", token=token)
        assert shown.status == 200 and heading(shown) == "Choose a new password"
        assert f'name="token" value="{token}"' in shown.body and 'autocomplete="new-password"' in shown.body
        assert '<label for="password">' in shown.body and '<form method="post" action="reset">' in shown.body
    assert ResetTokenModel.get(ResetTokenModel.key_for(sha256_hex(token)))  # still there
    done = page("ResetPageFunction", "POST", token=token, password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    assert done.status == 200 and heading(done) == "Password changed"
    assert sign_in(password=PASSWORD).status == 401 and sign_in(password=NEW_PASSWORD).status == 200
    again = page("ResetPageFunction", "POST", token=token, password="another passphrase", confirm="another passphrase")
    assert again.status == 404 and heading(again) == "Link expired"
    assert page("ResetPageFunction", token=token).status == 404


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("password", "password", "Password is too common; choose a less guessable one"),
        ("short", "short", "Password must be at least 8 characters long"),
        ("ann@example.com", "ann@example.com", "Password must not be the email address"),
        (NEW_PASSWORD, "something else", "The two passwords do not match."),
    ],
)
def test_a_refused_password_shows_why_and_keeps_the_token(aws: None, password: str, confirm: str, message: str) -> None:
    sign_up()
    token = reset_token()
    refused = page("ResetPageFunction", "POST", token=token, password=password, confirm=confirm)
    assert refused.status == 400 and heading(refused) == "Choose a new password"
    assert f'<p class="error" role="alert" id="error">{html.escape(message)}</p>' in refused.body
    assert 'aria-invalid="true"' in refused.body and f'value="{token}"' in refused.body
    assert f'value="{password}"' not in refused.body  # typed passwords are never echoed
    done = page("ResetPageFunction", "POST", token=token, password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    assert done.status == 200


@pytest.mark.parametrize("token", ["x" * 43, "short", "x" * 500, "\u00e9" * 40])
def test_a_token_nobody_was_mailed_shows_the_expired_page(aws: None, token: str) -> None:
    for function in ("ResetPageFunction", "VerifyPageFunction"):
        shown = page(function, token=token)
        assert shown.status == 404 and heading(shown) == "Link expired" and token not in shown.body
        posted = page(function, "POST", token=token, password=NEW_PASSWORD, confirm=NEW_PASSWORD)
        assert posted.status == 404 and heading(posted) == "Link expired"


def test_a_link_without_a_token_says_it_is_incomplete(aws: None) -> None:
    for function in ("ResetPageFunction", "VerifyPageFunction"):
        for answer in (page(function), page(function, "POST", password=NEW_PASSWORD)):
            assert answer.status == 400 and heading(answer) == "Link incomplete"
            assert 'role="alert"' in answer.body


def test_an_expired_or_someone_elses_reset_token_is_refused(aws: None) -> None:
    sign_up()
    bob = sign_up("bob@example.com").body
    token = reset_token()
    assert page("ResetPageFunction", token=token, customerId=bob["id"]).status == 404
    stored = ResetTokenModel.get(ResetTokenModel.key_for(sha256_hex(token)))
    stored.update(actions=[ResetTokenModel.expires_at.set(int(time.time()) - 1)])  # TTL deletion lags
    assert page("ResetPageFunction", token=token).status == 404


def test_the_mailed_link_opens_the_hosted_page_and_works_there(aws: None) -> None:
    """The default mail's link, as a browser would follow it: its query is the page's."""
    user = sign_up().body
    assert call("RequestResetFunction", {"email": "ann@example.com"}).status == 202
    automate(events("AfterPasswordResetRequest")[-1])
    [event] = events("AfterPasswordResetRequest")
    token = decrypt_token(event.token_ciphertext)
    from ums.automation.pipeline import placeholders

    link = placeholders(event)["reset_link"]
    assert urlsplit(link).path == "/pages/reset"
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert query == {"accountId": "ums", "customerId": user["id"], "token": token, "action": "resetPwd"}
    shown = page("ResetPageFunction", **query)
    assert shown.status == 200 and f'name="customerId" value="{user["id"]}"' in shown.body
    done = page("ResetPageFunction", "POST", token=token, customerId=user["id"], password=NEW_PASSWORD,
                confirm=NEW_PASSWORD)  # fmt: skip
    assert done.status == 200


def test_an_invitation_link_sets_the_first_password(aws: None, server_key: str) -> None:
    policy = {"subjects": ["apk:<.*>"], "resources": ["ums.users"], "actions": {"create": []}}
    assert manage("policies", policy).status == 201
    key, secret = server_key.split(":")
    admin = call("SignInFunction", {"method": "apk", "key": key, "secret": secret}).body["access_token"]
    assert call("UsersCreateFunction", {"email": "ann@example.com"}, token=admin).status == 201
    token = decrypt_token(events("AfterUserInvite")[-1].token_ciphertext)
    shown = page("ResetPageFunction", token=token)
    assert heading(shown) == "Set your password" and 'name="invite" value="1"' in shown.body
    refused = page("ResetPageFunction", "POST", token=token, invite="1", password="short", confirm="short")
    assert heading(refused) == "Set your password"
    done = page("ResetPageFunction", "POST", token=token, invite="1", password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    assert done.status == 200 and heading(done) == "Password set"
    assert sign_in(password=NEW_PASSWORD).status == 200


def test_the_verify_page_confirms_on_post_only(aws: None) -> None:
    sign_up()
    token = verify_token()
    for _ in range(2):
        shown = page("VerifyPageFunction", token=token)
        assert shown.status == 200 and heading(shown) == "Confirm your email address"
        assert '<form method="post" action="verify">' in shown.body and '<button type="submit">' in shown.body
    assert call("GetUserFunction", token=sign_in().body["access_token"]).body["email_verified"] is False
    done = page("VerifyPageFunction", "POST", token=token)
    assert (
        done.status == 200 and heading(done) == "Email address verified" and "ann@example.com is verified" in done.body
    )
    assert call("GetUserFunction", token=sign_in().body["access_token"]).body["email_verified"] is True
    assert not list(VerifyTokenModel.scan(VerifyTokenModel.pk.startswith("verify#")))


def test_parallel_confirms_of_one_verify_link_succeed_once(aws: None) -> None:
    sign_up()
    token = verify_token()
    answers: list[int] = []
    threads = [
        threading.Thread(target=lambda: answers.append(page("VerifyPageFunction", "POST", token=token).status))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200] + [404] * 5


def test_parallel_posts_of_one_reset_form_set_the_password_once(aws: None) -> None:
    sign_up()
    token = reset_token()
    answers: list[int] = []

    def post(password: str) -> None:
        answers.append(page("ResetPageFunction", "POST", token=token, password=password, confirm=password).status)

    threads = [threading.Thread(target=post, args=(f"{NEW_PASSWORD} {i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200] + [404] * 5
    assert [sign_in(password=f"{NEW_PASSWORD} {i}").status for i in range(6)].count(200) == 1


def test_an_email_change_is_confirmed_on_the_verify_page(aws: None) -> None:
    sign_up()
    access = sign_in().body["access_token"]
    body = {"new_email": "new@example.com", "password": PASSWORD}
    assert call("ChangeEmailFunction", body, token=access).status == 202
    token = decrypt_token(events("AfterEmailChangeRequest")[-1].token_ciphertext)
    shown = page("VerifyPageFunction", token=token)
    assert heading(shown) == "Confirm your new email address"
    done = page("VerifyPageFunction", "POST", token=token)
    assert done.status == 200 and "new@example.com is verified" in done.body
    assert sign_in("new@example.com").status == 200


def test_pages_wear_the_applications_branding_under_a_strict_csp(aws: None) -> None:
    app = {
        "name": "shop",
        "display_name": "Shop <Inc>",
        "logo_url": "https://cdn.shop.example/logo.png",
        "brand_color": "#fde047",
        "background_color": "#111827",
        "after_reset_url": "https://shop.example/signin",
    }
    assert manage("applications", app).status == 201
    sign_up()
    token = reset_token()
    shown = page("ResetPageFunction", token=token, app="shop")
    csp = dict(part.split(" ", 1) for part in shown.headers["Content-Security-Policy"].split("; "))
    nonce = re.search(r"<style nonce=\"([^\"]+)\">", shown.body)
    assert nonce and csp["style-src"] == f"'nonce-{nonce[1]}'" and csp["default-src"] == "'none'"
    assert csp["img-src"] == "https://cdn.shop.example" and csp["frame-ancestors"] == "'none'"
    assert csp["form-action"] == "'self'" and csp["base-uri"] == "'none'"
    assert shown.headers["X-Frame-Options"] == "DENY" and shown.headers["Cache-Control"] == "no-store"
    assert shown.headers["Referrer-Policy"] == "no-referrer"  # the token in the URL goes nowhere
    assert "Shop &lt;Inc&gt;" in shown.body and "<Inc>" not in shown.body
    assert "background:#fde047;color:#000000" in shown.body  # dark text on a light brand colour
    assert "background:#111827" in shown.body and 'name="app" value="shop"' in shown.body
    assert "<script" not in shown.body
    done = page("ResetPageFunction", "POST", token=token, app="shop", password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    assert '<meta http-equiv="refresh" content="5;url=https://shop.example/signin">' in done.body
    assert 'href="https://shop.example/signin">Continue to Shop &lt;Inc&gt;</a>' in done.body


@pytest.mark.parametrize("app", ["nobody", "x" * 5000, "\u00e9\u00e8"])
def test_an_unknown_application_gets_the_neutral_look(aws: None, app: str) -> None:
    sign_up()
    shown = page("ResetPageFunction", token=reset_token(), app=app)
    assert shown.status == 200 and "<span>ums</span>" in shown.body
    assert "img-src 'none'" in shown.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("brand_color", "red;}body{x", "Field 'brand_color' must be a colour as #rrggbb"),
        ("background_color", "#12345", "Field 'background_color' must be a colour as #rrggbb"),
        ("logo_url", "http://cdn.example/logo.png", "Field 'logo_url' must be an https URL without a fragment"),
        ("after_reset_url", "javascript:alert(1)", "Field 'after_reset_url' must be an https URL without a fragment"),
        (
            "after_verify_url",
            'https://x.example/"><b>',
            "Field 'after_verify_url' must be an https URL without a fragment",
        ),
        ("display_name", 7, "Field 'display_name' must be a non-empty string"),
    ],
)
def test_branding_that_could_break_the_page_is_refused(aws: None, field: str, value: object, message: str) -> None:
    answer = manage("applications", {"name": "shop", field: value})
    assert (answer.status, answer.message) == (400, message)


def test_an_application_without_a_reset_url_gets_the_hosted_page_with_its_branding(aws: None, server_key: str) -> None:
    assert manage("applications", {"name": "shop", "display_name": "Shop"}).status == 201
    sign_up()
    headers = {"x-api-key": server_key}
    assert (
        call("RequestResetFunction", {"email": "ann@example.com", "application": "shop"}, headers=headers).status == 202
    )
    from ums.automation.pipeline import placeholders

    link = placeholders(events("AfterPasswordResetRequest")[-1])["reset_link"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert urlsplit(link).path == "/pages/reset" and query["app"] == "shop"
    assert "<span>Shop</span>" in page("ResetPageFunction", **query).body


def test_a_form_that_is_not_one_is_a_400_page_that_says_why(aws: None) -> None:
    """Still a page (a browser shows it), never Jexia's JSON error array (found by Schemathesis)."""
    headers = {"content-type": "application/x-www-form-urlencoded"}
    for function in ("ResetPageFunction", "VerifyPageFunction"):
        for raw, why in (
            (b"token=a&token=b", "Form field &#39;token&#39; is given more than once"),
            (b"\xff\xfe=1", ""),
        ):
            answer = call(function, method="POST", raw_body=raw, headers=headers)
            assert answer.status == 400 and "<h1>Form not accepted</h1>" in answer.body and why in answer.body
            assert answer.headers["Content-Type"].startswith("text/html")


def test_a_form_api_gateway_sends_base64_encoded_is_read(aws: None) -> None:
    """HTTP APIs base64-encode form posts (isBase64Encoded): the page reads them all the same."""
    sign_up()
    form = urlencode({"token": reset_token(), "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    event = http_api_event(method="POST", path="/pages/reset", route_key="POST /pages/reset",
                           headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    event.update(body=base64.b64encode(form.encode()).decode(), isBase64Encoded=True)
    result = FUNCTIONS["ResetPageFunction"].invoke(event)
    assert result["statusCode"] == 200 and "<h1>Password changed</h1>" in result["body"]
