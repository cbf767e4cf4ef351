"""SMTP passwords of integrations: kept in Secrets Manager, never in the table, never returned.

The management API writes them; mail sending reads them through Powertools' parameters cache
(MAX_AGE seconds), so a busy mail function does not call Secrets Manager for every mail. A write
refreshes the cache of the process that wrote; another process (the mail function in AWS) may
still hold the previous password for up to MAX_AGE seconds, which is why `ums.automation.mail`
retries a refused SMTP login once with a fresh read.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import ClientError

from ums.config import settings

MAX_AGE = 300  # seconds a password read stays cached in a process


def _name(integration_id: str) -> str:
    return f"{settings().integration_secret_prefix}{integration_id}"


@cache
def _client() -> Any:
    return boto3.client("secretsmanager", region_name=settings().region)


def read(integration_id: str, *, fresh: bool = False) -> str | None:
    """The integration's password (None when it has none); `fresh` bypasses the cache."""
    try:
        value = parameters.get_secret(_name(integration_id), max_age=MAX_AGE, force_fetch=fresh)
    except parameters.GetParameterError as err:
        # Powertools wraps the SDK error without `from`: the ClientError is the context.
        cause = err.__context__
        if isinstance(cause, ClientError) and cause.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise
    return value if isinstance(value, str) else None


def write(integration_id: str, password: str) -> None:
    """Creates or replaces the password, and refreshes this process's cache with it."""
    parameters.set_secret(_name(integration_id), password)
    read(integration_id, fresh=True)


def delete(integration_id: str) -> None:
    """Deletes the password at once (no recovery window); nothing to do when there is none."""
    try:
        _client().delete_secret(SecretId=_name(integration_id), ForceDeleteWithoutRecovery=True)
    except ClientError as err:
        if err.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
