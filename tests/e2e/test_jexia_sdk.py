"""Jexia's own JS SDK (npm jexia-sdk-js 5.12.0) against the local stack: every UMS call it makes,
OAuth included (through the local stack's provider `local`)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

HERE = Path(__file__).parent / "jexia_sdk"
STEPS = [
    "signUp keeps extra fields",
    "signIn then getUser",
    "getUser by alias",
    "changePassword",
    "signIn error message",
    "requestResetPassword and resetPassword",
    "select where active = true",
    "update active = false where email",
    "delete where active = false",
]


@pytest.fixture(scope="session")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node and npm are needed to run Jexia's JS SDK")
    folder = tmp_path_factory.mktemp("jexia-sdk")
    for name in ("package.json", "flow.js", "oauth.js"):
        shutil.copy(HERE / name, folder / name)
    try:
        installed = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("Jexia's JS SDK could not be installed: npm install timed out (registry unreachable?)")
    if installed.returncode != 0:
        lines = (installed.stderr or installed.stdout).strip().splitlines() or ["no output"]
        pytest.skip(f"Jexia's JS SDK could not be installed (npm install exit {installed.returncode}): {lines[-1]}")
    return folder


def test_the_jexia_js_sdk_works_unchanged(base_url: str, sdk: Path) -> None:
    management = f"{base_url}/management"
    key = requests.post(f"{management}/keys", json={"description": "jexia sdk"}, timeout=10).json()
    policy = {
        "subjects": [f"apk:{key['key']}"],
        "resources": ["ums.users"],
        "actions": {"read": [], "update": [], "delete": []},
    }
    requests.post(f"{management}/policies", json=policy, timeout=10).raise_for_status()
    integration = requests.post(
        f"{management}/integrations", json={"name": "sdk", "type": "ses", "sender": "no-reply@example.com"}, timeout=10
    ).json()
    automation = {
        "name": "sdk reset",
        "event": "UMS: password reset request",
        "integration_id": integration["id"],
        "subject": "Reset",
        "body": "<a href='{{ reset_link }}'>reset</a>",
    }
    requests.post(f"{management}/automations", json=automation, timeout=10).raise_for_status()
    node = subprocess.Popen(
        ["node", "flow.js", base_url, key["key"], key["secret"]],
        cwd=sdk,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = node.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        node.kill()
        stdout, stderr = node.communicate()
    done = [line.removeprefix("ok ") for line in stdout.splitlines() if line.startswith("ok ")]
    assert node.returncode == 0, stderr + json.dumps(done)
    assert done == STEPS


OAUTH_STEPS = [
    "initOAuth sign-up answers the provider's URL",
    "signIn with code and state signs the new user up",
    "signIn with code and state signs the same user in",
    "getUser",
]


def test_the_jexia_js_sdk_signs_up_and_in_with_oauth(base_url: str, sdk: Path) -> None:
    node = subprocess.run(["node", "oauth.js", base_url], cwd=sdk, capture_output=True, text=True, timeout=120)
    done = [line.removeprefix("ok ") for line in node.stdout.splitlines() if line.startswith("ok ")]
    assert node.returncode == 0, node.stderr + json.dumps(done)
    assert done == OAUTH_STEPS
