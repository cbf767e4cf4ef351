"""The local stack's JWT authorizers and conditions, read from template.yaml, and the snippet for
another stack in docs/tokens.md (the SAM transform and cfn-lint accept it)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from local_stack.authorizers import Authorized, KeySets, Refusal, authorize
from local_stack.template import ROOT, JwtAuthorizer, RouteAuth, Stack

ISSUER = "http://127.0.0.1:3000"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
AUTHORIZER = JwtAuthorizer(issuer=ISSUER, audiences=("ums", "other"))


class FixedKeys(KeySets):
    """The key set `{"k1": KEY}`, without a discovery document."""

    def _read(self, issuer: str, fresh: bool) -> dict[str, Any]:
        assert issuer == ISSUER
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
        return {"k1": {**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}}


class In:
    """A time `seconds` from when the token is made (parameters are made at collection time)."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds


def token(headers: dict[str, Any] | None = None, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": "ums", "sub": "ums:u1", "iat": now, "nbf": now, "exp": now + 60, **claims}
    body = {name: now + v.seconds if isinstance(v, In) else v for name, v in body.items() if v is not None}
    header = {name: value for name, value in {"kid": "k1", **(headers or {})}.items() if value is not None}
    return jwt.encode(body, KEY, algorithm="RS256", headers=header)


def check(value: str, scopes: tuple[str, ...] = ()) -> Authorized | Refusal:
    return authorize(AUTHORIZER, scopes, {"authorization": value}, FixedKeys())


def test_a_valid_token_passes_with_its_claims_as_strings() -> None:
    verdict = check(f"Bearer {token(scope='ums:user', gen=3, groups=['a', 'b'], active=True)}")
    assert isinstance(verdict, Authorized)
    claims = verdict.claims
    assert claims["sub"] == "ums:u1" and claims["gen"] == "3" and claims["iat"].isdigit()
    assert claims["groups"] == "[a b]" and claims["active"] == "true"
    assert verdict.context()["jwt"]["scopes"] is None  # the route named no scopes


@pytest.mark.parametrize(
    ("claims", "passes"),
    [
        ({"aud": "other"}, True),  # any of the audiences
        ({"aud": ["x", "ums"]}, True),
        ({"aud": "nope"}, False),
        ({"aud": None, "client_id": "ums"}, True),  # client_id only when there is no aud
        ({"aud": "nope", "client_id": "ums"}, False),
        ({"aud": None}, False),
        ({"iss": ISSUER + "/"}, False),
        ({"exp": None}, False),
        ({"exp": In(-1)}, False),
        ({"nbf": In(60)}, False),
        ({"iat": In(60)}, False),
    ],
)
def test_the_claims_api_gateway_checks(claims: dict[str, Any], passes: bool) -> None:
    assert isinstance(check(token(**claims)), Authorized) is passes


def test_scopes_a_route_requires_answer_403_when_missing() -> None:
    assert isinstance(check(token(scope="ums:user other"), ("ums:user",)), Authorized)
    assert isinstance(check(token(scp=["ums:user"]), ("ums:user",)), Authorized)
    verdict = check(token(scope="ums:apk"), ("ums:user",))
    assert isinstance(verdict, Refusal) and verdict.status == 403 and verdict.body == {"message": "Forbidden"}
    assert 'error="insufficient_scope"' in verdict.www_authenticate
    granted = check(token(scope="ums:user"), ("ums:user",))
    assert isinstance(granted, Authorized) and granted.scopes == ["ums:user"]


@pytest.mark.parametrize(
    "value",
    ["", "Bearer", "Bearer not.a.jwt", token({"kid": "k2"}), token({"kid": None}), jwt.encode({}, "s" * 32, "HS256")],
)
def test_no_token_a_malformed_one_or_an_unknown_kid_is_401(value: str) -> None:
    verdict = check(value)
    assert isinstance(verdict, Refusal) and verdict.status == 401 and verdict.body == {"message": "Unauthorized"}


def test_a_resource_whose_condition_is_false_is_not_in_the_stack() -> None:
    without = Stack()
    assert "HelloFunction" not in without.resources and "ExampleHttpApi" not in without.resources
    assert "HelloFunction" not in {spec.logical_id for spec in without.functions()}
    with_example = Stack({"ExampleApi": "true"})
    [hello] = [spec for spec in with_example.functions() if spec.logical_id == "HelloFunction"]
    [route] = hello.routes
    assert (route.method, route.path) == ("GET", "/hello")
    assert route.auth == RouteAuth("ExampleHttpApi", "UmsJwtAuthorizer", ("ums:user",))
    # The main API's routes name no JWT authorizer (the management routes are AWS_IAM).
    others = [r for spec in with_example.functions() if spec.logical_id != "HelloFunction" for r in spec.routes]
    assert others and all(r.auth is None for r in others)


def test_the_authorizer_resolves_its_issuer_from_the_custom_resource() -> None:
    stack = Stack({"ExampleApi": "true", "ProjectId": "acme"})
    stack.attributes["SigningKey"] = {"Issuer": ISSUER}  # what the local stack's custom resource answers
    found = stack.jwt_authorizer(RouteAuth("ExampleHttpApi", "UmsJwtAuthorizer", ("ums:user",)))
    assert found == JwtAuthorizer(ISSUER, ("acme",), "$request.header.Authorization")


def test_the_snippet_for_another_stack_translates_and_lints() -> None:
    from cfnlint.api import ManualArgs, lint
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse
    from test_template_translates import REGION

    from local_stack.template import NoManagedPolicies

    text = (ROOT / "docs" / "tokens.md").read_text()
    [snippet] = re.findall(r"```yaml\n(# Your stack.*?)```", text, re.S)
    template: dict[str, Any] = {"Transform": "AWS::Serverless-2016-10-31", **yaml_parse(snippet)}
    template["Resources"]["HelloFunction"]["Properties"]["CodeUri"] = "s3://bucket/hello"
    translated = transform(template, {"AWS::Region": REGION}, NoManagedPolicies())
    api = translated["Resources"]["MyApi"]["Properties"]["Body"]
    authorizer = api["components"]["securitySchemes"]["UmsJwtAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert authorizer["jwtConfiguration"]["issuer"] == {"Fn::ImportValue": {"Fn::Sub": "${UmsStack}-Issuer"}}
    assert api["paths"]["/hello"]["get"]["security"] == [{"UmsJwtAuthorizer": ["ums:user"]}]
    matches = lint(json.dumps(translated), config=ManualArgs(regions=[REGION]))
    assert [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")] == []
