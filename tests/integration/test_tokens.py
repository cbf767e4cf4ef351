"""Forged, tampered and expired access tokens are 401 on every route that takes one."""

import json
import time

import boto3
import jwt
import pytest
from helpers import STACK, call
from ums.config import settings


def signing_key() -> str:
    client = boto3.client("secretsmanager", region_name=STACK.region)
    return json.loads(client.get_secret_value(SecretId=settings().jwt_secret_name)["SecretString"])["current"]


def forge(user: dict, key: str, algorithm: str = "HS256", **changes) -> str:
    claims = jwt.decode(user["access_token"], options={"verify_signature": False})
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=algorithm)


def alg_none(user: dict) -> str:
    _header, payload, _ = user["access_token"].split(".")
    import base64

    none = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    return f"{none}.{payload}."


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(alg_none, id="alg-none"),
        pytest.param(lambda u: forge(u, "not-the-signing-key-but-long-enough-1234"), id="wrong-key"),
        pytest.param(lambda u: forge(u, signing_key(), aud="another-project"), id="wrong-aud"),
        pytest.param(lambda u: forge(u, signing_key(), iss="urn:ums:evil"), id="wrong-iss"),
        pytest.param(lambda u: forge(u, signing_key(), exp=int(time.time()) - 10), id="expired"),
        pytest.param(lambda u: forge(u, signing_key(), token_use="refresh"), id="wrong-type"),
        pytest.param(lambda u: forge(u, signing_key(), sid=None), id="no-sid"),
        pytest.param(lambda u: forge(u, signing_key(), sub="apk:key"), id="api-key-subject"),
        pytest.param(lambda u: u["access_token"][:-3] + "AAA", id="tampered-signature"),
        pytest.param(lambda u: u["refresh_token"], id="refresh-token-as-access-token"),
        pytest.param(lambda u: "garbage", id="garbage"),
    ],
)
def test_forged_tokens_are_401(user, make):
    token = make(user)
    assert call("GetUserFunction", token=token).status == 401
    assert call("ChangePasswordFunction", {"old_password": "x", "new_password": "y"}, token=token).status == 401
    assert call("DeleteUserFunction", {"password": "x"}, token=token).status == 401


def test_a_genuine_token_is_accepted(user):
    assert call("GetUserFunction", token=forge(user, signing_key())).status == 200


def test_previous_key_still_verifies_after_rotation(user):
    from aws_lambda_powertools.utilities import parameters

    old_key = signing_key()
    client = boto3.client("secretsmanager", region_name=STACK.region)
    client.put_secret_value(
        SecretId=settings().jwt_secret_name,
        SecretString=json.dumps(
            {"current": "a-brand-new-signing-key-of-enough-length-0123456789", "previous": old_key}
        ),
    )
    parameters.clear_caches()
    assert call("GetUserFunction", token=user["access_token"]).status == 200
    new_token = call(
        "SignInFunction", {"method": "ums", "email": user["email"], "password": "correct horse battery staple"}
    )
    claims_header = jwt.get_unverified_header(new_token.body["access_token"])
    assert claims_header["alg"] == "HS256"
    jwt.decode(
        new_token.body["access_token"],
        "a-brand-new-signing-key-of-enough-length-0123456789",
        algorithms=["HS256"],
        audience="ums",
    )
