from typing import Any

import pytest
from helpers import PASSWORD, call, sign_in, sign_up


def test_get_user_returns_the_record(user: dict[str, Any]) -> None:
    answer = call("GetUserFunction", token=user["access_token"])
    assert answer.status == 200
    assert answer.body["id"] == user["id"] and answer.body["email"] == "ann@example.com"
    assert "password" not in answer.body


def test_get_user_without_token_is_401(aws: None) -> None:
    assert call("GetUserFunction").status == 401


def test_change_password_errors(user: dict[str, Any]) -> None:
    token = user["access_token"]
    wrong = call(
        "ChangePasswordFunction", {"old_password": "not it at all", "new_password": "another passphrase"}, token=token
    )
    assert wrong.status == 403
    weak = call("ChangePasswordFunction", {"old_password": PASSWORD, "new_password": "short"}, token=token)
    assert weak.status == 400
    missing = call("ChangePasswordFunction", {"old_password": PASSWORD}, token=token)
    assert missing.status == 400 and "new_password" in missing.message
    extra = call("ChangePasswordFunction", {"old_password": PASSWORD, "new_password": "x" * 9, "x": 1}, token=token)
    assert extra.status == 400 and "Unknown field" in extra.message


def test_change_password_returns_the_record_with_a_new_updated_at(user: dict[str, Any]) -> None:
    answer = call(
        "ChangePasswordFunction",
        {"old_password": PASSWORD, "new_password": "another passphrase"},
        token=user["access_token"],
    )
    assert answer.status == 200
    assert answer.body["id"] == user["id"]
    assert answer.body["updated_at"] > user["updated_at"]


def test_delete_user_with_a_body_needs_the_password_and_returns_the_deleted_record(user: dict[str, Any]) -> None:
    token = user["access_token"]
    assert call("DeleteUserFunction", {"password": "not it at all"}, token=token).status == 403
    assert call("DeleteUserFunction", {}, token=token).status == 400
    answer = call("DeleteUserFunction", {"password": PASSWORD}, token=token)
    assert answer.status == 200 and answer.body["id"] == user["id"]
    assert sign_in().status == 401
    assert call("DeleteUserFunction", {"password": PASSWORD}, token=token).status == 404
    assert sign_up().status == 201  # the email is free again


def test_change_password_for_a_deleted_user_is_404(user: dict[str, Any]) -> None:
    assert call("DeleteUserFunction", {"password": PASSWORD}, token=user["access_token"]).status == 200
    answer = call(
        "ChangePasswordFunction",
        {"old_password": PASSWORD, "new_password": "another passphrase"},
        token=user["access_token"],
    )
    assert answer.status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"method": "ums", "email": "\ud800@example.com", "password": PASSWORD}, "'email'"),
        ({"method": "ums", "email": "ann@example.com", "password": "\udfff" * 9}, "'password'"),
        ({"method": "apk", "key": "\ud800", "secret": "x"}, "'key'"),
        ({"method": "apk", "key": "k", "secret": "\ud800"}, "'secret'"),
    ],
)
def test_sign_in_with_unpaired_surrogates_is_400_naming_the_field(
    user: dict[str, Any], body: dict[str, str], field: str
) -> None:
    answer = call("SignInFunction", body)
    assert answer.status == 400 and field in answer.message


def test_delete_user_with_an_unpaired_surrogate_is_400_and_deletes_nothing(user: dict[str, Any]) -> None:
    answer = call("DeleteUserFunction", {"password": "\ud800"}, token=user["access_token"])
    assert answer.status == 400 and "'password'" in answer.message
    assert call("GetUserFunction", token=user["access_token"]).status == 200


def test_delete_user_without_a_body_needs_a_recent_sign_in(aws: None) -> None:
    """Jexia's cURL and Python examples send no body: the token's sign-in must be recent."""
    import jwt
    from ums.store.models import SessionModel

    sign_up()
    tokens = sign_in().body
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert abs(claims["auth_time"] - claims["iat"]) <= 1
    session = SessionModel.get(SessionModel.key_for(claims["sid"]))
    session.update(actions=[SessionModel.created_at.set("2026-01-01T00:00:00.000000Z")])  # signed in long ago
    refreshed = call("RefreshTokenFunction", {"refresh_token": tokens["refresh_token"]}).body
    old = jwt.decode(refreshed["access_token"], options={"verify_signature": False})
    assert old["auth_time"] == 1767225600 and old["iat"] > old["auth_time"]  # a refresh keeps the sign-in's time
    refused = call("DeleteUserFunction", token=refreshed["access_token"])
    assert (refused.status, refused.message) == (403, "Recent sign-in required: sign in again, or send the password")
    deleted = call("DeleteUserFunction", token=sign_in().body["access_token"])  # a fresh sign-in
    assert deleted.status == 200 and deleted.body["email"] == "ann@example.com"
    assert sign_in().status == 401
