"""The one idempotency store of the automation paths (Powertools, DynamoDB): one mail per
(event, automation) and one reset per bus message, however often a delivery repeats."""

from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from ums.config import settings

IDEMPOTENCY_SECONDS = 7 * 24 * 3600
IDEMPOTENCY = IdempotencyConfig(expires_after_seconds=IDEMPOTENCY_SECONDS)
IDEMPOTENCY_STORE = DynamoDBPersistenceLayer(table_name=settings().idempotency_table)

F = TypeVar("F", bound=Callable[..., Any])


def once_per(key_argument: str) -> Callable[[F], F]:
    """Powertools' `idempotent_function` keyed on the keyword argument `key_argument`, with the
    store and expiry above. The wrapped function keeps its signature (`functools.wraps`); the
    annotation says so, which Powertools' unannotated decorator does not."""
    decorator: Callable[[F], F] = idempotent_function(
        data_keyword_argument=key_argument, config=IDEMPOTENCY, persistence_store=IDEMPOTENCY_STORE
    )
    return decorator
