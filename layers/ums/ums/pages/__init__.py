"""The hosted pages: `/pages/reset` and `/pages/verify`, the default targets of mailed links.

Small server-rendered forms that work without JavaScript (there is none), under a strict CSP:
no third-party assets (only an application's own logo), inline CSS allowed by a per-response
nonce, no framing. A GET only reads the token, so mail scanners that open links consume nothing;
the form's POST applies it. Branding comes from the application record the link names (`app`);
an unknown or missing one gets the neutral look.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ums import resets, verification
from ums.bodies import ResetApply
from ums.config import settings
from ums.errors import BadRequest, NotFound, UmsError
from ums.http import Html, Request, Response
from ums.store import config as config_store
from ums.store.records import APPLICATIONS

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
MAX_APP_NAME = 128  # longer names are nobody's: no lookup (DynamoDB keys have limits)
INCOMPLETE = "This link is incomplete. Open it again from the email, or ask for a new one."
INVALID = {
    "reset": "This link has expired or was already used. Ask for a new password reset email.",
    "verify": "This link has expired or was already used. Ask for a new verification email.",
}


@dataclass(frozen=True)
class Branding:
    name: str
    logo_url: str | None = None
    brand_color: str = "#1d4ed8"
    background_color: str = "#f3f4f6"
    after_reset_url: str | None = None
    after_verify_url: str | None = None

    @property
    def on_brand_color(self) -> str:
        """Black or white, whichever reads better on the brand colour (WCAG relative luminance)."""
        red, green, blue = (int(self.brand_color[i : i + 2], 16) / 255 for i in (1, 3, 5))

        def linear(c: float) -> float:
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        luminance = 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
        return "#000000" if luminance > 0.179 else "#ffffff"


def branding(app: str) -> Branding:
    """The named application's look, or the project's neutral one."""
    record = config_store.get(APPLICATIONS, app) if app and len(app) <= MAX_APP_NAME else None
    if record is None:
        return Branding(name=settings().project_id)
    fields = ("logo_url", "brand_color", "background_color", "after_reset_url", "after_verify_url")
    present: dict[str, Any] = {key: record[key] for key in fields if record.get(key)}  # type: ignore[literal-required]
    return Branding(name=record.get("display_name") or record["id"], **present)


def reset_page(request: Request) -> Response:
    """`GET /pages/reset?token=…[&customerId=…&app=…]` shows the form (or why it cannot);
    `POST` sets the password, re-showing the form with the policy's message when it is refused."""
    try:
        fields = _fields(request)
    except UmsError as err:
        return _refused_form(err)
    brand = branding(fields["app"])
    token, customer_id = fields["token"], fields["customerId"] or None
    if not token:
        return _message(400, brand, "Link incomplete", INCOMPLETE)
    if request.method == "GET":
        try:
            _, user = resets.live_token(token, customer_id)
        except NotFound:
            return _message(404, brand, "Link expired", INVALID["reset"])
        return _reset_form(200, brand, fields, invite=not user.password_hash)
    password = fields["password"]
    invite = fields["invite"] == "1"
    if password != fields["confirm"]:
        return _reset_form(400, brand, fields, invite=invite, error="The two passwords do not match.")
    try:
        resets.apply_reset(ResetApply(token, password, customer_id))
    except NotFound:
        return _message(404, brand, "Link expired", INVALID["reset"])
    except BadRequest as err:  # the password policy's message
        return _reset_form(400, brand, fields, invite=invite, error=err.message)
    title = "Password set" if invite else "Password changed"
    text = "You can now sign in with your new password."
    return _message(200, brand, title, text, next_url=brand.after_reset_url)


def verify_page(request: Request) -> Response:
    """`GET /pages/verify?token=…[&app=…]` shows a confirm button; `POST` verifies."""
    try:
        fields = _fields(request)
    except UmsError as err:
        return _refused_form(err)
    brand = branding(fields["app"])
    token = fields["token"]
    if not token:
        return _message(400, brand, "Link incomplete", INCOMPLETE)
    if request.method == "GET":
        try:
            stored, _ = verification.live_token(token)
        except NotFound:
            return _message(404, brand, "Link expired", INVALID["verify"])
        return _render(
            "verify.html", 200, brand, action="verify", hidden=_hidden(fields), change=bool(stored.new_email)
        )
    try:
        record = verification.verify(token)
    except NotFound:
        return _message(404, brand, "Link expired", INVALID["verify"])
    except UmsError as err:  # 409: the new address was taken meanwhile
        return _message(err.status, brand, "Not verified", err.message)
    text = f"{record['email']} is verified. You can close this page."
    return _message(200, brand, "Email address verified", text, next_url=brand.after_verify_url)


def _refused_form(err: UmsError) -> Response:
    """A form post that cannot be read (too large, a field twice, not url-encoded): still a page."""
    return _message(err.status, branding(""), "Form not accepted", err.message)


def _fields(request: Request) -> dict[str, str]:
    """The link's parameters (a GET's query) or the form's fields (a POST), every name present."""
    given = request.form() if request.method == "POST" else {k: v[0] for k, v in request.query.items()}
    fields = {name: given.get(name, "").strip() for name in ("token", "customerId", "app", "invite")}
    return fields | {name: given.get(name, "") for name in ("password", "confirm")}  # typed: kept whole


def _hidden(fields: dict[str, str]) -> dict[str, str]:
    """What the form posts back besides what the user types."""
    return {name: fields[name] for name in ("token", "customerId", "app") if fields[name]}


def _reset_form(status: int, brand: Branding, fields: dict[str, str], *, invite: bool, error: str = "") -> Response:
    hidden = {**_hidden(fields), **({"invite": "1"} if invite else {})}
    minimum = settings().password_min_length
    return _render(
        "reset.html", status, brand, action="reset", hidden=hidden, invite=invite, error=error, min_length=minimum
    )


def _message(status: int, brand: Branding, title: str, text: str, next_url: str | None = None) -> Response:
    return _render("message.html", status, brand, title=title, text=text, next_url=next_url, failed=status >= 400)


def _render(template: str, status: int, brand: Branding, **context: Any) -> Response:
    nonce = secrets.token_urlsafe(16)
    html = _TEMPLATES.get_template(template).render(brand=brand, nonce=nonce, **context)
    logo = urlsplit(brand.logo_url) if brand.logo_url else None
    policy = [
        "default-src 'none'",
        f"style-src 'nonce-{nonce}'",
        f"img-src https://{logo.netloc}" if logo else "img-src 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
    headers = {
        "Content-Security-Policy": "; ".join(policy),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(status, Html(html), headers)
