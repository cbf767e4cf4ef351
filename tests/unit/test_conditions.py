"""Jexia's condition grammar: every comparator and connector, groups, and malformed input."""

import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from ums.conditions import (
    MAX_MATCHED_LENGTH,
    MAX_PATTERN,
    apply_window,
    like_matches,
    matches,
    parse_condition,
    parse_query,
)
from ums.errors import BadRequest

ANN = {"id": "1", "email": "ann@b.c", "active": True, "age": 30, "address": {"city": "Apeldoorn"}, "tags": "x"}
BOB = {"id": "2", "email": "bob@x.org", "active": False, "age": 17, "nick": None}


def select(cond: list[Any], records: Sequence[dict[str, Any]] = (ANN, BOB)) -> list[str]:
    condition = parse_condition(cond)
    return [r["id"] for r in records if matches(condition, r)]


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        ([{"field": "active"}, "=", True], ["1"]),
        ([{"field": "active"}, "!=", True], ["2"]),
        ([{"field": "age"}, ">", 18], ["1"]),
        ([{"field": "age"}, "<", 18], ["2"]),
        ([{"field": "age"}, ">=", 30], ["1"]),
        ([{"field": "age"}, "<=", 17], ["2"]),
        ([{"field": "nick"}, "null", True], ["1", "2"]),
        ([{"field": "age"}, "null", False], ["1", "2"]),
        ([{"field": "email"}, "in", ["bob@x.org", "z@z.z"]], ["2"]),
        ([{"field": "email"}, "not in", ["bob@x.org"]], ["1"]),
        ([{"field": "email"}, "like", "%@b.c"], ["1"]),
        ([{"field": "email"}, "like", "_ob@%"], ["2"]),
        ([{"field": "email"}, "regex", "^a.*\\.c$"], ["1"]),
        ([{"field": "age"}, "between", [18, 40]], ["1"]),
        ([{"field": "address.city"}, "=", "Apeldoorn"], ["1"]),
        ([{"field": "age"}, ">", "18"], []),  # no comparing numbers with strings
    ],
)
def test_every_comparator(cond: list[Any], expected: list[str]) -> None:
    assert select(cond) == expected


def test_connectors_and_precedence() -> None:
    a = [{"field": "active"}, "=", False]
    b = [{"field": "age"}, ">", 100]
    c = [{"field": "email"}, "like", "ann%"]
    assert select([*a, "and", *b, "or", *c]) == ["1"]  # (a and b) or c
    assert select([*a, "&&", *c]) == []
    assert select([*a, "||", *c]) == ["1", "2"]
    assert select([a, "and", [b, "or", c]]) == []  # groups
    assert select([[[*c]], "or", [*a]]) == ["1", "2"]


@pytest.mark.parametrize(
    ("cond", "reason"),
    [
        ([], "non-empty array"),
        ([{"field": "age"}, "~", 1], "unknown comparator"),
        ([{"field": "age"}, "="], "needs a comparator and a value"),
        ([{"field": "age"}, "=", 1, "xor", {"field": "age"}, "=", 2], "connector"),
        ([{"field": "age"}, "=", 1, "and"], "followed by an expression"),
        ([{"field": "password"}, "=", "x"], "cannot be queried"),
        ([{"field": "password_hash"}, "=", "x"], "cannot be queried"),
        ([{"field": "_internal"}, "=", "x"], "cannot be queried"),
        ([{"field": "email"}, "regex", "("], "invalid regex"),
        ([{"field": "age"}, "between", [1]], "[low, high]"),
        ([{"field": "age"}, "in", 3], "array"),
        ([{"fld": "age"}, "=", 3], "field"),
        (["DROP TABLE users"], "expected"),
        ([{"field": "age"}, "=", {"$gt": 1}], "cannot be an object"),
        ([[[[[[[[[[{"field": "a"}, "=", 1]]]]]]]]]], "deeper"),
    ],
)
def test_malformed_conditions_are_400_that_say_why(cond: list[Any], reason: str) -> None:
    with pytest.raises(BadRequest, match=reason.replace("[", "\\[").replace("]", "\\]")):
        parse_condition(cond)


def test_the_js_sdk_recorded_query() -> None:
    params = {
        "order": [
            json.dumps({"fields": ["email"], "direction": "asc"}),
            json.dumps({"fields": ["created_at"], "direction": "desc"}),
        ],
        "cond": [json.dumps([{"field": "active"}, "=", True, "and", {"field": "email"}, "like", "%@b.c"])],
        "range": [json.dumps({"limit": 5, "offset": 2})],
        "outputs": [json.dumps(["id", "email"])],
    }
    query = parse_query(params)
    assert query.condition is not None
    users: list[dict[str, Any]] = [
        {"id": str(i), "email": f"u{i % 4}@b.c", "active": i % 5 != 0, "created_at": f"2026-01-{i + 10:02d}"}
        for i in range(12)
    ]
    chosen = apply_window([u for u in users if matches(query.condition, u)], query)
    expected = sorted((u for u in users if u["active"]), key=lambda u: u["created_at"], reverse=True)
    expected = sorted(expected, key=lambda u: u["email"])[2:7]
    assert chosen == [{"id": u["id"], "email": u["email"]} for u in expected]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"cond": ["{nope"]}, "not valid JSON"),
        ({"range": ['{"limit": -1}']}, "range.limit"),
        ({"order": ['{"fields": ["email"], "direction": "up"}']}, "direction"),
        ({"outputs": ['["password"]']}, "cannot be queried"),
        ({"select": ["*"]}, "Unknown query parameter"),
    ],
)
def test_malformed_query_parameters(params: dict[str, list[str]], reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        parse_query(params)


# --- like and regex cannot be made slow (issue 7, finding 1) ----------------------------------
def old_like(pattern: str, value: str) -> bool:
    """`like` as it was: translated to a backtracking `re` pattern (the semantics to keep)."""
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return bool(re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL).search(value))


def test_like_that_backtracked_for_seconds_answers_at_once() -> None:
    # the old matcher took ~4 s on this (300 characters); the new one places each piece once
    assert like_matches("%a%a%a%b", "a" * 300) is False
    assert like_matches("%a%a%a%b", "a" * 300 + "b") is True
    assert select([{"field": "bio"}, "like", "%a%a%a%b"], [{"id": "1", "bio": "a" * 300}]) == []


def test_regex_that_backtracked_exponentially_answers_at_once() -> None:
    # `re` needs ~2 s for 24 a's and 4x more per 2 characters; RE2 is linear
    records = [{"id": "1", "bio": "a" * 24 + "!"}, {"id": "2", "bio": "a" * 24}, {"id": "3", "bio": "a" * 4000 + "!"}]
    assert select([{"field": "bio"}, "regex", "(a+)+$"], records) == ["2"]


LIKE_PATTERNS = ["ann%", "%@B.C", "_ob@%", "%", "%%", "", "a%b%c", "%.%", "A_N%", "%x%", "__", "%_%_%", "a%%c"]
LIKE_PATTERNS += ["%ß%", "%[%", "%\\%", "%a_a_a%b", "_%_"]


@pytest.mark.parametrize("pattern", LIKE_PATTERNS)
@pytest.mark.parametrize("value", ["ann@b.c", "Bob@x.org", "", "ab", "abc", "aXbYc", "[x]", "a\nc", "Straße", "\\"])
def test_like_keeps_its_old_meaning(pattern: str, value: str) -> None:
    assert like_matches(pattern, value) is old_like(pattern, value)


def test_like_counts_characters_even_when_lower_case_is_longer() -> None:
    assert like_matches("_x", "İx") and like_matches("İ%", "İstanbul") and not like_matches("__x", "İx")


@pytest.mark.parametrize(
    "pattern",
    ["^a.*\\.c$", "b@", "^[a-z]+@[a-z.]+$", "(?i)ANN", "\\d{2,}", "a|x", "^$", "\\bb", "[^@]+@x\\.org", "é+"],
)
@pytest.mark.parametrize("value", ["ann@b.c", "bob@x.org", "", "Ann@B.C", "tel 0612", "café", "x"])
def test_regex_agrees_with_python_re_on_ordinary_patterns(pattern: str, value: str) -> None:
    assert select([{"field": "v"}, "regex", pattern], [{"id": "1", "v": value}]) == (
        ["1"] if re.search(pattern, value) else []
    )


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(a)\\1", "invalid escape sequence"),  # backreference
        ("(?=a)b", "invalid perl operator"),  # lookahead
        ("(?<!a)b", "invalid perl operator"),  # lookbehind
        ("[[:alpha:]{1001}", "missing ]"),
        ("a{1001}", "invalid repetition size"),
        (".{1000}" * 30, "pattern too large"),  # linear, but too costly per character
        ("\ud800", "not valid Unicode"),
    ],
)
def test_what_re2_cannot_take_is_a_400_that_names_the_problem(pattern: str, reason: str) -> None:
    with pytest.raises(BadRequest, match=re.escape(reason)):
        parse_condition([{"field": "bio"}, "regex", pattern])


def test_patterns_keep_their_length_cap() -> None:
    for comparator in ("like", "regex"):
        with pytest.raises(BadRequest, match=f"at most {MAX_PATTERN} characters"):
            parse_condition([{"field": "bio"}, comparator, "a" * (MAX_PATTERN + 1)])


def test_values_longer_than_the_cap_never_match() -> None:
    at_cap, over = {"id": "1", "bio": "x" * MAX_MATCHED_LENGTH}, {"id": "2", "bio": "x" * (MAX_MATCHED_LENGTH + 1)}
    assert select([{"field": "bio"}, "like", "x%"], [at_cap, over]) == ["1"]
    assert select([{"field": "bio"}, "regex", "^x"], [at_cap, over]) == ["1"]
    assert select([{"field": "bio"}, "=", over["bio"]], [at_cap, over]) == ["2"]  # only pattern matching is capped


def test_re2_is_loaded_only_by_a_regex_condition() -> None:
    # a cold start that never sees `regex` must not pay for loading RE2
    script = (
        "import sys; from ums.conditions import parse_condition, matches\n"
        "c = parse_condition([{'field': 'e'}, 'like', '%a%', 'and', {'field': 'e'}, '=', 'a'])\n"
        "matches(c, {'e': 'a'}); assert 're2' not in sys.modules\n"
        "matches(parse_condition([{'field': 'e'}, 'regex', 'a']), {'e': 'a'}); assert 're2' in sys.modules\n"
    )
    layer = Path(__file__).parents[2] / "layers" / "ums"
    subprocess.run([sys.executable, "-c", script], check=True, env={**os.environ, "PYTHONPATH": str(layer)})
