"""Access tokens are RS256 with a `kid`: forged, tampered and expired ones are 401 on every route
that takes one; the discovery document and JWKS verify genuine ones; rotation signs nobody out."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from helpers import call, sign_in
from ums import signing_keys

Forger = Callable[[dict[str, Any]], str]


def current_key() -> tuple[str, rsa.RSAPrivateKey]:
    kid, key, _issuer = signing_keys.signing_key(time.time())
    return kid, key


def forge(user: dict[str, Any], key: Any = None, *, kid: str | None = "", **changes: Any) -> str:
    """The user's token with `changes` (None removes a claim), signed with `key` (the stack's own
    by default) under `kid` ("" keeps the stack's, None leaves it out)."""
    own_kid, own_key = current_key()
    claims = jwt.decode(user["access_token"], options={"verify_signature": False})
    claims = {k: v for k, v in {**claims, **changes}.items() if v is not None}
    headers = {} if kid is None else {"kid": kid or own_kid}
    token = jwt.encode(claims, key or own_key, algorithm="RS256", headers=headers)
    if kid is None:  # PyJWT always writes the header it is given: rebuild it without a kid
        header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
        token = ".".join([header, *token.split(".")[1:]])
        token = _resign(token, key or own_key)
    return token


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _resign(token: str, key: rsa.RSAPrivateKey) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    header, payload, _ = token.split(".")
    signature = key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64(signature)}"


def hs256_with_the_public_key(user: dict[str, Any]) -> str:
    """Algorithm confusion: HMAC keyed with the published public key, which anyone has."""
    kid, key = current_key()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = user["access_token"].split(".")[1]
    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(mac)}"


def alg_none(user: dict[str, Any]) -> str:
    kid, _ = current_key()
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    return f"{header}.{user['access_token'].split('.')[1]}."


def another_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


FORGERIES: list[Any] = [
    pytest.param(alg_none, id="alg-none"),
    pytest.param(hs256_with_the_public_key, id="hs256-with-the-public-key"),
    pytest.param(lambda u: forge(u, another_key()), id="a-key-not-in-the-set-under-a-known-kid"),
    pytest.param(lambda u: forge(u, kid="not-a-kid-of-this-stack"), id="unknown-kid"),
    pytest.param(lambda u: forge(u, kid=None), id="no-kid"),
    pytest.param(lambda u: forge(u, aud="another-project"), id="wrong-aud"),
    pytest.param(lambda u: forge(u, iss="https://evil.example.com"), id="wrong-iss"),
    pytest.param(lambda u: forge(u, exp=int(time.time()) - 10), id="expired"),
    pytest.param(lambda u: forge(u, nbf=int(time.time()) + 600), id="not-yet-valid"),
    pytest.param(lambda u: forge(u, nbf=None), id="no-nbf"),
    pytest.param(lambda u: forge(u, token_use="refresh"), id="wrong-type"),
    pytest.param(lambda u: forge(u, sid=None), id="no-sid"),
    pytest.param(lambda u: forge(u, sub="apk:key"), id="api-key-subject"),
    pytest.param(lambda u: u["access_token"][:-3] + "AAA", id="tampered-signature"),
    pytest.param(lambda u: u["refresh_token"], id="refresh-token-as-access-token"),
    pytest.param(lambda u: "garbage", id="garbage"),
    pytest.param(lambda u: "a.b.c", id="three-garbage-parts"),
    # The header is read alone to pick the key: whatever it holds, the answer is a 401.
    pytest.param(lambda u: _b64(b"[1, 2]") + "." + u["access_token"].partition(".")[2], id="header-not-an-object"),
    pytest.param(lambda u: _b64(b"{not json") + "." + u["access_token"].partition(".")[2], id="header-not-json"),
    pytest.param(lambda u: "\u00e9t\u00e9." + u["access_token"].partition(".")[2], id="header-not-ascii"),
    pytest.param(lambda u: "!!!!." + u["access_token"].partition(".")[2], id="header-not-base64"),
    pytest.param(lambda u: u["access_token"].partition(".")[0] + "==.x.y", id="a-real-header-and-garbage"),
    pytest.param(lambda u: ".".join([u["access_token"].partition(".")[0]] * 4), id="four-parts"),
]


@pytest.mark.parametrize("make", FORGERIES)
def test_forged_tokens_are_401(user: dict[str, Any], make: Forger) -> None:
    token = make(user)
    assert call("GetUserFunction", token=token).status == 401
    assert call("ChangePasswordFunction", {"old_password": "x", "new_password": "y"}, token=token).status == 401
    assert call("DeleteUserFunction", {"password": "x"}, token=token).status == 401


def test_a_token_is_rs256_with_the_kid_of_the_signing_key_and_verifies_from_the_jwks(user: dict[str, Any]) -> None:
    header = jwt.get_unverified_header(user["access_token"])
    kid, _ = current_key()
    assert header == {"alg": "RS256", "typ": "JWT", "kid": kid}
    discovery = call("WellKnownFunction", path="/.well-known/openid-configuration")
    keys = call("WellKnownFunction", path="/.well-known/jwks.json")
    assert discovery.status == keys.status == 200
    assert "max-age=3600" in keys.headers["Cache-Control"]
    issuer = discovery.body["issuer"]
    assert discovery.body["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert discovery.body["id_token_signing_alg_values_supported"] == ["RS256"]
    [jwk] = keys.body["keys"]
    assert set(jwk) == {"kty", "use", "alg", "kid", "n", "e"}  # the public half only
    public_key = jwt.PyJWK(jwk).key
    claims = jwt.decode(user["access_token"], public_key, algorithms=["RS256"], audience="ums", issuer=issuer)
    assert claims["scope"] == "ums:user" and claims["nbf"] == claims["iat"]


def test_a_genuine_token_resigned_with_the_stack_key_is_accepted(user: dict[str, Any]) -> None:
    assert call("GetUserFunction", token=forge(user)).status == 200


def age_keys(seconds: int) -> None:
    """As if the stack's keys had been made `seconds` earlier (rotations below happen in the past)."""
    keys = signing_keys.key_set(fresh=True)
    aged = [{**k, "created_at": k["created_at"] - seconds, "signs_from": k["signs_from"] - seconds} for k in keys.keys]
    signing_keys.save(signing_keys.KeySet(keys.issuer, aged))  # type: ignore[arg-type]


def test_a_rotation_publishes_the_new_key_before_it_signs(user: dict[str, Any]) -> None:
    old_kid, _ = current_key()
    summary = signing_keys.rotate()
    assert [k["current"] for k in summary["keys"]] == [True, False]
    new_kid = summary["keys"][1]["kid"]
    keys = call("WellKnownFunction", path="/.well-known/jwks.json").body["keys"]
    assert [k["kid"] for k in keys] == [new_kid, old_kid]  # every gateway cache gets it first
    assert jwt.get_unverified_header(sign_in(user["email"]).body["access_token"])["kid"] == old_kid


def test_a_rotation_keeps_tokens_in_flight_valid_and_new_tokens_use_the_new_kid(user: dict[str, Any]) -> None:
    old_kid, _ = current_key()
    age_keys(10 * 3600)
    signing_keys.rotate(now=int(time.time()) - signing_keys.PUBLISH_LEAD_SECONDS - 1)  # its lead time is over
    assert call("GetUserFunction", token=user["access_token"]).status == 200  # in flight: still valid
    newer = sign_in(user["email"]).body["access_token"]
    assert jwt.get_unverified_header(newer)["kid"] not in (old_kid, None)
    assert call("GetUserFunction", token=newer).status == 200


def test_after_the_grace_period_the_old_key_no_longer_verifies(user: dict[str, Any]) -> None:
    assert signing_keys.grace_seconds() >= 7200 + 2 * 3600  # token lifetime + the gateways' 2 h cache
    ago = signing_keys.PUBLISH_LEAD_SECONDS + signing_keys.grace_seconds() + 1
    age_keys(ago + 3600)
    signing_keys.rotate(now=int(time.time()) - ago)  # rotated longer ago than lead + grace
    assert call("GetUserFunction", token=user["access_token"]).status == 401
    assert len(call("WellKnownFunction", path="/.well-known/jwks.json").body["keys"]) == 1


def test_an_immediate_rotation_revokes_every_token_of_the_old_key(user: dict[str, Any]) -> None:
    summary = signing_keys.rotate(immediate=True)
    assert [k["current"] for k in summary["keys"]] == [True]
    assert call("GetUserFunction", token=user["access_token"]).status == 401
    assert call("GetUserFunction", token=sign_in(user["email"]).body["access_token"]).status == 200


def test_the_key_set_summary_never_holds_a_private_key(user: dict[str, Any]) -> None:
    text = json.dumps(signing_keys.summary(signing_keys.key_set(), time.time()))
    assert "PRIVATE KEY" not in text and "private_key" not in text
    text = json.dumps(call("WellKnownFunction", path="/.well-known/jwks.json").body)
    assert "PRIVATE" not in text and '"d"' not in text and '"p"' not in text
