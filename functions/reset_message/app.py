"""The reset-message function: Quicksilver's `user.password_reset.transactional` messages from
the bus become password resets (the outbox then mails them through the automation function)."""

from typing import Any

from ums.automation import messages
from ums.automation.idempotency import IDEMPOTENCY
from ums.observability import logger, metrics


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    IDEMPOTENCY.register_lambda_context(context)
    return messages.handle(event)
