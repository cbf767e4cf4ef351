"""/management/signing-keys through the real ManagementFunction handler: the key list (ids and
times, never a private key), a rotation published before it signs, an immediate one that signs
out every token of the old key, and bodies that are refused (docs/tokens.md#rotation)."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from helpers import Answer, call, manage, sign_in
from ums import signing_keys

SUMMARY_KEY_FIELDS = {"kid", "created_at", "signs_from", "retire_at", "current"}


def rotate(body: Any = None, raw: bytes | None = None) -> Answer:
    if raw is None:
        return manage("signing-keys/rotate", body)
    path = "/management/signing-keys/rotate"
    return call("ManagementFunction", raw_body=raw, method="POST", path=path, path_parameters={"proxy": path[12:]})


def listed() -> Answer:
    return manage("signing-keys", method="GET")


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def jwks_kids() -> list[str]:
    return [k["kid"] for k in call("WellKnownFunction", path="/.well-known/jwks.json").body["keys"]]


def assert_no_private_key(answer: Answer) -> None:
    text = json.dumps(answer.body)
    assert "PRIVATE KEY" not in text and "private_key" not in text, text[:300]


def test_the_list_names_the_issuer_and_the_key_that_signs(user: dict[str, Any]) -> None:
    answer = listed()
    assert answer.status == 200, answer.body
    assert_no_private_key(answer)
    issuer = call("WellKnownFunction", path="/.well-known/openid-configuration").body["issuer"]
    assert answer.body["issuer"] == issuer and set(answer.body) == {"issuer", "keys"}
    [key] = answer.body["keys"]
    assert set(key) == SUMMARY_KEY_FIELDS
    assert key["kid"] == kid_of(user["access_token"]) and key["current"] is True and key["retire_at"] is None


def test_a_rotation_is_published_before_it_signs(user: dict[str, Any]) -> None:
    old_kid = kid_of(user["access_token"])
    answer = rotate()  # no body: not immediate
    assert answer.status == 200, answer.body
    assert_no_private_key(answer)
    old, new = answer.body["keys"]
    assert (old["kid"], old["current"], new["current"]) == (old_kid, True, False)
    assert new["signs_from"] == new["created_at"] + signing_keys.PUBLISH_LEAD_SECONDS
    assert old["retire_at"] == new["signs_from"] + signing_keys.grace_seconds()
    assert listed().body == answer.body
    assert jwks_kids() == [new["kid"], old_kid]  # every gateway cache gets the new key first
    assert kid_of(sign_in(user["email"]).body["access_token"]) == old_kid  # which does not sign yet
    assert call("GetUserFunction", token=user["access_token"]).status == 200


def test_a_second_rotation_while_one_is_under_way_is_a_409_and_changes_nothing(user: dict[str, Any]) -> None:
    first = rotate({"immediate": False})
    assert first.status == 200, first.body
    again = rotate()
    assert again.status == 409
    pending = first.body["keys"][1]
    assert again.message.startswith(f"A rotation is already under way: key '{pending['kid']}' signs from")
    assert listed().body == first.body and len(jwks_kids()) == 2
    assert rotate({"immediate": True}).status == 200  # a leaked key cannot wait


def test_an_immediate_rotation_signs_out_every_token_of_the_old_keys(user: dict[str, Any]) -> None:
    old_kid = kid_of(user["access_token"])
    assert rotate().status == 200  # a pending key is dropped too
    answer = rotate({"immediate": True})
    assert answer.status == 200, answer.body
    assert_no_private_key(answer)
    [key] = answer.body["keys"]
    assert key["current"] is True and key["kid"] != old_kid and key["signs_from"] == key["created_at"]
    assert jwks_kids() == [key["kid"]]
    assert call("GetUserFunction", token=user["access_token"]).status == 401
    fresh = sign_in(user["email"]).body["access_token"]
    assert kid_of(fresh) == key["kid"] and call("GetUserFunction", token=fresh).status == 200


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(b'{"immediate": "yes"}', "Field 'immediate' must be true or false", id="string"),
        pytest.param(b'{"immediate": 1}', "Field 'immediate' must be true or false", id="number"),
        pytest.param(b'{"immediate": null}', "Field 'immediate' must be true or false", id="null"),
        pytest.param(b'{"immediate": [true]}', "Field 'immediate' must be true or false", id="array"),
        pytest.param(b'{"now": true}', "Unknown field(s): now; allowed: immediate", id="unknown-field"),
        pytest.param(b'{"immediate": true, "kid": "x"}', "Unknown field(s): kid; allowed: immediate", id="extra-field"),
        pytest.param(b"true", "Request body must be a JSON object", id="bare-true"),
        pytest.param(b"[]", "Request body must be a JSON object", id="array-body"),
        pytest.param(b"{immediate}", None, id="not-json"),
        pytest.param(b'{"immediate": "\\ud800"}', None, id="lone-surrogate"),
        pytest.param(b"[" * 20000 + b"]" * 20000, None, id="deep-nesting"),
        pytest.param(b'{"immediate": tr\xffue}', None, id="invalid-utf8"),
    ],
)
def test_a_bad_body_is_a_400_that_names_the_problem_and_rotates_nothing(
    user: dict[str, Any], raw: bytes, message: str | None
) -> None:
    before = listed().body
    answer = rotate(raw=raw)
    assert answer.status == 400, answer.body
    [error] = answer.body
    assert set(error) == {"message", "request_id"} and error["request_id"] == answer.headers["X-Request-Id"]
    if message is not None:
        assert error["message"] == message
    assert listed().body == before
    assert call("GetUserFunction", token=user["access_token"]).status == 200


def test_methods_and_paths_the_routes_do_not_take(aws: None) -> None:
    assert manage("signing-keys", {}, "POST").message == "POST is not supported on /management/signing-keys"
    assert manage("signing-keys", method="DELETE").status == 405
    assert manage("signing-keys/rotate", method="GET").message == (
        "GET is not supported on /management/signing-keys/rotate"
    )
    assert manage("signing-keys/rotate", method="PUT").status == 405
    assert manage("signing-keys/some-kid", method="GET").status == 404
    assert manage("signing-keys/rotate/now", {}, "POST").status == 404
    assert manage("signing-keys/", method="GET").status == 200  # a trailing slash is ignored


def test_no_answer_ever_holds_a_private_key(user: dict[str, Any]) -> None:
    answers = [
        listed(),
        rotate(),
        rotate(),  # the 409
        listed(),
        rotate({"immediate": True}),
        rotate(raw=b'{"immediate": "yes"}'),
        manage("signing-keys/x", method="GET"),
        listed(),
    ]
    assert [a.status for a in answers] == [200, 200, 409, 200, 200, 400, 404, 200]
    for answer in answers:
        assert_no_private_key(answer)
