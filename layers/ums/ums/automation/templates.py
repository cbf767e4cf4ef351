"""Mail templates: Jinja2 in a sandbox, Jexia's Go-template placeholders accepted.

User data only ever enters as variables, never into template source, so `{{ 7*7 }}` in a
user's name renders literally. HTML bodies autoescape; subjects and text bodies do not, and
every header value loses CR, LF and NUL.
"""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from ums.errors import BadRequest

# Jexia wrote placeholders Go-style: {{.token}}, {{ .email }}.
_GO_PLACEHOLDER = re.compile(r"\{\{(-?)\s*\.([A-Za-z_][\w.]*)")
_HEADER_BREAKS = re.compile(r"[\r\n\x00]")


@cache
def _environment(html: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=html, keep_trailing_newline=True)


def _source(template: str) -> str:
    return _GO_PLACEHOLDER.sub(r"{{\1 \2", template)


def check(template: str, field: str) -> None:
    """400 naming the field and line when `template` does not compile (checked when saved)."""
    try:
        _environment(False).parse(_source(template))
    except TemplateSyntaxError as err:
        raise BadRequest(f"Template '{field}' does not compile (line {err.lineno}): {err.message}") from None


def render(template: str, context: dict[str, Any], *, html: bool) -> str:
    return _environment(html).from_string(_source(template)).render(context)


def header_value(value: str) -> str:
    """One line: a header can never be split into two by a value."""
    return _HEADER_BREAKS.sub(" ", value).strip()


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
