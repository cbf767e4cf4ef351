"""The architecture, checked on the import graph (parsed with `ast`, nothing is imported):

    handlers (functions/*/app.py)  ->  logic (layers/ums/ums/*)  ->  store (ums/store/*)  ->  DynamoDB

- Only the store talks to DynamoDB: no other module imports PynamoDB or the store's models, or
  asks boto3 for a DynamoDB client; logic calls the store's functions and reads its records.
  The store imports no logic (only STORE_USES of the layer).
- Only the modules listed in OTHER_AWS use the AWS SDK, each for the services named there.
- Only the HTTP edge imports `ums.http`; logic gets its input helpers from `ums.inputs`.
- Handlers never import the store: they call one logic function.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "ums"
FUNCTIONS = ROOT / "functions"

# The persistence layer: the one package that may import PynamoDB.
STORE = "ums.store"
# What only the store may import: the database library and the store's own models.
STORE_ONLY = ("pynamodb", "ums.store.models")
# What the store may import of the layer: no logic (the store sits below it).
STORE_USES = ("ums.store", "ums.config", "ums.errors", "ums.clock")
# The AWS SDK, and the modules of the layer that may use it, with the services they talk to
# (never DynamoDB: see DYNAMODB_SERVICES).
AWS_SDK = ("boto3", "botocore")
OTHER_AWS = {
    "ums.crypto": "KMS (reset tokens in the outbox)",
    "ums.automation.mail": "SES",
    "ums.automation.pipeline": "EventBridge (publishing events)",
    "ums.operator_secrets": "Secrets Manager (integration passwords, OAuth client secrets)",
    "ums.signing_keys": "Secrets Manager (writing the token signing keys on rotation)",
    "ums.runtime_sdk": "none (reads the SDK's version)",
    "ums.failure_queue": "SQS (the automation's failure queue, listed and redriven)",
    "ums.legacy_verifier": "Lambda (a legacy verifier given as a function ARN)",
}
DYNAMODB_SERVICES = ("dynamodb", "dynamodbstreams")
# The HTTP edge: requests in, responses out. Logic does not import it.
HTTP = "ums.http"
# The management API is a router over HTTP requests; the hosted pages answer a browser's requests.
HTTP_EDGE = ("ums.http", "ums.management", "ums.pages")


def within(module: str, packages: str | tuple[str, ...] | dict[str, str]) -> bool:
    """`module` is one of `packages` or inside one of them."""
    names = (packages,) if isinstance(packages, str) else tuple(packages)
    return any(module == name or module.startswith(name + ".") for name in names)


def imports(tree: ast.AST, module: str) -> set[str]:
    """Every module `tree` imports (`from a import b` counts as `a` and `a.b`)."""
    found: set[str] = set()
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against this module's package
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def dynamodb_clients(tree: ast.AST) -> list[int]:
    """Lines that ask for a DynamoDB client or resource (`boto3.client("dynamodb")`, ...)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            first = node.args[0]
            if name in ("client", "resource") and isinstance(first, ast.Constant) and first.value in DYNAMODB_SERVICES:
                lines.append(node.lineno)
    return lines


def layer_modules() -> dict[str, ast.AST]:
    modules: dict[str, ast.AST] = {}
    for path in sorted((LAYER / "ums").rglob("*.py")):
        parts = path.relative_to(LAYER).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = ast.parse(path.read_text(), str(path))
    return modules


def handlers() -> dict[str, ast.AST]:
    return {
        f"functions/{path.parent.name}/app.py": ast.parse(path.read_text(), str(path))
        for path in sorted(FUNCTIONS.glob("*/app.py"))
    }


def layer_violations(modules: dict[str, ast.AST]) -> list[str]:
    problems = []
    for module, tree in modules.items():
        imported = imports(tree, module)
        if within(module, STORE):
            problems += [
                f"{module} imports {name} (the store imports no logic)"
                for name in sorted(imported)
                if within(name, "ums") and not within(name, STORE_USES)
            ]
            continue
        for name in sorted(imported):
            if within(name, STORE_ONLY):
                problems.append(f"{module} imports {name} (store only)")
            if within(name, AWS_SDK) and not within(module, OTHER_AWS):
                problems.append(f"{module} imports {name} (not in OTHER_AWS)")
            if within(name, HTTP) and not within(module, HTTP_EDGE):
                problems.append(f"{module} imports {name} (HTTP edge only)")
        problems += [f"{module}:{line} asks for a DynamoDB client" for line in dynamodb_clients(tree)]
    return problems


def handler_violations(sources: dict[str, ast.AST]) -> list[str]:
    problems = []
    for path, tree in sources.items():
        for name in sorted(imports(tree, "app")):
            if within(name, (STORE, *STORE_ONLY)):
                problems.append(f"{path} imports {name} (handlers call logic, never the store)")
    return problems


def test_only_the_store_talks_to_dynamodb_and_logic_does_not_import_http() -> None:
    modules = layer_modules()
    assert {"ums.store.users", "ums.sessions", "ums.automation.pipeline"} <= set(modules)  # the walk found the layer
    assert layer_violations(modules) == []


def test_handlers_do_not_import_the_store() -> None:
    sources = handlers()
    assert "functions/sign_in/app.py" in sources
    assert handler_violations(sources) == []


@pytest.mark.parametrize(
    ("module", "source", "problem"),
    [
        ("ums.accounts", "from pynamodb.expressions.update import Action", "imports pynamodb.expressions.update"),
        ("ums.users", "from ums.store.models import UserModel", "imports ums.store.models"),
        ("ums.users", "from ums.store import models", "imports ums.store.models"),
        ("ums.resets", "import boto3", "imports boto3 (not in OTHER_AWS)"),
        ("ums.crypto", "import boto3\nboto3.client('dynamodb')", "asks for a DynamoDB client"),
        ("ums.sessions", "from ums.http import required_string", "imports ums.http (HTTP edge only)"),
        ("ums.sessions", "from ums import http", "imports ums.http (HTTP edge only)"),
        ("ums.automation.messages", "from ..http import Request", "imports ums.http (HTTP edge only)"),
        ("ums.store.config", "from ums.users import now_rfc3339", "imports ums.users (the store imports no logic)"),
    ],
)
def test_the_check_sees_each_kind_of_leak(module: str, source: str, problem: str) -> None:
    found = layer_violations({module: ast.parse(source)})
    assert any(problem in line for line in found), found


def test_the_check_sees_a_handler_importing_the_store() -> None:
    found = handler_violations({"functions/x/app.py": ast.parse("from ums.store import users")})
    assert any("imports ums.store" in line for line in found), found
    assert handler_violations({"functions/x/app.py": ast.parse("from ums.accounts import sign_up")}) == []


def test_logic_runs_on_a_fake_store_without_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store is the seam: logic is tested here with its store functions replaced, and no
    emulated AWS at all (no `aws` fixture: any DynamoDB call would fail)."""
    from ums import accounts, mailed_tokens, policies, user_admin
    from ums.bodies import SignUp, UserChanges
    from ums.store import users as user_store

    written: list[tuple[str, Any, Any, Any]] = []

    def create(user: user_store.User, event: dict[str, Any], tokens: Any = ()) -> None:
        written.append(("create", user, event, tokens))

    monkeypatch.setattr(user_store, "create", create)
    monkeypatch.setattr(mailed_tokens, "encrypt_token", lambda token: f"encrypted {len(token)}")  # KMS's seam
    record = accounts.sign_up(
        SignUp.parse({"email": "Ann@Example.com", "password": "a long passphrase 42", "city": "Delft"})
    )
    [(_, user, event, [verify_token])] = written
    assert record["email"] == "Ann@Example.com" and record["city"] == "Delft" and record["email_verified"] is False
    assert user.email_key == "ann@example.com" and user.password_hash.startswith("$argon2")
    assert isinstance(event, dict) and event["event"] == "AfterSignUp" and event["user"] == record
    assert event["token_ciphertext"] == "encrypted 43" and verify_token.user_id == user.id

    updates: list[tuple[object, ...]] = []

    def update_profile(
        user: user_store.User,
        set_fields: dict[str, Any],
        removed: list[str],
        updated_at: str,
        *,
        active: bool | None = None,
        email_verified: bool | None = None,
        suspend: bool = False,
    ) -> None:
        updates.append((set_fields, removed, active, suspend))

    monkeypatch.setattr(policies, "require", lambda subject, action: None)
    monkeypatch.setattr(user_store, "get", lambda user_id: user)
    monkeypatch.setattr(user_store, "update_profile", update_profile)
    condition = f'[{{"field":"id"}},"=","{user.id}"]'
    answer = user_admin.update(
        "apk:k", {"cond": [condition]}, UserChanges.parse({"active": False, "city": None, "vip": 1})
    )
    assert updates == [({"vip": 1}, ["city"], False, True)]  # suspending an active user ends its sessions
    assert [u["id"] for u in answer] == [user.id]
