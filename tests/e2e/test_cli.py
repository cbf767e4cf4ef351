"""The `ums` command line against the local stack."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Literal

import pytest
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


def ums(base_url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "ums_cli", "--endpoint", base_url, *args], capture_output=True, text=True, timeout=60
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_help_lists_every_command(base_url: str) -> None:
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
        "signing-keys",
        "oauth-providers",
        "outbox",
        "users",
    ):
        assert word in out


def test_apply_is_idempotent(base_url: str, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    first = json.loads(ums(base_url, "--json", "apply", str(config)).stdout)
    assert len(first["created"]) == 5 and not first["updated"]
    second = json.loads(ums(base_url, "--json", "apply", str(config)).stdout)
    assert second["created"] == [] and second["updated"] == [] and len(second["unchanged"]) == 5
    config.write_text(CONFIG.replace("https://cli.example.com/reset", "https://cli.example.com/new"))
    third = json.loads(ums(base_url, "--json", "apply", str(config)).stdout)
    assert third["updated"] == ["applications/cli-app"]


def test_seed_flow_key_policy_select_suspend_delete(base_url: str) -> None:
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
    found = json_lines(
        ums(base_url, "--json", "users", "find", f"active = true and email = {email}", "--key", credentials).stdout
    )
    assert [u["email"] for u in found] == [email]
    suspended = json_lines(
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
    deleted = json_lines(
        ums(base_url, "--json", "users", "delete", "active = false", "--key", credentials, "--yes").stdout
    )
    assert email in [u["email"] for u in deleted]


def test_integration_test_and_mail(base_url: str) -> None:
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


def test_exit_codes_scripts_can_trust(base_url: str) -> None:
    assert ums(base_url, "integrations", "get", "no-such-id", check=False).returncode == 1
    assert "No integration" in ums(base_url, "integrations", "get", "no-such-id", check=False).stderr
    assert ums(base_url, "users", "find", "age ~ 3", "--key", "k:s", check=False).returncode == 2
    assert ums(base_url, "users", "find", "age = 3", "--key", "k:s", check=False).returncode == 1  # unknown key
    assert ums(base_url, "nonsense", check=False).returncode == 2
    assert ums("http://127.0.0.1:9", "integrations", "list", check=False).returncode == 3


# --- issue 7: the command line as a new user meets it --------------------------------------------


def aws_client(base_url: str, service: Literal["secretsmanager", "dynamodb"]) -> Any:
    """A boto3 client on the local stack's AWS emulator (dummy credentials, its region)."""
    import boto3

    health = requests.get(f"{base_url}/_local/health", timeout=5).json()
    return boto3.client(
        service,
        endpoint_url=health["aws_endpoint"],
        region_name=health["region"],
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def stored_password(base_url: str, integration_id: str) -> str:
    secrets = aws_client(base_url, "secretsmanager")
    [name] = [s["Name"] for s in secrets.list_secrets()["SecretList"] if s["Name"].endswith(f"/{integration_id}")]
    return str(secrets.get_secret_value(SecretId=name)["SecretString"])


def json_lines(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines()]


SMTP_CONFIG = """
integrations:
  - name: CLI SMTP
    type: smtp
    sender: no-reply@example.com
    host: 127.0.0.1
    port: 2525
    username: mailer
    password: {password}
"""


def test_apply_sends_a_password_to_an_existing_integration_and_never_prints_it(base_url: str, tmp_path: Path) -> None:
    config = tmp_path / "smtp.yaml"
    config.write_text(SMTP_CONFIG.format(password="first-secret"))
    assert json.loads(ums(base_url, "--json", "apply", str(config)).stdout)["created"] == ["integrations/CLI SMTP"]
    [integration] = [
        i for i in json_lines(ums(base_url, "--json", "integrations", "list").stdout) if i["name"] == "CLI SMTP"
    ]
    assert stored_password(base_url, integration["id"]) == "first-secret"

    config.write_text(SMTP_CONFIG.format(password="rotated-secret"))
    rotated = ums(base_url, "apply", str(config)).stdout
    assert rotated.startswith("updated    integrations/CLI SMTP") and "secret" not in rotated.replace(
        "password sent", ""
    )
    assert "rotated-secret" not in rotated and "first-secret" not in rotated
    assert stored_password(base_url, integration["id"]) == "rotated-secret"

    # Without a password in the file the stored one is kept and nothing is sent.
    config.write_text(SMTP_CONFIG.split("    password:")[0])
    kept = json.loads(ums(base_url, "--json", "apply", str(config)).stdout)
    assert kept["unchanged"] == ["integrations/CLI SMTP"] and kept["passwords"] == []
    assert stored_password(base_url, integration["id"]) == "rotated-secret"


def stored_client_secret(base_url: str, name: str) -> str:
    secrets = aws_client(base_url, "secretsmanager")
    names = [s["Name"] for s in secrets.list_secrets()["SecretList"]]
    [secret] = [n for n in names if n.endswith(f"oauth-providers/{name}")]
    return str(secrets.get_secret_value(SecretId=secret)["SecretString"])


def test_oauth_providers_are_a_resource_and_never_print_their_secret(base_url: str, tmp_path: Path) -> None:
    data = tmp_path / "github.json"
    provider = {"name": "cli-gh", "preset": "github", "client_id": "Iv1.cli", "client_secret": "cli-secret"}
    data.write_text(json.dumps({**provider, "redirects": ["https://app.example.com/cb"]}))
    created = json.loads(ums(base_url, "--json", "oauth-providers", "create", "--data", f"@{data}").stdout)
    assert created["name"] == created["id"] == "cli-gh" and created["has_client_secret"] is True
    assert created["token_endpoint"] == "https://github.com/login/oauth/access_token"
    listed = ums(base_url, "oauth-providers", "list").stdout
    assert "cli-gh" in listed and "cli-secret" not in listed
    assert "cli-secret" not in ums(base_url, "oauth-providers", "get", "cli-gh").stdout
    assert stored_client_secret(base_url, "cli-gh") == "cli-secret"
    ums(base_url, "oauth-providers", "delete", "cli-gh")
    gone = ums(base_url, "oauth-providers", "get", "cli-gh", check=False)
    assert gone.returncode == 1 and "No oauth-provider 'cli-gh'" in gone.stderr


OAUTH_CONFIG = """
oauth_providers:
  - preset: google
    client_id: 123-cli.apps.googleusercontent.com
    redirects: [https://app.example.com/oauth/callback]
"""


def test_apply_configures_an_oauth_provider_from_a_preset_and_sends_its_secret_every_time(
    base_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "oauth.yaml"
    config.write_text(OAUTH_CONFIG)
    first = json.loads(ums(base_url, "--json", "apply", str(config)).stdout)
    assert first["created"] == ["oauth_providers/google"]
    again = json.loads(ums(base_url, "--json", "apply", str(config)).stdout)
    assert again["unchanged"] == ["oauth_providers/google"]  # the preset's fields do not count as changes
    config.write_text(OAUTH_CONFIG + "    client_secret: GOCSPX-cli-secret\n")
    sent = ums(base_url, "apply", str(config)).stdout
    assert sent.startswith("updated    oauth_providers/google (client secret sent")
    assert "GOCSPX" not in sent
    assert stored_client_secret(base_url, "google") == "GOCSPX-cli-secret"
    stored = json.loads(ums(base_url, "--json", "oauth-providers", "get", "google").stdout)
    assert stored["issuer"] == "https://accounts.google.com" and stored["has_client_secret"] is True


def test_a_key_id_starting_with_a_dash_still_works_after_double_dash(base_url: str) -> None:
    """Keys made before ids became hex may start with '-'; they keep working, and `--` reaches them."""
    import hashlib

    dynamodb = aws_client(base_url, "dynamodb")
    [table] = [t for t in dynamodb.list_tables()["TableNames"] if "ConfigTable" in t]
    key, secret = f"-legacy{uuid.uuid4().hex[:8]}", "legacy-secret"
    data = {"description": {"S": "legacy"}, "secret_hash": {"S": hashlib.sha256(secret.encode()).hexdigest()}}
    now = {"S": "2024-01-01T00:00:00.000000Z"}
    item = {"kind": {"S": "apikey"}, "id": {"S": key}, "data": {"M": data}, "created_at": now, "updated_at": now}
    dynamodb.put_item(TableName=table, Item=item)

    assert json.loads(ums(base_url, "--json", "keys", "get", "--", key).stdout)["key"] == key
    signed_in = requests.post(f"{base_url}/auth", json={"method": "apk", "key": key, "secret": secret}, timeout=10)
    assert signed_in.status_code == 200
    assert json.loads(ums(base_url, "--json", "keys", "delete", "--", key).stdout) == {"deleted": f"keys/{key}"}


def test_new_key_ids_never_look_like_options(base_url: str) -> None:
    for _ in range(10):
        key = json.loads(ums(base_url, "--json", "keys", "create", "--data", "{}").stdout)["key"]
        assert not key.startswith("-") and key.isalnum()
        assert json.loads(ums(base_url, "--json", "keys", "get", key).stdout)["key"] == key
        ums(base_url, "keys", "delete", key)


def test_local_file_errors_are_usage_errors_in_one_line(base_url: str, tmp_path: Path) -> None:
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("integrations: [\n")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("integration:\n  - name: x\n")
    for args in (
        ("keys", "create", "--data", f"@{tmp_path / 'missing.json'}"),
        ("apply", str(tmp_path / "missing.yaml")),
        ("apply", str(bad_yaml)),
        ("apply", str(unknown)),
        ("keys", "create", "--data", f"@{bad_yaml}"),
    ):
        result = ums(base_url, *args, check=False)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("ums: ") and "HTTP" not in result.stderr and "Traceback" not in result.stderr
    assert "missing.yaml" in ums(base_url, "apply", str(tmp_path / "missing.yaml"), check=False).stderr


def test_apply_and_integration_test_print_a_clean_summary(base_url: str, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("applications:\n  - name: cli-clean\n    reset_url: https://clean.example.com/reset\n")
    assert ums(base_url, "apply", str(config)).stdout.splitlines() == ["created    applications/cli-clean"]
    assert ums(base_url, "apply", str(config)).stdout.splitlines() == ["unchanged  applications/cli-clean"]
    integration = json.loads(
        ums(
            base_url,
            "--json",
            "integrations",
            "create",
            "--data",
            '{"name": "clean", "type": "ses", "sender": "no-reply@example.com"}',
        ).stdout
    )
    out = ums(base_url, "integrations", "test", integration["id"], "--to", "clean@example.com").stdout
    assert not out.startswith("None") and "message_id: " in out and "to: clean@example.com" in out


def test_json_output_is_json_lines_everywhere(base_url: str, tmp_path: Path) -> None:
    ums(base_url, "keys", "create", "--data", '{"description": "lines one"}')
    ums(base_url, "keys", "create", "--data", '{"description": "lines two"}')
    keys = json_lines(ums(base_url, "--json", "keys", "list").stdout)
    assert len(keys) >= 2 and all(isinstance(k, dict) for k in keys)  # one object per line, not an array
    one = ums(base_url, "keys", "get", keys[0]["key"], "--json").stdout
    assert len(one.splitlines()) == 1 and json.loads(one)["key"] == keys[0]["key"]
    config = tmp_path / "empty.yaml"
    config.write_text("")
    summary = ums(base_url, "--json", "apply", str(config)).stdout
    assert len(summary.splitlines()) == 1 and json.loads(summary)["created"] == []
    assert all(isinstance(m, dict) for m in json_lines(ums(base_url, "--json", "mail").stdout))


def test_mail_follow_ends_quietly_on_ctrl_c(base_url: str) -> None:
    import signal

    integration = json.loads(
        ums(
            base_url,
            "--json",
            "integrations",
            "create",
            "--data",
            '{"name": "follow", "type": "ses", "sender": "no-reply@example.com"}',
        ).stdout
    )
    ums(base_url, "integrations", "test", integration["id"], "--to", "follow@example.com")
    process = subprocess.Popen(
        [sys.executable, "-m", "ums_cli", "--endpoint", base_url, "--json", "mail", "--follow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    try:
        assert json.loads(process.stdout.readline())["id"]  # it is following
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode in (0, 130) and "Traceback" not in stderr and "KeyboardInterrupt" not in stderr


@pytest.fixture()
def deleter(base_url: str) -> tuple[str, str]:
    """An API key with read and delete policies, and a fresh user to aim at."""
    key = json.loads(ums(base_url, "--json", "keys", "create", "--data", '{"description": "deleter"}').stdout)
    policy = {
        "description": "deleter",
        "subjects": [f"apk:{key['key']}"],
        "resources": ["ums.users"],
        "actions": {"read": [], "delete": []},
    }
    ums(base_url, "policies", "create", "--data", json.dumps(policy))
    email = f"doomed-{uuid.uuid4().hex[:8]}@example.com"
    requests.post(
        f"{base_url}/ums/signup", json={"email": email, "password": "correct horse battery staple"}, timeout=10
    )
    return f"--key={key['key']}:{key['secret']}", email


def test_users_delete_without_yes_and_without_a_terminal_refuses(base_url: str, deleter: tuple[str, str]) -> None:
    key, email = deleter

    def found() -> list[Any]:
        return json_lines(ums(base_url, "--json", "users", "find", f"email = {email}", key).stdout)

    result = subprocess.run(
        [sys.executable, "-m", "ums_cli", "--endpoint", base_url, "users", "delete", f"email = {email}", key],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "1 user matches" in result.stderr and "--yes" in result.stderr
    assert [u["email"] for u in found()] == [email]

    dry = ums(base_url, "--json", "users", "delete", f"email = {email}", key, "--dry-run")
    assert [u["email"] for u in json_lines(dry.stdout)] == [email] and "nothing deleted" in dry.stderr
    assert [u["email"] for u in found()] == [email]

    deleted = json_lines(ums(base_url, "--json", "users", "delete", f"email = {email}", key, "--yes").stdout)
    assert [u["email"] for u in deleted] == [email] and found() == []


def test_an_unquoted_word_in_a_condition_is_an_error_that_suggests_quoting(base_url: str) -> None:
    typo = ums(base_url, "users", "find", "active = tru", "--key", "k:s", check=False)
    assert typo.returncode == 2 and "did you mean true?" in typo.stderr and "quote" in typo.stderr
    # quoted words and clearly-string words get past the parser (then the made-up key is refused: 1)
    assert ums(base_url, "users", "find", "country = 'NL'", "--key", "k:s", check=False).returncode == 1
    assert ums(base_url, "users", "find", "email = ann@example.com", "--key", "k:s", check=False).returncode == 1


def test_make_demo_walks_sign_up_verify_page_reset_page_and_sign_in(base_url: str) -> None:
    port = base_url.rsplit(":", 1)[1]
    env = {k: v for k, v in os.environ.items() if k != "UMS_URL"}
    env["UMS_LOCAL_PORT"] = port
    run = subprocess.run(
        [sys.executable, "-m", "local_stack.demo"], capture_output=True, text=True, timeout=120, env=env
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith(f"Using the local stack at {base_url}\n")
    for line in (
        f"Link: {base_url}/pages/verify?token=",
        f"POST {base_url}/pages/verify -> 200: Email address verified",
        f"Link: {base_url}/pages/reset?accountId=ums&customerId=",
        f"POST {base_url}/pages/reset -> 200: Password changed",
        "POST /auth -> 401",
        "email_verified: True",
    ):
        assert line in run.stdout, run.stdout


def test_signing_keys_list_and_rotate(base_url: str) -> None:
    """`ums signing-keys` lists ids and times; `rotate --now` signs every earlier token out;
    `rotate` publishes a key that signs 2 h later, and refuses a second rotation meanwhile."""
    import jwt

    def kid_of(token: str) -> str:
        return str(jwt.get_unverified_header(token)["kid"])

    email = f"keys-{uuid.uuid4().hex[:8]}@example.com"
    credentials = {"method": "ums", "email": email, "password": "correct horse battery staple"}
    requests.post(f"{base_url}/ums/signup", json=credentials, timeout=10).raise_for_status()
    old_token = requests.post(f"{base_url}/auth", json=credentials, timeout=10).json()["access_token"]

    [summary] = json_lines(ums(base_url, "--json", "signing-keys").stdout)
    assert summary["issuer"] == base_url and kid_of(old_token) in [k["kid"] for k in summary["keys"] if k["current"]]
    table = ums(base_url, "signing-keys", "list").stdout.splitlines()
    assert table[0] == f"issuer: {base_url}" and table[1].split() == ["KID", "CURRENT", "CREATED", "SIGNS", "FROM",
                                                                      "RETIRES"]  # fmt: skip
    assert any(line.startswith(kid_of(old_token)) and "  yes  " in line for line in table[2:]), table

    out = ums(base_url, "signing-keys", "rotate", "--now").stdout
    [summary] = json_lines(ums(base_url, "--json", "signing-keys").stdout)
    [key] = summary["keys"]
    assert f"rotated now: {key['kid']} signs" in out and key["kid"] != kid_of(old_token) and key["current"]
    user = requests.get(f"{base_url}/ums/user", headers={"authorization": f"Bearer {old_token}"}, timeout=10)
    assert user.status_code == 401  # signed by a dropped key
    new_token = requests.post(f"{base_url}/auth", json=credentials, timeout=10).json()["access_token"]
    assert kid_of(new_token) == key["kid"]

    [rotated] = json_lines(ums(base_url, "--json", "signing-keys", "rotate").stdout)
    current, pending = rotated["keys"]
    assert (current["kid"], current["current"], pending["current"]) == (key["kid"], True, False)
    assert pending["signs_from"] == pending["created_at"] + 2 * 3600 and current["retire_at"] is not None
    jwks = requests.get(f"{base_url}/.well-known/jwks.json", timeout=10).json()
    assert [k["kid"] for k in jwks["keys"]] == [pending["kid"], key["kid"]]
    user = requests.get(f"{base_url}/ums/user", headers={"authorization": f"Bearer {new_token}"}, timeout=10)
    assert user.status_code == 200  # a plain rotation signs nobody out

    again = ums(base_url, "signing-keys", "rotate", check=False)
    assert again.returncode == 1 and again.stderr.startswith("ums: HTTP 409: A rotation is already under way")
    misuse = ums(base_url, "signing-keys", "list", "--now", check=False)
    assert misuse.returncode == 2 and misuse.stderr == "ums: --now goes with signing-keys rotate\n"
    for run in (out, again.stdout, again.stderr, ums(base_url, "--json", "signing-keys").stdout):
        assert "PRIVATE KEY" not in run and "private_key" not in run


def test_outbox_shows_a_mail_that_failed_and_why(base_url: str) -> None:
    """A mail AWS refuses is listed by `ums outbox`, with the reason: a sender outside the mail
    function's SES permissions (MailSender, MailIdentityArns) is refused by IAM, as in AWS, before
    SES would reject the unverified identity."""
    integration = {"name": "unverified", "type": "ses", "sender": "nobody@unverified.example"}
    [created] = json_lines(ums(base_url, "--json", "integrations", "create", "--data", json.dumps(integration)).stdout)
    automation = {"name": "bye", "event": "AfterUserDelete", "integration_id": created["id"],
                  "subject": "Bye", "body": "<p>bye</p>"}  # fmt: skip
    [bye] = json_lines(ums(base_url, "--json", "automations", "create", "--data", json.dumps(automation)).stdout)
    try:
        email = f"outbox-{uuid.uuid4().hex[:8]}@example.com"
        credentials = {"method": "ums", "email": email, "password": "correct horse battery staple"}
        requests.post(f"{base_url}/ums/signup", json=credentials, timeout=10).raise_for_status()
        token = requests.post(f"{base_url}/auth", json=credentials, timeout=10).json()["access_token"]
        headers = {"authorization": f"Bearer {token}"}
        requests.delete(f"{base_url}/ums/user", json={"password": credentials["password"]}, headers=headers, timeout=10)
        mine: list[dict[str, Any]] = []
        for _ in range(100):  # the stream poller runs every 100 ms
            mine = [e for e in json_lines(ums(base_url, "--json", "outbox").stdout) if e["user"]["email"] == email]
            if mine:
                break
        [failed] = mine
        assert failed["event"] == "AfterUserDelete" and failed["status"] == "failed"
        assert failed["reason"].startswith(f"{bye['id']}: SES AccessDeniedException")
        assert "not authorized to perform: ses:SendEmail on resource: " in failed["reason"]
        assert "identity/nobody@unverified.example" in failed["reason"]
        [one] = json_lines(ums(base_url, "--json", "outbox", "get", failed["id"]).stdout)
        assert one == failed
        assert "failed" in ums(base_url, "outbox", "get", failed["id"]).stdout
        refused = ums(base_url, "outbox", "get", "no-such-event", check=False)
        assert refused.returncode == 1 and "No event 'no-such-event'" in refused.stderr
        assert ums(base_url, "outbox", "get", check=False).returncode == 2
    finally:
        ums(base_url, "automations", "delete", bye["id"])
        ums(base_url, "integrations", "delete", created["id"])
