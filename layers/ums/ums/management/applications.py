"""/management/applications: per app, where mailed links point, how its mails are tagged, and
the hosted pages' branding."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ums.errors import BadRequest
from ums.inputs import optional_string, reject_unknown_fields
from ums.management import common
from ums.store.records import APPLICATIONS, ApplicationData

URL_FIELDS = ("reset_url", "after_reset_url", "after_verify_url", "logo_url")
COLOUR_FIELDS = ("brand_color", "background_color")
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")  # only this reaches the pages' CSS


def validate(body: dict[str, Any], name: str) -> ApplicationData:
    """An application as stored, or a 400: https URLs, #rrggbb colours, tags as strings. Without
    a `reset_url`, its reset and invitation links open the hosted page with its branding."""
    reject_unknown_fields(body, {"name", "email_tags", "email_template", "display_name", *URL_FIELDS, *COLOUR_FIELDS})
    tags = body.get("email_tags", [])
    valid_list = isinstance(tags, list) and all(isinstance(t, str) for t in tags)
    valid_map = isinstance(tags, dict) and all(isinstance(v, str) for v in tags.values())
    if not (valid_list or valid_map):
        raise BadRequest("Field 'email_tags' must be a list of strings or an object of strings")
    application: dict[str, Any] = {
        "name": name,
        "email_tags": tags,
        "email_template": optional_string(body, "email_template"),
    }
    optional = {"display_name": optional_string(body, "display_name")}
    optional.update((url_field, _https_url(body, url_field)) for url_field in URL_FIELDS)
    for colour_field in COLOUR_FIELDS:
        colour = optional.setdefault(colour_field, optional_string(body, colour_field))
        if colour is not None and not COLOUR.fullmatch(colour):
            raise BadRequest(f"Field '{colour_field}' must be a colour as #rrggbb")
    application.update((k, v) for k, v in optional.items() if v is not None)  # absent, not null
    return application  # type: ignore[return-value]  # the keys ApplicationData declares


def _https_url(body: dict[str, Any], name: str) -> str | None:
    url = optional_string(body, name)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or parts.fragment or any(c in url for c in "\"'<> "):
        raise BadRequest(f"Field '{name}' must be an https URL without a fragment")
    return url


router = common.crud_router(APPLICATIONS, validate, named=True)
