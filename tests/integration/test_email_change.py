"""Changing one's email: a confirmation to the new address, the change when it is used (unique
under concurrency, verified, sessions kept), a notice to the old address."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from helpers import FUNCTIONS, PASSWORD, STACK, Answer, call, sign_in, sign_up
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from ums.crypto import decrypt_token, sha256_hex
from ums.store.models import EventModel, RateLimitModel, UniqueValueModel, VerifyTokenModel


def events(kind: str) -> list[EventModel]:
    return sorted((e for e in EventModel.scan() if e.event == kind), key=lambda e: e.occurred_at)


def change(access_token: str, body: dict[str, Any]) -> Answer:
    return call("ChangeEmailFunction", body, token=access_token)


def confirm(event: EventModel) -> Answer:
    return call("VerifyEmailFunction", path_parameters={"token": decrypt_token(event.token_ciphertext)})


def mail_of(event: EventModel) -> Any:
    image = dict(event.serialize())
    record = {"eventID": event.id, "eventName": "INSERT", "dynamodb": {"NewImage": image, "SequenceNumber": "1"}}
    assert FUNCTIONS["AutomationFunction"].invoke({"Records": [record]}) == {"batchItemFailures": []}
    return ses_backends[DEFAULT_ACCOUNT_ID][STACK.region].sent_messages[-1]


def test_the_new_address_confirms_the_change_and_the_old_one_is_told(aws: None) -> None:
    created = sign_up()
    here, elsewhere = sign_in().body, sign_in().body
    asked = change(here["access_token"], {"new_email": "Ann@Example.org", "password": PASSWORD})
    assert asked.status == 202 and asked.body == {}
    assert call("GetUserFunction", token=here["access_token"]).body["email"] == "ann@example.com"  # not yet
    [request] = events("AfterEmailChangeRequest")
    confirmation = mail_of(request)
    assert confirmation.destinations == {"ToAddresses": ["Ann@Example.org"]}
    assert (
        confirmation.subject == "Confirm your new email address"
        and "from ann@example.com to Ann@Example.org" in confirmation.body
    )
    changed = confirm(request)
    assert (
        changed.status == 200 and changed.body["email"] == "Ann@Example.org" and changed.body["email_verified"] is True
    )
    assert changed.body["id"] == created.body["id"]
    [done] = events("AfterEmailChange")
    notice = mail_of(done)
    assert (
        notice.destinations == {"ToAddresses": ["ann@example.com"]}
        and notice.subject == "Your email address was changed"
    )
    for tokens in (here, elsewhere):  # sessions go on
        assert call("GetUserFunction", token=tokens["access_token"]).body["email"] == "Ann@Example.org"
    assert sign_in("ann@example.org").status == 200 and sign_in("ann@example.com").status == 401
    assert sign_up("ann@example.com").status == 201  # the old address is free
    markers = {m.pk for m in UniqueValueModel.scan(UniqueValueModel.pk.startswith("email#"))}
    assert markers == {"email#ann@example.org", "email#ann@example.com"}
    assert confirm(request).status == 404  # once


def test_a_change_needs_the_password_or_a_recent_sign_in(aws: None) -> None:
    sign_up()
    access = sign_in().body["access_token"]
    wrong = change(access, {"new_email": "new@example.com", "password": "not the password at all"})
    assert (wrong.status, wrong.message) == (403, "Wrong password")
    assert change(access, {"new_email": "new@example.com"}).status == 202  # signed in a moment ago


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "Field 'new_email' is required and must be a string"),
        ({"new_email": "not an email"}, 400, "Field 'new_email' must be a valid email address"),
        ({"new_email": "ANN@example.com"}, 400, "Field 'new_email' is the current email"),
        ({"new_email": "bob@example.com"}, 409, "A user with this email is already registered"),
        ({"new_email": "new@example.com", "email": "x"}, 400, "Unknown field(s): email"),
    ],
)
def test_what_cannot_be_changed_to_is_refused(aws: None, body: dict[str, Any], status: int, message: str) -> None:
    sign_up()
    sign_up("bob@example.com")
    answer = change(sign_in().body["access_token"], body)
    assert answer.status == status and answer.message.startswith(message), answer.body
    assert events("AfterEmailChangeRequest") == []


def test_an_address_taken_before_the_confirmation_is_a_409_and_nothing_moves(aws: None) -> None:
    sign_up()
    assert change(sign_in().body["access_token"], {"new_email": "new@example.com"}).status == 202
    assert sign_up("new@example.com").status == 201  # someone else got there first
    [request] = events("AfterEmailChangeRequest")
    taken = confirm(request)
    assert (taken.status, taken.message) == (409, "A user with this email is already registered")
    assert sign_in("ann@example.com").status == 200  # still ann's address
    assert VerifyTokenModel.get(VerifyTokenModel.key_for(sha256_hex(decrypt_token(request.token_ciphertext))))


def test_two_users_racing_for_one_new_address_get_it_once(aws: None) -> None:
    for email in ("ann@example.com", "bob@example.com"):
        sign_up(email)
        assert change(sign_in(email).body["access_token"], {"new_email": "prize@example.com"}).status == 202
    requests = events("AfterEmailChangeRequest")
    answers: list[int] = []
    threads = [threading.Thread(target=lambda e=e: answers.append(confirm(e).status)) for e in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 409]
    assert sign_in("prize@example.com").status == 200
    assert (
        UniqueValueModel.get("email#prize@example.com").user_id
        == sign_in("prize@example.com").body["refresh_token"].split(".")[0]
    )


def test_requests_are_limited_and_a_confirmation_after_another_change_is_void(aws: None) -> None:
    sign_up()
    access = sign_in().body["access_token"]
    assert change(access, {"new_email": "first@example.com"}).status == 202
    assert call("RequestResetFunction", {"email": "ann@example.com"}).status == 202  # unrelated: no effect
    first = events("AfterEmailChangeRequest")[0]
    limited = change(access, {"new_email": "second@example.com"})
    assert (limited.status, limited.message) == (429, "Too many email change requests; try again later")
    for counter in RateLimitModel.scan(RateLimitModel.pk.startswith("limit#email-change#")):
        counter.delete()  # a minute later
    assert change(access, {"new_email": "second@example.com"}).status == 202
    second = next(e for e in events("AfterEmailChangeRequest") if e.id != first.id)
    assert confirm(second).status == 200
    assert confirm(first).status == 404  # it was asked from an address the user no longer has
