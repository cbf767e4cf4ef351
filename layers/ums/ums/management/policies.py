"""/management/policies: who may read, update or delete `/ums/users` (the rules: `ums.policies`)."""

from __future__ import annotations

from typing import Any

from ums import policies
from ums.inputs import optional_string, reject_unknown_fields
from ums.management import common
from ums.store.records import POLICIES, PolicyData


def validate(body: dict[str, Any]) -> PolicyData:
    """Jexia's policy: who (`ums:<id>`, `ums:<.*>`, `apk:<key>`, `apk:<.*>`) may do what to `ums.users`."""
    reject_unknown_fields(body, {"description", "subjects", "resources", "actions"})
    rules = policies.rules(body.get("subjects"), body.get("resources"), body.get("actions"))
    return {"description": optional_string(body, "description"), **rules}


router = common.crud_router(POLICIES, lambda body, _item_id: validate(body), named=False)
