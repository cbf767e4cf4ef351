"""The README and docs/ stay true: every relative link (and its #anchor) resolves, and the routes
they name are the routes `template.yaml` serves."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from local_stack.template import Route, Stack

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
# `POST /ums/signup`, `GET /ums/users?cond=...`: a route as the pages write it.
ROUTE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)")


def prose(text: str) -> str:
    """`text` without fenced code blocks (a link or heading there is an example, not a link)."""
    return FENCE.sub("", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces become hyphens."""
    text = heading.strip().lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for heading in HEADING.findall(prose(page.read_text())):
        base = slug(heading)
        name, n = base, 0
        while name in found:  # GitHub numbers repeated headings: x, x-1, x-2
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def relative_links(page: Path) -> list[str]:
    text = CODE_SPAN.sub("code", prose(page.read_text()))
    return [t for t in LINK.findall(text) if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def broken_links(page: Path) -> list[str]:
    problems = []
    for target in relative_links(page):
        path_part, _, anchor = target.partition("#")
        file = (page.parent / path_part).resolve() if path_part else page
        if not file.exists():
            problems.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            problems.append(f"{target}: no heading #{anchor}")
    return problems


def template_routes() -> list[Route]:
    return [route for spec in Stack().functions() for route in spec.routes]


def named_routes(page: Path) -> set[tuple[str, str]]:
    return {(method, path.rstrip("/") or "/") for method, path in ROUTE.findall(page.read_text())}


def served(method: str, path: str, routes: list[Route]) -> bool:
    # Template paths with {token} or {proxy+} match a page's literal or placeholder path.
    literal = re.sub(r"\{(\w+)\+?\}", r"\1", path)
    return any(
        route.method in (method, "ANY") and (route.path == path or route.pattern().match(literal)) for route in routes
    )


def test_the_pages_have_links_and_headings() -> None:
    readme = ROOT / "README.md"
    assert len(PAGES) > 1
    assert "docs/api.md" in relative_links(readme)
    assert "quick-start" in anchors(readme)
    assert slug("`make demo`") == "make-demo"
    assert slug("The reset walk, step by step") == "the-reset-walk-step-by-step"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_a_broken_link_or_anchor_is_found(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## A `code` heading, here\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#a-code-heading-here) [file](missing.md) [anchor](other.md#nope) [self](#other) "
        "[web](https://example.com/x.md) `[not a link](missing.md)`\n"
        "```\n[in a block](missing-too.md)\n```\n"
    )
    assert broken_links(page) == [
        "missing.md: no such file",
        "other.md#nope: no heading #nope",
        "#other: no heading #other",
    ]


def test_every_route_the_readme_and_api_reference_name_is_served() -> None:
    routes = template_routes()
    for page in (ROOT / "README.md", ROOT / "docs" / "api.md"):
        named = named_routes(page)
        assert ("POST", "/ums/signup") in named
        assert [f"{m} {p}" for m, p in sorted(named) if not served(m, p, routes)] == [], page.name


def test_every_served_route_is_in_the_readme_and_the_api_reference() -> None:
    for page in (ROOT / "README.md", ROOT / "docs" / "api.md"):
        named = named_routes(page)
        missing = [
            f"{r.method} {r.path}" for r in template_routes() if r.method != "ANY" and (r.method, r.path) not in named
        ]
        assert missing == [], page.name
    assert "/management/" in (ROOT / "README.md").read_text()


def test_the_signing_key_routes_the_docs_name_are_the_management_router_s() -> None:
    """template.yaml serves all of /management/ as one `ANY` route: its sub-routes are the router's."""
    import helpers  # noqa: F401  # the functions' environment, before `ums` is imported
    from ums import management

    routes = [*management.app._static_routes, *management.app._dynamic_routes]
    served = {(route.method, route.path) for route in routes if "/signing-keys" in route.path}
    assert served == {("GET", "/management/signing-keys"), ("POST", "/management/signing-keys/rotate")}
    for name in ("automation.md", "cli.md", "tokens.md"):
        named = {(m, p) for m, p in named_routes(ROOT / "docs" / name) if "/signing-keys" in p}
        assert named == served, name


def section(page: Path, title: str) -> str:
    """The text under the heading `title` up to the next heading of the same or a higher level."""
    match = re.search(rf"^(#+) {re.escape(title)}\n(.*)", page.read_text(), re.M | re.S)
    assert match, f"{page.name} has no heading {title!r}"
    level = len(match.group(1))
    return re.split(rf"^#{{1,{level}}} ", match.group(2), flags=re.M)[0]


def test_the_configuration_table_lists_every_parameter_with_its_default() -> None:
    parameters = Stack().template["Parameters"]
    rows = re.findall(
        r"^\| `(\w+)` \| ([^|]+) \|", section(ROOT / "docs" / "configuration.md", "Stack parameters"), re.M
    )
    documented = {name: default.strip() for name, default in rows}
    assert sorted(documented) == sorted(parameters)
    for name, spec in parameters.items():
        default = str(spec.get("Default", ""))
        assert documented[name] == (f"`{default}`" if default else "(empty)"), name


def test_the_readme_names_only_real_parameters() -> None:
    parameters = set(Stack().template["Parameters"])
    named = set(re.findall(r"`([A-Z][a-z]+(?:[A-Z][a-z]+)+)(?:=[^`]*)?`", section(ROOT / "README.md", "Configuration")))
    assert "MailSender" in named
    assert named <= parameters
