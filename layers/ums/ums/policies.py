"""Who may use `/ums/users`: policies whose subjects match the caller and whose actions include
the one asked for. Subjects are literal (`ums:<id>` written plainly, `apk:<key>`) or a pattern
between angle brackets (`ums:<.*>` is every user). No policy, no access."""

from __future__ import annotations

import re

from ums.errors import Forbidden
from ums.store import config as config_store

RESOURCE = "ums.users"


def subject_matches(pattern: str, subject: str) -> bool:
    kind, _, rest = pattern.partition(":")
    subject_kind, _, subject_id = subject.partition(":")
    if kind != subject_kind:
        return False
    if rest.startswith("<") and rest.endswith(">"):
        return re.fullmatch(rest[1:-1], subject_id) is not None
    return rest == subject_id


def require(subject: str, action: str) -> None:
    """403 unless a policy lets `subject` (`ums:<id>` or `apk:<key>`) `action` the users."""
    for policy in config_store.list_all("policy"):
        if (
            RESOURCE in policy.get("resources", [])
            and action in policy.get("actions", {})
            and any(subject_matches(p, subject) for p in policy.get("subjects", []))
        ):
            return
    raise Forbidden(f"No policy allows {subject} to {action} {RESOURCE}")
