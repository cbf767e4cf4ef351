"""Hostile requests shared by the in-process fuzz (tests/integration/test_fuzz.py) and the one
over HTTP against the local stack (tests/e2e/test_fuzz_local_stack.py).

The payload classes are those of issue 7 (findings 2-4) and their neighbours: deep nesting,
unpaired surrogates and invalid UTF-8, odd field names, huge values, wrong types. They go into
the body, the query string and the path parameters of every route of template.yaml, with and
without credentials. The rule: never a 5xx, and every 4xx is Jexia's `[{"message", "request_id"}]`.

Values that depend on the run (the fuzz user's id, the API key) are written as placeholders
(`@USER_ID@`, `@KEY@`, ...) and filled in by `fill` just before sending.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from local_stack.template import Stack

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "another fine passphrase"
USER_EMAIL = "fuzz-user@example.com"
CLASSES = ("deep nesting", "surrogates", "odd field names", "huge values", "wrong types")
# Requests sent and 5xx seen by this process, for the summary line each fuzz module prints.
STATS: Counter[str] = Counter()


class Raw(str):
    """JSON text written verbatim (json.dumps cannot write 1e400 or 20,000 brackets)."""


def to_json(value: Any) -> str:
    """JSON text of `value`; strings are ASCII-escaped, so a lone surrogate becomes `\\ud800`."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value)


def nested_arrays(depth: int) -> Raw:
    return Raw("[" * depth + "]" * depth)


def nested_objects(depth: int) -> Raw:
    return Raw('{"a":' * depth + "1" + "}" * depth)


# --- the payload classes -------------------------------------------------------------------
SURROGATES = ("\ud800", "\udfff", "\udc00\ud800", "a\ud800b", "\ud800@example.com", "ann@ex\udfffample.com", "\ud83d")
ODD_NAMES = (
    "lst[0]", "c[0]", "[", "]", "a]b", "", "a.b", ".", "_x", "__class__", "password_hash", "email_key",
    "id", "created_at", "#a", ":a", "a b", " ", "\x00", "\n", "a\x1fb", "\x7f", "\u2028", "\u0085",
    "\ufeff", "\ud800", "n" * 10_000, "é", "\U0001f600",
)  # fmt: skip
HUGE_STRINGS = ("a" * 60_000, "é" * 30_000, "\U0001f600" * 15_000, "a" * 1025, "x" * 300 + "@example.com", "a%" * 1000)
NUMBERS = (
    Raw("1e400"), Raw("-1e400"), Raw("1" + "0" * 400), Raw("-0.0"), Raw("-0"), Raw(str(2**64)),
    Raw(str(-(2**63) - 1)), Raw("1e-400"), Raw("1.7976931348623157e308"), Raw("9" * 5000), Raw("0.1"),
)  # fmt: skip
WRONG_TYPES: tuple[Any, ...] = (None, True, False, 0, -1, 1.5, [], ["a"], {}, {"a": "b"}, [None], {"": ""})
DEEP_VALUES = (nested_arrays(33), nested_objects(33), nested_arrays(1000), nested_objects(200))
# Whole bodies, by class; bytes, as a hostile client sends them.
RAW_BODIES: dict[str, dict[str, bytes]] = {
    "deep nesting": {
        "20000 nested arrays": b"[" * 20000 + b"]" * 20000,
        "20000 unclosed arrays": b"[" * 20000,
        "10000 nested objects": b'{"a":' * 10000 + b"1" + b"}" * 10000,
        "33 nested objects": nested_objects(33).encode(),
        "deep array in email": b'{"email":' + b"[" * 5000 + b"]" * 5000 + b"}",
    },
    "surrogates": {
        "CESU surrogate bytes": b'{"email":"\xed\xa0\x80@example.com","password":"x"}',
        "invalid UTF-8": b'{"email":"\xff"}',
        "overlong UTF-8": b'{"\xc0\xaf":1}',
        "truncated UTF-8": b'{"email":"\xe2\x82"}',
        "surrogate key only": b'{"\\ud800":1}',
        "surrogate string body": b'"\\ud800"',
    },
    "huge values": {
        "body over 64 KiB": b'{"email":"' + b"a" * 70_000 + b'"}',
        "1e400 body": b"1e400",
        "10**400 body": b"1" + b"0" * 400,
    },
    "wrong types": {
        "null": b"null",
        "array": b"[]",
        "number": b"1",
        "string": b'"email"',
        "NaN": b'{"email":NaN}',
        "Infinity": b'{"password":Infinity}',
        "empty": b"",
        "duplicate keys": b'{"email":"a@example.com","email":1}',
        "BOM": b'\xef\xbb\xbf{"email":"a@example.com"}',
    },
}


# --- routes ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    function: str
    method: str
    template: str  # the path as template.yaml writes it, e.g. /ums/resetpassword/{token}

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(re.findall(r"\{(\w+)\+?\}", self.template))

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def http_routes() -> list[Route]:
    """Every (function, method, path) of template.yaml; `ANY` stands for the methods a client sends."""
    routes: list[Route] = []
    for spec in Stack().functions():
        for route in spec.routes:
            methods = ("GET", "POST", "PUT", "PATCH", "DELETE") if route.method == "ANY" else (route.method,)
            routes.extend(Route(spec.logical_id, method, route.path) for method in methods)
    return sorted(routes, key=lambda r: (r.function, r.method))


ROUTES = http_routes()
USERS_QUERY = ("cond", "outputs", "range", "order")
OAUTH_INIT_QUERY = (("action", "sign-up"), ("provider", "fuzz-gh"), ("redirect", "https://example.com/cb"))
# The hosted pages: a link's query (GET) or a form (POST); their 4xx answers are pages, not JSON.
PAGES = {"ResetPageFunction", "VerifyPageFunction"}
PAGE_QUERY = (("token", "x" * 43), ("customerId", "@USER_ID@"), ("app", "fuzz-app"))
BODILESS = {"GetUserFunction", "UsersSelectFunction", "UsersDeleteFunction", "VerifyEmailFunction", "LogoutFunction"}
SCOPED = {"UsersSelectFunction", "UsersUpdateFunction", "UsersDeleteFunction"}  # the fuzz user only, over HTTP
MANAGEMENT: dict[str, dict[str, Any]] = {  # path after /management/ -> a body it accepts
    "integrations": {"name": "fuzz", "type": "ses", "sender": "no-reply@example.com"},
    "automations": {
        "name": "fuzz",
        "event": "UMS: password reset request",
        "integration_id": "@INTEGRATION_ID@",
        "subject": "s",
        "body": "b",
    },
    "templates": {"name": "fuzz-t", "subject": "s", "html": "<p>{{ reset_link }}</p>"},
    "templates/fuzz-t": {"name": "fuzz-t", "subject": "s", "html": "<p>x</p>"},
    "applications": {
        "name": "fuzz-app",
        "reset_url": "https://example.com/r",
        "display_name": "Fuzz",
        "brand_color": "#123456",
        "logo_url": "https://cdn.example.com/l.png",
    },
    "applications/fuzz-app": {
        "name": "fuzz-app",
        "email_tags": ["a"],
        "background_color": "#ffffff",
        "after_reset_url": "https://example.com/done",
        "after_verify_url": "https://example.com/ok",
    },
    "policies": {"subjects": ["ums:fuzz-nobody"], "resources": ["ums.users"], "actions": {"read": []}},
    "keys": {"description": "fuzz"},
    "integrations/@INTEGRATION_ID@": {"name": "fuzz", "type": "ses", "sender": "no-reply@example.com"},
    "integrations/@INTEGRATION_ID@/test": {"to": USER_EMAIL},
    "events": {},
    "signing-keys": {},
    "signing-keys/rotate": {"immediate": False},  # a 200 may sign the fuzz user out: its World signs in again
    # A plain OAuth 2 provider: /oauth/init gets far (its URL is built) without calling anyone.
    "oauth-providers": {
        "name": "fuzz-gh",
        "preset": "github",
        "client_id": "fuzz",
        "client_secret": "fuzz-secret",
        "redirects": ["https://example.com/cb"],
    },
    "oauth-providers/fuzz-gh": {"preset": "github", "client_id": "fuzz", "redirects": ["https://example.com/cb"]},
    "outbox": {},  # read only: the failed mails
    "templates/preview": {"event": "AfterPasswordResetRequest", "subject": "s", "body": "<p>{{ reset_link }}</p>"},
    "failures": {},  # the failure queue: listed, redriven
    "failures/redrive": {},
    "outbox/fuzz-event/redrive": {},  # no such event: a 404, whatever the body
}
MANAGEMENT_POSTS = {
    "signing-keys/rotate",
    "templates/preview",
    "failures/redrive",
    "outbox/fuzz-event/redrive",
}  # paths with a '/' that POST (not PUT) takes, given every class
MANAGEMENT_READS = [
    "signing-keys",
    "outbox",
    "failures",
]  # GET paths given every class (generated requests reach the others)
# Bodies each route accepts, so that a hostile field rides along a request that gets far.
BASES: dict[str, list[dict[str, Any]]] = {
    "SignUpFunction": [{"email": "@NEW_EMAIL@", "password": PASSWORD}],
    "SignInFunction": [
        {"method": "ums", "email": USER_EMAIL, "password": PASSWORD},
        {"method": "apk", "key": "@KEY@", "secret": "@SECRET@"},
        {"method": "oauth", "code": "c", "state": "s"},
    ],
    "OAuthInitFunction": [{}],
    "OAuthAuthFunction": [{"method": "oauth", "code": "c", "state": "s"}],
    "RefreshTokenFunction": [{"refresh_token": "@REFRESH_TOKEN@"}],
    "GetUserFunction": [{}],
    "DeleteUserFunction": [{"password": PASSWORD}],
    "ChangePasswordFunction": [{"old_password": PASSWORD, "new_password": NEW_PASSWORD}],
    "UsersSelectFunction": [{}],
    "UsersUpdateFunction": [{"first_name": "Fuzz"}],
    "UsersCreateFunction": [{"email": "@NEW_EMAIL@"}],
    "UsersDeleteFunction": [{}],
    "UsersImportFunction": [
        {"users": [{"email": "@NEW_EMAIL@", "password_hash": "$2b$04$" + "a" * 53, "plan": "fuzz"}]},
        {
            "users": [{"email": "@NEW_EMAIL@"}],
            "dry_run": True,
            "firebase_scrypt": {"signer_key": "AA==", "rounds": 8, "mem_cost": 14},
        },
    ],
    "UsersExportFunction": [{}],
    "UsersReindexFunction": [{}],
    "RequestResetFunction": [{"email": USER_EMAIL}],
    "ApplyResetFunction": [{"new_password": NEW_PASSWORD}],
    "VerifyRequestFunction": [{"email": USER_EMAIL}],
    "RevokeTokenFunction": [{"token": "@REFRESH_TOKEN@", "token_type_hint": "refresh_token"}],
    "UpdateUserFunction": [{"city": "Fuzz"}],
    "ChangeEmailFunction": [{"new_email": "fuzz-new@example.com", "password": PASSWORD}],
    "VerifyEmailFunction": [{}],
    "QuicksilverResetFunction": [{"email": USER_EMAIL}, {"user_id": "@USER_ID@"}, {"mobile": "+31612345678"}],
    "CustomerResetRequestFunction": [{"email": USER_EMAIL}, {"customer_id": "@USER_ID@"}],
    "CustomerResetApplyFunction": [{"token": "x" * 43, "password": NEW_PASSWORD}],
    # Form fields: sent as JSON like every body here, which the pages read as a (nonsense) form;
    # the form parser's own hostile cases are FORM_BODIES.
    "ResetPageFunction": [{"token": "x" * 43, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "app": "fuzz-app"}],
    "VerifyPageFunction": [{"token": "x" * 43, "app": "fuzz-app"}],
}
FORM_BODIES = {  # the pages' forms, url-encoded and hostile
    "deep nesting": {"form field [[[": b"token=" + b"%5B" * 5000},
    "surrogates": {"form %ED%A0%80": b"token=%ED%A0%80&password=%ED%A0%80", "form \\ud800 bytes": b"app=\xed\xa0\x80"},
    "odd field names": {
        "form odd names": b"__proto__=1&constructor=2&%00=3&token[]=4",
        "form repeated": b"token=a&token=b",
    },
    "huge values": {"form 60 KB token": b"token=" + b"x" * 60_000, "form 60 KB app": b"token=x&app=" + b"a" * 60_000},
    "wrong types": {"form no equals": b"token", "form only &": b"&&&", "form JSON": b'{"token": 1}'},
}
EXTRA_FIELDS = {  # fields a route takes beyond its bases
    "SignUpFunction": ["first_name", "mobile", "country", "lst"],
    "SignInFunction": ["key", "secret", "code", "state"],
    "OAuthAuthFunction": ["error", "error_description"],
    "UsersUpdateFunction": ["email", "active", "lst", "age"],
    "RequestResetFunction": ["application", "locale"],
    "QuicksilverResetFunction": ["application_id", "email_template"],
    "CustomerResetApplyFunction": ["new_password"],
}
PLAIN_PATH_VALUES = {"token": "x" * 43, "customerId": "@USER_ID@"}
# Authorization headers; `@...@` is filled in when sending.
AUTHS: tuple[tuple[tuple[str, str], ...], ...] = (
    (),
    (("authorization", "Bearer @ACCESS_TOKEN@"),),
    (("authorization", "Bearer @APK_TOKEN@"),),
    (("x-api-key", "@KEY@:@SECRET@"),),
    (("authorization", "Bearer @ACCESS_TOKEN@"), ("x-api-key", "@KEY@:@SECRET@")),
    (("authorization", "Bearer " + "x" * 10_000),),
    (("authorization", "Bearer a.b.c"),),
    (("authorization", "Basic Zm9vOmJhcg=="),),
    (("authorization", "Bearer \xff"),),
    (("x-api-key", ":"),),
    (("x-api-key", "@KEY@:" + "s" * 5000),),
)


def fields(route: Route, path: str = "") -> list[str]:
    """The field names `route` (at management `path`) knows, base and extra."""
    if route.function == "ManagementFunction":
        return sorted(MANAGEMENT.get(path, {})) or ["name"]
    names = {name for base in BASES.get(route.function, [{}]) for name in base}
    return sorted(names | set(EXTRA_FIELDS.get(route.function, []))) or ["extra"]


def bases(route: Route, path: str = "") -> list[dict[str, Any]]:
    if route.function == "ManagementFunction":
        return [MANAGEMENT.get(path, {})]
    return BASES.get(route.function, [{}])


# --- what is sent ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Probe:
    """One request: decoded path parameters and query pairs; the sender encodes them."""

    route: Route
    body: bytes = b""
    query: tuple[tuple[str, str], ...] = ()
    path_parameters: tuple[tuple[str, str], ...] = ()
    auth: tuple[tuple[str, str], ...] = ()
    label: str = ""

    def describe(self) -> str:
        def short(value: Any) -> str:
            text = repr(value)
            return text if len(text) <= 160 else f"{text[:120]}...({len(text)} chars)"

        parts = [str(self.route), self.label]
        if self.path_parameters:
            parts.append(f"path={short(dict(self.path_parameters))}")
        if self.query:
            parts.append(f"query={short(self.query)}")
        if self.auth:
            parts.append(f"auth={short([name for name, _ in self.auth])}")
        parts.append(f"body={short(self.body)}")
        return " ".join(p for p in parts if p)


@dataclass
class Credentials:
    """The fuzz run's own user, API key and config items; placeholders are filled from these."""

    user_id: str = ""
    email: str = USER_EMAIL
    access_token: str = ""
    refresh_token: str = ""
    apk_token: str = ""
    key: str = ""
    secret: str = ""
    integration_id: str = ""
    policy_id: str = ""
    counter: list[int] = field(default_factory=lambda: [0])

    def fill(self, text: str) -> str:
        if "@" not in text:
            return text
        if "@NEW_EMAIL@" in text:
            self.counter[0] += 1
            text = text.replace("@NEW_EMAIL@", f"fuzz-{self.user_id[:8]}-{self.counter[0]}@example.com")
        for name, value in (
            ("USER_ID", self.user_id),
            ("ACCESS_TOKEN", self.access_token),
            ("REFRESH_TOKEN", self.refresh_token),
            ("APK_TOKEN", self.apk_token),
            ("KEY", self.key),
            ("SECRET", self.secret),
            ("INTEGRATION_ID", self.integration_id),
            ("POLICY_ID", self.policy_id),
        ):
            text = text.replace(f"@{name}@", value)
        return text.replace(USER_EMAIL, self.email)

    def fill_bytes(self, raw: bytes) -> bytes:
        if b"@" not in raw:
            return raw
        return self.fill(raw.decode("latin-1")).encode("latin-1")


def path_of(probe: Probe, creds: Credentials, *, encode: bool) -> str:
    """The request path; percent-encoded (UTF-8, surrogates passed through) for HTTP."""
    values = {name: creds.fill(value) for name, value in probe.path_parameters}

    def one(match: re.Match[str]) -> str:
        value = values[match.group(1)]
        if not encode:
            return value
        # Dots encoded too, so a client never folds `..` segments away.
        safe = "/" if match.group(0).endswith("+}") else ""
        return quote(value, safe=safe, errors="surrogatepass").replace(".", "%2E")

    return re.sub(r"\{(\w+)\+?\}", one, probe.route.template)


def query_of(probe: Probe, creds: Credentials, *, scope: bool = False) -> str:
    """The raw query string. With `scope`, every `cond` is and-ed with the fuzz user's id, so
    that over HTTP a matching condition never touches other tests' users."""
    pairs = [(name, creds.fill(value)) for name, value in probe.query]
    if scope and probe.route.function in SCOPED:
        own = to_json([{"field": "id"}, "=", creds.user_id])
        pairs = [(n, f'{own[:-1]},"and",{v}]' if n == "cond" else v) for n, v in pairs]
        if not any(n == "cond" for n, _ in pairs):
            pairs.append(("cond", own))
    return "&".join(
        f"{quote(n, safe='', errors='surrogatepass')}={quote(v, safe='', errors='surrogatepass')}" for n, v in pairs
    )


def headers_of(probe: Probe, creds: Credentials) -> dict[str, str]:
    return {"content-type": "text/plain;charset=UTF-8", **{n: creds.fill(v) for n, v in probe.auth}}


def print_summary(request: Any, line: str) -> None:
    """`line` on the terminal even while pytest captures output (fixture teardown); a pytest-xdist
    worker's reporter writes nowhere, but its standard error reaches the terminal."""
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is None or reporter is None:
        return
    with capture.global_and_fixture_disabled():
        if hasattr(request.config, "workerinput"):
            sys.stderr.write(f"\n{line}\n")
        else:
            reporter.write_line(f"\n{line}")


def rotated_keys(probe: Probe, status: int, answer: Any) -> bool:
    """Whether `answer` is a signing-key rotation's: an immediate one signs out every token."""
    return (
        probe.route.function == "ManagementFunction"
        and probe.route.method == "POST"
        and status == 200
        and isinstance(answer, dict)
        and {"issuer", "keys"} <= set(answer)
    )


def problem(status: int, text: str, route: Route | None = None) -> str | None:
    """What is wrong with an answer (a 5xx; a 4xx that is not Jexia's error array, or for a
    hosted page, not a page either), or None."""
    if status >= 500:
        return f"answered {status}: {text[:300]}"
    if status >= 400 and route is not None and route.function in PAGES and text.startswith("<!doctype html>"):
        return None if "<h1>" in text else f"answered {status} with a page without a heading: {text[:300]!r}"
    if status >= 400:
        try:
            body = json.loads(text)
        except ValueError:
            return f"answered {status} with a body that is not JSON: {text[:300]!r}"
        first = body[0] if isinstance(body, list) and body else None
        if not (isinstance(first, dict) and first.get("message") and first.get("request_id")):
            return f"answered {status} outside Jexia's error format: {text[:300]}"
    return None


# --- explicit cases: every class on every route ---------------------------------------------
def _object(base: dict[str, Any], **changes: Any) -> bytes:
    return to_json({**base, **changes}).encode()


def cond_cases(kind: str) -> list[tuple[str, str, str]]:
    """(label, query name, value) for /ums/users in payload class `kind`."""
    own = {"field": "email"}
    if kind == "deep nesting":
        group = "[" * 40 + to_json([own, "=", "x"]) + "]" * 40
        return [
            ("cond 20000 nested arrays", "cond", nested_arrays(20000)),
            ("cond 5000 nested arrays", "cond", nested_arrays(5000)),  # fits a request line over HTTP
            ("cond 40 nested groups", "cond", group),
            ("cond value 40 nested objects", "cond", to_json([own, "=", nested_objects(40)])),
            ("outputs deep", "outputs", nested_arrays(5000)),
            ("range deep", "range", nested_objects(5000)),
            ("order deep", "order", to_json({"fields": nested_arrays(5000)})),
        ]
    if kind == "surrogates":
        return [
            ("cond value \\ud800", "cond", to_json([own, "=", "\ud800"])),
            ("cond field \\ud800", "cond", to_json([{"field": "\ud800"}, "=", "x"])),
            ("regex \\ud800", "cond", to_json([{"field": "first_name"}, "regex", "\ud800"])),
            ("like \\ud800", "cond", to_json([{"field": "first_name"}, "like", "%\ud800%"])),
            ("in \\ud800", "cond", to_json([{"field": "id"}, "in", ["\ud800"]])),
            ("outputs \\ud800", "outputs", to_json(["\ud800"])),
            ("order \\ud800", "order", to_json({"fields": ["\ud800"], "direction": "\ud800"})),
            ("raw surrogate bytes in cond", "cond", '[{"field":"email"},"=","\ud800"]'),
        ]
    if kind == "odd field names":
        return [
            *((f"cond field {name[:20]!r}", "cond", to_json([{"field": name}, "=", "x"])) for name in ODD_NAMES),
            *((f"outputs {name[:20]!r}", "outputs", to_json([name])) for name in ODD_NAMES[:8]),
            *((f"order {name[:20]!r}", "order", to_json({"fields": [name]})) for name in ODD_NAMES[:8]),
            ("query name odd", "lst[0]", "1"),
        ]
    if kind == "huge values":
        return [
            ("cond value 60 KB", "cond", to_json([own, "=", HUGE_STRINGS[0]])),
            ("like 2000 wildcards", "cond", to_json([{"field": "first_name"}, "like", "%a" * 1000])),
            *((f"cond value {n[:12]}", "cond", to_json([{"field": "age"}, ">", n])) for n in NUMBERS),
            *((f"range limit {n[:12]}", "range", to_json({"limit": n, "offset": n})) for n in NUMBERS),
        ]
    return [  # wrong types
        *((f"cond {v!r}", "cond", to_json(v)) for v in (*WRONG_TYPES, "x", [own], [own, "="], [own, "=", "x", "and"])),
        *((f"cond field {v!r}", "cond", to_json([{"field": v}, "=", "x"])) for v in WRONG_TYPES),
        *((f"outputs {v!r}", "outputs", to_json(v)) for v in WRONG_TYPES),
        *((f"range {v!r}", "range", to_json(v)) for v in (*WRONG_TYPES, {"limit": "1"}, {"offset": [1]})),
        *((f"order {v!r}", "order", to_json(v)) for v in (*WRONG_TYPES, {"fields": "email"})),
        ("cond not JSON", "cond", "not json"),
    ]


def field_values(kind: str) -> list[tuple[str, Any]]:
    """(label, value) put into each field of a route for payload class `kind`."""
    if kind == "deep nesting":
        return [("33 nested arrays", DEEP_VALUES[0]), ("33 nested objects", DEEP_VALUES[1])]
    if kind == "surrogates":
        return [("'\\ud800'", "\ud800"), ("'a\\udfffb'", "a\udfffb")]
    if kind == "huge values":
        numbers = (NUMBERS[0], NUMBERS[2], NUMBERS[3], NUMBERS[5], NUMBERS[9])  # 1e400 10**400 -0.0 2**64 9*5000
        return [(f"{len(HUGE_STRINGS[0])} chars", HUGE_STRINGS[0])] + [(n[:12], n) for n in numbers]
    if kind == "wrong types":
        return [(repr(v), v) for v in (None, True, 0, 1.5, [], ["a"], {}, {"a": "b"})]
    return []


def path_values(kind: str) -> list[str]:
    return {
        "deep nesting": ["[" * 1000, "{" * 1000],
        "surrogates": ["\ud800", "a\udfffb", "\ud800/x"],
        "odd field names": [name for name in ODD_NAMES if name and name != "."][:12],
        "huge values": ["a" * 10_000, "1e400", "1" + "0" * 400],
        "wrong types": ["null", "[]", "{}", "true", "-0"],
    }[kind]


def explicit_cases(route: Route, kind: str, *, over_http: bool = False) -> list[Probe]:
    """Every named payload of class `kind` on `route`: in each field, as field names, as whole
    bodies, in the query string and in path parameters."""
    token = (("authorization", "Bearer @ACCESS_TOKEN@"),) if route.function != "SignUpFunction" else ()
    if route.function in ("QuicksilverResetFunction", "CustomerResetRequestFunction", "CustomerResetApplyFunction"):
        token = (("x-api-key", "@KEY@:@SECRET@"),)
    paths = [""]
    if route.function == "ManagementFunction":
        # POST creates (or rotates the signing keys), PUT replaces an item; GET and DELETE read no
        # body, but the reads of MANAGEMENT_READS get every class anyway (a GET that reads one fails).
        if route.method == "POST":
            paths = [p for p in MANAGEMENT if "/" not in p or p in MANAGEMENT_POSTS]
        elif route.method == "PUT":
            paths = [p for p in MANAGEMENT if p.count("/") == 1 and p not in MANAGEMENT_POSTS]
        else:
            paths = MANAGEMENT_READS if route.method == "GET" else []
    default_path = {name: PLAIN_PATH_VALUES.get(name, "keys") for name in route.parameters}
    base_query: tuple[tuple[str, str], ...] = ()
    if route.function in SCOPED:  # deletes match nobody, so that the fuzz user outlives them
        owner = "nobody" if route.function == "UsersDeleteFunction" else "@USER_ID@"
        base_query = (("cond", to_json([{"field": "id"}, "=", owner])),)
    if route.function in BODILESS:
        paths = []  # the body is never read: field cases would only repeat the same request
    cases: list[Probe] = []

    def add(label: str, body: bytes, path: str = "", query: tuple[tuple[str, str], ...] = base_query) -> None:
        params = dict(default_path)
        if path:
            params["proxy"] = path
        cases.append(Probe(route, body, query, tuple(params.items()), token, f"[{kind}] {label}"))

    for path in paths:
        for base in bases(route, path)[:1]:
            for name in fields(route, path)[: 2 if over_http else None]:  # over HTTP: bounded
                for label, value in field_values(kind):
                    add(f"{name}={label}", _object(base, **{name: value}), path)
            if kind == "surrogates":
                add("key \\ud800", _object(base, **{"\ud800": "x"}), path)
            if kind == "odd field names":
                for name in ODD_NAMES:
                    add(f"field {name[:20]!r}", _object(base, **{name: 1}), path)
                add("field 'lst[0]' string", _object(base, **{"lst[0]": "x"}), path)
            if kind == "huge values" and not over_http:
                add("60 KB name", _object(base, **{"n" * 60_000: 1}), path)
    raw_paths = [paths[0] if paths else "", *(p for p in paths[1:] if p in MANAGEMENT_POSTS)]
    for label, raw in RAW_BODIES.get(kind, {}).items():
        for path in raw_paths:  # the rotation's too: its body is optional
            add(label, raw, path)
    if route.function in SCOPED:
        for label, name, value in cond_cases(kind):
            if over_http and len(value) > 20_000:
                continue  # http.server refuses request lines over 64 KiB before the gateway sees them
            query = (*base_query, (name, value)) if name != "cond" else ((name, value),)
            add(label, _object(bases(route)[0]), query=query)
    if route.function == "CustomerResetRequestFunction":
        for value in path_values(kind):
            add(f"appName={value[:20]!r}", _object(bases(route)[0]), query=(("appName", value),))
    if route.function == "ManagementFunction" and route.method == "GET":
        for value in path_values(kind):
            for name in ("status", "limit"):
                add(f"outbox {name}={value[:20]!r}", b"", "outbox", query=((name, value),))
    if route.function == "OAuthInitFunction":
        for value in path_values(kind):
            for name, _ in OAUTH_INIT_QUERY:  # each parameter hostile in turn, the others right
                query = tuple((n, value if n == name else v) for n, v in OAUTH_INIT_QUERY)
                add(f"{name}={value[:20]!r}", b"", query=query)
    if route.function in PAGES:
        if route.method == "GET":
            for value in path_values(kind):
                for name, _ in PAGE_QUERY:
                    query = tuple((n, value if n == name else v) for n, v in PAGE_QUERY)
                    add(f"{name}={value[:20]!r}", b"", query=query)
        else:
            for label, raw in FORM_BODIES.get(kind, {}).items():
                add(label, raw)
    for name in route.parameters:
        for value in path_values(kind):
            if over_http and "/" in value and name != "proxy":
                continue  # a '/' in a path parameter is another route (a gateway 404, not the function's)
            params = {**default_path, name: value}
            body = _object(bases(route, value)[0]) if route.method in ("POST", "PUT", "PATCH") else b""
            label = f"[{kind}] {name}={value[:20]!r}"
            cases.append(Probe(route, body, base_query, tuple(params.items()), token, label))
    return cases


# --- generated cases ------------------------------------------------------------------------
def _values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.sampled_from([USER_EMAIL, PASSWORD, "ums", "apk", "x", "@USER_ID@", "+31612345678", True]),
        st.sampled_from(SURROGATES),
        st.sampled_from(ODD_NAMES),
        st.sampled_from(HUGE_STRINGS),
        st.sampled_from(NUMBERS),
        st.sampled_from(WRONG_TYPES),
        st.sampled_from(DEEP_VALUES),
        st.text(max_size=20),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
    )
    keys = st.one_of(st.sampled_from(ODD_NAMES), st.sampled_from(SURROGATES), st.text(max_size=10))
    return st.recursive(scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(keys, c, max_size=3), max_leaves=6)


VALUES = _values()


@st.composite
def probes(draw: st.DrawFn, route: Route, over_http: bool = False) -> Probe:
    """One hostile request for `route`: body, query, path parameters and credentials drawn."""
    params: dict[str, str] = {}
    hostile_path = st.one_of(
        st.sampled_from(SURROGATES), st.sampled_from([n for n in ODD_NAMES if n]), st.text(min_size=1, max_size=20)
    )
    if over_http:  # a '/' (or an empty segment) in a path parameter selects another route
        hostile_path = hostile_path.filter(lambda v: "/" not in v and v not in ("", ".", ".."))
    for name in route.parameters:
        plain = list(MANAGEMENT) if name == "proxy" else [PLAIN_PATH_VALUES[name]]
        params[name] = draw(st.one_of(st.sampled_from(plain), st.sampled_from(plain), hostile_path))
    path = params.get("proxy", "")
    keys = st.one_of(
        st.sampled_from(fields(route, path)),
        st.sampled_from(ODD_NAMES),
        st.sampled_from(SURROGATES),
        st.text(max_size=10),
    )
    objects = st.builds(
        lambda base, extra: to_json({**base, **extra}).encode(),
        st.sampled_from(bases(route, path)),
        st.dictionaries(keys, VALUES, max_size=4),
    )
    raw = st.sampled_from([b for group in RAW_BODIES.values() for b in group.values()])
    values = VALUES.map(lambda v: to_json(v).encode())
    body = draw(st.one_of(objects, objects, objects, raw, st.binary(max_size=64), values))
    query: list[tuple[str, str]] = []
    if route.function in SCOPED:
        conds = st.builds(
            lambda f, op, v: to_json([{"field": f}, op, v]),
            st.one_of(st.sampled_from(["id", "email", "first_name", "active"]), st.sampled_from(ODD_NAMES)),
            st.sampled_from(["=", "!=", ">", "in", "like", "regex", "between", "null", "bogus"]),
            VALUES,
        )
        value = st.one_of(conds, conds, VALUES.map(to_json), st.text(max_size=20))
        names = st.one_of(st.sampled_from(USERS_QUERY), st.sampled_from(USERS_QUERY), st.sampled_from(ODD_NAMES[:10]))
        query = draw(st.lists(st.tuples(names, value), max_size=3))
        if over_http:
            query = [(n, v) for n, v in query if len(v) <= 20_000]
    elif route.function in PAGES:
        names = st.one_of(st.sampled_from([n for n, _ in PAGE_QUERY]), st.sampled_from(ODD_NAMES[:10]))
        value = st.one_of(st.sampled_from(SURROGATES), st.sampled_from(HUGE_STRINGS), st.text(max_size=20))
        query = draw(st.lists(st.tuples(names, value), max_size=3))
    elif route.function == "OAuthInitFunction":
        names = st.one_of(st.sampled_from([n for n, _ in OAUTH_INIT_QUERY]), st.sampled_from(ODD_NAMES[:10]))
        right = st.sampled_from([v for _, v in OAUTH_INIT_QUERY] + ["sign-in", "local"])
        hostile = st.one_of(st.sampled_from(SURROGATES), st.text(max_size=20), st.sampled_from(HUGE_STRINGS))
        value = st.one_of(right, right, hostile)
        query = [*OAUTH_INIT_QUERY[:2], *draw(st.lists(st.tuples(names, value), max_size=3))]
    else:
        names = st.one_of(st.just("appName"), st.sampled_from(ODD_NAMES[:10]))
        value = st.one_of(st.sampled_from(SURROGATES), st.sampled_from(["fuzz-app", "nope"]), st.text(max_size=20))
        query = draw(st.lists(st.tuples(names, value), max_size=2))
    auth = draw(st.sampled_from(AUTHS))
    return Probe(route, body, tuple(query), tuple(params.items()), auth, "[generated]")
