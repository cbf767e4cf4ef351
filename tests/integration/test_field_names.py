"""Client field names (sign-up extras, PATCH /ums/users) follow one grammar and are written by
name: a name is never read as a DynamoDB document path."""

import json
from typing import Any
from urllib.parse import quote

import pytest
from helpers import Answer, call, manage, sign_in, sign_up
from ums.store.models import UserModel

ODD_NAMES = ["lst[0]", "c[0]", "[", "a]b", "", "a.b", "password_hash", "token_generation", "x" * 65, "a\x00b"]


def patch(token: str, user_id: str, body: dict[str, Any]) -> Answer:
    cond = quote(json.dumps([{"field": "id"}, "=", user_id]))
    return call("UsersUpdateFunction", body, token=token, query=f"cond={cond}")


@pytest.fixture
def admin(aws: None) -> dict[str, Any]:
    """ann, with a list field and a policy that lets her update every user."""
    record = sign_up(lst=["a", "b"], c={"d": 1}).body
    policy = {"subjects": ["ums:<.*>"], "resources": ["ums.users"], "actions": {"read": [], "update": []}}
    assert manage("policies", policy).status == 201
    return {**record, "token": sign_in().body["access_token"]}


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_names_are_400_at_sign_up_and_nothing_is_stored(aws: None, name: str) -> None:
    odd: dict[str, Any] = {name: 1}
    answer = sign_up(**odd)
    assert answer.status == 400 and "Field" in answer.message
    assert list(UserModel.scan()) == []


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_names_are_400_on_patch_and_change_nothing(admin: dict[str, Any], name: str) -> None:
    answer = patch(admin["token"], admin["id"], {name: "x"})
    assert answer.status == 400 and "Field" in answer.message
    me = call("GetUserFunction", token=admin["token"]).body
    assert me["lst"] == ["a", "b"] and me["c"] == {"d": 1} and me["updated_at"] == admin["updated_at"]


def test_patch_writes_a_field_by_its_name(admin: dict[str, Any]) -> None:
    answer = patch(admin["token"], admin["id"], {"first name": "Ann", "bio:short": "hi", "lst": ["z"]})
    assert answer.status == 200
    me = call("GetUserFunction", token=admin["token"]).body
    assert me["first name"] == "Ann" and me["bio:short"] == "hi" and me["lst"] == ["z"]
    assert patch(admin["token"], admin["id"], {"first name": None}).status == 200
    assert "first name" not in call("GetUserFunction", token=admin["token"]).body


def test_nested_keys_are_stored_literally_and_the_user_still_works(aws: None) -> None:
    odd = {"a.b": 1, "c[0]": 2, "[": {"]": 3}}
    assert sign_up(address=odd).status == 201
    signed_in = sign_in()
    assert signed_in.status == 200
    assert call("GetUserFunction", token=signed_in.body["access_token"]).body["address"] == odd
    assert sign_up("bob@example.com", address={"": 1}).status == 400
