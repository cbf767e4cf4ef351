"""The user record: validation of what clients send, and the public shape returned to them."""

from __future__ import annotations

import math
import re
import unicodedata
import uuid
from typing import Any

from ums.clock import now_rfc3339
from ums.config import settings
from ums.errors import BadRequest
from ums.store import plain
from ums.store import users as user_store
from ums.store.users import User

DEFAULT_FIELDS = ("id", "email", "active", "created_at", "updated_at")
# Names a client can never set as schemaless fields: the record's own fields, what the routes
# handle themselves, and (see `check_field_name`) every attribute of the stored user item.
RESERVED_FIELDS = frozenset({*DEFAULT_FIELDS, "password", "mobile", "email_verified"})
MAX_FIELD_NAME_LENGTH = 64
MAX_EMAIL_LENGTH = 254
MAX_NESTING = 16  # DynamoDB allows 32 levels; keep well inside it
MAX_NUMBER_DIGITS = 38  # DynamoDB's number precision
EMAIL_PATTERN = re.compile(r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f.]+$")
MOBILE_PATTERN = re.compile(r"^\+?[0-9]{6,15}$")
COUNTRY_PATTERN = re.compile(r"^[A-Za-z]{2}$")
LANGUAGE_PATTERN = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def normalize_email(value: Any, field: str = "email") -> str:
    """The email as given, NFKC-normalised (full-width letters become ASCII ones) and trimmed,
    or a 400 naming `field` and saying what is wrong with it. This is what is stored and shown."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"Field '{field}' is required and must be a string")
    email = unicodedata.normalize("NFKC", value).strip()
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
        raise BadRequest(f"Field '{field}' must be a valid email address")
    return email


def email_key(email: str) -> str:
    """The one identity of an email: NFKC, then Unicode case folding (`Straße@x` and
    `strasse@X` are one key). Uniqueness, the `by_email` lookup and every per-email throttle
    use it; the final NFKC keeps the key stable when applied twice."""
    folded = unicodedata.normalize("NFKC", email).strip().casefold()
    return unicodedata.normalize("NFKC", folded)


def normalize_mobile(value: Any) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str):
        raise BadRequest("Field 'mobile' must be a string or an integer")
    mobile = re.sub(r"[\s().-]", "", text)
    if not MOBILE_PATTERN.match(mobile):
        raise BadRequest("Field 'mobile' must be a phone number of 6 to 15 digits, optionally starting with +")
    return "+" + mobile.removeprefix("+")  # international form: 31612345678 and +31612345678 are one number


def check_field_name(name: str) -> str:
    """`name` when a client may use it as a schemaless field (sign-up, PATCH /ums/users); else a
    400. The one grammar: 1 to MAX_FIELD_NAME_LENGTH characters; no '.', '[' or ']' (DynamoDB
    path syntax); no control, format or line/paragraph separator characters; not starting with
    '_'; not reserved (RESERVED_FIELDS, an attribute of the stored user such as `password_hash`
    or `token_generation`, or any name ending in `_hash`)."""
    if not name:
        raise BadRequest("Field names must not be empty")
    if len(name) > MAX_FIELD_NAME_LENGTH:
        raise BadRequest(
            f"Field name '{_shown(name[:MAX_FIELD_NAME_LENGTH])}...' is longer than {MAX_FIELD_NAME_LENGTH} characters"
        )
    if any(char in ".[]" or _is_control(char) for char in name):
        raise BadRequest(f"Field name '{_shown(name)}' must not contain '.', '[', ']' or control characters")
    stored = name in RESERVED_FIELDS or name in user_store.STORED_ATTRIBUTES
    if stored or name.startswith("_") or name.endswith("_hash"):
        raise BadRequest(f"Field '{name}' is reserved and cannot be set")
    return name


def _is_control(char: str) -> bool:
    """Unicode categories C* (control, format, surrogate, private use, unassigned), Zl and Zp."""
    category = unicodedata.category(char)
    return category[0] == "C" or category in ("Zl", "Zp")


def _shown(text: str) -> str:
    """`text` for an error message: control characters as \\uXXXX escapes."""
    return "".join(f"\\u{ord(c):04x}" if _is_control(c) else c for c in text)


def validate_profile(extra: dict[str, Any]) -> dict[str, Any]:
    """The schemaless fields given at sign-up or in a PATCH, checked so DynamoDB can store them
    as given: names by `check_field_name`, nested keys non-empty and free of control characters
    (they are map keys, never paths, so '.', '[' and ']' are fine there)."""
    profile: dict[str, Any] = {}
    for name, value in extra.items():
        check_field_name(name)
        if name == "country" and value is not None:
            if not isinstance(value, str) or not COUNTRY_PATTERN.match(value):
                raise BadRequest("Field 'country' must be an ISO 3166 alpha-2 code such as 'US'")
            value = value.upper()
        if name == "language" and value is not None and not (isinstance(value, str) and LANGUAGE_PATTERN.match(value)):
            raise BadRequest("Field 'language' must be a BCP 47 tag such as 'en' or 'pt-BR'")
        _check_value(value, name, 1)
        profile[name] = value
    return profile


def _check_value(value: Any, path: str, depth: int) -> None:
    if depth > MAX_NESTING:
        raise BadRequest(f"Field '{path}' is nested deeper than {MAX_NESTING} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if not key:
                raise BadRequest(f"Field '{path}' has an empty key")
            if any(_is_control(char) for char in key):
                raise BadRequest(f"Field '{path}' has a key with control characters: '{_shown(key)}'")
            _check_value(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(item, f"{path}[{index}]", depth + 1)
    elif isinstance(value, int | float) and not isinstance(value, bool) and not _storable_number(value):
        raise BadRequest(
            f"Field '{path}' must be a finite number of at most {MAX_NUMBER_DIGITS} digits, magnitude 1e-130 to 1e125"
        )


def _storable_number(value: float) -> bool:
    """DynamoDB numbers: 38 significant digits, magnitude from 1e-130 to below 1e126."""
    if isinstance(value, int):
        return len(str(abs(value))) <= MAX_NUMBER_DIGITS
    return math.isfinite(value) and (value == 0 or 1e-130 <= abs(value) < 1e126)


def new_user(email: str, password_hash: str, profile: dict[str, Any], mobile: str | None) -> User:
    """A new user record (validated fields), not yet stored."""
    return user_store.new(str(uuid.uuid4()), email, email_key(email), mobile, profile, password_hash, now_rfc3339())


def public_record(user: User) -> dict[str, Any]:
    """What clients see: the default fields, mobile, then the schemaless ones. Never a secret."""
    record: dict[str, Any] = {
        "id": user.id,
        "email": user.email,
        "active": user.active,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }
    if settings().email_verification != "off":
        record["email_verified"] = bool(user.email_verified)
    if user.mobile:
        record["mobile"] = user.mobile
    record.update(plain(user.profile))
    return record
