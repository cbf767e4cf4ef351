"""Jexia's query grammar for `/ums/users`: `cond`, `outputs`, `range`, `order`, exactly as the
JS SDK sends them. Conditions are parsed into a tree and evaluated; nothing is ever `eval`ed.

    cond   = [expr, connector, expr, ...]       connector: and && or ||  (and binds tighter)
    expr   = {"field": "a.b"}, comparator, value  |  [ ... ]  (a nested group)
    comparator: = != > < >= <= null in "not in" like regex between

`like` and `regex` never backtrack (a hostile pattern must not stall a scan): their cost grows
linearly with the value. `like` is matched piece by piece between its `%`s; `regex` is RE2 syntax
(google-re2, loaded on first use), which has no backreferences or lookaround. Values longer than
MAX_MATCHED_LENGTH never match either.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ums.errors import BadRequest
from ums.inputs import load_json

if TYPE_CHECKING:
    import re2

CONNECTORS = {"and": "and", "&&": "and", "or": "or", "||": "or"}
COMPARATORS = ("=", "!=", ">", "<", ">=", "<=", "null", "in", "not in", "like", "regex", "between")
MAX_DEPTH = 8
MAX_TERMS = 64
MAX_PATTERN = 256
MAX_MATCHED_LENGTH = 4096  # longer values never match `like` or `regex`: bounds the cost per value
# RE2's memory budget per pattern; it also bounds the compiled program, hence the cost per character
# (a pattern that needs more is a 400, e.g. `.{1000}` repeated).
REGEX_MAX_MEM = 64 * 1024


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
    """A query parameter's JSON, with the same limits as a body (nesting, Unicode, digits)."""
    return load_json(text, f"Query parameter '{name}'")


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
        _like(value) if comparator == "like" else _regex(value)  # compile now: a bad pattern is the client's 400
    if isinstance(value, dict):
        raise BadRequest(f"cond: the value compared with '{field}' cannot be an object")
    return Comparison(field, comparator, value)


@dataclass(frozen=True)
class _Piece:
    """What a `like` pattern holds between two `%`s: a fixed-length regex (`_` is any one
    character), so `re` has nothing to backtrack over in it."""

    regex: re.Pattern[str]
    width: int


@lru_cache(maxsize=256)  # bounded: patterns come from clients
def _like(pattern: str) -> tuple[_Piece, ...]:
    return tuple(
        _Piece(re.compile("".join("." if c == "_" else re.escape(c) for c in piece), re.DOTALL), len(piece))
        for piece in _fold(pattern).split("%")
    )


def like_matches(pattern: str, value: str) -> bool:
    """SQL `like`, case-insensitive: `%` is any run of characters, `_` any one character.
    The first piece must start the value and the last must end it; each piece in between is
    placed at its leftmost fit after the one before (leftmost always leaves the most room), so
    nothing is ever retried: at most len(value) x len(pattern) steps."""
    pieces = _like(pattern)
    text = _fold(value)
    if len(pieces) == 1:  # no `%`
        return pieces[0].regex.fullmatch(text) is not None
    first, *middle, last = pieces
    end = len(text) - last.width
    if end < first.width or not first.regex.match(text) or not last.regex.fullmatch(text, end):
        return False
    position = first.width
    for piece in middle:
        found = piece.regex.search(text, position, end)
        if found is None:
            return False
        position = found.end()
    return True


def _fold(text: str) -> str:
    """Lower case, one character for one (so `_` still counts characters): a character whose
    lower case is longer (such as 'İ') is kept as it is."""
    lowered = text.lower()
    if len(lowered) == len(text):  # lower() never shortens a character
        return lowered
    return "".join(low if len(low := c.lower()) == 1 else c for c in text)


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re2._Regexp:
    """`pattern` compiled by RE2 (linear-time matching); a 400 naming the problem if RE2
    cannot take it. google-re2 is imported here, so only a `regex` query pays for loading it."""
    import re2

    options = re2.Options()
    options.max_mem = REGEX_MAX_MEM
    options.never_capture = True  # matching only: no groups to report
    options.log_errors = False  # the pattern is the client's; keep it out of stderr
    try:
        return re2.compile(pattern, options)
    except UnicodeEncodeError:
        raise BadRequest("cond: the regex is not valid Unicode") from None
    except re2.error as err:
        detail = err.args[0].decode("utf-8", "replace") if isinstance(err.args[0], bytes) else str(err.args[0])
        if "too large" in detail:
            detail += f" (a pattern may compile to at most {REGEX_MAX_MEM // 1024} KiB: use smaller repetitions)"
        raise BadRequest(
            f"cond: invalid regex {pattern!r}: {detail}. "
            "Patterns use RE2 syntax: no backreferences, lookahead or lookbehind"
        ) from None


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
        return bool((value is _MISSING or value is None) == expected)
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
    if not isinstance(value, str) or len(value) > MAX_MATCHED_LENGTH:
        return False
    return like_matches(expected, value) if op == "like" else _regex(expected).search(value) is not None


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
    cursor: str | None = None  # where a select that stopped goes on (ums.cursors)


def parse_query(params: dict[str, list[str]]) -> Query:
    """`cond`, `outputs`, `range` and (repeatable) `order` from the query string."""
    unknown = set(params) - {"cond", "outputs", "range", "order", "cursor"}
    if unknown:
        names = ", ".join(sorted(unknown))
        raise BadRequest(f"Unknown query parameter(s): {names}; use cond, outputs, range, order, cursor")
    for name in ("cond", "outputs", "range", "cursor"):
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
    cursor = params["cursor"][0] if "cursor" in params else None
    if cursor is not None and offset:
        raise BadRequest("range.offset cannot be combined with cursor: the cursor already says where to go on")
    return Query(condition, outputs, limit, offset, order, cursor)


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
