"""The fuzz of tests/integration/test_fuzz.py over HTTP against the local stack: the same hostile
classes (tests/fuzz_strategies.py) as bytes on the wire, through the local gateway. Never a 5xx;
every 4xx is Jexia's error array.

Bounded (the stack is shared with the other end-to-end tests): the deep-nesting and surrogate
classes on every route as explicit cases, plus `UMS_FUZZ_LOCAL_EXAMPLES` generated requests
(default 200). Conditions on /ums/users are and-ed with the fuzz user's id and its policy names
only its own subjects, so no other test's users or rights are touched.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fuzz_strategies as fs
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("UMS_FUZZ_LOCAL_EXAMPLES") or 200)
OVER_HTTP_CLASSES = ("deep nesting", "surrogates")
MUTATING = {"LogoutFunction", "RevokeTokenFunction", "DeleteUserFunction", "ChangePasswordFunction",
            "UsersUpdateFunction", "UsersDeleteFunction", "RefreshTokenFunction", "CustomerResetApplyFunction",
            "ApplyResetFunction"}  # fmt: skip


class World:
    """The fuzz user, an API key and its token, a policy for those two subjects only."""

    def __init__(self, base_url: str, server_key: str, log: Path | None) -> None:
        self.base_url, self.log = base_url, log
        self.log_offset = log.stat().st_size if log else 0
        key, secret = server_key.split(":", 1)
        self.creds = fs.Credentials(key=key, secret=secret)
        self.creds.apk_token = self.post("/auth", {"method": "apk", "key": key, "secret": secret})["access_token"]
        self.creds.integration_id = self.post("/management/integrations", fs.MANAGEMENT["integrations"])["id"]
        for kind in ("templates", "applications", "oauth-providers"):
            requests.post(f"{base_url}/management/{kind}", json=fs.MANAGEMENT[kind], timeout=10)  # 409 on a rerun
        self.new_user()
        self.creds.policy_id = self.post("/management/policies", self.policy())["id"]

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = requests.post(f"{self.base_url}{path}", json=body, timeout=15)
        assert answer.status_code in (200, 201), (path, answer.text)
        created: dict[str, Any] = answer.json()
        return created

    def policy(self) -> dict[str, Any]:
        subjects = [f"ums:{self.creds.user_id}", f"apk:{self.creds.key}"]
        actions: dict[str, list[str]] = {"create": [], "read": [], "update": [], "delete": []}
        return {"subjects": subjects, "resources": ["ums.users"], "actions": actions}

    def new_user(self) -> None:
        email = f"fuzz-{uuid.uuid4().hex[:12]}@example.com"
        user = self.post("/ums/signup", {"email": email, "password": fs.PASSWORD, "lst": ["a", "b"], "age": 30})
        tokens = self.post("/auth", {"method": "ums", "email": email, "password": fs.PASSWORD})
        self.creds.user_id, self.creds.email = user["id"], email
        self.creds.access_token, self.creds.refresh_token = tokens["access_token"], tokens["refresh_token"]
        if self.creds.policy_id:
            url = f"{self.base_url}/management/policies/{self.creds.policy_id}"
            requests.put(url, json=self.policy(), timeout=10).raise_for_status()

    def ensure(self) -> None:
        headers = {"authorization": f"Bearer {self.creds.access_token}"}
        if requests.get(f"{self.base_url}/ums/user", headers=headers, timeout=10).status_code != 200:
            self.new_user()

    def send(self, probe: fs.Probe) -> str | None:
        """Sends `probe` over HTTP; what is wrong with the answer, or None."""
        creds = self.creds
        query = fs.query_of(probe, creds, scope=True)
        url = f"{self.base_url}{fs.path_of(probe, creds, encode=True)}" + (f"?{query}" if query else "")
        answer = requests.request(
            probe.route.method, url, data=creds.fill_bytes(probe.body), headers=fs.headers_of(probe, creds), timeout=60
        )
        fs.STATS["http requests"] += 1
        if probe.route.function == "RefreshTokenFunction" and answer.status_code == 200:
            creds.refresh_token, creds.access_token = answer.json()["refresh_token"], answer.json()["access_token"]
        if fs.rotated_keys(probe, answer.status_code, _json(answer)):  # an immediate one signed everybody out
            fs.STATS["http rotations"] += 1
            auth = {"method": "apk", "key": creds.key, "secret": creds.secret}
            creds.apk_token = self.post("/auth", auth)["access_token"]
            self.ensure()
        elif probe.route.function in MUTATING:
            self.ensure()
        found = fs.problem(answer.status_code, answer.text, probe.route)
        if found and answer.status_code >= 500:
            fs.STATS["http 5xx"] += 1
            found += f"\n  logged: {self.last_error()}"
        return f"{probe.describe()}\n  {found}" if found else None

    def last_error(self) -> str:
        """The last exception the local stack logged since the previous call (its output file)."""
        if self.log is None or not self.log.exists():
            return "(no local stack log found)"
        with self.log.open(encoding="utf-8", errors="replace") as f:
            f.seek(self.log_offset)
            lines = f.read().splitlines()
            self.log_offset = f.tell()
        for line in reversed(lines):
            try:
                record = json.loads(line)
            except ValueError:
                if "raised" in line or "Error" in line:
                    return line[:300]
                continue
            if isinstance(record, dict) and record.get("exception"):
                last = str(record["exception"]).strip().splitlines()[-3:]
                return f"{record.get('function_name', '?')}: {' | '.join(s.strip() for s in last)[:400]}"
        return "(nothing logged)"


def _json(answer: requests.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


@pytest.fixture(scope="module")
def world(base_url: str, server_key: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    logs = sorted(tmp_path_factory.getbasetemp().glob("local-stack*/output.log"))
    world = World(base_url, server_key, logs[-1] if logs else None)
    yield world
    # Automations the fuzz made would mail other tests' users on their reset events.
    for automation in requests.get(f"{base_url}/management/automations", timeout=10).json():
        if automation.get("integration_id") == world.creds.integration_id:
            requests.delete(f"{base_url}/management/automations/{automation['id']}", timeout=10)


@pytest.fixture(scope="module", autouse=True)
def report(request: pytest.FixtureRequest) -> Iterator[None]:
    start = fs.STATS.copy()
    yield
    sent, failed = fs.STATS["http requests"] - start["http requests"], fs.STATS["http 5xx"] - start["http 5xx"]
    rotations = fs.STATS["http rotations"] - start["http rotations"]
    line = f"fuzz (local stack over HTTP): {sent} requests, {failed} answered 5xx, {rotations} signing-key rotations"
    fs.print_summary(request, line)


@pytest.mark.parametrize("route", fs.ROUTES, ids=str)
def test_deep_nesting_and_bad_unicode_bytes_are_never_a_5xx_over_http(world: World, route: fs.Route) -> None:
    """Finding 2 and 3 as bytes on the wire: 20,000 brackets, invalid UTF-8, CESU surrogates,
    `\\ud800` escapes in values, keys, query and path, on every route."""
    cases = [p for kind in OVER_HTTP_CLASSES for p in fs.explicit_cases(route, kind, over_http=True)]
    failures = [found for probe in cases if (found := world.send(probe))]
    assert not failures, f"{len(failures)} of {len(cases)} requests failed:\n" + "\n".join(failures)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_generated_requests_are_never_a_5xx_over_http(world: World, data: st.DataObject) -> None:
    route = data.draw(st.sampled_from(fs.ROUTES), label="route")
    probe = data.draw(fs.probes(route, over_http=True), label="request")
    found = world.send(probe)
    assert found is None, found
