"""The `ums` command line against the local stack."""

import json
import subprocess
import sys
import uuid

import requests

CONFIG = """
integrations:
  - name: CLI SES
    type: ses
    sender: no-reply@example.com
templates:
  - name: cli-reset
    subject: Reset {{ .email }}
    html: <a href="{{ reset_link }}">reset</a>
applications:
  - name: cli-app
    reset_url: https://cli.example.com/reset
    email_tags: [cli]
automations:
  - name: CLI reset
    event: "UMS: password reset request"
    integration: CLI SES
    template: cli-reset
policies:
  - description: cli read
    subjects: ["apk:<.*>"]
    resources: [ums.users]
    actions: {read: []}
"""


def ums(base_url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "ums_cli", "--endpoint", base_url, *args], capture_output=True, text=True, timeout=60
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_help_lists_every_command(base_url):
    out = ums(base_url, "--help").stdout
    for word in (
        "integrations",
        "automations",
        "templates",
        "applications",
        "keys",
        "policies",
        "apply",
        "mail",
        "users",
    ):
        assert word in out


def test_apply_is_idempotent(base_url, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    first = json.loads(ums(base_url, "--json", "apply", str(config)).stdout)
    assert len(first["created"]) == 5 and not first["updated"]
    second = json.loads(ums(base_url, "--json", "apply", str(config)).stdout)
    assert second["created"] == [] and second["updated"] == [] and len(second["unchanged"]) == 5
    config.write_text(CONFIG.replace("https://cli.example.com/reset", "https://cli.example.com/new"))
    third = json.loads(ums(base_url, "--json", "apply", str(config)).stdout)
    assert third["updated"] == ["applications/cli-app"]


def test_seed_flow_key_policy_select_suspend_delete(base_url):
    key = json.loads(ums(base_url, "--json", "keys", "create", "--data", '{"description": "seed flow"}').stdout)
    credentials = f"{key['key']}:{key['secret']}"
    policy = {
        "description": "seed flow",
        "subjects": [f"apk:{key['key']}"],
        "resources": ["ums.users"],
        "actions": {"read": [], "update": [], "delete": []},
    }
    ums(base_url, "policies", "create", "--data", json.dumps(policy))
    email = f"elon-{uuid.uuid4().hex[:8]}@tesla.com"
    requests.post(
        f"{base_url}/ums/signup", json={"email": email, "password": "correct horse battery staple"}, timeout=10
    )
    found = json.loads(
        ums(base_url, "--json", "users", "find", f"active = true and email = {email}", "--key", credentials).stdout
    )
    assert [u["email"] for u in found] == [email]
    suspended = json.loads(
        ums(
            base_url,
            "--json",
            "users",
            "update",
            f"email = {email}",
            "--data",
            '{"active": false}',
            "--key",
            credentials,
        ).stdout
    )
    assert suspended[0]["active"] is False
    deleted = json.loads(ums(base_url, "--json", "users", "delete", "active = false", "--key", credentials).stdout)
    assert email in [u["email"] for u in deleted]


def test_integration_test_and_mail(base_url):
    integration = json.loads(
        ums(
            base_url,
            "--json",
            "integrations",
            "create",
            "--data",
            '{"name": "t", "type": "ses", "sender": "no-reply@example.com"}',
        ).stdout
    )
    to = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    ums(base_url, "integrations", "test", integration["id"], "--to", to)
    mails = [json.loads(line) for line in ums(base_url, "--json", "mail").stdout.splitlines()]
    assert any(to in m["to"] for m in mails)


def test_exit_codes_scripts_can_trust(base_url):
    assert ums(base_url, "integrations", "get", "no-such-id", check=False).returncode == 1
    assert "No integration" in ums(base_url, "integrations", "get", "no-such-id", check=False).stderr
    assert ums(base_url, "users", "find", "age ~ 3", "--key", "k:s", check=False).returncode == 2
    assert ums(base_url, "users", "find", "age = 3", "--key", "k:s", check=False).returncode == 1  # unknown key
    assert ums(base_url, "nonsense", check=False).returncode == 2
    assert ums("http://127.0.0.1:9", "integrations", "list", check=False).returncode == 3
