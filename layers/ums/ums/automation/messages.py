"""Messages from the bus: Quicksilver's `user.password_reset.transactional`.

The message is validated, the user found by email, a token issued (through the same reset
request as the API, so the outbox mails it) — once per message id, however often it arrives.
An invalid message is logged and dropped: retrying cannot fix it.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict, cast

from aws_lambda_powertools.metrics import MetricUnit

from ums.automation.idempotency import once_per
from ums.errors import NotFound, TooManyRequests, UmsError
from ums.observability import logger, metrics
from ums.resets import request_reset
from ums.store import users as user_store
from ums.users import email_key, normalize_email

PASSWORD_RESET_DETAIL_TYPE = "user.password_reset.transactional"
REQUIRED = {
    "activity": str,
    "email": str,
    "user_country": str,
    "user_language": str,
    "application_id": str,
    "email_tags": list,
}


class ResetDetail(TypedDict):
    """The `detail` of a valid message, as `validate` returns it (merge_vars made an object)."""

    activity: str
    activity_timestamp: int | float
    uid: int | str
    email: str
    user_country: str
    user_language: str
    application_id: str
    email_tags: list[str]
    email_template: NotRequired[str]
    merge_vars: dict[str, Any]


class InvalidMessage(ValueError):
    pass


def handle(message: dict[str, Any]) -> dict[str, str]:
    """Handles one EventBridge event; returns what became of it."""
    try:
        detail = validate(message)
    except InvalidMessage as err:
        metrics.add_metric(name="InvalidMessages", unit=MetricUnit.Count, value=1)
        logger.warning("Invalid message dropped", extra={"message_id": message.get("id"), "reason": str(err)})
        return {"status": "dropped", "reason": str(err)}
    return _issue_once(message={"id": str(message.get("id")), "detail": detail})


def validate(message: dict[str, Any]) -> ResetDetail:
    """The message's detail, checked field by field: the one place this shape is validated."""
    if message.get("detail-type") != PASSWORD_RESET_DETAIL_TYPE:
        raise InvalidMessage(f"detail-type must be {PASSWORD_RESET_DETAIL_TYPE!r}")
    detail = message.get("detail")
    if not isinstance(detail, dict):
        raise InvalidMessage("detail must be an object")
    for name, kind in REQUIRED.items():
        if not isinstance(detail.get(name), kind):
            raise InvalidMessage(f"detail.{name} is required and must be a {kind.__name__}")
    if detail["activity"] != "user_password":
        raise InvalidMessage("detail.activity must be 'user_password'")
    if not isinstance(detail.get("activity_timestamp"), int | float) or isinstance(
        detail.get("activity_timestamp"), bool
    ):
        raise InvalidMessage("detail.activity_timestamp is required and must be a Unix timestamp")
    if not isinstance(detail.get("uid"), int | str) or isinstance(detail.get("uid"), bool):
        raise InvalidMessage("detail.uid is required")
    if not all(isinstance(tag, str) for tag in detail["email_tags"]):
        raise InvalidMessage("detail.email_tags must be strings")
    if "email_template" in detail and not isinstance(detail["email_template"], str):
        raise InvalidMessage("detail.email_template must be a string")
    try:
        normalize_email(detail["email"])
    except UmsError as err:
        raise InvalidMessage(err.message) from None
    detail["merge_vars"] = _merge_vars(detail.get("merge_vars"))
    return cast(ResetDetail, detail)


def _merge_vars(value: Any) -> dict[str, Any]:
    """Mandrill's `[{"name": "FNAME", "content": "Ann"}]`, or a plain object."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    if isinstance(value, list) and all(isinstance(v, dict) and "name" in v for v in value):
        return {str(v["name"]): v.get("content") for v in value}
    raise InvalidMessage("detail.merge_vars must be an object or a list of {name, content}")


def _issue(*, message: dict[str, Any]) -> dict[str, str]:
    detail: ResetDetail = message["detail"]
    email = normalize_email(detail["email"])
    user = user_store.find_by_email(email_key(email))
    try:
        request_reset(
            user,
            email,
            application=detail["application_id"],
            email_template=detail.get("email_template"),
            locale=detail["user_language"],
            country=detail["user_country"],
            merge_vars=detail["merge_vars"],
            email_tags=detail["email_tags"],
        )
    except (NotFound, TooManyRequests) as err:
        logger.warning("Reset message not acted on", extra={"message_id": message["id"], "reason": err.message})
        return {"status": "dropped", "reason": err.message}
    return {"status": "issued"}


# One token per bus message, however often it is delivered.
_issue_once = once_per("message")(_issue)
