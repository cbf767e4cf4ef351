"""Users moved in from another system and out again: `POST /management/users/import` (which
`ums users import` calls in batches) and `GET /management/users/export` (`ums users export`).

Import keeps ids, fields and password hashes (a row: `ums.user_rows`). Each user is created
with its email (and mobile) marker in one transaction, so uniqueness holds against concurrent
imports and sign-ups. Importing the same rows again creates nothing: a row whose id (or, without
an id, whose email) is already there is reported `exists`, so an import that stopped is simply
run again. Imported users fire no event (so no mail) unless `notify`: then AfterSignUp, or
AfterUserInvite with a link to set a password for a row without a hash. Every rejected row says
why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from ums import user_admin, verification
from ums.errors import BadRequest, EmailTaken, MobileTaken, UserIdTaken
from ums.events import SIGN_UP, new_event
from ums.observability import logger, metrics
from ums.operator_secrets import HASH_KEYS
from ums.password_formats import FirebaseScrypt
from ums.store import users as user_store
from ums.store.users import User
from ums.user_rows import user_from
from ums.users import public_record

MAX_ROWS = 100  # a batch: one request stays far below the API's 30 s
OPTIONS = ("users", "dry_run", "notify", "firebase_scrypt")
ID_TAKEN = "id is another user's (with another email)"
EMAIL_TAKEN = "email is already another user's"


@dataclass(frozen=True)
class ImportBatch:
    rows: list[Any]
    dry_run: bool
    notify: bool
    firebase: FirebaseScrypt | None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> ImportBatch:
        unknown = sorted(set(body) - set(OPTIONS))
        if unknown:
            raise BadRequest(f"Unknown field(s) {', '.join(unknown)}; an import takes {', '.join(OPTIONS)}")
        rows = body.get("users")
        if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_ROWS:
            raise BadRequest(f"users must be an array of 1 to {MAX_ROWS} users (send more in batches)")
        flags = {name: body.get(name, False) for name in ("dry_run", "notify")}
        for name, value in flags.items():
            if not isinstance(value, bool):
                raise BadRequest(f"{name} must be true or false")
        firebase = FirebaseScrypt.parse(body["firebase_scrypt"]) if "firebase_scrypt" in body else None
        return cls(rows, flags["dry_run"], flags["notify"], firebase)


def import_users(batch: ImportBatch) -> dict[str, Any]:
    """Each row's result, in order: `created`, `exists` (nothing written) or `rejected` with the
    reason; a dry run checks the same and says `would create` instead of writing. What is there
    already is read for the whole batch at once; the new users are written in parallel."""
    if batch.firebase and not batch.dry_run:
        _keep_signer_key(batch.firebase)
    rows = [_parse_row(index, row, batch.firebase) for index, row in enumerate(batch.rows)]
    valid = [row for row in rows if isinstance(row, Row)]
    known = Known.read(valid, check_email=batch.dry_run)
    results: dict[int, dict[str, Any]] = {row["row"]: row for row in rows if isinstance(row, dict)}
    new = []
    for row in valid:
        found = known.already_there(row)
        if found is not None:
            results[row.index] = {**row.done, **found}
        elif batch.dry_run:
            results[row.index] = {**row.done, "status": "would create"}
        else:
            new.append(row)
    for row, result in zip(new, user_store.in_parallel(lambda row: _create(row, batch.notify), new), strict=True):
        results[row.index] = result
    ordered = [results[index] for index in range(len(batch.rows))]
    counts = {status: sum(r["status"] == status for r in ordered) for status in ("created", "exists", "rejected")}
    metrics.add_metric(name="UsersImported", unit=MetricUnit.Count, value=counts["created"])
    logger.append_keys(**{f"import_{name}": count for name, count in counts.items()})  # on the INFO line
    return {**counts, "results": ordered}


def _keep_signer_key(firebase: FirebaseScrypt) -> None:
    """The project's signer key, in Secrets Manager under its id (written once, not per batch)."""
    if HASH_KEYS.read(firebase.key_id) != firebase.signer_key:
        HASH_KEYS.write(firebase.key_id, firebase.signer_key)


@dataclass(frozen=True)
class Row:
    """A row that describes a user well: its place in the batch, the user (not stored), and
    whether the row named the id."""

    index: int
    user: User
    given_id: bool

    @property
    def done(self) -> dict[str, Any]:
        return {"row": self.index, "id": self.user.id}


def _parse_row(index: int, row: Any, firebase: FirebaseScrypt | None) -> Row | dict[str, Any]:
    try:
        return Row(index, *user_from(row, firebase))
    except BadRequest as err:
        return {"row": index, "status": "rejected", "reason": err.message}


@dataclass(frozen=True)
class Known:
    """What the table holds of a batch's ids and emails, read in a few batch reads."""

    by_id: dict[str, User]
    by_email: dict[str, User]

    @classmethod
    def read(cls, rows: list[Row], *, check_email: bool) -> Known:
        """The users with the rows' ids, and the owners of the emails of rows without one (of
        every row's, with `check_email`)."""
        emails = [row.user.email_key for row in rows if check_email or not row.given_id]
        ids = [row.user.id for row in rows if row.given_id]
        return cls(user_store.get_many(ids), user_store.owners_of_emails(emails))

    def already_there(self, row: Row) -> dict[str, Any] | None:
        """`exists` when the row's user is stored (by its id, or without one by its email),
        `rejected` when its id (or its email, if read) is another user's; None when both are free."""
        user = row.user
        existing = self.by_id.get(user.id) if row.given_id else self.by_email.get(user.email_key)
        if existing is not None:
            if existing.email_key == user.email_key:
                return {"id": existing.id, "status": "exists"}
            return {"status": "rejected", "reason": ID_TAKEN}
        if row.given_id and user.email_key in self.by_email:
            return {"status": "rejected", "reason": EMAIL_TAKEN}
        return None


def _create(row: Row, notify: bool) -> dict[str, Any]:
    event, tokens = _notification(row.user) if notify else (None, [])
    try:
        user_store.create(row.user, event, tokens=tokens)
    except (UserIdTaken, EmailTaken):  # created meanwhile (a concurrent import), or someone else's
        found = Known.read([row], check_email=True).already_there(row)
        return {**row.done, **(found or {"status": "rejected", "reason": EMAIL_TAKEN})}
    except MobileTaken:
        return {**row.done, "status": "rejected", "reason": "mobile is already another user's"}
    return {**row.done, "status": "created"}


def _notification(user: User) -> tuple[dict[str, Any], list[Any]]:
    """What `notify` sends: a sign-up's event (and verification link), or for a user without a
    password an invitation to set one."""
    if not user.password_hash:
        event, resets = user_admin.invitation(user)
        return event, list(resets)
    token_fields, tokens = verification.for_sign_up(user)
    return new_event(SIGN_UP, user, **token_fields), list(tokens)


EXPORT_PAGE = 1000  # users per page at most (and by default)
EXPORT_OPTIONS = ("cond", "cursor", "limit", "password_hashes")


def export(params: dict[str, list[str]]) -> user_admin.Selection:
    """A page of every user `cond` selects (all by default), each as an import row takes it, in
    scan order, with the cursor of the next page. `password_hashes=true` adds each user's hash."""
    unknown = sorted(set(params) - set(EXPORT_OPTIONS))
    if unknown or any(len(values) > 1 for values in params.values()):
        raise BadRequest(
            f"An export takes {', '.join(EXPORT_OPTIONS)}, each once; not {', '.join(unknown) or 'repeats'}"
        )
    flag = params.get("password_hashes", ["false"])[0]
    if flag not in ("true", "false"):
        raise BadRequest("password_hashes must be true or false")
    limit = params.get("limit", [str(EXPORT_PAGE)])[0]
    if not (limit.isascii() and limit.isdigit()) or not 1 <= int(limit) <= EXPORT_PAGE:
        raise BadRequest(f"limit must be a whole number from 1 to {EXPORT_PAGE}")
    query: dict[str, list[str]] = {name: params[name] for name in ("cond", "cursor") if name in params}
    query["range"] = [json.dumps({"limit": int(limit)})]
    with_hashes = flag == "true"
    if with_hashes:
        logger.warning("Users exported with their password hashes")  # an audit line, never the hashes
    page = user_admin.selected(query, lambda user: export_record(user, with_hashes))
    metrics.add_metric(name="UsersExported", unit=MetricUnit.Count, value=len(page.records))
    return page


def export_record(user: User, with_hash: bool) -> dict[str, Any]:
    """A user as an import row: its public record, `email_verified` always, and its hash if asked
    (an Argon2id PHC string, or the imported hash not yet upgraded)."""
    record = {**public_record(user), "email_verified": bool(user.email_verified)}
    if with_hash and user.password_hash:
        record["password_hash"] = user.password_hash
    return record
