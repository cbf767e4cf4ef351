"""The SigningKey custom resource (deploy: records the issuer, makes the first RSA signing key)
and the optional scheduled rotation (`SigningKeyRotationDays`)."""

from typing import Any

from ums import custom_resource, signing_keys
from ums.observability import logger


def _deploy(properties: dict[str, Any]) -> dict[str, Any]:
    keys = signing_keys.ensure(str(properties["Issuer"]))
    return {"Issuer": keys["issuer"]}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "RequestType" in event:  # from CloudFormation
        return custom_resource.respond(event, context, _deploy)
    return signing_keys.rotate()  # the schedule
