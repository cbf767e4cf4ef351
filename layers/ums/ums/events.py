"""The events of the service and the outbox records that carry them.

An event is written in the same DynamoDB transaction as the change that causes it; the events
table's stream hands it to the automation function.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from ums.clock import now_rfc3339
from ums.config import settings
from ums.store.users import User
from ums.users import public_record

COMMON_PLACEHOLDERS = ("email", "first_name", "user", "application", "project_id", "event", "merge_vars", "email_tags")


@dataclass(frozen=True)
class EventType:
    id: str
    name: str  # Jexia's display name
    routing_key: str  # Quicksilver-style, for EventBridge rules such as `*.*.transactional`
    placeholders: tuple[str, ...] = ()

    @property
    def all_placeholders(self) -> tuple[str, ...]:
        """What a template for this event can use."""
        return (*COMMON_PLACEHOLDERS, *self.placeholders)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "placeholders": list(self.all_placeholders)}


PASSWORD_RESET_REQUEST = EventType(
    "AfterPasswordResetRequest",
    "UMS: password reset request",
    "user.password_reset.transactional",
    ("token", "reset_link", "expires_at"),
)
VERIFY_PLACEHOLDERS = ("verify_token", "verify_link", "expires_at")  # while EmailVerification is not off
SIGN_UP = EventType("AfterSignUp", "UMS: user signed up", "user.sign_up.transactional", VERIFY_PLACEHOLDERS)
EMAIL_VERIFICATION_REQUEST = EventType(
    "AfterEmailVerificationRequest",
    "UMS: email verification request",
    "user.email_verification.transactional",
    VERIFY_PLACEHOLDERS,
)
EMAIL_VERIFIED = EventType("AfterEmailVerification", "UMS: email verified", "user.email_verified.transactional")
PASSWORD_CHANGE = EventType("AfterPasswordChange", "UMS: password changed", "user.password_change.transactional")
USER_DELETE = EventType("AfterUserDelete", "UMS: user deleted", "user.delete.transactional")
EMAIL_CHANGE_REQUEST = EventType(
    "AfterEmailChangeRequest",
    "UMS: email change request",
    "user.email_change.transactional",
    (*VERIFY_PLACEHOLDERS, "old_email", "new_email"),
)  # mailed to the new address
EMAIL_CHANGE = EventType(
    "AfterEmailChange", "UMS: email changed", "user.email_changed.transactional", ("old_email", "new_email")
)  # mailed to the old address
USER_INVITE = EventType(
    "AfterUserInvite", "UMS: user invited", "user.invite.transactional", ("token", "reset_link", "expires_at")
)  # the reset link sets the invited user's first password
EVENT_TYPES = {
    e.id: e
    for e in (
        PASSWORD_RESET_REQUEST,
        SIGN_UP,
        PASSWORD_CHANGE,
        USER_DELETE,
        EMAIL_VERIFICATION_REQUEST,
        EMAIL_VERIFIED,
        EMAIL_CHANGE_REQUEST,
        EMAIL_CHANGE,
        USER_INVITE,
    )
}


def find_event_type(id_or_name: str) -> EventType | None:
    """An event by id (`AfterPasswordResetRequest`) or display name (`UMS: password reset request`)."""
    return EVENT_TYPES.get(id_or_name) or next((e for e in EVENT_TYPES.values() if e.name == id_or_name), None)


def new_event(event_type: EventType, user: User, **fields: Any) -> dict[str, Any]:
    """The outbox record of `event_type` for `user` (the fields of the events table's item), for
    the store to write in the same transaction as the change. Fields given as None are left out."""
    return {
        "id": str(uuid.uuid4()),
        "event": event_type.id,
        "name": event_type.name,
        "occurred_at": now_rfc3339(),
        "routing_key": event_type.routing_key,
        "user": public_record(user),
        "expires_at": int(time.time()) + settings().event_retention_days * 86400,
        **{k: v for k, v in fields.items() if v is not None},
    }
