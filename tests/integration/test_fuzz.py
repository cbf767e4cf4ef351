"""Property-based and example-based: whatever a client sends to whichever route, the answer is
2xx or a 4xx in Jexia's error format, never a 5xx (issue 7, findings 2-4).

The payloads live in tests/fuzz_strategies.py, shared with the run over HTTP. Every route of
template.yaml gets each hostile class (explicit cases, always run) and generated requests
(`UMS_FUZZ_EXAMPLES` per route, default 40; `make fuzz` sets 2000). A 5xx fails with the
request and the handler's traceback; the request count is printed at the end of the module.
"""

from __future__ import annotations

import json
import logging
import os
import traceback
from collections.abc import Iterator
from pathlib import Path

import fuzz_strategies as fs
import pytest
from helpers import FUNCTIONS, HTTP_FUNCTIONS, PASSWORD, STACK, call, manage, reset_aws_clients, sign_in, sign_up
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from local_stack.aws import create_resources

EXAMPLES = int(os.environ.get("UMS_FUZZ_EXAMPLES") or 40)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Routes whose success changes the fuzz user (deleted, deactivated, signed out): checked after each request.
MUTATING = {
    "LogoutFunction",
    "RevokeTokenFunction",
    "DeleteUserFunction",
    "ChangePasswordFunction",
    "UsersUpdateFunction",
    "UsersDeleteFunction",
    "RefreshTokenFunction",
    "ApplyResetFunction",
    "CustomerResetApplyFunction",
}


@pytest.fixture(scope="module", autouse=True)
def report(request: pytest.FixtureRequest) -> Iterator[None]:
    """Prints how many requests the module sent and how many answered 5xx."""
    start = fs.STATS.copy()
    yield
    sent, failed = fs.STATS["requests"] - start["requests"], fs.STATS["5xx"] - start["5xx"]
    rotations = fs.STATS["rotations"] - start["rotations"]
    line = f"fuzz (in process): {sent} requests, {failed} answered 5xx, {rotations} signing-key rotations; "
    line += f"{EXAMPLES} generated per route"
    fs.print_summary(request, line)


class Unhandled(logging.Handler):
    """Keeps the last exception the service logged, for the failure message of a 5xx."""

    def __init__(self) -> None:
        super().__init__()
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            error, frames = record.exc_info[1], traceback.extract_tb(record.exc_info[2])
            ours = [f for f in frames if "/layers/ums/" in f.filename or "/functions/" in f.filename]
            where = [f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in (ours[-2:] or frames[-1:])]
            self.last = f"{type(error).__name__}: {str(error)[:200]} at {' < '.join(reversed(where))}"


class World:
    """The fuzz user (every policy right on /ums/users), an API key and its token, config items."""

    def __init__(self, server_key: str, unhandled: Unhandled) -> None:
        self.unhandled = unhandled
        key, secret = server_key.split(":", 1)
        self.creds = fs.Credentials(key=key, secret=secret)
        manage("policies", {"subjects": ["ums:<.*>", "apk:<.*>"], "resources": ["ums.users"],
                            "actions": {"create": [], "read": [], "update": [], "delete": []}})  # fmt: skip
        self.creds.apk_token = sign_in_apk(key, secret)
        self.creds.integration_id = manage("integrations", fs.MANAGEMENT["integrations"]).body["id"]
        manage("templates", fs.MANAGEMENT["templates"])
        manage("applications", fs.MANAGEMENT["applications"])
        manage("oauth-providers", fs.MANAGEMENT["oauth-providers"])
        self.new_user()

    def new_user(self) -> None:
        """A fresh fuzz user with a session; the same email when it is free again."""
        answer = sign_up(fs.USER_EMAIL, lst=["a", "b"], age=30, first_name="Fuzz")
        email = fs.USER_EMAIL
        if answer.status != 201:
            self.creds.counter[0] += 1
            email = f"fuzz-again-{self.creds.counter[0]}@example.com"
            answer = sign_up(email, lst=["a", "b"], age=30)
        assert answer.status == 201, answer.body
        tokens = sign_in(email, PASSWORD).body
        self.creds.user_id, self.creds.email = answer.body["id"], email
        self.creds.access_token, self.creds.refresh_token = tokens["access_token"], tokens["refresh_token"]

    def ensure(self) -> None:
        if call("GetUserFunction", token=self.creds.access_token).status != 200:
            self.new_user()

    def send(self, probe: fs.Probe) -> str | None:
        """Sends `probe` as API Gateway would; what is wrong with the answer, or None."""
        creds = self.creds
        params = {name: creds.fill(value) for name, value in probe.path_parameters}
        self.unhandled.last = ""
        answer = call(
            probe.route.function,
            raw_body=creds.fill_bytes(probe.body),
            method=probe.route.method,
            path=fs.path_of(probe, creds, encode=False),
            path_parameters=params or None,
            query=fs.query_of(probe, creds),
            headers=fs.headers_of(probe, creds),
        )
        fs.STATS["requests"] += 1
        if probe.route.function == "RefreshTokenFunction" and answer.status == 200:
            creds.refresh_token, creds.access_token = answer.body["refresh_token"], answer.body["access_token"]
        if fs.rotated_keys(probe, answer.status, answer.body):  # an immediate one signed everybody out
            fs.STATS["rotations"] += 1
            self.creds.apk_token = sign_in_apk(self.creds.key, self.creds.secret)
            self.ensure()
        elif probe.route.function in MUTATING:
            self.ensure()
        text = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)  # a page, or JSON
        found = fs.problem(answer.status, text, probe.route)
        if found and answer.status >= 500:
            fs.STATS["5xx"] += 1
            found += f"\n  traceback: {self.unhandled.last.strip() or '(nothing logged)'}"
        return f"{probe.describe()}\n  {found}" if found else None


def sign_in_apk(key: str, secret: str) -> str:
    answer = call("SignInFunction", {"method": "apk", "key": key, "secret": secret})
    assert answer.status == 200, answer.body
    return str(answer.body["access_token"])


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One emulator for the module: what one route stores (an odd field name, say) is what the
    next route reads, as in production; `World.ensure` brings the fuzz user back when a request
    deleted or signed it out."""
    with mock_aws():
        reset_aws_clients()
        create_resources(STACK, FUNCTIONS)
        from ums import api_keys

        created = api_keys.create("fuzz")
        service = logging.getLogger("ums")
        handler, propagate = Unhandled(), service.propagate
        service.addHandler(handler)
        service.propagate = False  # pytest would print every "Request refused" of a failing test
        try:
            yield World(f"{created['key']}:{created['secret']}", handler)
        finally:
            service.removeHandler(handler)
            service.propagate = propagate


def test_every_http_function_of_the_template_is_fuzzed() -> None:
    assert sorted({route.function for route in fs.ROUTES}) == HTTP_FUNCTIONS
    management = {route.method for route in fs.ROUTES if route.function == "ManagementFunction"}
    assert management == {"GET", "POST", "PUT", "PATCH", "DELETE"}


def test_the_discovery_documents_and_the_signing_key_routes_get_every_hostile_class() -> None:
    """The public key routes and the operator's: each payload class reaches each of them (for the
    management ones, on their own path), and one rotation is immediate (the fuzz signs in again)."""
    by_name = {str(route): route for route in fs.ROUTES}
    targets = [
        (by_name["GET /.well-known/openid-configuration"], ""),
        (by_name["GET /.well-known/jwks.json"], ""),
        (by_name["GET /management/{proxy+}"], "signing-keys"),
        (by_name["POST /management/{proxy+}"], "signing-keys/rotate"),
    ]
    for route, path in targets:
        for kind in fs.CLASSES:
            cases = [p for p in fs.explicit_cases(route, kind) if dict(p.path_parameters).get("proxy", "") == path]
            assert cases, (str(route), path, kind)
    rotations = fs.explicit_cases(by_name["POST /management/{proxy+}"], "wrong types")
    assert any(p.body == b'{"immediate":true}' for p in rotations if p.path_parameters == (("proxy", path),))


@pytest.mark.parametrize("route", fs.ROUTES, ids=str)
def test_every_hostile_class_on_each_route_is_never_a_5xx(world: World, route: fs.Route) -> None:
    """Each named payload of findings 2-4 (deep nesting, surrogates, odd field names, huge
    values, wrong types) in every field, as field names, as bodies, in the query and the path."""
    cases = [probe for kind in fs.CLASSES for probe in fs.explicit_cases(route, kind)]
    failures = [found for probe in cases if (found := world.send(probe))]
    assert not failures, f"{len(failures)} of {len(cases)} requests failed:\n" + "\n".join(failures)


@FUZZ
@given(data=st.data())
@pytest.mark.parametrize("route", fs.ROUTES, ids=str)
def test_generated_requests_are_never_a_5xx(world: World, route: fs.Route, data: st.DataObject) -> None:
    probe = data.draw(fs.probes(route), label="request")
    found = world.send(probe)
    assert found is None, found


@pytest.mark.parametrize("name", fs.ODD_NAMES, ids=lambda n: repr(n[:20]))
def test_a_sign_up_with_an_odd_field_name_breaks_nothing_later(world: World, name: str) -> None:
    """Finding 4: a stored odd name once broke that user's sign-in and reset and every scan."""
    email = f"odd-{fs.ODD_NAMES.index(name)}@example.com"
    pw = {"password": PASSWORD}
    signed_up = fs._object({"email": email, **pw}, **{name: 1})
    probes = [
        fs.Probe(fs.Route("SignUpFunction", "POST", "/ums/signup"), signed_up),
        fs.Probe(fs.Route("SignInFunction", "POST", "/auth"), fs._object({"method": "ums", "email": email, **pw})),
        fs.Probe(fs.Route("RequestResetFunction", "POST", "/ums/resetpassword"), fs._object({"email": email})),
        fs.Probe(
            fs.Route("UsersSelectFunction", "GET", "/ums/users"),
            query=(("cond", fs.to_json([{"field": "first_name"}, "like", "%z%"])),),
            auth=(("authorization", "Bearer @ACCESS_TOKEN@"),),
        ),
        fs.Probe(
            fs.Route("UsersUpdateFunction", "PATCH", "/ums/users"),
            fs._object({}, **{name: 2}),
            query=(("cond", fs.to_json([{"field": "email"}, "=", email])),),
            auth=(("authorization", "Bearer @ACCESS_TOKEN@"),),
        ),
    ]
    failures = [found for probe in probes if (found := world.send(probe))]
    assert not failures, "\n".join(failures)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(max_size=300))
def test_garbage_bearer_tokens_are_401_never_5xx(world: World, token: str) -> None:
    answer = call("GetUserFunction", headers={"authorization": f"Bearer {token}"})
    assert answer.status == 401, (token, answer.body)
    assert answer.body[0]["message"] and answer.body[0]["request_id"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.text(max_size=300))
def test_garbage_api_keys_are_401_never_5xx(world: World, key: str) -> None:
    answer = call("QuicksilverResetFunction", {"email": "ann@example.com"}, headers={"x-api-key": key})
    assert answer.status == 401, (key, answer.body)
    assert answer.body[0]["message"] and answer.body[0]["request_id"]
