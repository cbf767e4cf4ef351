"""Secrets operators give the management API: SMTP passwords of integrations, client secrets
of OAuth providers, and the signer keys of imported Firebase password hashes. Kept in Secrets
Manager under a per-kind prefix, never in the config table
(which records only that there is one), never returned.

The management API writes them; their readers (mail sending, the OAuth code exchange) read them
through Powertools' parameters cache (MAX_AGE seconds), so a busy function does not call Secrets
Manager every time. A write refreshes the cache of the process that wrote; another process may
still hold the previous value for up to MAX_AGE seconds, which is why a reader whose secret is
refused tries once more with a fresh read (`ums.automation.mail`, `ums.oauth.flow`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import ClientError

from ums.config import settings

MAX_AGE = 300  # seconds a read stays cached in a process


@cache
def _client() -> Any:
    return boto3.client("secretsmanager", region_name=settings().region)


class SecretStore:
    """The secrets of one kind of item, named `<prefix><item id>`."""

    def __init__(self, prefix: Callable[[], str]) -> None:
        self._prefix = prefix  # read when used: settings come from the environment of the process

    def _name(self, item_id: str) -> str:
        return f"{self._prefix()}{item_id}"

    def read(self, item_id: str, *, fresh: bool = False) -> str | None:
        """The item's secret (None when it has none); `fresh` bypasses the cache."""
        try:
            value = parameters.get_secret(self._name(item_id), max_age=MAX_AGE, force_fetch=fresh)
        except parameters.GetParameterError as err:
            # Powertools wraps the SDK error without `from`: the ClientError is the context.
            cause = err.__context__
            if isinstance(cause, ClientError) and cause.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise
        return value if isinstance(value, str) else None

    def write(self, item_id: str, secret: str) -> None:
        """Creates or replaces the secret, and refreshes this process's cache with it."""
        parameters.set_secret(self._name(item_id), secret)
        self.read(item_id, fresh=True)

    def delete(self, item_id: str) -> None:
        """Deletes the secret at once (no recovery window); nothing to do when there is none."""
        try:
            _client().delete_secret(SecretId=self._name(item_id), ForceDeleteWithoutRecovery=True)
        except ClientError as err:
            if err.response["Error"]["Code"] != "ResourceNotFoundException":
                raise


INTEGRATION_PASSWORDS = SecretStore(lambda: settings().integration_secret_prefix)
OAUTH_CLIENT_SECRETS = SecretStore(lambda: settings().oauth_secret_prefix)
HASH_KEYS = SecretStore(lambda: settings().hash_key_secret_prefix)
