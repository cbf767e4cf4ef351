"""POST /ums/users: a policy holder makes a user (with a password: a sign-up) or invites one (no
password: a link that sets the first one)."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import PASSWORD, Answer, call, manage, sign_in
from ums.crypto import decrypt_token
from ums.store.models import EventModel


@pytest.fixture
def admin(aws: None, server_key: str) -> str:
    """An API key's access token with a policy allowing `create`."""
    policy = {"subjects": ["apk:<.*>"], "resources": ["ums.users"], "actions": {"create": [], "read": []}}
    assert manage("policies", policy).status == 201
    key, secret = server_key.split(":")
    return str(call("SignInFunction", {"method": "apk", "key": key, "secret": secret}).body["access_token"])


def create(token: str, body: dict[str, Any]) -> Answer:
    return call("UsersCreateFunction", body, token=token)


def test_an_invited_user_sets_the_first_password_through_the_mailed_link(admin: str) -> None:
    made = create(admin, {"email": "Ann@Example.com", "first_name": "Ann", "country": "nl"})
    assert made.status == 201 and made.body["email"] == "Ann@Example.com" and made.body["country"] == "NL"
    assert "password" not in made.body and made.body["email_verified"] is False
    [invite] = [e for e in EventModel.scan() if e.event == "AfterUserInvite"]
    assert not [e for e in EventModel.scan() if e.event == "AfterSignUp"]
    assert sign_in("ann@example.com", "").status == 400 and sign_in("ann@example.com").status == 401  # no password yet
    token = decrypt_token(invite.token_ciphertext)
    applied = call("ApplyResetFunction", {"new_password": PASSWORD}, path_parameters={"token": token})
    assert applied.status == 200, applied.body
    assert sign_in("ann@example.com").status == 200
    again = call("ApplyResetFunction", {"new_password": "another passphrase"}, path_parameters={"token": token})
    assert again.status == 404  # once


def test_a_user_made_with_a_password_is_a_sign_up(admin: str) -> None:
    made = create(admin, {"email": "bob@example.com", "password": PASSWORD})
    assert made.status == 201
    assert [e.event for e in EventModel.scan()] == ["AfterSignUp"]
    assert sign_in("bob@example.com").status == 200


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "Field 'email' is required and must be a string"),
        ({"email": "bob@example.com", "password": "short"}, 400, "Password must be at least"),
        ({"email": "bob@example.com", "password": 7}, 400, "Field 'password' must be a string"),
        ({"email": "bob@example.com", "a.b": 1}, 400, "Field name 'a.b'"),
        ({"email": "taken@example.com"}, 409, "A user with this email is already registered"),
    ],
)
def test_what_cannot_be_made_is_refused(admin: str, body: dict[str, Any], status: int, message: str) -> None:
    assert create(admin, {"email": "taken@example.com"}).status == 201
    answer = create(admin, body)
    assert answer.status == status and answer.message.startswith(message), answer.body


def test_creating_needs_a_policy_that_allows_it(aws: None, server_key: str) -> None:
    assert create("not a token", {"email": "bob@example.com"}).status == 401
    key, secret = server_key.split(":")
    apk = call("SignInFunction", {"method": "apk", "key": key, "secret": secret}).body["access_token"]
    refused = create(apk, {"email": "bob@example.com"})
    assert refused.status == 403
    reader = {"subjects": ["apk:<.*>"], "resources": ["ums.users"], "actions": {"read": []}}
    assert manage("policies", reader).status == 201
    assert create(apk, {"email": "bob@example.com"}).status == 403  # read is not create
