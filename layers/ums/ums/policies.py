"""Who may use `/ums/users`: policies whose subjects match the caller and whose actions include
the one asked for. Subjects are literal (`ums:<id>` written plainly, `apk:<key>`) or a pattern
between angle brackets (`ums:<.*>` is every user). No policy, no access."""

from __future__ import annotations

import re
from typing import Any

from ums.errors import BadRequest, Forbidden
from ums.store import config as config_store
from ums.store.records import POLICIES, PolicyRules

RESOURCE = "ums.users"
RESOURCES = (RESOURCE,)
ACTIONS = ("create", "read", "update", "delete")
SUBJECT_PATTERN = re.compile(r"^(ums|apk):(<[^<>]+>|[A-Za-z0-9_-]+)$")


def rules(subjects: Any, resources: Any, actions: Any) -> PolicyRules:
    """A policy's rules as stored, or a 400 naming the field: `subjects` are `ums:<id>`,
    `ums:<.*>`, `apk:<key>` or `apk:<.*>` (a pattern between angle brackets must compile),
    `resources` among RESOURCES, `actions` an object whose keys are among ACTIONS."""
    if not isinstance(subjects, list) or not subjects or not all(isinstance(s, str) for s in subjects):
        raise BadRequest("Field 'subjects' must be a non-empty list such as [\"ums:<.*>\"]")
    for subject in subjects:
        if not SUBJECT_PATTERN.match(subject):
            raise BadRequest(f"Subject '{subject}' must be ums:<user id>, ums:<.*>, apk:<key> or apk:<.*>")
        if subject.endswith(">"):
            try:
                re.compile(subject[5:-1])
            except re.error as err:
                raise BadRequest(f"Subject '{subject}': invalid pattern: {err}") from None
    if not isinstance(resources, list) or not resources or any(r not in RESOURCES for r in resources):
        raise BadRequest(f"Field 'resources' must be a list of: {', '.join(RESOURCES)}")
    if not isinstance(actions, dict) or not actions or any(a not in ACTIONS for a in actions):
        raise BadRequest(
            f"Field 'actions' must be an object with keys among {', '.join(ACTIONS)}, e.g. {{\"read\": []}}"
        )
    return {"subjects": subjects, "resources": resources, "actions": {a: [] for a in actions}}


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
    for policy in config_store.list_all(POLICIES):
        if (
            RESOURCE in policy.get("resources", [])
            and action in policy.get("actions", {})
            and any(subject_matches(p, subject) for p in policy.get("subjects", []))
        ):
            return
    raise Forbidden(f"No policy allows {subject} to {action} {RESOURCE}")
