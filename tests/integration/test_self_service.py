"""Account self-service: sign out of one session, revoke a token (RFC 7009), edit one's own fields."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import Answer, call, sign_in, sign_up


def me(access_token: str) -> Answer:
    return call("GetUserFunction", token=access_token)


def refresh(refresh_token: str) -> Answer:
    return call("RefreshTokenFunction", {"refresh_token": refresh_token})


def revoke(token: Any, **extra: Any) -> Answer:
    return call("RevokeTokenFunction", {"token": token, **extra})


def test_logout_ends_this_session_at_once_and_no_other(aws: None) -> None:
    sign_up()
    here, there = sign_in().body, sign_in().body
    out = call("LogoutFunction", token=here["access_token"])
    assert out.status == 200 and out.body == {}
    assert (me(here["access_token"]).status, me(here["access_token"]).message) == (401, "Access token has been revoked")
    assert refresh(here["refresh_token"]).status == 401
    assert me(there["access_token"]).status == 200 and refresh(there["refresh_token"]).status == 200
    again = call("LogoutFunction", token=here["access_token"])
    assert again.status == 401  # its token is dead: there is nothing left to sign out of


def test_logout_needs_a_users_access_token(aws: None, server_key: str) -> None:
    assert call("LogoutFunction").status == 401
    key, secret = server_key.split(":")
    apk = call("SignInFunction", {"method": "apk", "key": key, "secret": secret}).body["access_token"]
    refused = call("LogoutFunction", token=apk)
    assert (refused.status, refused.message) == (401, "This route needs a user's access token, not an API key's")


def test_revoking_a_refresh_token_ends_its_session_and_its_access_tokens(aws: None) -> None:
    sign_up()
    tokens, other = sign_in().body, sign_in().body
    rotated = refresh(tokens["refresh_token"]).body
    answer = revoke(tokens["refresh_token"], token_type_hint="refresh_token")  # an older token of the chain
    assert answer.status == 200 and answer.body == {}
    assert refresh(rotated["refresh_token"]).status == 401
    assert me(rotated["access_token"]).status == 401 and me(tokens["access_token"]).status == 401
    assert me(other["access_token"]).status == 200


def test_revoking_an_access_token_ends_its_session(aws: None) -> None:
    sign_up()
    tokens = sign_in().body
    assert revoke(tokens["access_token"], token_type_hint="access_token").status == 200
    assert refresh(tokens["refresh_token"]).status == 401 and me(tokens["access_token"]).status == 401


def test_an_api_keys_refresh_token_can_be_revoked(aws: None, server_key: str) -> None:
    key, secret = server_key.split(":")
    tokens = call("SignInFunction", {"method": "apk", "key": key, "secret": secret}).body
    assert revoke(tokens["refresh_token"]).status == 200
    assert refresh(tokens["refresh_token"]).status == 401


def test_a_token_that_is_not_a_live_one_is_answered_alike_and_revokes_nothing(aws: None) -> None:
    user = sign_up().body
    tokens = sign_in().body
    session_id = tokens["refresh_token"].split(".")[1]
    for token in ("nonsense", "a.b.c", f"{user['id']}.{session_id}.guessed-secret", "eyJhbGciOi.x.y", "x" * 4096):
        answer = revoke(token)
        assert (answer.status, answer.body) == (200, {}), token
    assert me(tokens["access_token"]).status == 200  # a guessed secret revoked nothing
    assert revoke(tokens["refresh_token"]).status == 200
    assert revoke(tokens["refresh_token"]).status == 200  # revoked already: the same answer


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Field 'token' is required"),
        ({"token": 7}, "Field 'token' must be a string"),
        (
            {"token": "x", "token_type_hint": "id_token"},
            "Field 'token_type_hint' must be 'refresh_token' or 'access_token'",
        ),
        ({"token": "x" * 4097}, "Field 'token' is longer than any token this service issues"),
        ({"token": "x", "extra": 1}, "Unknown field(s): extra; allowed: token, token_type_hint"),
    ],
)
def test_a_malformed_revocation_request_is_a_400(aws: None, body: dict[str, Any], message: str) -> None:
    answer = call("RevokeTokenFunction", body)
    assert answer.status == 400 and answer.message.startswith(message), answer.body


def test_a_user_edits_its_own_fields(aws: None) -> None:
    sign_up(age=25, city="Delft")
    access = sign_in().body["access_token"]
    answer = call("UpdateUserFunction", {"city": "Utrecht", "age": None, "country": "nl"}, token=access)
    assert answer.status == 200
    assert answer.body["city"] == "Utrecht" and "age" not in answer.body and answer.body["country"] == "NL"
    assert me(access).body == answer.body


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "The body must name at least one field to update"),
        ({"email": "new@example.com"}, 400, "Field 'email' cannot be changed through PATCH /ums/user"),
        ({"active": False}, 400, "Field 'active' cannot be changed through PATCH /ums/user"),
        ({"email_verified": True}, 400, "Field 'email_verified' cannot be changed through PATCH /ums/user"),
        ({"password": "x"}, 400, "Field 'password' cannot be changed through PATCH /ums/user"),
        ({"password_hash": "x"}, 400, "Field 'password_hash'"),
        ({"a.b": 1}, 400, "Field name 'a.b'"),
        ({"country": "Netherlands"}, 400, "Field 'country'"),
    ],
)
def test_what_a_user_cannot_change_of_itself_is_a_400(
    aws: None, body: dict[str, Any], status: int, message: str
) -> None:
    sign_up()
    answer = call("UpdateUserFunction", body, token=sign_in().body["access_token"])
    assert answer.status == status and answer.message.startswith(message), answer.body
