"""Checks of client input shared by the HTTP edge and the logic: JSON parsing with its limits,
and the field helpers every route uses. No HTTP here, so logic can use them without `ums.http`."""

from __future__ import annotations

import json
import re
from typing import Any

from ums.errors import BadRequest

MAX_JSON_DEPTH = 32  # arrays and objects inside one another; deeper is a 400 before parsing


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def load_json(text: str, what: str) -> Any:
    """`text` parsed as JSON, for any JSON a client sends (`what` names it in errors, e.g.
    "Request body" or "Parameter 'cond'"). 400 when it is not JSON, when arrays and objects nest
    deeper than MAX_JSON_DEPTH (checked before parsing: the parser recurses), or when a string in
    it, key or value, is not valid Unicode (JSON escapes can spell unpaired surrogates)."""
    if _nesting_exceeds(text, MAX_JSON_DEPTH):
        raise BadRequest(f"{what} nests arrays and objects deeper than {MAX_JSON_DEPTH} levels")
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError as err:  # JSONDecodeError is a ValueError
        raise BadRequest(f"{what} is not valid JSON: {err}") from None
    where = invalid_unicode_at(value)
    if where == "":
        raise BadRequest(f"{what} is not valid Unicode (unpaired surrogate)")
    if where is not None:
        raise BadRequest(f"{what}: field '{where}' is not valid Unicode (unpaired surrogate)")
    return value


_JSON_SYNTAX = re.compile(r'["\\\[\]{}]')


def _nesting_exceeds(text: str, limit: int) -> bool:
    """True when brackets outside strings nest deeper than `limit`: one linear pass, no parsing."""
    depth, in_string, escaped = 0, False, -1
    for match in _JSON_SYNTAX.finditer(text):
        char, at = match.group(), match.start()
        if in_string:
            if at == escaped:  # the character after a backslash
                continue
            if char == "\\":
                escaped = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def invalid_unicode_at(value: Any, path: str = "") -> str | None:
    """Where in `value` (a parsed JSON value, or a list/dict of strings) a string, key or value,
    is not valid Unicode, e.g. 'address.city' or 'tags[0]'; "" for `value` itself; None when
    every string is valid. Lone surrogates are what Python lets through: they cannot be encoded."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{shown(key)}" if path else shown(key)
            if invalid_unicode_at(key) is not None:
                return inner
            found = invalid_unicode_at(item, inner)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = invalid_unicode_at(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def shown(text: str) -> str:
    """`text` safe to put in a message and a log line: unpaired surrogates as \\udxxx escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def reject_unknown_fields(body: dict[str, Any], allowed: set[str]) -> None:
    """400 naming the fields a route does not take."""
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"Unknown field(s): {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def required_string(body: dict[str, Any], name: str) -> str:
    """The non-empty string `body[name]`, or a 400 that names it."""
    value = body.get(name)
    if value is None:
        raise BadRequest(f"Field '{name}' is required")
    if not isinstance(value, str):
        raise BadRequest(f"Field '{name}' must be a string")
    if not value:
        raise BadRequest(f"Field '{name}' must not be empty")
    return value


def optional_string(body: dict[str, Any], name: str) -> str | None:
    """`body[name]` when it is a non-empty string, None when absent or null; else a 400."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"Field '{name}' must be a non-empty string")
    return value.strip()
