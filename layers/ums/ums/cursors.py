"""The continuation of a users select that stopped before the end of a scan: `X-Next-Cursor`
on the answer, `cursor=` on the next request.

A cursor is `<payload>.<mac>`, both base64url: the payload says where each open segment of the
parallel scan reads on, how many matches are still to be skipped (what is left of
`range.offset`), which condition it continues (a digest) and until when it is valid; the mac is
HMAC-SHA256 under a key derived from the stack's token signing key (`kid` names it), so a client
can neither forge one nor point one at another condition. Clients treat it as opaque."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from ums import signing_keys
from ums.errors import BadRequest

CURSOR_TTL_SECONDS = 24 * 3600
MAX_CURSOR_LENGTH = 8192
_PURPOSE = b"ums-users-cursor"
INVALID = "cursor is not one this service issued for this condition, or it has expired: start again without it"


@dataclass(frozen=True)
class Cursor:
    segments: int  # the scan's TotalSegments
    positions: dict[int, str]  # open segment -> the key it reads on after ("": its start)
    skip: int  # matches still to be skipped


def condition_digest(cond: str | None, reading: str = "") -> str:
    """What a cursor is bound to: the `cond` query parameter as sent ("" when none), and how the
    users are read ("": the scan; or e.g. "created_at desc": an index in that order)."""
    bound = f"{reading}\n{cond or ''}" if reading else cond or ""
    return hashlib.sha256(bound.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def encode(cursor: Cursor, condition: str, now: float | None = None) -> str:
    now = time.time() if now is None else now
    keys = signing_keys.key_set()
    key = keys.signing(now)
    if key is None:
        raise signing_keys.SigningKeysUnavailable("No signing key is ready: the SigningKey custom resource has not run")
    payload = {
        "k": key["kid"],
        "c": condition,
        "e": int(now) + CURSOR_TTL_SECONDS,
        "n": cursor.segments,
        "p": {str(segment): after for segment, after in sorted(cursor.positions.items())},
        "s": cursor.skip,
    }
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{_b64(_mac(key['private_key'], body))}"


def decode(text: str, condition: str, now: float | None = None) -> Cursor:
    """The cursor `text` stands for; 400 unless this stack issued it, for `condition`, and it is
    still valid."""
    now = time.time() if now is None else now
    body, _, mac = text.partition(".")
    try:
        if len(text) > MAX_CURSOR_LENGTH:
            raise ValueError
        payload = json.loads(_unb64(body))
        key = signing_keys.key_set().verifying(str(payload["k"]), now)
        if key is None or not hmac.compare_digest(_unb64(mac), _mac(key["private_key"], body)):
            raise ValueError
        if payload["c"] != condition or payload["e"] < now:
            raise ValueError
        segments, skip = int(payload["n"]), int(payload["s"])
        positions = {int(segment): str(after) for segment, after in payload["p"].items()}
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise BadRequest(INVALID) from None
    return Cursor(segments, positions, skip)


def _mac(private_key: str, body: str) -> bytes:
    key = hmac.new(private_key.encode(), _PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, body.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
