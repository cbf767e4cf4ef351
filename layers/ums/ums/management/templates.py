"""/management/templates: named mail templates (e.g. `mb-user-password-US`) automations refer to."""

from __future__ import annotations

from typing import Any

from ums.events import EVENT_TYPES
from ums.inputs import reject_unknown_fields, required_string
from ums.management import common
from ums.store.records import TEMPLATES, TemplateData


def validate(body: dict[str, Any], name: str) -> TemplateData:
    """A template as stored, or a 400 naming the field that does not compile."""
    from ums.automation import templates  # jinja2: imported when a mail is checked, not at cold start

    reject_unknown_fields(body, {"name", "subject", "html", "text"})
    data: TemplateData = {
        "name": name,
        "subject": required_string(body, "subject"),
        "html": required_string(body, "html"),
    }
    if body.get("text") is not None:
        data["text"] = required_string(body, "text")
    # A named template may serve any event: it may use what any event offers.
    placeholders = {name for event in EVENT_TYPES.values() for name in event.all_placeholders}
    for field, source in (("subject", data["subject"]), ("html", data["html"]), ("text", data.get("text"))):
        if source is not None:
            templates.check(source, field, placeholders, html=field == "html")
    return data


router = common.crud_router(TEMPLATES, validate, named=True)


@router.post("/preview")
def preview_mail() -> dict[str, Any]:
    """The console's preview (and "send test"): `ums.automation.preview`."""
    from ums.automation.preview import preview  # jinja2 and the mail client: only when asked

    return preview(common.body(router))
