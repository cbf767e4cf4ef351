"""ums: manage a Serverless UMS project from the command line.

  ums [--endpoint URL] [--json] integrations|automations|templates|applications|keys|policies|oauth-providers
      list | get ID | create --data JSON|@file | update ID --data JSON|@file | delete ID
      (an OAuth provider's ID is its name; its client_secret is sent, never shown)
      (an ID that starts with '-' goes after '--': ums keys get -- -xY3...)
  ums integrations test ID --to EMAIL
  ums apply config.yaml            create or update everything the file describes (idempotent; a
                                   password or client_secret in the file is sent, and reported
                                   updated, every time)
  ums mail [--follow] [--clear]    the local stack's outbox (Ctrl-C ends --follow)
  ums outbox [list] [--limit N]    events whose mail failed, newest first, with the reason
  ums outbox list --all            the latest events of any status, newest first
  ums outbox get EVENT_ID          what became of one event's mail (pending, sent, failed, skipped)
  ums outbox redrive EVENT_ID      send a failed (or stuck pending) event's mail again
  ums failures [list]              the failure queue: stream batches the automation gave up on
  ums failures redrive             send their events again and empty the queue
  ums signing-keys [list]          the access-token signing keys: ids and times, never a private key
  ums signing-keys rotate [--now]  a new key, published now, signing 2 h later; --now: signing at
                                   once, every other key dropped (a leaked key: all tokens refused)
  ums users find|update|delete COND [--data JSON] [--outputs a,b] [--limit N] [--offset N] [--order field[:desc]]
      COND is Jexia's JSON or a shorthand: "active = true and email like %@example.com".
      Shorthand values: true, false, null, numbers, JSON arrays ([1, 2]) and words with one of
      @ % . _ - / (ann@example.com) stand as they are; any other string is quoted: "country = 'NL'".
      delete shows how many users match and asks first; --yes skips the question (needed
      without a terminal, e.g. in CI), --dry-run lists them and deletes nothing.
      users commands sign in with an API key: --key KEY:SECRET or UMS_API_KEY
  ums users import FILE [--dry-run] [--notify] [--format jsonl|csv] [--start-at N]
      [--firebase-signer-key KEY [--firebase-salt-separator S] [--firebase-rounds 8] [--firebase-mem-cost 14]]
      users from JSON Lines or CSV with their ids and password hashes, in batches of 100, with a
      progress bar; rows already there are skipped, so running it again goes on where it stopped.
      Rejected rows are printed on stderr with their line and reason.
  ums users export [--cond COND] [--with-password-hashes] [--cursor C] > users.jsonl
      every user (or those COND selects) as JSON Lines that `users import` takes again.
  ums console [--port N] [--key KEY:SECRET]
      the web console on http://127.0.0.1:N (default 3001): automations with preview, templates,
      applications, integrations, policies, API keys, OAuth providers, users, delivery. It forwards
      to --endpoint, signing as this command does; users are managed with an API key (--key or
      UMS_API_KEY; on the local stack the console makes its own).

--json prints JSON Lines everywhere: one JSON object per line, one line per item of a list
(nothing for an empty list), so `ums --json ... | jq` and `mail --follow --json` read alike.

The endpoint defaults to the local stack (http://127.0.0.1:3000, UMS_LOCAL_PORT, or UMS_ENDPOINT). A
deployed API's management routes are signed with SigV4 from the normal AWS credential chain.
Exit codes: 0 done, 1 the API refused (the message says why), 2 bad usage (including a local file
that cannot be read), 3 cannot connect, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ums_cli import conditions, transfer
from ums_cli.apply import apply_file, summary_lines
from ums_cli.client import DEFAULT_ENDPOINT, Client, Refused, UsageError

RESOURCES = ("integrations", "automations", "templates", "applications", "keys", "policies", "oauth-providers")


def _data(text: str | None) -> Any:
    if text is None:
        raise UsageError("--data is required (JSON, or @file.json / @file.yaml)")
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text()
        except OSError as err:
            raise UsageError(f"cannot read {path}: {err.strerror or err}") from None
        if path.suffix in (".yaml", ".yml"):
            import yaml

            try:
                return yaml.safe_load(text)
            except yaml.YAMLError as err:
                raise UsageError(f"{path} is not valid YAML: {getattr(err, 'problem', None) or err}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise UsageError(f"--data is not valid JSON: {err}") from None


def _print(value: Any, as_json: bool) -> None:
    """JSON Lines with --json (one line per item); otherwise one line per item, `key: value`
    lines for a single result without an id."""
    rows = value if isinstance(value, list) else [value]
    if as_json:
        for row in rows:
            print(json.dumps(row))
        return
    for row in rows:
        if not isinstance(row, dict):
            print(row)
            continue
        key = row.get("id") or row.get("key")
        if key is None:
            print("\n".join(f"{k}: {v if isinstance(v, str) else json.dumps(v)}" for k, v in row.items()) or "done")
            continue
        rest = {k: v for k, v in row.items() if k not in ("id", "key", "created_at", "updated_at")}
        print(f"{key}  " + "  ".join(f"{k}={json.dumps(v)}" for k, v in rest.items()))
    if isinstance(value, list) and not value:
        print("(none)")


def resource_command(client: Client, args: argparse.Namespace) -> Any:
    """list / get / create / update / delete / test on a management resource."""
    base = f"/management/{args.resource}"
    if args.action == "list":
        return client.request("GET", base)
    if args.action == "create":
        return client.request("POST", base, _data(args.data))
    if not args.id:
        raise UsageError(f"{args.resource} {args.action} needs an ID")
    item = f"{base}/{quote(args.id, safe='')}"
    if args.action == "get":
        return client.request("GET", item)
    if args.action == "update":
        return client.request("PUT", item, _data(args.data))
    if args.action == "delete":
        client.request("DELETE", item)
        return {"deleted": f"{args.resource}/{args.id}"}
    if args.action == "test" and args.resource == "integrations":
        if not args.to:
            raise UsageError("integrations test needs --to EMAIL")
        return client.request("POST", f"{item}/test", {"to": args.to})
    raise UsageError(f"unknown action {args.action!r} for {args.resource}")


def apply_command(client: Client, args: argparse.Namespace) -> Any:
    """`ums apply FILE`: the summary as one JSON object, or one line per item."""
    summary = apply_file(client, Path(args.file))
    return summary if args.json else "\n".join(summary_lines(summary))


def users_command(client: Client, args: argparse.Namespace) -> Any:
    """find / update / delete users matching a condition, signed in with an API key; import,
    export and reindex go through the (signed) management API."""
    if args.action == "import":
        return transfer.import_command(client, args)
    if args.action == "export":
        args.cond = _condition(args.cond) if args.cond else None
        return transfer.export_command(client, args)
    if args.action == "reindex":
        return transfer.reindex_command(client, args)
    if not args.target:
        raise UsageError(f"users {args.action} needs a condition")
    key = args.key or os.environ.get("UMS_API_KEY")
    if not key or ":" not in key:
        raise UsageError("users commands need an API key: --key KEY:SECRET or UMS_API_KEY")
    if (args.yes or args.dry_run) and args.action != "delete":
        raise UsageError("--yes and --dry-run go with users delete")
    cond = _condition(args.target)
    body = _data(args.data) if args.action == "update" else None
    api_key, _, secret = key.partition(":")
    tokens = client.request("POST", "/auth", {"method": "apk", "key": api_key, "secret": secret})
    query = [f"cond={quote(json.dumps(cond))}"]
    for order in args.order or []:
        field, _, direction = order.partition(":")
        query.append(f"order={quote(json.dumps({'fields': [field], 'direction': direction or 'asc'}))}")
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    if args.action == "delete" and not args.yes:
        outputs = f"outputs={quote(json.dumps(['id', 'email']))}"
        matches = _select(client, [*query, outputs], headers, args.limit, args.offset)
        if not _confirmed_delete(args, matches):
            return None
    if args.outputs:
        query.append(f"outputs={quote(json.dumps(args.outputs.split(',')))}")
    if args.action == "find":
        return _select(client, query, headers, args.limit, args.offset)
    if args.limit is not None or args.offset:
        query.append(f"range={quote(json.dumps({'limit': args.limit, 'offset': args.offset or 0}))}")
    method = {"update": "PATCH", "delete": "DELETE"}[args.action]
    return client.request(method, "/ums/users?" + "&".join(query), body, headers)


def _select(
    client: Client, query: list[str], headers: dict[str, str], limit: int | None, offset: int | None
) -> list[dict[str, Any]]:
    """Every user the select finds (up to `limit`), following X-Next-Cursor: a select of a large
    table stops at its deadline and says where to go on."""
    found: list[dict[str, Any]] = []
    window: dict[str, int] = {"limit": limit} if limit is not None else {}
    if offset:
        window["offset"] = offset
    cursor = None
    while True:
        page_query = [*query, *([f"range={quote(json.dumps(window))}"] if window else [])]
        page_query += [f"cursor={quote(cursor)}"] if cursor else []
        page, answer_headers = client.answer("GET", "/ums/users?" + "&".join(page_query), None, headers)
        found += page
        cursor = answer_headers.get("X-Next-Cursor")
        if cursor is None or (limit is not None and len(found) >= limit):
            return found
        window = {"limit": limit - len(found)} if limit is not None else {}  # the cursor carries the offset


def _condition(text: str) -> Any:
    try:
        return conditions.parse(text)
    except ValueError as err:
        raise UsageError(f"bad condition: {err}") from None


def _confirmed_delete(args: argparse.Namespace, matches: list[dict[str, Any]]) -> bool:
    """Dry run: list the matches. Otherwise ask on the terminal; without one, refuse (exit 2)."""
    count = f"{len(matches)} user{'' if len(matches) == 1 else 's'} match{'es' if len(matches) == 1 else ''}"
    if args.dry_run:
        _print(matches, args.json)
        print(f"ums: {count} {args.target!r}; --dry-run: nothing deleted", file=sys.stderr)
        return False
    if not matches:
        print(f"ums: no user matches {args.target!r}; nothing deleted", file=sys.stderr)
        return False
    if not sys.stdin.isatty():
        raise UsageError(
            f"{count} {args.target!r}; pass --yes to delete without a question (or --dry-run to list them)"
        )
    print(f"{count} {args.target!r}, e.g. {', '.join(str(m.get('email')) for m in matches[:3])}.", file=sys.stderr)
    try:
        answer = input(f"Delete {'it' if len(matches) == 1 else f'all {len(matches)}'}? [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() in ("y", "yes"):
        return True
    print("ums: nothing deleted", file=sys.stderr)
    return False


def mail_command(client: Client, args: argparse.Namespace) -> Any:
    """The local outbox; --follow prints new mail as it arrives until Ctrl-C."""
    if not client.is_local:
        raise UsageError("mail reads the local stack's outbox; the endpoint is not local")
    if args.clear:
        client.request("DELETE", "/_local/mail")
        return None
    seen: set[str] = set()
    try:
        while True:
            mails = [m for m in client.request("GET", "/_local/mail") if m["id"] not in seen]
            for mail in mails:
                seen.add(mail["id"])
                if args.json:
                    print(json.dumps(mail), flush=True)
                else:
                    print(f"{mail['sent_at']}  {mail['from']} -> {', '.join(mail['to'])}  [{mail['integration']}]")
                    text = (mail.get("text") or "").strip().replace("\n", "\n  ")
                    print(f"  Subject: {mail['subject']}\n  {text}", flush=True)
            if not args.follow:
                if not seen and not args.json:
                    print("(no mail)")
                return None
            time.sleep(0.5)
    except KeyboardInterrupt:  # how --follow ends
        return None


def outbox_command(client: Client, args: argparse.Namespace) -> Any:
    """Failed mails (`list`, `--all`: the latest events of any status), one event's delivery status
    (`get EVENT_ID`), or a failed event sent again (`redrive EVENT_ID`)."""
    if args.action in ("get", "redrive"):
        if not args.event_id:
            raise UsageError(f"outbox {args.action} needs an EVENT_ID")
        path = f"/management/outbox/{quote(args.event_id, safe='')}"
        return client.request("POST", path + "/redrive") if args.action == "redrive" else client.request("GET", path)
    if args.event_id:
        raise UsageError("outbox list takes no EVENT_ID (outbox get EVENT_ID shows one event)")
    status = "all" if args.all else "failed"
    return client.request("GET", f"/management/outbox?status={status}&limit={args.limit}")


def failures_command(client: Client, args: argparse.Namespace) -> Any:
    """The failure queue (`list`) or its redrive (`redrive`)."""
    if args.action == "redrive":
        return client.request("POST", "/management/failures/redrive")
    return client.request("GET", "/management/failures")


def signing_keys_command(client: Client, args: argparse.Namespace) -> Any:
    """The signing keys (`list`) or a rotation (`rotate [--now]`): the summary as one JSON object,
    or a table of the keys."""
    if args.now and args.action != "rotate":
        raise UsageError("--now goes with signing-keys rotate")
    if args.action == "rotate":
        summary = client.request("POST", "/management/signing-keys/rotate", {"immediate": args.now})
    else:
        summary = client.request("GET", "/management/signing-keys")
    if args.json:
        return summary
    lines = keys_table(summary)
    if args.action == "rotate":
        new = max(summary["keys"], key=lambda k: k["signs_from"])
        if args.now:
            lines.append(f"rotated now: {new['kid']} signs; every other key is dropped and its tokens refused")
        else:
            lines.append(f"rotated: {new['kid']} is published now and signs from {_time(new['signs_from'])}")
    return "\n".join(lines)


def keys_table(summary: dict[str, Any]) -> list[str]:
    """`issuer: ...` and one row per key, the current one marked."""
    rows = [("KID", "CURRENT", "CREATED", "SIGNS FROM", "RETIRES")]
    for key in summary["keys"]:
        times = (_time(key["created_at"]), _time(key["signs_from"]), _time(key["retire_at"]))
        rows.append((key["kid"], "yes" if key["current"] else "", *times))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    table = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return [f"issuer: {summary['issuer'] or '(none yet)'}", *table]


def _time(value: int | None) -> str:
    if value is None:
        return "-"
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def console_command(client: Client, args: argparse.Namespace) -> None:
    from ums_cli.console import serve

    serve(client, args.port, args.key or os.environ.get("UMS_API_KEY"))


def main(argv: list[str] | None = None) -> int:
    """The `ums` entry point; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="ums", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--endpoint", default=os.environ.get("UMS_ENDPOINT", DEFAULT_ENDPOINT))
    parser.add_argument("--json", action="store_true", help="print JSON Lines (one object per line)")
    # --json and --endpoint are also taken after the command
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--endpoint", default=argparse.SUPPRESS)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True)
    for resource in RESOURCES:
        sub = commands.add_parser(resource, help=f"manage {resource}", parents=[common])
        actions = ["list", "get", "create", "update", "delete"] + (["test"] if resource == "integrations" else [])
        sub.add_argument("action", choices=actions)
        sub.add_argument("id", nargs="?", help="the item's id (after -- if it starts with '-')")
        sub.add_argument("--data", help="the item: JSON, or @file.json / @file.yaml")
        if resource == "integrations":
            sub.add_argument("--to", help="where `test` sends its mail")
        sub.set_defaults(run=resource_command, resource=resource)
    apply = commands.add_parser(
        "apply", help="create or update what a YAML file describes (idempotent)", parents=[common]
    )
    apply.add_argument("file")
    apply.set_defaults(run=apply_command)
    mail = commands.add_parser("mail", help="list or follow the local stack's mail", parents=[common])
    mail.add_argument("--follow", "-f", action="store_true", help="print new mail as it arrives (Ctrl-C ends)")
    mail.add_argument("--clear", action="store_true")
    mail.set_defaults(run=mail_command)
    outbox = commands.add_parser("outbox", help="failed mails, or what became of one event's mail", parents=[common])
    outbox.add_argument("action", nargs="?", choices=["list", "get", "redrive"], default="list")
    outbox.add_argument("event_id", nargs="?")
    outbox.add_argument("--limit", type=int, default=50, help="list: at most this many (1-100, default 50)")
    outbox.add_argument("--all", action="store_true", help="list: the latest events of any status")
    outbox.set_defaults(run=outbox_command)
    failures = commands.add_parser(
        "failures", help="the automation's failure queue, listed or redriven", parents=[common]
    )
    failures.add_argument("action", nargs="?", choices=["list", "redrive"], default="list")
    failures.set_defaults(run=failures_command)
    signing = commands.add_parser("signing-keys", help="list or rotate the access-token signing keys", parents=[common])
    signing.add_argument("action", nargs="?", choices=["list", "rotate"], default="list")
    signing.add_argument("--now", action="store_true", help="rotate: sign with the new key at once (a leaked key)")
    signing.set_defaults(run=signing_keys_command)
    users = commands.add_parser(
        "users",
        help="find, update or delete users with a condition; import, export or reindex them",
        parents=[common],
    )
    users.add_argument("action", choices=["find", "update", "delete", "import", "export", "reindex"])
    users.add_argument("target", nargs="?", help="find/update/delete: COND; import: FILE (.jsonl or .csv)")
    users.add_argument("--data", help="update: the fields to set, as JSON")
    users.add_argument("--key", help="KEY:SECRET of an API key (or UMS_API_KEY)")
    users.add_argument("--outputs", help="comma-separated fields to return")
    users.add_argument("--limit", type=int)
    users.add_argument("--offset", type=int)
    users.add_argument("--order", action="append", help="field or field:desc (repeatable)")
    users.add_argument("--yes", "-y", action="store_true", help="delete: do not ask")
    users.add_argument(
        "--dry-run", action="store_true", help="delete: list the matching users; import: check every row; write nothing"
    )
    users.add_argument("--notify", action="store_true", help="import: send the sign-up (or invitation) mail")
    users.add_argument("--format", choices=["jsonl", "csv"], help="import: the file's format (default: by extension)")
    users.add_argument("--start-at", type=int, help="import: skip this many rows first (to go on after a stop)")
    users.add_argument("--firebase-signer-key", help="import: the Firebase project's base64 signer key")
    users.add_argument("--firebase-salt-separator", default="Bw==", help="import: base64 (default Bw==)")
    users.add_argument("--firebase-rounds", type=int, default=8, help="import: Firebase's rounds (default 8)")
    users.add_argument("--firebase-mem-cost", type=int, default=14, help="import: Firebase's mem_cost (default 14)")
    users.add_argument("--cond", help="export: only the users this condition selects (JSON or shorthand)")
    users.add_argument("--cursor", help="export, reindex: go on from where a stopped run said")
    users.add_argument("--with-password-hashes", action="store_true", help="export: include password hashes")
    users.set_defaults(run=users_command)
    console = commands.add_parser("console", help="the web console on 127.0.0.1", parents=[common])
    console.add_argument("--port", type=int, default=int(os.environ.get("UMS_CONSOLE_PORT", "3001")))
    console.add_argument("--key", help="KEY:SECRET of an API key for the users pages (or UMS_API_KEY)")
    console.set_defaults(run=console_command)
    try:
        args = parser.parse_args(argv)
        result = args.run(Client(args.endpoint), args)
        if result is not None:
            _print(result, args.json)
    except UsageError as err:
        print(f"ums: {err}", file=sys.stderr)
        return 2
    except Refused as err:
        print(f"ums: {err}", file=sys.stderr)
        return 1
    except ConnectionError as err:
        print(f"ums: {err}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
