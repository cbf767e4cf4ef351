"""Mail templates: Jinja2 in a sandbox, Jexia's Go-template placeholders accepted.

User data only ever enters as variables, never into template source, so `{{ 7*7 }}` in a
user's name renders literally. HTML bodies autoescape; subjects and text bodies do not, and
every header value loses its line breaks and control characters. A template sees only the
event's placeholders and a small set of filters, and is rendered against sample placeholders
when it is saved, so what can only fail at send time is refused then.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from html.parser import HTMLParser
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from ums.errors import BadRequest

# Jexia wrote placeholders Go-style: {{.token}}, {{ .email }}.
_GO_PLACEHOLDER = re.compile(r"\{\{(-?)\s*\.([A-Za-z_][\w.]*)")
# What a mail needs; no `attr`, `format`, `map`/`select` by attribute, `pprint`, `random`, `safe`.
FILTERS = frozenset(
    {
        "abs", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape",
        "filesizeformat", "first", "float", "indent", "int", "items", "join", "last", "length", "list",
        "lower", "max", "min", "replace", "reverse", "round", "slice", "sort", "string", "striptags",
        "sum", "title", "tojson", "trim", "truncate", "unique", "upper", "urlencode", "urlize",
        "wordcount", "wordwrap",
    }
)  # fmt: skip
# Values like the ones the pipeline passes (pipeline.placeholders), to try a template on when saved.
SAMPLE_PLACEHOLDERS: dict[str, Any] = {
    "email": "ann@example.com",
    "first_name": "Ann",
    "user": {
        "id": "00000000-0000-4000-8000-000000000000",
        "email": "ann@example.com",
        "active": True,
        "created_at": "2026-01-01T00:00:00.000000Z",
        "updated_at": "2026-01-01T00:00:00.000000Z",
        "first_name": "Ann",
        "country": "US",
        "language": "en",
    },
    "application": {"name": "app", "email_tags": ["app"], "email_template": None},
    "project_id": "ums",
    "event": {"id": "AfterPasswordResetRequest", "name": "UMS: password reset request", "time": "2026-01-01T00:00:00Z"},
    "merge_vars": {"FNAME": "Ann"},
    "email_tags": {"app": "true"},
    "token": "sample-token",
    "reset_link": "https://example.com/reset?accountId=ums&customerId=0&token=sample-token&action=resetPwd",
    "verify_token": "sample-token",
    "verify_link": "https://example.com/verify-email?token=sample-token",
    "old_email": "ann@example.com",
    "new_email": "ann@example.org",
    "expires_at": "2026-01-01T01:00:00Z",
}


# A mail is small: `*` and `**` may not build a value larger than this (characters, items or bits).
MAX_PRODUCT = 10_000
# str.format/format_map read attributes named by their (possibly user-supplied) format string:
# what they do depends on the data, so a template may not call them.
_REFUSED_METHODS = frozenset({"format", "format_map"})


class _MailEnvironment(SandboxedEnvironment):
    """The sandbox, with `*` and `**` bounded so no template can build a huge value."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if _product_size(operator, left, right) > MAX_PRODUCT:
            raise SecurityError(f"'{operator}' would build a value over {MAX_PRODUCT} characters, items or bits")
        return super().call_binop(context, operator, left, right)


def _product_size(operator: str, left: Any, right: Any) -> int:
    """About how large `left <operator> right` would be, before computing it."""
    ints = [v for v in (left, right) if isinstance(v, int) and not isinstance(v, bool)]
    if operator == "**":
        return left.bit_length() * max(right, 0) if len(ints) == 2 else 0  # floats overflow quickly instead
    sized = [v for v in (left, right) if isinstance(v, str | list | tuple)]
    if sized and ints:
        return len(sized[0]) * abs(ints[0])
    return sum(v.bit_length() for v in ints) if len(ints) == 2 else 0


@cache
def _environment(html: bool) -> SandboxedEnvironment:
    # ChainableUndefined: a schemaless field a user lacks (`user.address.city`) renders empty
    # instead of failing the mail.
    env = _MailEnvironment(autoescape=html, keep_trailing_newline=True, undefined=ChainableUndefined)
    env.globals.clear()  # no range, lipsum, cycler, joiner, namespace, dict
    env.filters = {name: f for name, f in env.filters.items() if name in FILTERS}
    return env


def _source(template: str) -> str:
    return _GO_PLACEHOLDER.sub(r"{{\1 \2", template)


def check(template: str, field: str, placeholders: Iterable[str], *, html: bool) -> None:
    """400 naming the field when `template` does not compile, uses a name that is not one of
    `placeholders`, reaches for an internal attribute, or fails on sample placeholders."""
    allowed = set(placeholders)
    env = _environment(html)
    try:
        tree = env.parse(_source(template))
        used = meta.find_undeclared_variables(tree)  # compiles: an unknown filter fails here
    except TemplateSyntaxError as err:
        raise BadRequest(f"Template '{field}' does not compile (line {err.lineno}): {err.message}") from None
    unknown = sorted(used - allowed)
    if unknown:
        raise BadRequest(
            f"Template '{field}' uses unknown placeholder(s) {', '.join(unknown)}; "
            f"available: {', '.join(sorted(allowed))}"
        )
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else getattr(getattr(node, "arg", None), "value", None)
        if isinstance(name, str) and name.startswith("_"):
            raise BadRequest(f"Template '{field}' may not use internal attributes like '{name}' (line {node.lineno})")
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Getattr) and call.node.attr in _REFUSED_METHODS:
            raise BadRequest(f"Template '{field}' may not call '{call.node.attr}' (line {call.lineno})")
    sample = {name: value for name, value in SAMPLE_PLACEHOLDERS.items() if name in allowed}
    try:
        env.from_string(tree).render(sample)
    except Exception as err:  # whatever would fail the mail at send time fails the save instead
        raise BadRequest(f"Template '{field}' cannot be rendered: {type(err).__name__}: {err}") from None


def render(template: str, context: dict[str, Any], *, html: bool) -> str:
    return _environment(html).from_string(_source(template)).render(context)


_HEADER_BREAKING = frozenset({"Cc", "Zl", "Zp"})  # controls (CR, LF, NUL, VT, U+0085 …), U+2028, U+2029


def header_value(value: str) -> str:
    """One line: a header can never be split, or refused by a mail server, because of a value."""
    return "".join(" " if unicodedata.category(c) in _HEADER_BREAKING else c for c in value).strip()


class _TextExtractor(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        if tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        if tag == "a" and self._href:
            self.parts.append(f" ({self._href})")
            self._href = None
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """A plain-text part derived from HTML: block structure kept, links spelled out."""
    extractor = _TextExtractor()
    extractor.feed(html)
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
