"""`ums apply config.yaml`: make the project's configuration what the file says.

Items are matched by name (integrations, automations, templates, applications, OAuth providers)
or description (keys, policies); what is missing is created, what differs is replaced, the rest
is left alone, so running the same file twice changes nothing the second time. Only the fields
the file gives are compared (an OAuth provider's preset fills in the rest on the server).

Secrets are the exception: the API never shows a stored SMTP `password` or OAuth `client_secret`,
so it cannot be compared. One in the file is therefore sent every time and its item reported as
updated (the secret itself is never printed); leave it out to keep the stored one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from ums_cli.client import Client, Refused, UsageError

# Order matters: automations refer to integrations by name.
SECTIONS = ("integrations", "templates", "applications", "automations", "policies", "keys", "oauth_providers")
MATCH_BY = {"policies": "description", "keys": "description"}
PATHS = {"oauth_providers": "oauth-providers"}  # a section's management path, when it differs
SECRETS = {"integrations": "password", "oauth_providers": "client_secret"}  # write-only fields


def load_file(path: Path) -> dict[str, Any]:
    """The YAML file as a config dict; UsageError (one line) when it cannot be read or parsed."""
    try:
        text = path.read_text()
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise UsageError(f"{path} is not valid YAML{line}: {getattr(err, 'problem', None) or err}") from None
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise UsageError(f"{path}: expected sections at the top level ({', '.join(SECTIONS)})")
    return config


def apply_file(client: Client, path: Path) -> dict[str, Any]:
    """`ums apply FILE`."""
    return apply_config(client, load_file(path), str(path))


def apply_config(client: Client, config: dict[str, Any], source: str = "config") -> dict[str, Any]:
    """Create or update what `config` describes. Returns `{"created", "updated", "unchanged": [labels],
    "passwords": [labels whose password or client secret was sent]}` and, for keys created now,
    `"secrets"`."""
    unknown = set(config) - set(SECTIONS)
    if unknown:
        raise UsageError(f"{source}: unknown section(s) {', '.join(sorted(unknown))}; use {', '.join(SECTIONS)}")
    for section in SECTIONS:
        items = config.get(section) or []
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise UsageError(f"{source}: {section} must be a list of items (each `- name: ...`)")
    events = {e["name"]: e["id"] for e in client.request("GET", "/management/events")}
    summary: dict[str, Any] = {"created": [], "updated": [], "unchanged": [], "passwords": []}
    integration_ids: dict[str, str] = {}
    for section in SECTIONS:
        path = f"/management/{PATHS.get(section, section)}"
        existing = client.request("GET", path)
        match_by = MATCH_BY.get(section, "name")
        if section == "integrations":
            integration_ids = {item["name"]: item["id"] for item in existing}
        for desired in config.get(section) or []:
            desired = _normalize(section, dict(desired), events, integration_ids, source)
            name = desired.get(match_by)
            if not name:
                raise UsageError(f"{source}: every item of {section} needs a {match_by}")
            label = f"{section}/{name}"
            current = _only_match(section, match_by, name, existing)
            secret = desired.get(SECRETS[section]) if section in SECRETS else None
            if current is None:
                created = client.request("POST", path, desired)
                summary["created"].append(label)
                if section == "integrations":
                    integration_ids[name] = created["id"]
                if section == "keys":
                    summary.setdefault("secrets", {})[name] = f"{created['key']}:{created['secret']}"
            elif secret is not None or _differs(desired, current):
                # A secret cannot be compared (the API never returns it): send it every time.
                item_id = current.get("id") or current.get("key")
                client.request("PUT", f"{path}/{quote(str(item_id), safe='')}", desired)
                summary["updated"].append(label)
            else:
                summary["unchanged"].append(label)
            if secret is not None:
                summary["passwords"].append(label)
    return summary


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The summary for people: one line per item, passwords never shown."""
    lines = []
    for outcome in ("created", "updated", "unchanged"):
        for label in summary.get(outcome, []):
            note = ""
            if label in summary.get("passwords", []) and outcome == "updated":
                what = "client secret" if label.startswith("oauth_providers/") else "password"
                note = f" ({what} sent: the API cannot show it, so it is applied every time)"
            lines.append(f"{outcome:<10} {label}{note}")
    for description, credentials in (summary.get("secrets") or {}).items():
        lines.append(f"key {description!r}: {credentials}  (the secret is shown only now)")
    return lines or ["nothing to apply"]


def _only_match(section: str, match_by: str, name: str, existing: list[dict[str, Any]]) -> dict[str, Any] | None:
    matches = [item for item in existing if item.get(match_by) == name]
    if len(matches) > 1:
        # Updating one would leave the others live (two automations: two mails per event).
        ids = ", ".join(str(item.get("id") or item.get("key")) for item in matches)
        raise Refused(
            f"{len(matches)} {section} have the {match_by} {name!r} (ids {ids}); "
            f"delete all but one (ums {section} delete ID) and apply again"
        )
    return matches[0] if matches else None


def _normalize(
    section: str, item: dict[str, Any], events: dict[str, str], integrations: dict[str, str], source: str
) -> dict[str, Any]:
    """The item as the API stores it, so comparing is fair."""
    if section == "automations":
        item["event"] = events.get(item.get("event", ""), item.get("event"))
        if "integration" in item:
            name = item.pop("integration")
            if name not in integrations:
                raise UsageError(f"{source}: automation {item.get('name')!r} names no known integration {name!r}")
            item["integration_id"] = integrations[name]
        item.setdefault("enabled", True)
    if section == "integrations" and isinstance(item.get("tls"), bool):
        item["tls"] = "starttls" if item["tls"] else "none"
    if section == "integrations" and item.get("type") == "smtp":
        item.setdefault("tls", "starttls")
    if section == "policies":
        item["actions"] = {action: [] for action in item.get("actions", {})}
    if section == "oauth_providers" and item.get("preset"):
        item.setdefault("name", item["preset"])  # as the API names it
    return item


def _differs(desired: dict[str, Any], current: dict[str, Any]) -> bool:
    write_only = set(SECRETS.values())
    return any(current.get(k) != v for k, v in desired.items() if k not in write_only and v is not None)
