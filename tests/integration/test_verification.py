"""Email verification through the real handlers against moto: the link a sign-up mails, the
request for a new one, using a token (once, in parallel too), EmailVerification's three modes,
OAuth providers that vouch for an email, and policy holders who set it."""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import quote

import pytest
from helpers import PASSWORD, Answer, call, manage, sign_in, sign_up
from test_reset import with_aws_calls
from ums.crypto import decrypt_token
from ums.store.models import EventModel, VerifyTokenModel


def events(kind: str) -> list[EventModel]:
    return sorted((e for e in EventModel.scan() if e.event == kind), key=lambda e: e.occurred_at)


def mailed_token(kind: str = "AfterSignUp") -> str:
    return decrypt_token(events(kind)[-1].token_ciphertext)


def verify(token: str) -> Answer:
    return call("VerifyEmailFunction", path_parameters={"token": token})


def request_link(email: str = "ann@example.com") -> Answer:
    return call("VerifyRequestFunction", {"email": email})


def test_a_sign_up_mails_a_token_that_verifies_the_email_once(aws: None) -> None:
    created = sign_up()
    assert created.body["email_verified"] is False
    [signed_up] = events("AfterSignUp")
    assert signed_up.token_expires_at is not None and signed_up.user["email_verified"] is False
    token = mailed_token()
    [stored] = VerifyTokenModel.scan()
    assert token not in stored.pk and stored.email_key == "ann@example.com"  # only its hash is kept
    verified = verify(token)
    assert (
        verified.status == 200 and verified.body["email_verified"] is True and verified.body["id"] == created.body["id"]
    )
    [event] = events("AfterEmailVerification")
    assert event.user["email_verified"] is True and event.token_ciphertext is None
    access = sign_in().body["access_token"]
    assert call("GetUserFunction", token=access).body["email_verified"] is True
    again = verify(token)
    assert (again.status, again.message) == (404, "Invalid or expired verification token")


@pytest.mark.parametrize("token", ["", "short", "x" * 129, "x" * 43, "\u00e9" * 40])
def test_a_token_nobody_was_mailed_is_a_404(aws: None, token: str) -> None:
    sign_up()
    answer = verify(token)
    assert (answer.status, answer.message) == (404, "Invalid or expired verification token")


def test_an_expired_token_or_one_mailed_to_another_address_is_a_404(aws: None) -> None:
    sign_up()
    token = mailed_token()
    [stored] = VerifyTokenModel.scan()
    stored.update(actions=[VerifyTokenModel.expires_at.set(int(time.time()) - 1)])  # TTL deletion lags
    assert verify(token).status == 404
    stored.update(actions=[VerifyTokenModel.expires_at.set(int(time.time()) + 60)])
    stored.update(actions=[VerifyTokenModel.email_key.set("old@example.com")])  # the email changed since
    assert verify(token).status == 404
    assert call("GetUserFunction", token=sign_in().body["access_token"]).body["email_verified"] is False


def test_parallel_verifies_of_one_token_succeed_once(aws: None) -> None:
    sign_up()
    token = mailed_token()
    answers: list[int] = []
    threads = [threading.Thread(target=lambda: answers.append(verify(token).status)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200] + [404] * 5
    assert len(events("AfterEmailVerification")) == 1


def test_a_new_link_on_request_and_the_older_one_still_says_verified(aws: None) -> None:
    sign_up()
    sent = request_link("Ann@Example.com")
    assert sent.status == 202 and sent.body == {}
    assert verify(mailed_token("AfterEmailVerificationRequest")).status == 200
    older = verify(mailed_token("AfterSignUp"))  # the sign-up's mail, opened later
    assert older.status == 200 and older.body["email_verified"] is True
    assert len(events("AfterEmailVerification")) == 1  # verified once


def test_requests_for_a_new_link_answer_what_a_developer_needs(aws: None) -> None:
    sign_up()
    assert request_link().status == 202
    limited = request_link()
    assert limited.status == 429 and int(limited.headers["Retry-After"]) > 0
    unknown = request_link("nobody@example.com")
    assert (unknown.status, unknown.message) == (404, "No user is registered with this email")
    assert verify(mailed_token()).status == 200
    verified = request_link()
    assert (verified.status, verified.message) == (409, "Email is already verified")
    assert request_link("not an email").status == 400
    assert call("VerifyRequestFunction", {"email": "ann@example.com", "extra": 1}).status == 400


def test_prevented_mode_answers_202_for_everyone_with_the_same_calls(aws: None, setting: Any) -> None:
    setting("PREVENT_USER_EXISTENCE_ERRORS", "true")
    sign_up("known@example.com")
    sign_up("verified@example.com")
    token = decrypt_token(
        next(e for e in events("AfterSignUp") if e.user["email"] == "verified@example.com").token_ciphertext
    )
    assert verify(token).status == 200
    answers = {email: with_aws_calls(lambda email=email: request_link(email)) for email in
               ("known@example.com", "unknown@example.com", "verified@example.com")}  # fmt: skip
    assert {(a.status, str(a.body)) for a, _ in answers.values()} == {(202, "{}")}
    assert len({tuple(calls) for _, calls in answers.values()}) == 1
    assert [e.user["email"] for e in events("AfterEmailVerificationRequest")] == ["known@example.com"]
    assert request_link("unknown@example.com").status == 202  # the limit answers 202 too


def test_required_mode_refuses_sign_in_until_verified_and_only_with_the_right_password(aws: None, setting: Any) -> None:
    setting("EMAIL_VERIFICATION", "required")
    sign_up()
    refused = sign_in()
    assert (refused.status, refused.message) == (403, "Email is not verified")
    wrong = sign_in(password="not the password at all")
    assert (wrong.status, wrong.message) == (401, "Invalid email or password")  # nothing told without it
    assert verify(mailed_token()).status == 200
    assert sign_in().status == 200


def test_off_mode_mails_no_link_shows_no_flag_and_has_no_route(aws: None, setting: Any) -> None:
    setting("EMAIL_VERIFICATION", "off")
    created = sign_up()
    assert "email_verified" not in created.body
    [signed_up] = events("AfterSignUp")
    assert signed_up.token_ciphertext is None and list(VerifyTokenModel.scan()) == []
    answer = request_link()
    assert (answer.status, answer.message) == (404, "Email verification is off (EmailVerification=off)")


def test_policy_holders_set_email_verified_for_imports_and_support(aws: None, server_key: str) -> None:
    sign_up()
    policy = {"subjects": ["apk:<.*>"], "resources": ["ums.users"], "actions": {"read": [], "update": []}}
    assert manage("policies", policy).status == 201
    key, secret = server_key.split(":")
    apk = call("SignInFunction", {"method": "apk", "key": key, "secret": secret}).body["access_token"]
    cond = quote('[{"field":"email"},"=","ann@example.com"]')
    updated = call("UsersUpdateFunction", {"email_verified": True}, query=f"cond={cond}", token=apk)
    assert updated.status == 200 and updated.body[0]["email_verified"] is True
    unverified = quote('[{"field":"email_verified"},"=",false]')
    assert call("UsersSelectFunction", query=f"cond={unverified}", token=apk).body == []
    wrong = call("UsersUpdateFunction", {"email_verified": "yes"}, query=f"cond={cond}", token=apk)
    assert (wrong.status, wrong.message) == (400, "Field 'email_verified' must be true or false")


def test_a_client_cannot_verify_its_own_email(aws: None) -> None:
    refused = sign_up(email_verified=True)
    assert refused.status == 400 and "email_verified" in refused.message
    created = sign_up("bob@example.com", PASSWORD)
    assert created.body["email_verified"] is False
