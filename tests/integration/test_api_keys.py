"""API keys: created once with their secret, sign in with method apk, refresh, revoke by delete."""

import jwt
from helpers import call, manage


def test_a_key_shows_its_secret_once_and_stores_only_a_hash(aws: None) -> None:
    created = manage("keys", {"description": "backend"})
    assert created.status == 201 and {"key", "secret", "description"} <= set(created.body)
    listed = manage("keys", method="GET")
    assert [k["key"] for k in listed.body] == [created.body["key"]]
    assert created.body["secret"] not in str(listed.body) and "secret_hash" not in str(listed.body)
    from ums.store.models import ConfigModel

    assert created.body["secret"] not in str(ConfigModel.get("apikey", created.body["key"]).serialize())


def test_sign_in_with_an_api_key_like_the_js_sdk_init(aws: None) -> None:
    key = manage("keys", {"description": "sdk"}).body
    answer = call("SignInFunction", {"method": "apk", "key": key["key"], "secret": key["secret"]})
    assert answer.status == 200
    claims = jwt.decode(answer.body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == f"apk:{key['key']}" and claims["exp"] - claims["iat"] == 7200
    refreshed = call("RefreshTokenFunction", {"refresh_token": answer.body["refresh_token"]})
    assert refreshed.status == 200
    retry = call("RefreshTokenFunction", {"refresh_token": answer.body["refresh_token"]})  # within the grace window
    assert retry.body["refresh_token"] == refreshed.body["refresh_token"]
    assert call("RefreshTokenFunction", {"refresh_token": refreshed.body["refresh_token"]}).status == 200
    assert call("RefreshTokenFunction", {"refresh_token": answer.body["refresh_token"]}).status == 401  # reuse


def test_wrong_secret_unknown_key_and_missing_fields(aws: None) -> None:
    key = manage("keys", {}).body
    assert call("SignInFunction", {"method": "apk", "key": key["key"], "secret": "wrong"}).status == 401
    assert call("SignInFunction", {"method": "apk", "key": "nope", "secret": key["secret"]}).status == 401
    assert call("SignInFunction", {"method": "apk", "key": key["key"]}).status == 400


def test_an_api_key_token_is_not_a_user(aws: None) -> None:
    key = manage("keys", {}).body
    tokens = call("SignInFunction", {"method": "apk", "key": key["key"], "secret": key["secret"]}).body
    assert call("GetUserFunction", token=tokens["access_token"]).status == 401


def test_deleting_a_key_revokes_its_tokens(aws: None) -> None:
    key = manage("keys", {}).body
    tokens = call("SignInFunction", {"method": "apk", "key": key["key"], "secret": key["secret"]}).body
    assert manage(f"keys/{key['key']}", method="DELETE").status == 200
    assert call("RefreshTokenFunction", {"refresh_token": tokens["refresh_token"]}).status == 401
    assert call("UsersSelectFunction", token=tokens["access_token"]).status == 401


def test_key_ids_never_look_like_command_line_options(aws: None) -> None:
    """Old ids were base64url and could start with '-' (`ums keys get -x...` read it as an option)."""
    import re

    for _ in range(20):
        key = manage("keys", {}).body["key"]
        assert re.fullmatch(r"[0-9a-f]{24}", key), key


def test_a_key_made_before_hex_ids_keeps_working(aws: None) -> None:
    from ums.crypto import sha256_hex
    from ums.store import config as config_store
    from ums.store.records import API_KEYS, ApiKeyData

    old: ApiKeyData = {"description": "old", "secret_hash": sha256_hex("s3cret")}
    config_store.put(API_KEYS, "-old_Key-1", old, create=True)
    assert manage("keys/-old_Key-1", method="GET").body["key"] == "-old_Key-1"
    assert call("SignInFunction", {"method": "apk", "key": "-old_Key-1", "secret": "s3cret"}).status == 200
