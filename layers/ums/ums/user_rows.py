"""A user described by an import row, or by a legacy verifier's profile: validated, not stored.

A row is `{"email", "id"?, "active"?, "email_verified"?, "created_at"?, "mobile"?,
"password_hash"?, "password_salt"?, ...schemaless fields}`; `id` is kept as given (UUIDs,
Northstar's hex ids, ...), `created_at` is RFC 3339 or epoch milliseconds, and `password_hash`
is one of `ums.password_formats`' formats.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from ums.errors import BadRequest
from ums.password_formats import FirebaseScrypt, check_imported
from ums.store import users as user_store
from ums.store.users import User
from ums.users import new_user, normalize_email, normalize_mobile, validate_profile

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")
ROW_FIELDS = ("email", "id", "active", "email_verified", "created_at", "mobile", "password_hash", "password_salt")
IGNORED_FIELDS = ("updated_at",)  # an export's: the import is the user's update now


def user_from(row: Any, firebase: FirebaseScrypt | None) -> tuple[User, bool]:
    """The user a row describes (not stored), and whether it named its id; 400 for what is wrong."""
    if not isinstance(row, dict):
        raise BadRequest("a user must be a JSON object")
    email = normalize_email(row.get("email"))
    mobile = normalize_mobile(row["mobile"]) if row.get("mobile") is not None else None
    extra = {name: value for name, value in row.items() if name not in ROW_FIELDS + IGNORED_FIELDS}
    profile = validate_profile(extra)
    user = new_user(email, _password_hash(row, firebase), profile, mobile)
    user_id = row.get("id")
    if user_id is not None:
        if not isinstance(user_id, str) or not ID_PATTERN.match(user_id):
            raise BadRequest("id must be 1 to 128 letters, digits or _ . : @ - (starting with a letter or digit)")
        user.id, user.pk = user_id, user_store.User.key_for(user_id)
    for name in ("active", "email_verified"):
        value = row.get(name)
        if value is not None and not isinstance(value, bool):
            raise BadRequest(f"{name} must be true or false")
    user.active = row.get("active", True) is not False
    user.email_verified = row.get("email_verified") is True
    if row.get("created_at") is not None:
        user.created_at = _timestamp(row["created_at"])
    return user, user_id is not None


def _password_hash(row: dict[str, Any], firebase: FirebaseScrypt | None) -> str:
    hashed, salt = row.get("password_hash"), row.get("password_salt")
    if hashed is None:
        if salt is not None:
            raise BadRequest("password_salt without password_hash")
        return ""  # no password: the user sets one with a reset (or `notify` invites them)
    if not isinstance(hashed, str) or not hashed:
        raise BadRequest("password_hash must be a non-empty string")
    if salt is not None:
        if not isinstance(salt, str):
            raise BadRequest("password_salt must be a string")
        if firebase is None:
            raise BadRequest("password_salt is for Firebase scrypt hashes: give the firebase_scrypt parameters")
        return firebase.stored(salt, hashed)
    return check_imported(hashed)


def _timestamp(value: Any) -> str:
    """An RFC 3339 time (or epoch milliseconds, as Firebase exports them) as the service writes it."""
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            moment = datetime.fromtimestamp(value / 1000, UTC)
        elif isinstance(value, str) and len(value) <= 40:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError
        else:
            raise ValueError
    except (ValueError, OverflowError, OSError):
        raise BadRequest("created_at must be an RFC 3339 time with its offset, or epoch milliseconds") from None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
