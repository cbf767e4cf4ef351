"""Jexia's condition grammar: every comparator and connector, groups, and malformed input."""

import json

import pytest
from ums.conditions import apply_window, matches, parse_condition, parse_query
from ums.errors import BadRequest

ANN = {"id": "1", "email": "ann@b.c", "active": True, "age": 30, "address": {"city": "Apeldoorn"}, "tags": "x"}
BOB = {"id": "2", "email": "bob@x.org", "active": False, "age": 17, "nick": None}


def select(cond: list, records=(ANN, BOB)) -> list[str]:
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
def test_every_comparator(cond, expected):
    assert select(cond) == expected


def test_connectors_and_precedence():
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
def test_malformed_conditions_are_400_that_say_why(cond, reason):
    with pytest.raises(BadRequest, match=reason.replace("[", "\\[").replace("]", "\\]")):
        parse_condition(cond)


def test_the_js_sdk_recorded_query():
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
    users = [
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
def test_malformed_query_parameters(params, reason):
    with pytest.raises(BadRequest, match=reason):
        parse_query(params)
