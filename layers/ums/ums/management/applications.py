"""/management/applications: where reset links point and how reset mails are tagged, per app."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ums.errors import BadRequest
from ums.inputs import optional_string, reject_unknown_fields, required_string
from ums.management import common
from ums.store.records import APPLICATIONS, ApplicationData


def validate(body: dict[str, Any], name: str) -> ApplicationData:
    """An application as stored, or a 400: an https reset URL, tags as strings."""
    reject_unknown_fields(body, {"name", "reset_url", "email_tags", "email_template"})
    reset_url = required_string(body, "reset_url")
    parts = urlsplit(reset_url)
    if parts.scheme != "https" or not parts.netloc or parts.fragment:
        raise BadRequest("Field 'reset_url' must be an https URL without a fragment")
    tags = body.get("email_tags", [])
    valid_list = isinstance(tags, list) and all(isinstance(t, str) for t in tags)
    valid_map = isinstance(tags, dict) and all(isinstance(v, str) for v in tags.values())
    if not (valid_list or valid_map):
        raise BadRequest("Field 'email_tags' must be a list of strings or an object of strings")
    return {
        "name": name,
        "reset_url": reset_url,
        "email_tags": tags,
        "email_template": optional_string(body, "email_template"),
    }


router = common.crud_router(APPLICATIONS, validate, named=True)
