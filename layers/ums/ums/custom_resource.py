"""CloudFormation custom resources: run the resource's step, then tell CloudFormation how it went.

CloudFormation waits (up to an hour) for a PUT of the result to the pre-signed `ResponseURL`, so
every request gets an answer, failures included; a Delete always succeeds, or the stack could
not be deleted. `Data` is readable by anyone who can describe the stack: never put a secret in it.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

from ums.observability import logger

RESPONSE_TIMEOUT_SECONDS = 10


def respond(event: dict[str, Any], context: Any, step: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """Runs `step(properties)` for a Create or Update (nothing for a Delete) and PUTs the answer."""
    request_type = event.get("RequestType")
    status, reason, data = "SUCCESS", "", {}
    try:
        if request_type in ("Create", "Update"):
            data = step(event.get("ResourceProperties") or {})
    except Exception as err:
        logger.exception("Custom resource failed", extra={"request_type": request_type})
        status, reason = "FAILED", f"{type(err).__name__}: {err}"
    answer = {
        "Status": status,
        "Reason": reason or f"See CloudWatch log stream {getattr(context, 'log_stream_name', '')}",
        "PhysicalResourceId": event.get("PhysicalResourceId") or event.get("LogicalResourceId", "resource"),
        "StackId": event.get("StackId", ""),
        "RequestId": event.get("RequestId", ""),
        "LogicalResourceId": event.get("LogicalResourceId", ""),
        "Data": data,
    }
    body = json.dumps(answer).encode("utf-8")
    # The pre-signed URL is signed for an empty Content-Type.
    request = urllib.request.Request(  # noqa: S310 (CloudFormation's https URL)
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_SECONDS):  # noqa: S310
        pass
    logger.info("Custom resource answered", extra={"request_type": request_type, "status": status})
    return answer
