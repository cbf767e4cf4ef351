"""Fixtures shared by the unit and integration tests (helpers.py sets the environment first)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import STACK, reset_aws_clients, sign_in, sign_up
from moto import mock_aws

from local_stack.aws import create_resources


@pytest.fixture
def aws() -> Iterator[None]:
    """moto in this process with the resources of template.yaml."""
    with mock_aws():
        create_resources(STACK)
        reset_aws_clients()
        yield


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
