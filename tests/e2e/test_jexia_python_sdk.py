"""Jexia's own Python SDK (PyPI jexia-sdk 0.0.1.dev6, Python 3.11 only) against the local stack."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

HERE = Path(__file__).parent / "jexia_sdk"


def python311() -> str | None:
    """A Python 3.11 interpreter: on PATH, else any of pyenv's 3.11.x (as scripts/find-python
    looks for 3.13), whether or not it is the active version."""
    candidates = [shutil.which("python3.11")]
    roots = [os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv")]
    if shutil.which("pyenv"):
        found = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False)
        roots.insert(0, found.stdout.strip() if found.returncode == 0 else None)
    for root in filter(None, roots):
        candidates += [str(p) for p in sorted(Path(root).glob("versions/3.11*/bin/python3.11"), reverse=True)]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "--version"], capture_output=True, check=False).returncode == 0:
            return candidate
    return None


def install(command: list[str], what: str) -> None:
    """Runs an install step; a registry that cannot be reached is a skip, not an error."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.skip(f"Jexia's Python SDK could not be installed: {what} timed out (registry unreachable?)")
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        pytest.skip(f"Jexia's Python SDK could not be installed ({what} exit {done.returncode}): {lines[-1]}")


@pytest.fixture(scope="session")
def sdk_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    interpreter = python311()
    if interpreter is None:
        pytest.skip("Jexia's Python SDK installs on Python 3.11 only, and none was found (PATH or pyenv)")
    venv = tmp_path_factory.mktemp("jexia-python-sdk") / "venv"
    install([interpreter, "-m", "venv", str(venv)], "venv")
    pip = [str(venv / "bin/python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    # As its wire notes say: its pinned PyJWT does not import on 3.10+, and it uses six undeclared.
    install([*pip, "--no-deps", "jexia-sdk==0.0.1.dev6"], "pip install jexia-sdk")
    install([*pip, "requests", "six", "PyJWT"], "pip install requests six PyJWT")
    return str(venv / "bin/python")


def test_the_jexia_python_sdk_works_unchanged(base_url: str, sdk_python: str) -> None:
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
