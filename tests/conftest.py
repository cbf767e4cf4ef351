"""Fixtures shared by the unit and integration tests (helpers.py sets the environment first)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from functools import cache
from typing import Any

import botocore.loaders
import botocore.session
import moto.kms.models
import moto.kms.utils
import pytest
from helpers import FUNCTIONS, STACK, reset_aws_clients, sign_in, sign_up
from moto import mock_aws
from moto.core.config import DefaultConfig
from ums import signing_keys

from local_stack.aws import create_resources, prepare_in_process_moto

# Every test gets fresh emulated AWS (moto's backends are reset on entry), built from template.yaml.
# Two costs that say nothing about the service are paid once per session instead of per test:
# boto3's default session (each new one parses the service models again), and the RSA key moto
# makes for every KMS key, symmetric ones included, which only asymmetric Sign/Verify would use.
FRESH_BACKENDS_SAME_SESSION: DefaultConfig = {"core": {"reset_boto3_session": False}, "lambda": {"use_docker": False}}
# (models.py imports the function by name: that name is the one to replace, though not exported.)
moto.kms.models.generate_private_key = cache(moto.kms.utils.generate_private_key)  # type: ignore[attr-defined]
# The same for the stack's access-token signing keys, made by the SigningKey custom resource in
# every test's fresh emulator: taken in turn from a few made once, so consecutive keys still differ.
_SIGNING_KEYS = itertools.cycle([signing_keys.generate_private_key() for _ in range(4)])
signing_keys.generate_private_key = lambda: next(_SIGNING_KEYS)
prepare_in_process_moto()  # threads of a handler (the users scan, the import) and of a test
# PynamoDB keeps a botocore session per thread, and each test's fresh connections (reset_aws_clients)
# make the store's pool threads (a scan's segments, which every stack's UsersIndex custom resource
# reads) build new sessions: each would read botocore's service models from disk again. One data
# loader for every session reads each model once per process.
_LOADER = botocore.loaders.create_loader()
botocore.session.create_loader = lambda *_: _LOADER


@pytest.fixture
def aws() -> Iterator[None]:
    """moto in this process with the resources of template.yaml."""
    with mock_aws(config=FRESH_BACKENDS_SAME_SESSION):
        reset_aws_clients()
        create_resources(STACK, FUNCTIONS)
        yield


@pytest.fixture
def real_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The service's own Argon2id parameters instead of the suite's cheap ones (UMS_TEST_FAST_HASHING)."""
    from ums import passwords
    from ums.config import settings

    def forget() -> None:
        settings.cache_clear()
        passwords._hasher.cache_clear()
        passwords._dummy_hash.cache_clear()

    monkeypatch.delenv("UMS_TEST_FAST_HASHING")
    forget()
    yield
    monkeypatch.undo()
    forget()


@pytest.fixture
def user(aws: None) -> dict[str, Any]:
    """A signed-up user and a session of theirs: record plus tokens."""
    record = sign_up().body
    tokens = sign_in().body
    return {**record, **tokens}


@pytest.fixture
def server_key(aws: None) -> str:
    """`<key>:<secret>` of a fresh API key, as X-API-KEY takes it."""
    from ums import api_keys

    created = api_keys.create("tests")
    return f"{created['key']}:{created['secret']}"


@pytest.fixture
def setting(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """`setting("EMAIL_VERIFICATION", "required")`: a setting of the functions changed for one test."""
    from ums.config import settings

    def change(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        settings.cache_clear()

    yield change
    monkeypatch.undo()
    settings.cache_clear()
