"""What password resets and email verifications share: a token of 256 random bits mailed
through the outbox (in the event only KMS-encrypted, only its SHA-256 stored), and a per-email
limit on the requests that mail one."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from ums.crypto import encrypt_token, sha256_hex
from ums.store.request_limits import LimitState, RequestLimit, limit_state
from ums.users import email_key

REQUESTS_PER_HOUR = 5
SECONDS_BETWEEN_REQUESTS = 60


@dataclass(frozen=True)
class MailedToken:
    token_hash: str  # what is stored
    ciphertext: str  # what the event carries (only the automation function can decrypt it)
    expires_at: int  # epoch seconds

    def event_fields(self) -> dict[str, str]:
        """The outbox event's fields that carry the token to the mail."""
        expires = datetime.fromtimestamp(self.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"token_ciphertext": self.ciphertext, "token_expires_at": expires}


def new_token(ttl_seconds: int) -> MailedToken:
    """A fresh token, encrypted for the event. Made for unknown emails too (the same calls and time)."""
    token = secrets.token_urlsafe(32)
    return MailedToken(sha256_hex(token), encrypt_token(token), int(time.time()) + ttl_seconds)


def per_email_limit(purpose: str, email: str, now: int) -> RequestLimit:
    """The hourly limit of `purpose` (reset, verify) requests for `email`, keyed by its hash."""
    hour = now // 3600
    key = f"limit#{purpose}#{sha256_hex(email_key(email))}#{hour}"
    return RequestLimit(key, REQUESTS_PER_HOUR, SECONDS_BETWEEN_REQUESTS, (hour + 2) * 3600)


def retry_after(limit: RequestLimit, now: int) -> int:
    """Seconds until `limit` lets a request through again (the 429's Retry-After), after it refused one."""
    state = limit_state(limit.key)
    return limit.min_interval if state is None else max(1, _wait(limit, state, now))


def wait_before_asking(limit: RequestLimit, now: int) -> int:
    """Seconds until `limit` lets a request through (0: it would now), by one read and nothing
    counted: for a check that must come before anything is written or asked."""
    state = limit_state(limit.key)
    return 0 if state is None else _wait(limit, state, now)


def _wait(limit: RequestLimit, state: LimitState, now: int) -> int:
    """What the counting transaction's condition (`request_limits.counted`) says of `state`, in seconds."""
    if state.requests >= limit.max_per_window:
        return (now // 3600 + 1) * 3600 - now
    return max(0, int(state.last_at) + limit.min_interval - now)
