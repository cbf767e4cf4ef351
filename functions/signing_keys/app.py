"""The SigningKey custom resource (deploy: records the issuer, makes the first RSA signing key,
reports the runtime's AWS SDK) and the optional scheduled rotation (`SigningKeyRotationDays`)."""

import time
from typing import Any

from ums import custom_resource, runtime_sdk, signing_keys
from ums.errors import Conflict
from ums.observability import logger


def _deploy(properties: dict[str, Any]) -> dict[str, Any]:
    keys = signing_keys.ensure(str(properties["Issuer"]))
    return {"Issuer": keys["issuer"], "RuntimeSdk": runtime_sdk.report()}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "RequestType" in event:  # from CloudFormation
        return custom_resource.respond(event, context, _deploy)
    try:
        return signing_keys.rotate()  # the schedule
    except Conflict as pending:  # an operator's rotation is still under way: this one is not needed
        logger.info("Scheduled rotation skipped", extra={"reason": pending.message})
        return signing_keys.summary(signing_keys.key_set(), time.time())
