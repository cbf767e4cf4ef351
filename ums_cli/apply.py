"""`ums apply config.yaml`: make the project's configuration what the file says.

Items are matched by name (integrations, automations, templates, applications) or description
(keys, policies); what is missing is created, what differs is replaced, the rest is left alone,
so running the same file twice changes nothing the second time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from ums_cli.client import ApiError, Client

# Order matters: automations refer to integrations by name.
SECTIONS = ("integrations", "templates", "applications", "automations", "policies", "keys")
MATCH_BY = {"policies": "description", "keys": "description"}
WRITE_ONLY = {"password"}


def apply_file(client: Client, path: Path) -> dict[str, Any]:
    config = yaml.safe_load(path.read_text()) or {}
    unknown = set(config) - set(SECTIONS)
    if unknown:
        raise ApiError(0, f"{path}: unknown section(s) {', '.join(sorted(unknown))}; use {', '.join(SECTIONS)}")
    events = {e["name"]: e["id"] for e in client.request("GET", "/management/events")}
    summary: dict[str, Any] = {"created": [], "updated": [], "unchanged": []}
    integration_ids: dict[str, str] = {}
    for section in SECTIONS:
        existing = client.request("GET", f"/management/{section}")
        match_by = MATCH_BY.get(section, "name")
        by_name = {item.get(match_by): item for item in existing}
        if section == "integrations":
            integration_ids = {item["name"]: item["id"] for item in existing}
        for desired in config.get(section) or []:
            desired = _normalize(section, dict(desired), events, integration_ids)
            name = desired.get(match_by)
            if not name:
                raise ApiError(0, f"{path}: every item of {section} needs a {match_by}")
            label = f"{section}/{name}"
            current = by_name.get(name)
            if current is None:
                created = client.request("POST", f"/management/{section}", desired)
                summary["created"].append(label)
                if section == "integrations":
                    integration_ids[name] = created["id"]
                if section == "keys":
                    summary.setdefault("secrets", {})[name] = f"{created['key']}:{created['secret']}"
            elif _differs(desired, current):
                item_id = current.get("id") or current.get("key")
                if section == "integrations" and current.get("has_password"):
                    desired.pop("password", None)  # write-only: kept as stored
                client.request("PUT", f"/management/{section}/{quote(str(item_id), safe='')}", desired)
                summary["updated"].append(label)
            else:
                summary["unchanged"].append(label)
    return summary


def _normalize(
    section: str, item: dict[str, Any], events: dict[str, str], integrations: dict[str, str]
) -> dict[str, Any]:
    """The item as the API stores it, so comparing is fair."""
    if section == "automations":
        item["event"] = events.get(item.get("event", ""), item.get("event"))
        if "integration" in item:
            name = item.pop("integration")
            if name not in integrations:
                raise ApiError(0, f"automation {item.get('name')!r}: no integration named {name!r}")
            item["integration_id"] = integrations[name]
        item.setdefault("enabled", True)
    if section == "integrations" and isinstance(item.get("tls"), bool):
        item["tls"] = "starttls" if item["tls"] else "none"
    if section == "integrations" and item.get("type") == "smtp":
        item.setdefault("tls", "starttls")
    if section == "policies":
        item["actions"] = {action: [] for action in item.get("actions", {})}
    return item


def _differs(desired: dict[str, Any], current: dict[str, Any]) -> bool:
    return any(current.get(k) != v for k, v in desired.items() if k not in WRITE_ONLY and v is not None)
