import json
from typing import Any

import pytest
from helpers import HTTP_FUNCTIONS, PASSWORD, call, sign_in, sign_up


def test_sign_up_returns_201_with_the_record_and_extra_fields(aws: None) -> None:
    answer = sign_up("Elon@Tesla.com", age=25, address={"city": "Apeldoorn", "country": "NL"}, tags=["a", 1.5])
    assert answer.status == 201
    user = answer.body
    assert set(user) == {
        "id",
        "email",
        "active",
        "email_verified",
        "created_at",
        "updated_at",
        "age",
        "address",
        "tags",
    }
    assert user["email"] == "Elon@Tesla.com" and user["active"] is True and user["email_verified"] is False
    assert user["age"] == 25 and user["address"] == {"city": "Apeldoorn", "country": "NL"}
    assert user["tags"] == ["a", 1.5]
    assert user["created_at"] == user["updated_at"] and user["created_at"].endswith("Z")
    assert answer.headers["Cache-Control"] == "no-store"


def test_password_and_internals_are_never_returned(aws: None) -> None:
    body = str(sign_up().body)
    for secret in (PASSWORD, "argon2", "password_hash", "email_key", "token_generation"):
        assert secret not in body


def test_same_email_in_other_case_is_409(aws: None) -> None:
    assert sign_up("ann@example.com").status == 201
    answer = sign_up("ANN@example.com")
    assert answer.status == 409
    assert answer.message == "A user with this email is already registered"


def test_mobile_is_unique_too(aws: None) -> None:
    assert sign_up("a@example.com", mobile="+31 6 12345678").status == 201
    answer = sign_up("b@example.com", mobile="+31612345678")
    assert answer.status == 409
    assert "mobile" in answer.message


def test_a_failed_sign_up_leaves_the_email_free(aws: None) -> None:
    assert sign_up("a@example.com", mobile="+31612345678").status == 201
    assert sign_up("b@example.com", mobile="+31612345678").status == 409
    assert sign_up("b@example.com").status == 201


def test_bad_input_is_400_in_jexia_format(aws: None) -> None:
    cases = [
        ({"email": "not-an-email", "password": PASSWORD}, "valid email"),
        ({"password": PASSWORD}, "'email' is required"),
        ({"email": "a@b.co"}, "'password' is required"),
        ({"email": "a@b.co", "password": "short"}, "at least 8"),
        ({"email": "a@b.co", "password": "password123"}, "too common"),
        ({"email": "a@b.co", "password": PASSWORD, "id": "mine"}, "'id' is reserved"),
        ({"email": "a@b.co", "password": PASSWORD, "_role": "admin"}, "'_role' is reserved"),
        ({"email": "a@b.co", "password": PASSWORD, "n": 1e300}, "finite number"),
    ]
    for body, reason in cases:
        answer = call("SignUpFunction", body)
        assert answer.status == 400, body
        assert reason in answer.message
        assert len(answer.body[0]["request_id"]) == 36


def test_malformed_json_and_non_objects_are_400(aws: None) -> None:
    assert call("SignUpFunction", raw_body=b"{nope").status == 400
    assert call("SignUpFunction", raw_body=b"[]").status == 400
    assert call("SignUpFunction", raw_body=b"").status == 400
    assert call("SignUpFunction", raw_body=b'{"email": "\xff"}').status == 400


def test_body_over_64_kib_is_413(aws: None) -> None:
    answer = call("SignUpFunction", {"email": "a@b.co", "password": PASSWORD, "bio": "x" * 70_000})
    assert answer.status == 413


def test_body_sent_as_text_plain_works(aws: None) -> None:
    answer = call(
        "SignUpFunction",
        {"email": "a@b.co", "password": PASSWORD, "age": 3},
        headers={"content-type": "text/plain;charset=UTF-8"},
    )
    assert answer.status == 201


def test_trailing_slash_reaches_the_same_handler(aws: None) -> None:
    answer = call("SignUpFunction", {"email": "a@b.co", "password": PASSWORD}, path="/ums/signup/")
    assert answer.status == 201


DEEP = b"[" * 20000 + b"]" * 20000


def test_deeply_nested_json_is_400(aws: None) -> None:
    answer = call("SignUpFunction", raw_body=DEEP)
    assert answer.status == 400 and "deeper than 32 levels" in answer.message
    nested_field = {"email": "a@b.co", "password": PASSWORD, "x": json.loads("[" * 31 + "]" * 31)}
    assert call("SignUpFunction", nested_field).status == 400  # a field nested deeper than a profile may be


@pytest.mark.parametrize("function", HTTP_FUNCTIONS)
def test_deeply_nested_json_is_never_a_5xx_on_any_route(aws: None, function: str) -> None:
    assert call(function, raw_body=DEEP).status < 500


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "\ud800@example.com", "password": PASSWORD}, "'email'"),
        ({"email": "a@example.com", "password": PASSWORD + "\udfff"}, "'password'"),
        ({"email": "a@example.com", "password": PASSWORD, "bio": "\ud800"}, "'bio'"),
        ({"email": "a@example.com", "password": PASSWORD, "tags": ["ok", "\udc00"]}, "'tags[1]'"),
        ({"email": "a@example.com", "password": PASSWORD, "\ud800": 1}, "'\\ud800'"),
    ],
)
def test_unpaired_surrogates_are_400_naming_the_field(aws: None, body: dict[str, Any], field: str) -> None:
    answer = call("SignUpFunction", body)  # json.dumps writes them as \ud800 escapes
    assert answer.status == 400 and field in answer.message and "not valid Unicode" in answer.message


def test_emails_are_one_account_after_nfkc_and_case_folding(aws: None) -> None:
    assert sign_up("stra\u00dfe@example.com").status == 201
    assert sign_up("STRASSE@example.com").status == 409
    full_width = sign_up("\uff21\uff2e\uff2e@example.com")  # full-width ANN
    assert full_width.status == 201 and full_width.body["email"] == "ANN@example.com"  # stored NFKC, as typed
    assert sign_up("ann@EXAMPLE.com").status == 409
    assert sign_in("Ann@example.com").status == 200 and sign_in("STRASSE@EXAMPLE.COM").status == 200
