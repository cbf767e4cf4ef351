"""`make docs`: the API reference rendered from the OpenAPI contract (layers/ums/ums/openapi.py).

Writes docs/openapi.json (the contract, for tools: Postman, code generators, Schemathesis) and
docs/api-reference.html (one static page: inline CSS, no script, no third-party assets). A unit
test fails when either is older than the contract.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "ums"))

from ums.openapi import document  # noqa: E402 (the layer is put on the path first)

SERVER = "https://<your API URL>"
METHODS = ("get", "post", "put", "patch", "delete")
TEMPLATE = Path(__file__).with_name("api_reference.html.j2")


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """`node` with its `$ref`s written out (the reference reads top to bottom)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return resolve(spec, target)
        return {key: resolve(spec, value) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(spec, value) for value in node]
    return node


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def operations(spec: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            operation = resolve(spec, item[method])
            content = (operation.get("requestBody") or {}).get("content", {})
            body = None
            for media_type, media in content.items():
                example = media.get("example")
                body = {
                    "type": media_type,
                    "schema": pretty(media["schema"]),
                    "example": None if example is None else pretty(example),
                }
            responses = []
            for status, response in operation["responses"].items():
                schemas = [m.get("schema") for m in response.get("content", {}).values()]
                responses.append(
                    {
                        "status": status,
                        "description": response["description"],
                        "schema": pretty(schemas[0]) if schemas else "",
                    }
                )
            groups.setdefault(operation["tags"][0], []).append(
                {
                    "method": method,
                    "path": path,
                    "summary": operation["summary"],
                    "security": " or ".join(name for req in operation["security"] for name in req),
                    "parameters": resolve(spec, item.get("parameters", [])) + operation.get("parameters", []),
                    "body": body,
                    "responses": responses,
                }
            )
    return groups


def render(spec: dict[str, Any]) -> str:
    environment = Environment(autoescape=select_autoescape(default=True), keep_trailing_newline=True)
    environment.filters["anchor"] = lambda text: "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
    return environment.from_string(TEMPLATE.read_text(encoding="utf-8")).render(
        info=spec["info"], openapi=spec["openapi"], groups=operations(spec)
    )


def outputs() -> dict[Path, str]:
    spec = document(SERVER)
    return {
        ROOT / "docs" / "openapi.json": pretty(spec) + "\n",
        ROOT / "docs" / "api-reference.html": render(spec),
    }


def main() -> int:
    for path, text in outputs().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)} ({len(text.encode()) // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
