"""The local stack, started once for the end-to-end tests (once per pytest-xdist worker), in its own
process as `make dev` runs it, but with the test-only cheap Argon2id (UMS_TEST_FAST_HASHING)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As the machine's probe starts it: no sandbox (root), and no calls home (the network is closed).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # The example API too (GET /hello behind its JWT authorizer: test_jwt_authorizer.py).
    with local_stack(tmp_path_factory, "ExampleApi=true") as url:
        yield url


@pytest.fixture(scope="module")
def fresh_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local stack of the module's own with nothing configured, as a fresh `make dev` is."""
    with local_stack(tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="module")
def hurried_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local stack whose user selects stop after one round of scan pages
    (SELECT_DEADLINE_SECONDS=0), one page (500 items) a round (ScanSegments=1): every select of a
    larger table answers with a cursor."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SELECT_DEADLINE_SECONDS", "0")
        with local_stack(tmp_path_factory, "ScanSegments=1") as url:
            yield url


@contextmanager
def local_stack(tmp_path_factory: pytest.TempPathFactory, overrides: str = "") -> Iterator[str]:
    """A local stack of its own (its base URL), as `make dev` runs it with these parameter overrides."""
    port = free_port()
    env = {
        **os.environ,
        "UMS_LOCAL_PORT": str(port),
        "UMS_LOCAL_SMTP_PORT": str(free_port()),
        "UMS_CONSOLE_PORT": "0",  # a free one: stacks of two workers must not share 3001
        "UMS_TEST_FAST_HASHING": "1",  # a test stack; `make dev` never sets it
        "UMS_PARAMETER_OVERRIDES": overrides,
    }
    # A running `make dev` may have fixed the emulator's port: this stack takes a free one.
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "UMS_LOCAL_AWS_PORT"):
        env.pop(name, None)
    log_path = tmp_path_factory.mktemp("local-stack") / "output.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "local_stack", "serve"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    print(f"local stack output: {log_path}")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{url}/_local/health", timeout=1).status_code == 200:
                break
        except requests.RequestException:  # not listening yet, or not answering yet: keep waiting
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"local stack did not start:\n{log_path.read_text()}")
        time.sleep(0.1)
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)  # a loaded machine (stacks of two pytest-xdist workers) stops slower
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
    assert process.returncode == 0, f"the local stack did not stop cleanly:\n{log_path.read_text()[-3000:]}"


@pytest.fixture(scope="session")
def server_key(base_url: str) -> str:
    """An API key made through the management API, as `X-API-KEY` takes it."""
    created = requests.post(f"{base_url}/management/keys", json={"description": "e2e"}, timeout=10).json()
    return f"{created['key']}:{created['secret']}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (`make test` installs it when it can)."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(
            "no Chromium at /usr/bin/chromium: `make test` installs Debian's chromium package when it "
            "can (root and apt-get); without it the browser tests cannot run"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
