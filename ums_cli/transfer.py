"""`ums users import FILE` and `ums users export`: users in from JSON Lines or CSV, in batches of
the management API's import route, and out as JSON Lines, page by page with the export cursor.
`ums users reindex`: the reindex route's passes, until every user is in the order indexes.
Both show progress on stderr (a bar with rate and ETA on a terminal, a line every 10% or 5,000
users otherwise) and say how to go on when they stop."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from ums_cli.client import Client, UsageError

BATCH = 100  # the import route's most
FLAGS = ("active", "email_verified")


@dataclass
class Progress:
    """What a long run has done, drawn on stderr."""

    what: str
    total: int | None = None
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    _last_line: int = 0
    out: TextIO = field(default_factory=lambda: sys.stderr)

    def add(self, count: int) -> None:
        self.done += count
        if self.out.isatty():
            self.out.write("\r" + self.line())
            self.out.flush()
        elif self._due():
            self.out.write(self.line() + "\n")

    def _due(self) -> bool:
        step = max(1, self.total // 10) if self.total else 5000
        if self.done // step > self._last_line or self.done == self.total:
            self._last_line = self.done // step
            return True
        return False

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        if not self.total:
            return f"{self.what}: {self.done:,} users, {rate:,.0f}/s"
        filled = round(30 * self.done / self.total)
        eta = (self.total - self.done) / rate if rate else 0
        bar = "#" * filled + "." * (30 - filled)
        return f"[{bar}] {self.done:,}/{self.total:,} users {self.what}, {rate:,.0f}/s, ETA {eta:,.0f} s"

    def finish(self) -> None:
        if self.out.isatty():
            self.out.write("\n")


def rows(path: Path, form: str | None) -> Iterator[dict[str, Any] | str]:
    """The file's users: JSON Lines (one object per line) or CSV (a header row; `active` and
    `email_verified` read as true/false; empty cells left out). A line that is not JSON is
    yielded as its text, for the route to reject with the rest."""
    form = form or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            if form == "csv":
                for record in csv.DictReader(handle):
                    yield {
                        name: _cell(name, value) for name, value in record.items() if name and value not in ("", None)
                    }
                return
            for line in handle:
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError:
                        yield line.strip()[:200]
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None


def _cell(name: str, value: str) -> Any:
    if name in FLAGS:
        return {"true": True, "false": False}.get(value.strip().lower(), value)
    return value


def count_rows(path: Path, form: str | None) -> int:
    return sum(1 for _ in rows(path, form))


def import_command(client: Client, args: argparse.Namespace) -> Any:
    """Sends the file in batches; prints the rejected rows (line, reason) and a summary."""
    path = Path(args.target or "")
    if not args.target:
        raise UsageError("users import needs a FILE (.jsonl or .csv)")
    options: dict[str, Any] = {"dry_run": args.dry_run, "notify": args.notify}
    if args.firebase_signer_key:
        options["firebase_scrypt"] = {
            "signer_key": args.firebase_signer_key,
            "salt_separator": args.firebase_salt_separator,
            "rounds": args.firebase_rounds,
            "mem_cost": args.firebase_mem_cost,
        }
    total = count_rows(path, args.format)
    start = args.start_at or 0
    progress = Progress("dry run" if args.dry_run else "imported", total, done=min(start, total))
    counts = {"created": 0, "exists": 0, "rejected": 0, "would create": 0}
    line = start
    batch: list[Any] = []
    try:
        for number, row in enumerate(rows(path, args.format)):
            if number < start:
                continue
            batch.append(row)
            if len(batch) == BATCH:
                line = _send(client, batch, line, options, counts, progress, args.json)
                batch = []
        if batch:
            line = _send(client, batch, line, options, counts, progress, args.json)
    except BaseException:
        progress.finish()
        print(
            f"ums: stopped after {line:,} rows; run again to go on (rows already imported are skipped), "
            f"or add --start-at {line} to skip them without asking the API",
            file=sys.stderr,
        )
        raise
    progress.finish()
    summary = {name: count for name, count in counts.items() if count or name != "would create"}
    return summary if args.json else ", ".join(f"{count:,} {name}" for name, count in summary.items())


def _send(
    client: Client,
    batch: list[Any],
    first_line: int,
    options: dict[str, Any],
    counts: dict[str, int],
    progress: Progress,
    as_json: bool,
) -> int:
    answer = client.request("POST", "/management/users/import", {"users": batch, **options})
    for result in answer["results"]:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
        if result["status"] == "rejected":
            line = first_line + result["row"] + 1
            text = (
                json.dumps({"line": line, "reason": result["reason"]})
                if as_json
                else f"line {line}: {result['reason']}"
            )
            print(text, file=sys.stderr)
    progress.add(len(batch))
    return first_line + len(batch)


def export_command(client: Client, args: argparse.Namespace) -> None:
    """Writes every user `--cond` selects to stdout as JSON Lines, page by page."""
    if args.target:
        raise UsageError("users export takes no FILE: it writes JSON Lines to stdout (ums users export > users.jsonl)")
    query = [f"limit={args.limit or 1000}"]
    if args.cond:
        query.append(f"cond={quote(json.dumps(args.cond))}")
    if args.with_password_hashes:
        print("ums: the export includes password hashes: keep the file as secret as the users table", file=sys.stderr)
        query.append("password_hashes=true")
    cursor = args.cursor
    progress = Progress("exported")
    try:
        while True:
            path = "/management/users/export?" + "&".join([*query, *([f"cursor={quote(cursor)}"] if cursor else [])])
            page, headers = client.answer("GET", path)
            for user in page:
                sys.stdout.write(json.dumps(user, ensure_ascii=False) + "\n")
            sys.stdout.flush()
            progress.add(len(page))
            cursor = headers.get("X-Next-Cursor")
            if not cursor:
                break
    except BaseException:
        progress.finish()
        if cursor:
            print(f"ums: stopped after {progress.done:,} users; go on with --cursor {cursor}", file=sys.stderr)
        raise
    progress.finish()
    print(f"ums: {progress.done:,} users exported", file=sys.stderr)


def reindex_command(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    """Puts every user made before the order indexes in them, a request's pass at a time
    (`--cursor` goes on from a stopped run); then `order` by created_at or email reads them."""
    if args.target:
        raise UsageError("users reindex takes no argument")
    cursor = args.cursor
    updated = 0
    try:
        while True:
            path = "/management/users/reindex" + (f"?cursor={quote(cursor)}" if cursor else "")
            answer, headers = client.answer("POST", path)
            updated += answer["updated"]
            cursor = headers.get("X-Next-Cursor")
            if not cursor:
                return {"updated": updated, "complete": answer["complete"]}
            print(f"ums: {updated:,} users updated so far", file=sys.stderr)
    except BaseException:
        if cursor:
            print(f"ums: stopped after {updated:,} users updated; go on with --cursor {cursor}", file=sys.stderr)
        raise
