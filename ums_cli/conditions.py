"""Conditions on the command line: Jexia's JSON (`[{"field":"active"},"=",true]`) or a shorthand
(`active = true and email like %@b.c`)."""

from __future__ import annotations

import json
import shlex
from typing import Any

COMPARATORS = ("=", "!=", ">", "<", ">=", "<=", "null", "in", "not in", "like", "regex", "between")


def parse(text: str) -> list[Any]:
    text = text.strip()
    if text.startswith("["):
        value = json.loads(text)
        if not isinstance(value, list):
            raise ValueError("a JSON condition is an array")
        return value
    words = shlex.split(text)
    cond: list[Any] = []
    i = 0
    while i < len(words):
        if cond:
            connector = words[i].lower()
            if connector not in ("and", "or", "&&", "||"):
                raise ValueError(f"expected and/or, got {words[i]!r}")
            cond.append(connector)
            i += 1
        if i + 1 >= len(words):
            raise ValueError("each expression is: field comparator value")
        field, comparator = words[i], words[i + 1]
        i += 2
        if comparator == "not" and i < len(words) and words[i] == "in":
            comparator, i = "not in", i + 1
        if comparator not in COMPARATORS or i >= len(words):
            raise ValueError(f"expected 'field comparator value' near {field!r}")
        cond += [{"field": field}, comparator, _value(words[i])]
        i += 1
    if not cond:
        raise ValueError("empty condition")
    return cond


def _value(word: str) -> Any:
    try:
        return json.loads(word)
    except json.JSONDecodeError:
        return word  # a bare string: email = ann@example.com
