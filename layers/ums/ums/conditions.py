"""Jexia's query grammar for `/ums/users`: `cond`, `outputs`, `range`, `order`, exactly as the
JS SDK sends them. Conditions are parsed into a tree and evaluated; nothing is ever `eval`ed.

    cond   = [expr, connector, expr, ...]       connector: and && or ||  (and binds tighter)
    expr   = {"field": "a.b"}, comparator, value  |  [ ... ]  (a nested group)
    comparator: = != > < >= <= null in "not in" like regex between
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from ums.errors import BadRequest

CONNECTORS = {"and": "and", "&&": "and", "or": "or", "||": "or"}
COMPARATORS = ("=", "!=", ">", "<", ">=", "<=", "null", "in", "not in", "like", "regex", "between")
QUERYABLE_DEFAULTS = ("id", "email", "active", "created_at", "updated_at", "mobile")
MAX_DEPTH = 8
MAX_TERMS = 64
MAX_PATTERN = 256


@dataclass(frozen=True)
class Comparison:
    field: str
    comparator: str
    value: Any


@dataclass(frozen=True)
class Group:
    connector: str  # "and" | "or"
    terms: tuple[Condition, ...]


Condition = Comparison | Group


def parse_json(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise BadRequest(f"Query parameter '{name}' is not valid JSON: {err}") from None


def parse_condition(raw: Any, depth: int = 0) -> Condition:
    """The tree of a `cond` value; a 400 that says what is wrong for anything malformed."""
    if depth > MAX_DEPTH:
        raise BadRequest(f"cond: groups nest deeper than {MAX_DEPTH} levels")
    if not isinstance(raw, list) or not raw:
        raise BadRequest('cond must be a non-empty array such as [{"field":"active"},"=",true]')
    terms: list[Condition] = []
    connectors: list[str] = []
    i = 0
    while True:
        item = raw[i] if i < len(raw) else None
        if isinstance(item, list):
            terms.append(parse_condition(item, depth + 1))
            i += 1
        elif isinstance(item, dict):
            if i + 2 >= len(raw):
                raise BadRequest(f"cond: the expression on {item!r} needs a comparator and a value")
            terms.append(_comparison(item, raw[i + 1], raw[i + 2]))
            i += 3
        else:
            raise BadRequest(f'cond: expected {{"field": ...}} or a nested group at position {i}, got {item!r}')
        if len(terms) > MAX_TERMS:
            raise BadRequest(f"cond: more than {MAX_TERMS} expressions")
        if i >= len(raw):
            break
        connector = raw[i]
        if not isinstance(connector, str) or connector.lower() not in CONNECTORS:
            raise BadRequest(f"cond: expected a connector (and, &&, or, ||) at position {i}, got {connector!r}")
        connectors.append(CONNECTORS[connector.lower()])
        i += 1
        if i >= len(raw):
            raise BadRequest("cond: a connector must be followed by an expression")
    return _precedence(terms, connectors)


def _precedence(terms: list[Condition], connectors: list[str]) -> Condition:
    """`a and b or c` is `(a and b) or c`."""
    if len(terms) == 1:
        return terms[0]
    ors: list[Condition] = []
    run: list[Condition] = [terms[0]]
    for connector, term in zip(connectors, terms[1:], strict=True):
        if connector == "and":
            run.append(term)
        else:
            ors.append(run[0] if len(run) == 1 else Group("and", tuple(run)))
            run = [term]
    ors.append(run[0] if len(run) == 1 else Group("and", tuple(run)))
    return ors[0] if len(ors) == 1 else Group("or", tuple(ors))


def check_field(name: Any, where: str = "cond") -> str:
    if not isinstance(name, str) or not name or len(name) > 256:
        raise BadRequest(f"{where}: a field name must be a non-empty string")
    parts = name.split(".")
    if any(not p or p.startswith("_") for p in parts) or parts[0] in ("password", "pk") or parts[0].endswith("_hash"):
        raise BadRequest(f"{where}: field '{name}' cannot be queried")
    return name


def _comparison(field_spec: dict[str, Any], comparator: Any, value: Any) -> Comparison:
    if set(field_spec) != {"field"}:
        raise BadRequest(f'cond: a field is written {{"field": "name"}}, got {field_spec!r}')
    field = check_field(field_spec["field"])
    if not isinstance(comparator, str) or comparator.lower() not in COMPARATORS:
        raise BadRequest(f"cond: unknown comparator {comparator!r}; use one of {', '.join(COMPARATORS)}")
    comparator = comparator.lower()
    if comparator in ("in", "not in") and not isinstance(value, list):
        raise BadRequest(f"cond: '{comparator}' on '{field}' needs an array of values")
    if comparator == "between" and not (isinstance(value, list) and len(value) == 2):
        raise BadRequest(f"cond: 'between' on '{field}' needs [low, high]")
    if comparator == "null" and not isinstance(value, bool):
        raise BadRequest(f"cond: 'null' on '{field}' needs true or false")
    if comparator in ("like", "regex"):
        if not isinstance(value, str) or len(value) > MAX_PATTERN:
            raise BadRequest(f"cond: '{comparator}' on '{field}' needs a string of at most {MAX_PATTERN} characters")
        _pattern(comparator, value)  # compile now: a bad pattern is the client's 400
    if isinstance(value, dict):
        raise BadRequest(f"cond: the value compared with '{field}' cannot be an object")
    return Comparison(field, comparator, value)


@cache
def _pattern(comparator: str, value: str) -> re.Pattern[str]:
    if comparator == "like":
        regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in value)
        return re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL)
    try:
        return re.compile(value)
    except re.error as err:
        raise BadRequest(f"cond: invalid regex {value!r}: {err}") from None


_MISSING = object()


def field_value(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _ordered(a: Any, b: Any, test: Callable[[Any, Any], bool]) -> bool:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
    strings = all(isinstance(v, str) for v in (a, b))
    return (numbers or strings) and test(a, b)


def matches(condition: Condition, record: dict[str, Any]) -> bool:
    if isinstance(condition, Group):
        check = all if condition.connector == "and" else any
        return check(matches(term, record) for term in condition.terms)
    value = field_value(record, condition.field)
    op, expected = condition.comparator, condition.value
    if op == "null":
        return (value is _MISSING or value is None) == expected
    if value is _MISSING:
        return op == "!=" or op == "not in"
    if op == "=":
        return bool(value == expected)
    if op == "!=":
        return bool(value != expected)
    if op in (">", "<", ">=", "<="):
        tests = {">": lambda a, b: a > b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b}
        return _ordered(value, expected, tests[op])
    if op == "in":
        return value in expected
    if op == "not in":
        return value not in expected
    if op == "between":
        low, high = expected
        return _ordered(value, low, lambda a, b: a >= b) and _ordered(value, high, lambda a, b: a <= b)
    return isinstance(value, str) and bool(_pattern(op, expected).search(value))


def equality_on(condition: Condition, field: str) -> Any:
    """The value `field` must equal for `condition` to hold, if the condition says so at its top
    level (alone or in an `and`): what lets a query use an index instead of a scan."""
    terms = condition.terms if isinstance(condition, Group) and condition.connector == "and" else (condition,)
    for term in terms:
        if isinstance(term, Comparison) and term.field == field and term.comparator == "=":
            return term.value
    return None


# --- outputs, range, order -------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    condition: Condition | None
    outputs: list[str] | None
    limit: int | None
    offset: int
    order: list[tuple[str, bool]]  # (field, descending)


def parse_query(params: dict[str, list[str]]) -> Query:
    """`cond`, `outputs`, `range` and (repeatable) `order` from the query string."""
    unknown = set(params) - {"cond", "outputs", "range", "order"}
    if unknown:
        raise BadRequest(f"Unknown query parameter(s): {', '.join(sorted(unknown))}; use cond, outputs, range, order")
    for name in ("cond", "outputs", "range"):
        if len(params.get(name, [])) > 1:
            raise BadRequest(f"Query parameter '{name}' may be given once")
    condition = parse_condition(parse_json("cond", params["cond"][0])) if "cond" in params else None
    outputs = None
    if "outputs" in params:
        outputs = parse_json("outputs", params["outputs"][0])
        if not isinstance(outputs, list) or not outputs:
            raise BadRequest("outputs must be a non-empty array of field names")
        outputs = [check_field(name, "outputs") for name in outputs]
    limit, offset = None, 0
    if "range" in params:
        window = parse_json("range", params["range"][0])
        if not isinstance(window, dict) or set(window) - {"limit", "offset"}:
            raise BadRequest('range must look like {"limit": 5, "offset": 2}')
        limit, offset = window.get("limit"), window.get("offset", 0)
        for name, number in (("limit", limit), ("offset", offset)):
            if number is not None and (not isinstance(number, int) or isinstance(number, bool) or number < 0):
                raise BadRequest(f"range.{name} must be a whole number >= 0")
    order = []
    for text in params.get("order", []):
        spec = parse_json("order", text)
        if not isinstance(spec, dict) or not isinstance(spec.get("fields"), list) or not spec["fields"]:
            raise BadRequest('order must look like {"fields": ["email"], "direction": "asc"}')
        direction = spec.get("direction", "asc")
        if direction not in ("asc", "desc"):
            raise BadRequest("order.direction must be 'asc' or 'desc'")
        order += [(check_field(f, "order"), direction == "desc") for f in spec["fields"]]
    return Query(condition, outputs, limit, offset, order)


def sort_key(record: dict[str, Any], field: str) -> tuple[int, Any]:
    """Missing values first, then numbers, then strings, each in their own order."""
    value = field_value(record, field)
    if value is _MISSING or value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (2, value)
    return (3, str(value))


def apply_window(records: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
    for field, descending in reversed(query.order):  # stable sorts: the first order is primary
        records.sort(key=lambda r, f=field: sort_key(r, f), reverse=descending)  # type: ignore[misc]
    end = None if query.limit is None else query.offset + query.limit
    records = records[query.offset : end]
    if query.outputs:
        records = [_project(r, query.outputs) for r in records]
    return records


def _project(record: dict[str, Any], outputs: list[str]) -> dict[str, Any]:
    projected: dict[str, Any] = {}
    for path in outputs:
        value = field_value(record, path)
        if value is _MISSING:
            continue
        target = projected
        *parents, last = path.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return projected
