"""Conditions on the command line: Jexia's JSON (`[{"field":"active"},"=",true]`) or a shorthand
(`active = true and email like %@b.c`).

Shorthand values: a quoted word (`'NL'`, `"Ann Lee"`) is always a string; an unquoted one must be
`true`, `false`, `null`, a number, a JSON array (`[1, 2]`) or contain one of `@ % . _ - /`
(`ann@example.com`, `%@b.c`), so a typo such as `active = tru` is an error, not a string that
matches nothing. Plain words must be quoted: `country = 'NL'`.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

COMPARATORS = ("=", "!=", ">", "<", ">=", "<=", "null", "in", "not in", "like", "regex", "between")
KEYWORDS = ("true", "false", "null")
STRING_MARKS = set("@%._-/")
# A word is a run of quoted parts, [JSON arrays] and other non-space characters, as in a shell.
WORD = re.compile(r"""(?:'[^']*'|"[^"]*"|\[[^\]]*\]|[^\s'"\[])+""")
QUOTED = re.compile(r"""'([^']*)'|"([^"]*)\"""")
NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


def parse(text: str) -> list[Any]:
    """The condition as Jexia's JSON array; ValueError says what is wrong."""
    text = text.strip()
    if text.startswith("["):
        value = json.loads(text)
        if not isinstance(value, list):
            raise ValueError("a JSON condition is an array")
        return value
    raw = _words(text)
    words = [_unquote(word) for word in raw]
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
        cond += [{"field": field}, comparator, _value(raw[i])]
        i += 1
    if not cond:
        raise ValueError("empty condition")
    return cond


def _words(text: str) -> list[str]:
    words, position = [], 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        match = WORD.match(text, position)
        if match is None:
            raise ValueError(f"unbalanced quote or bracket at {text[position:]!r}")
        words.append(match.group())
        position = match.end()
    return words


def _unquote(word: str) -> str:
    return QUOTED.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), word)


def _value(word: str) -> Any:
    if word.startswith("["):
        try:
            return json.loads(word)
        except json.JSONDecodeError as err:
            raise ValueError(f"{word} is not a JSON array: {err}") from None
    if "'" in word or '"' in word:
        return _unquote(word)  # quoted: always a string
    if word in KEYWORDS or NUMBER.fullmatch(word):
        return json.loads(word)
    if STRING_MARKS & set(word):
        return word  # clearly a string: email = ann@example.com, email like %@b.c
    close = difflib.get_close_matches(word.lower(), KEYWORDS, n=1, cutoff=0.75)
    hint = f"did you mean {close[0]}? " if close else ""
    raise ValueError(f"unquoted value {word!r} is not true, false, null or a number: {hint}quote a string: '{word}'")
