"""Jexia's own Python SDK (PyPI jexia-sdk 0.0.1.dev6, Python 3.11 only) against the local stack."""

import shutil
import subprocess
from pathlib import Path

import pytest
import requests

HERE = Path(__file__).parent / "jexia_sdk"


def python311() -> str | None:
    for candidate in ("python3.11", str(Path.home() / ".pyenv/versions/3.11.7/bin/python3.11")):
        found = shutil.which(candidate) or (candidate if Path(candidate).is_file() else None)
        if found and subprocess.run([found, "--version"], capture_output=True).returncode == 0:
            return found
    return None


@pytest.fixture(scope="session")
def sdk_python(tmp_path_factory) -> str:
    interpreter = python311()
    if interpreter is None:
        pytest.skip("Jexia's Python SDK installs on Python 3.11 only, and none was found")
    venv = tmp_path_factory.mktemp("jexia-python-sdk") / "venv"
    subprocess.run([interpreter, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin/python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    # As its wire notes say: its pinned PyJWT does not import on 3.10+, and it uses six undeclared.
    subprocess.run([*pip, "--no-deps", "jexia-sdk==0.0.1.dev6"], check=True, timeout=300)
    subprocess.run([*pip, "requests", "six", "PyJWT"], check=True, timeout=300)
    return str(venv / "bin/python")


def test_the_jexia_python_sdk_works_unchanged(base_url, sdk_python):
    key = requests.post(f"{base_url}/management/keys", json={"description": "python sdk"}, timeout=10).json()
    result = subprocess.run(
        [sdk_python, str(HERE / "flow.py"), base_url, key["key"], key["secret"]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    done = [line.removeprefix("ok ") for line in result.stdout.splitlines() if line.startswith("ok ")]
    assert result.returncode == 0, result.stderr
    assert done == ["signup", "auth ums", "get user", "error format", "auth apk"]
