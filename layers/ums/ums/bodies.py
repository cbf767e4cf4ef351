"""Request bodies: one frozen dataclass per shape a route takes, parsed and validated here only.

A handler turns the JSON object of its request into one of these (`parse`, a 400 naming the
field for anything wrong with the shape) and passes it to one logic function, which can then
trust the types. Business rules that need stored state (the password policy, who may do what,
whether a token exists) stay in the logic.

Dataclasses, not pydantic: on the hot user routes `import pydantic` plus a first model costs
about 75 ms + 125 ms of cold start, against 1 ms for these (docs/api.md, "Input rules").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

from ums.errors import BadRequest
from ums.inputs import optional_string, reject_unknown_fields, required_string
from ums.users import RESERVED_FIELDS, check_field_name, normalize_email, normalize_mobile, validate_profile

UNCHANGEABLE_BY_ADMIN = ("email", "mobile")
OAUTH_ERROR_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # RFC 6749's error codes, and then some


@dataclass(frozen=True)
class SignUp:
    """`POST /ums/signup {email, password[, mobile], ...schemaless fields}`."""

    password: str
    email: str
    mobile: str | None
    profile: dict[str, Any]

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Self:
        return cls(required_string(body, "password"), *_account(body))


@dataclass(frozen=True)
class UserCreate:
    """`POST /ums/users {email[, password][, mobile], ...schemaless fields}` by a policy holder:
    without a password, an invitation (the user sets one through the mailed link)."""

    password: str | None
    email: str
    mobile: str | None
    profile: dict[str, Any]

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Self:
        return cls(required_string(body, "password") if "password" in body else None, *_account(body))


def _account(body: dict[str, Any]) -> tuple[str, str | None, dict[str, Any]]:
    """The email, mobile and schemaless fields of a new user."""
    email = normalize_email(body.get("email"))
    extra = {k: v for k, v in body.items() if k not in ("email", "password", "mobile")}
    mobile = body.get("mobile")
    return email, normalize_mobile(mobile) if mobile is not None else None, validate_profile(extra)


@dataclass(frozen=True)
class UserCredentials:
    """`POST /auth {"method": "ums", email, password}`."""

    email: str
    password: str


@dataclass(frozen=True)
class ApiKeyCredentials:
    """`POST /auth {"method": "apk", key, secret}`."""

    key: str
    secret: str


@dataclass(frozen=True)
class OAuthCallback:
    """`POST /oauth/auth {"method": "oauth", code, state}` (also `POST /auth`): what the provider
    sent the browser back with. An app whose callback got `error` instead of `code` passes it on
    (`error`, `error_description`), so the user sees why and the state is used up."""

    code: str
    state: str
    error: str | None
    error_description: str | None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Self:
        reject_unknown_fields(body, {"method", "code", "state", "error", "error_description"})
        if body.get("method", "oauth") != "oauth":
            raise BadRequest("Field 'method' must be 'oauth'")
        error = optional_string(body, "error")
        if error is not None and not OAUTH_ERROR_PATTERN.match(error):
            raise BadRequest("Field 'error' must be an OAuth error code such as 'access_denied'")
        code = optional_string(body, "code") if error else required_string(body, "code")
        return cls(code or "", required_string(body, "state"), error, optional_string(body, "error_description"))


@dataclass(frozen=True)
class OAuthInit:
    """`GET /oauth/init?action=sign-up|sign-in&provider=NAME[&redirect=URL]` (a query, not a body)."""

    action: str
    provider: str
    redirect: str | None

    @classmethod
    def parse(cls, query: dict[str, list[str]]) -> Self:
        unknown = sorted(set(query) - {"action", "provider", "redirect"})
        if unknown:
            raise BadRequest(f"Query parameter '{unknown[0]}' is not known; use action, provider and redirect")
        values = {}
        for name in ("action", "provider", "redirect"):
            given = query.get(name, [])
            if len(given) > 1:
                raise BadRequest(f"Query parameter '{name}' is given more than once")
            values[name] = given[0] if given and given[0] else None
        if values["action"] not in ("sign-up", "sign-in"):
            raise BadRequest("Query parameter 'action' must be 'sign-up' or 'sign-in'")
        if values["provider"] is None:
            raise BadRequest("Query parameter 'provider' is required: the name of an OAuth provider")
        return cls(values["action"], values["provider"], values["redirect"])


def parse_sign_in(body: dict[str, Any]) -> UserCredentials | ApiKeyCredentials | OAuthCallback:
    """The credentials of `POST /auth`, by `method`."""
    method = body.get("method")
    if method == "apk":
        return ApiKeyCredentials(required_string(body, "key"), required_string(body, "secret"))
    if method == "oauth":
        return OAuthCallback.parse(body)
    if method != "ums":
        raise BadRequest("Field 'method' must be 'ums', 'apk' or 'oauth'")
    return UserCredentials(required_string(body, "email"), required_string(body, "password"))


@dataclass(frozen=True)
class Refresh:
    """`POST /auth/refresh {refresh_token}`."""

    refresh_token: str

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Self:
        reject_unknown_fields(body, {"refresh_token"})
        return cls(required_string(body, "refresh_token"))


@dataclass(frozen=True)
class ChangePassword:
    """`POST /ums/changepassword {old_password, new_password}`."""

    old_password: str
    new_password: str

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Self:
        reject_unknown_fields(body, {"old_password", "new_password"})
        return cls(required_string(body, "old_password"), required_string(body, "new_password"))


@dataclass(frozen=True)
class DeleteSelf:
    """`DELETE /ums/user {password}`, or with no body at all (Jexia's cURL and Python examples):
    then the access token must come from a recent sign-in."""

    password: str | None

    @classmethod
    def parse(cls, body: dict[str, Any] | None) -> Self:
        if body is None:
            return cls(None)
        reject_unknown_fields(body, {"password"})
        return cls(required_string(body, "password"))


@dataclass(frozen=True)
class ResetRequest:
    """`POST /ums/resetpassword {email[, application, locale]}` (`application` needs an API key)."""

    email: str
    application: str | None
    locale: str | None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Self:
        reject_unknown_fields(body, {"email", "application", "locale"})
        email = normalize_email(body.get("email"))
        return cls(email, optional_string(body, "application"), optional_string(body, "locale"))


@dataclass(frozen=True)
class RevokeToken:
    """`POST /auth/revoke {token[, token_type_hint]}` (RFC 7009; the hint is only checked)."""

    token: str

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Self:
        reject_unknown_fields(body, {"token", "token_type_hint"})
        hint = body.get("token_type_hint")
        if hint is not None and hint not in ("refresh_token", "access_token"):
            raise BadRequest("Field 'token_type_hint' must be 'refresh_token' or 'access_token'")
        token = required_string(body, "token")
        if len(token) > 4096:
            raise BadRequest("Field 'token' is longer than any token this service issues")
        return cls(token)


@dataclass(frozen=True)
class OwnChanges:
    """`PATCH /ums/user` by the user: schemaless fields to set and to remove (given as null),
    under sign-up's field rules; the fields the service keeps (email, active, ...) are not here."""

    set_fields: dict[str, Any]
    removed: list[str]

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Self:
        def refuse(name: str) -> bool:
            if name in RESERVED_FIELDS:
                raise BadRequest(f"Field '{name}' cannot be changed through PATCH /ums/user")
            return False

        return cls(*_profile_changes(body, refuse))


@dataclass(frozen=True)
class EmailChange:
    """`POST /ums/user/email {new_email[, password]}`: without the password, the access token
    must come from a recent sign-in (as for deleting without one)."""

    new_email: str
    password: str | None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Self:
        reject_unknown_fields(body, {"new_email", "password"})
        new_email = normalize_email(body.get("new_email"), "new_email")
        return cls(new_email, required_string(body, "password") if "password" in body else None)


@dataclass(frozen=True)
class VerifyRequest:
    """`POST /ums/verify {email}`: mail the address a (new) verification link."""

    email: str

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Self:
        reject_unknown_fields(body, {"email"})
        return cls(normalize_email(body.get("email")))


@dataclass(frozen=True)
class ResetLookup:
    """A reset request that names the user by id, email or mobile (Quicksilver's `POST /user/password`
    and the customer guide's `POST /notifications/customers/reset`)."""

    user_id: str | None
    email: str | None
    mobile: str | None
    application_id: str | None
    email_template: str | None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Self:
        """Quicksilver's body: `{user_id | email | mobile[, application_id, email_template]}`."""
        return cls.of(
            body,
            user_id=optional_string(body, "user_id"),
            application_id=optional_string(body, "application_id"),
            email_template=optional_string(body, "email_template"),
        )

    @classmethod
    def parse_customer(cls, body: dict[str, Any], app_name: str | None) -> Self:
        """The customer guide's body `{email | customer_id}`, with `?appName=` as the application."""
        reject_unknown_fields(body, {"email", "customer_id"})
        return cls.of(body, user_id=optional_string(body, "customer_id"), application_id=app_name)

    @classmethod
    def of(
        cls,
        body: dict[str, Any],
        *,
        user_id: str | None,
        application_id: str | None,
        email_template: str | None = None,
    ) -> Self:
        email = normalize_email(body["email"]) if body.get("email") is not None else None
        mobile = body.get("mobile")
        if not (user_id or email or mobile is not None):
            raise BadRequest("One of 'user_id', 'email' or 'mobile' is required")
        mobile = normalize_mobile(mobile) if mobile is not None else None
        return cls(user_id, email, mobile, application_id, email_template)


@dataclass(frozen=True)
class ResetApply:
    """A new password with a reset token: `POST /ums/resetpassword/{token} {new_password}`, or the
    customer guide's `PATCH /accounts/customers/{customerId} {token, new_password | password}`."""

    token: str
    new_password: str
    customer_id: str | None = None

    @classmethod
    def parse(cls, body: dict[str, Any], token: str) -> Self:
        reject_unknown_fields(body, {"new_password"})
        return cls(token, required_string(body, "new_password"))

    @classmethod
    def parse_customer(cls, body: dict[str, Any], customer_id: str | None) -> Self:
        reject_unknown_fields(body, {"token", "new_password", "password"})
        if "new_password" in body and "password" in body:
            raise BadRequest("Give 'new_password' or 'password', not both")
        password_field = "new_password" if "new_password" in body else "password"
        return cls(required_string(body, "token"), required_string(body, password_field), customer_id)


@dataclass(frozen=True)
class UserChanges:
    """`PATCH /ums/users` by a policy holder: schemaless fields to set, to remove (given as null),
    `active` (false suspends the user) and `email_verified` (for imports and support). Checked
    whole before any user is written."""

    set_fields: dict[str, Any]
    removed: list[str]
    active: bool | None
    email_verified: bool | None = None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Self:
        flags = {name: body.get(name) for name in ("active", "email_verified")}
        for name, value in flags.items():
            if name in body and not isinstance(value, bool):
                raise BadRequest(f"Field '{name}' must be true or false")

        def skip(name: str) -> bool:
            if name in UNCHANGEABLE_BY_ADMIN:
                raise BadRequest(f"Field '{name}' cannot be changed through /ums/users")
            return name in flags

        set_fields, removed = _profile_changes(body, skip)
        return cls(set_fields, removed, flags["active"], flags["email_verified"])


def _profile_changes(body: dict[str, Any], skip: Callable[[str], bool]) -> tuple[dict[str, Any], list[str]]:
    """A PATCH body's schemaless fields, each under sign-up's rules, as (fields to set, fields to
    remove: given as null). `skip(name)` refuses a field (raising) or leaves it to the caller (True)."""
    if not body:
        raise BadRequest("The body must name at least one field to update")
    set_fields: dict[str, Any] = {}
    removed: list[str] = []
    for name, value in body.items():
        if skip(name):
            continue
        check_field_name(name)  # the store writes it by name, never as a path
        if value is None:
            removed.append(name)
        else:
            set_fields[name] = validate_profile({name: value})[name]
    return set_fields, removed
