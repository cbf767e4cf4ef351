"""The user record: validation of what clients send, and the public shape returned to them."""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from ums.errors import BadRequest
from ums.store.models import UserModel, plain

DEFAULT_FIELDS = ("id", "email", "active", "created_at", "updated_at")
RESERVED_FIELDS = frozenset({"id", "active", "created_at", "updated_at", "password"})
MAX_EMAIL_LENGTH = 254
MAX_NESTING = 16  # DynamoDB allows 32 levels; keep well inside it
MAX_NUMBER_DIGITS = 38  # DynamoDB's number precision
EMAIL_PATTERN = re.compile(r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f.]+$")
MOBILE_PATTERN = re.compile(r"^\+?[0-9]{6,15}$")
COUNTRY_PATTERN = re.compile(r"^[A-Za-z]{2}$")
LANGUAGE_PATTERN = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def now_rfc3339() -> str:
    """Now as RFC 3339 UTC with microseconds and Z: 2017-12-31T23:59:59.123456Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalize_email(value: Any) -> str:
    """The email as given (trimmed), or a 400 saying what is wrong with it."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("Field 'email' is required and must be a string")
    email = value.strip()
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
        raise BadRequest("Field 'email' must be a valid email address")
    return email


def email_key(email: str) -> str:
    """Emails are unique and matched case-insensitively."""
    return email.strip().lower()


def normalize_mobile(value: Any) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str):
        raise BadRequest("Field 'mobile' must be a string or an integer")
    mobile = re.sub(r"[\s().-]", "", text)
    if not MOBILE_PATTERN.match(mobile):
        raise BadRequest("Field 'mobile' must be a phone number of 6 to 15 digits, optionally starting with +")
    return "+" + mobile.removeprefix("+")  # international form: 31612345678 and +31612345678 are one number


def validate_profile(extra: dict[str, Any]) -> dict[str, Any]:
    """The schemaless fields given at sign-up, checked so DynamoDB can store them as given."""
    profile: dict[str, Any] = {}
    for name, value in extra.items():
        if name in RESERVED_FIELDS or name.startswith("_"):
            raise BadRequest(f"Field '{name}' is reserved and cannot be set")
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


def new_user(email: str, password_hash: str, profile: dict[str, Any], mobile: str | None) -> UserModel:
    user_id = str(uuid.uuid4())
    now = now_rfc3339()
    return UserModel(
        UserModel.key_for(user_id),
        id=user_id,
        email=email,
        email_key=email_key(email),
        mobile=mobile,
        active=True,
        created_at=now,
        updated_at=now,
        profile=profile,
        password_hash=password_hash,
    )


def public_record(user: UserModel) -> dict[str, Any]:
    """What clients see: the default fields, mobile, then the schemaless ones. Never a secret."""
    record: dict[str, Any] = {
        "id": user.id,
        "email": user.email,
        "active": user.active,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }
    if user.mobile:
        record["mobile"] = user.mobile
    record.update(plain(user.profile))
    return record
