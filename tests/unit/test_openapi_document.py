"""The OpenAPI contract (ums/openapi.py) is valid OpenAPI 3.1 and names exactly the routes the
stack serves: template.yaml's HTTP API routes, and behind `ANY /management/{proxy+}` the
management routers' routes. A route added to one and not the other fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from openapi_spec_validator import validate
from script_loader import load_script
from ums.management import app as management
from ums.openapi import document

from local_stack.template import Stack

ROOT = Path(__file__).resolve().parents[2]
METHODS = {"get", "put", "post", "delete", "patch"}
MANAGEMENT_PROXY = ("ANY", "/management/{proxy+}")


def documented() -> set[tuple[str, str]]:
    return {
        (method.upper(), path) for path, item in document()["paths"].items() for method in item if method in METHODS
    }


def template_routes() -> set[tuple[str, str]]:
    """The HttpApi's routes (the example API's `GET /hello` is another API, not this contract's)."""
    return {
        (route.method, route.path)
        for spec in Stack().functions()
        for route in spec.routes
        if route.auth is None or route.auth.api == "HttpApi"
    }


def management_routes() -> set[tuple[str, str]]:
    """What the management resolver routes, with `<param>` written as OpenAPI's `{id}`."""
    routes = management._static_routes + management._dynamic_routes
    return {(route.method, re.sub(r"<\w+>", "{id}", route.path)) for route in routes}


def test_the_document_is_valid_openapi_3_1() -> None:
    spec = document("https://api.example.com")
    validate(spec)
    assert spec["openapi"] == "3.1.0" and spec["servers"] == [{"url": "https://api.example.com"}]


def test_every_route_of_template_yaml_is_documented_and_nothing_else() -> None:
    served = template_routes()
    assert MANAGEMENT_PROXY in served
    expected = (served - {MANAGEMENT_PROXY}) | management_routes()
    assert documented() == expected


def test_every_operation_documents_its_errors_in_jexias_format_and_its_security() -> None:
    spec = document()
    schemes = set(spec["components"]["securitySchemes"])
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            where = f"{method.upper()} {path}"
            assert operation["summary"] and operation["tags"], where
            assert {name for requirement in operation["security"] for name in requirement} <= schemes, where
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and not path.startswith("/pages/"):
                    assert response == {"$ref": f"#/components/responses/Error{status}"}, where
    assert spec["components"]["responses"]["Error429"]["headers"]["Retry-After"]


def test_the_management_routes_are_sigv4_and_the_user_routes_bearer() -> None:
    paths: dict[str, Any] = document()["paths"]
    assert {
        tuple(requirement)
        for path, item in paths.items()
        if path.startswith("/management/")
        for method, operation in item.items()
        if method in METHODS
        for requirement in operation["security"]
    } == {("sigv4",)}
    assert paths["/ums/user"]["get"]["security"] == [{"bearer": []}]
    assert paths["/user/password"]["post"]["security"] == [{"apiKey": []}, {"bearer": []}]


def test_the_rendered_reference_is_the_contracts_current_one() -> None:
    """docs/openapi.json and docs/api-reference.html are what `make docs` writes now."""
    render = load_script("render_api_reference")
    for path, text in render.outputs().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run `make docs`"
    page = (ROOT / "docs" / "api-reference.html").read_text(encoding="utf-8")
    assert "<script" not in page and "http://" not in page and "//cdn" not in page
