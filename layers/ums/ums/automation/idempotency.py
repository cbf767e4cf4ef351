"""The one idempotency store of the automation paths (Powertools, DynamoDB): one mail per
(event, automation) and one reset per bus message, however often a delivery repeats."""

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

from ums.config import settings

IDEMPOTENCY_SECONDS = 7 * 24 * 3600
IDEMPOTENCY = IdempotencyConfig(expires_after_seconds=IDEMPOTENCY_SECONDS)
IDEMPOTENCY_STORE = DynamoDBPersistenceLayer(table_name=settings().idempotency_table)
