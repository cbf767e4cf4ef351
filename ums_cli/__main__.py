"""ums: manage a Serverless UMS project from the command line.

  ums [--endpoint URL] [--json] integrations|automations|templates|applications|keys|policies
      list | get ID | create --data JSON|@file | update ID --data JSON|@file | delete ID
  ums integrations test ID --to EMAIL
  ums apply config.yaml            create or update everything the file describes (idempotent)
  ums mail [--follow] [--clear]    the local stack's outbox
  ums users find|update|delete COND [--data JSON] [--outputs a,b] [--limit N] [--offset N] [--order field[:desc]]
      COND is Jexia's JSON or a shorthand: 'active = true and email like %@example.com'
      users commands sign in with an API key: --key KEY:SECRET or UMS_API_KEY

The endpoint defaults to the local stack (http://127.0.0.1:3000, or UMS_ENDPOINT). A deployed
API's management routes are signed with SigV4 from the normal AWS credential chain.
Exit codes: 0 done, 1 the API refused (the message says why), 2 bad usage, 3 cannot connect.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ums_cli import conditions
from ums_cli.apply import apply_file
from ums_cli.client import DEFAULT_ENDPOINT, ApiError, Client

RESOURCES = ("integrations", "automations", "templates", "applications", "keys", "policies")


def usage(message: str) -> SystemExit:
    """Bad usage: exit code 2, as argparse does."""
    print(f"ums: {message}", file=sys.stderr)
    return SystemExit(2)


def _data(text: str | None) -> Any:
    if text is None:
        raise usage("--data is required (JSON, or @file.json / @file.yaml)")
    if text.startswith("@"):
        path = Path(text[1:])
        if path.suffix in (".yaml", ".yml"):
            import yaml

            return yaml.safe_load(path.read_text())
        text = path.read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise usage(f"--data is not valid JSON: {err}") from None


def _print(value: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(value, indent=2))
        return
    rows = value if isinstance(value, list) else [value]
    for row in rows:
        if isinstance(row, dict):
            key = row.get("id") or row.get("key")
            rest = {k: v for k, v in row.items() if k not in ("id", "created_at", "updated_at")}
            print(f"{key}  " + "  ".join(f"{k}={json.dumps(v)}" for k, v in rest.items() if k != "key" or not key))
        else:
            print(row)
    if isinstance(value, list) and not value:
        print("(none)")


def resource_command(client: Client, args: argparse.Namespace) -> Any:
    base = f"/management/{args.resource}"
    if args.action == "list":
        return client.request("GET", base)
    if args.action == "create":
        return client.request("POST", base, _data(args.data))
    if not args.id:
        raise usage(f"{args.resource} {args.action} needs an ID")
    if args.action == "get":
        return client.request("GET", f"{base}/{quote(args.id, safe='')}")
    if args.action == "update":
        return client.request("PUT", f"{base}/{quote(args.id, safe='')}", _data(args.data))
    if args.action == "delete":
        return client.request("DELETE", f"{base}/{quote(args.id, safe='')}")
    if args.action == "test" and args.resource == "integrations":
        if not args.to:
            raise usage("integrations test needs --to EMAIL")
        return client.request("POST", f"{base}/{quote(args.id, safe='')}/test", {"to": args.to})
    raise usage(f"unknown action {args.action!r} for {args.resource}")


def users_command(client: Client, args: argparse.Namespace) -> Any:
    key = args.key or os.environ.get("UMS_API_KEY")
    if not key or ":" not in key:
        raise usage("users commands need an API key: --key KEY:SECRET or UMS_API_KEY")
    try:
        cond = conditions.parse(args.cond)
    except ValueError as err:
        raise usage(f"bad condition: {err}") from None
    body = _data(args.data) if args.action == "update" else None
    api_key, _, secret = key.partition(":")
    tokens = client.request("POST", "/auth", {"method": "apk", "key": api_key, "secret": secret})
    query = [f"cond={quote(json.dumps(cond))}"]
    if args.outputs:
        query.append(f"outputs={quote(json.dumps(args.outputs.split(',')))}")
    if args.limit is not None or args.offset:
        query.append(f"range={quote(json.dumps({'limit': args.limit, 'offset': args.offset or 0}))}")
    for order in args.order or []:
        field, _, direction = order.partition(":")
        query.append(f"order={quote(json.dumps({'fields': [field], 'direction': direction or 'asc'}))}")
    method = {"find": "GET", "update": "PATCH", "delete": "DELETE"}[args.action]
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    return client.request(method, "/ums/users?" + "&".join(query), body, headers)


def mail_command(client: Client, args: argparse.Namespace) -> Any:
    if not client.is_local:
        raise usage("mail reads the local stack's outbox; the endpoint is not local")
    if args.clear:
        client.request("DELETE", "/_local/mail")
        return []
    seen: set[str] = set()
    while True:
        mails = [m for m in client.request("GET", "/_local/mail") if m["id"] not in seen]
        for mail in mails:
            seen.add(mail["id"])
            if args.json:
                print(json.dumps(mail))
            else:
                print(f"{mail['sent_at']}  {mail['from']} -> {', '.join(mail['to'])}  [{mail['integration']}]")
                print(f"  Subject: {mail['subject']}\n  " + (mail.get("text") or "").strip().replace("\n", "\n  "))
        if not args.follow:
            return None
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ums", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--endpoint", default=os.environ.get("UMS_ENDPOINT", DEFAULT_ENDPOINT))
    parser.add_argument("--json", action="store_true", help="print JSON")
    # --json and --endpoint are also taken after the command
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--endpoint", default=argparse.SUPPRESS)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True)
    for resource in RESOURCES:
        sub = commands.add_parser(resource, help=f"manage {resource}", parents=[common])
        actions = ["list", "get", "create", "update", "delete"] + (["test"] if resource == "integrations" else [])
        sub.add_argument("action", choices=actions)
        sub.add_argument("id", nargs="?")
        sub.add_argument("--data", help="the item: JSON, or @file.json / @file.yaml")
        if resource == "integrations":
            sub.add_argument("--to", help="where `test` sends its mail")
        sub.set_defaults(run=resource_command, resource=resource)
    apply = commands.add_parser(
        "apply", help="create or update what a YAML file describes (idempotent)", parents=[common]
    )
    apply.add_argument("file")
    apply.set_defaults(run=lambda client, args: apply_file(client, Path(args.file)))
    mail = commands.add_parser("mail", help="list or follow the local stack's mail", parents=[common])
    mail.add_argument("--follow", "-f", action="store_true")
    mail.add_argument("--clear", action="store_true")
    mail.set_defaults(run=mail_command)
    users = commands.add_parser("users", help="find, update or delete users with a condition", parents=[common])
    users.add_argument("action", choices=["find", "update", "delete"])
    users.add_argument("cond")
    users.add_argument("--data", help="update: the fields to set, as JSON")
    users.add_argument("--key", help="KEY:SECRET of an API key (or UMS_API_KEY)")
    users.add_argument("--outputs", help="comma-separated fields to return")
    users.add_argument("--limit", type=int)
    users.add_argument("--offset", type=int)
    users.add_argument("--order", action="append", help="field or field:desc (repeatable)")
    users.set_defaults(run=users_command)
    args = parser.parse_args(argv)
    client = Client(args.endpoint)
    try:
        result = args.run(client, args)
    except ApiError as err:
        print(f"ums: {err}", file=sys.stderr)
        return 1
    except ConnectionError as err:
        print(f"ums: {err}", file=sys.stderr)
        return 3
    if result is not None:
        _print(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
