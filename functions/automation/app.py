"""The automation function: outbox stream batches (partial-batch answers) to mail.

Bus messages are the reset-message function's (`functions/reset_message`): this one renders
operator templates, so it has no write access to the users or tokens tables."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from ums.automation.idempotency import IDEMPOTENCY
from ums.automation.pipeline import is_due, process_stream_image
from ums.observability import logger, metrics

# An all-failed batch is answered like any other (every item listed), not raised.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def record_handler(record: DynamoDBRecord) -> None:
    # The event source mapping passes new events and those an operator sends again (a MODIFY back
    # to pending); the checks are repeated here, so status updates and TTL removals never mail.
    if not is_due(record.raw_event):
        return
    try:
        process_stream_image(record.raw_event["dynamodb"]["NewImage"])
    except Exception:
        logger.exception("Outbox record failed", extra={"event_id": record.raw_event.get("eventID")})
        raise


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    IDEMPOTENCY.register_lambda_context(context)
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
