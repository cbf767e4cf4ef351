"""Sign-in, refresh-token rotation and access-token checks.

A session is one sign-in and its chain of rotated refresh tokens. Revocation is per user:
`token_generation` goes up on a password change, reset or deactivation, and sessions or access
tokens of an older generation stop working, except the one session a password change keeps.
One session is revoked on its own when a rotated refresh token is reused: the session item is
marked and its id goes into the user's `revoked_sessions`, which every access-token check reads
with the user anyway.

Sign-in throttling never locks the owner out from everywhere: failures are counted per (account,
source), per source and per account (see `_counters`), for unknown emails exactly as for real
ones, so the answers and the DynamoDB calls are the same whether an account exists or not.
"""

from __future__ import annotations

import ipaddress
import time
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from ums import api_keys, legacy_verifier, passwords, verification
from ums.bodies import ApiKeyCredentials, Refresh, RevokeToken, UserCredentials
from ums.clock import now_rfc3339
from ums.config import settings
from ums.crypto import secrets_equal, sha256_hex
from ums.errors import Forbidden, NotFound, TooManyRequests, Unauthorized
from ums.observability import logger, metrics
from ums.store import plain
from ums.store import sessions as session_store
from ums.store import users as user_store
from ums.store.sessions import Counter, Session, Throttled
from ums.store.users import User
from ums.tokens import (
    AccessClaims,
    RefreshToken,
    issue_access_token,
    new_rotation_salt,
    new_session_id,
    verify_access_token,
)
from ums.users import email_key

# Failed sign-ins of one account from one source: 5 free, then a delay after each further
# failure, doubling from 30 s to 15 min; a success from that source resets it. Counted per UTC day.
PAIR_FREE_FAILURES = 5
PAIR_DELAYS = (30, 60, 120, 240, 480, 900)
PAIR_WINDOW = 86400
# Failed sign-ins from one source (IP address, or IPv6 /64) over all accounts, per 15 minutes.
SOURCE_MAX_FAILURES = 100
SOURCE_WINDOW = 900
# Failed sign-ins of one account from everywhere, per hour: only past this ceiling does the
# account answer 429 to everyone (until the hour ends). Password reset is never throttled by it.
ACCOUNT_MAX_FAILURES = 1000
ACCOUNT_WINDOW = 3600
# Sessions revoked one by one kept on a user before all of the user's sessions are revoked instead.
MAX_REVOKED_SESSIONS = 100
WRONG_CREDENTIALS = "Invalid email or password"
THROTTLED = "Too many failed sign-in attempts; try again later"


def sign_in(credentials: UserCredentials | ApiKeyCredentials, source_ip: str = "") -> dict[str, str]:
    """`POST /auth`: tokens for a user's credentials (method `ums`) or an API key (`apk`).

    `source_ip` is the caller's address (API Gateway's `sourceIp`): throttling keys on it."""
    if isinstance(credentials, ApiKeyCredentials):
        return _sign_in_api_key(credentials.key, credentials.secret)
    password = credentials.password
    account = email_key(credentials.email)
    user = user_store.find_by_email(account)
    # Verify first (real or dummy hash: the same cost), so the lock check rides on the one write
    # a sign-in makes anyway instead of costing a read.
    if user is None and legacy_verifier.configured():
        _raise_if_throttled(account, source_ip)  # a flood of unknown emails stops here, not at the legacy system
        user = legacy_verifier.migrate(credentials.email, password)  # the legacy system checks the password
        verified = user is not None
    elif user is None:
        passwords.spend_verification_time(password)
        verified = False
    else:
        verified = passwords.verify_password(user.password_hash, password)
    now = int(time.time())
    counters = _counters(account, int(user.token_generation) if user else 0, source_ip, now)
    try:
        if user is None or not verified:
            metrics.add_metric(name="SignInFailures", unit=MetricUnit.Count, value=1)
            session_store.record_failure(counters, now)
            raise Unauthorized(WRONG_CREDENTIALS)
        if not user.active:
            session_store.start_session(None, counters, now)  # a suspended user is throttled too
            raise Forbidden("User is not active")
        if verification.blocks_sign_in(user):
            session_store.start_session(None, counters, now)  # the right password: counted as for a suspended user
            raise Forbidden(verification.NOT_VERIFIED)
        rehashed = passwords.hash_password(password) if passwords.needs_rehash(user.password_hash) else None
        tokens = _start_session(user.id, f"ums:{user.id}", int(user.token_generation), counters, user, rehashed)
    except Throttled as throttled:
        raise _too_many(throttled) from None
    except NotFound:  # the user was deleted meanwhile
        raise Unauthorized(WRONG_CREDENTIALS) from None
    metrics.add_metric(name="SignIns", unit=MetricUnit.Count, value=1)
    logger.append_keys(user_id=user.id)  # on the request's INFO line
    logger.debug("User signed in")
    return tokens


def _raise_if_throttled(account: str, source_ip: str) -> None:
    """429 if an unknown email's sign-in would be throttled (a read: the attempt's write comes
    only after the legacy verifier has answered)."""
    now = int(time.time())
    try:
        session_store.raise_if_locked(_counters(account, 0, source_ip, now), now)
    except Throttled as throttled:
        raise _too_many(throttled) from None


def _too_many(throttled: Throttled) -> TooManyRequests:
    metrics.add_metric(name="SignInsThrottled", unit=MetricUnit.Count, value=1)
    logger.warning("Sign-in throttled", extra={"retry_after": throttled.retry_after})
    return TooManyRequests(THROTTLED, throttled.retry_after)


def start_user_session(user: User) -> dict[str, str]:
    """Tokens for a user who proved who they are some other way (an OAuth provider): a session
    exactly like a password sign-in's, with no password and so no failure counters. 403 for a
    suspended user."""
    if not user.active:
        raise Forbidden("User is not active")
    if verification.blocks_sign_in(user):
        raise Forbidden(verification.NOT_VERIFIED)
    tokens = _start_session(user.id, f"ums:{user.id}", int(user.token_generation), None, None, None)
    logger.append_keys(user_id=user.id)  # on the request's INFO line
    return tokens


def _counters(account: str, generation: int, source_ip: str, now: int) -> list[Counter]:
    """The three failure counters of a sign-in attempt, keyed by hashes (no email or IP stored).

    The account's keys include its token generation (0 for an unknown email), so a password
    reset or change starts them afresh: the owner who reset is never still locked out."""
    account_hash, source_hash = sha256_hex(f"{account}#{generation}"), sha256_hex(_source(source_ip))
    day, quarter, hour = now // PAIR_WINDOW, now // SOURCE_WINDOW, now // ACCOUNT_WINDOW
    return [
        Counter(
            f"limit#signin#{account_hash}#{source_hash}#{day}",
            (day + 1) * PAIR_WINDOW,
            PAIR_FREE_FAILURES,
            PAIR_DELAYS,
            reset_on_success=True,
        ),
        Counter(f"limit#signin-ip#{source_hash}#{quarter}", (quarter + 1) * SOURCE_WINDOW, SOURCE_MAX_FAILURES),
        Counter(f"limit#signin-account#{account_hash}#{hour}", (hour + 1) * ACCOUNT_WINDOW, ACCOUNT_MAX_FAILURES),
    ]


def _source(source_ip: str) -> str:
    """What one source is: an IPv4 address, or an IPv6 /64 (one subscriber usually holds a whole /64)."""
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return source_ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _sign_in_api_key(key: str, secret: str) -> dict[str, str]:
    """Tokens for an API key (`sub: apk:<key>`): what Jexia's SDK does on init with key/secret."""
    if not api_keys.verify(key, secret):
        metrics.add_metric(name="SignInFailures", unit=MetricUnit.Count, value=1)
        raise Unauthorized("Invalid API key or secret")
    logger.append_keys(api_key=key)  # on the request's INFO line
    logger.debug("API key signed in")
    return _start_session(f"apk-{key}", f"apk:{key}", 0, None, None, None)


def _start_session(
    owner: str,
    subject: str,
    generation: int,
    counters: list[Counter] | None,
    user: User | None,
    new_password_hash: str | None,
) -> dict[str, str]:
    session_id = new_session_id()
    refresh = RefreshToken.new(owner, session_id)
    now = int(time.time())
    expires_at = now + settings().refresh_token_ttl
    session = session_store.new(session_id, owner, refresh.digest, generation, now_rfc3339(), expires_at)
    if counters is None:
        session_store.save(session)
    else:
        session_store.start_session(session, counters, now, user=user, new_password_hash=new_password_hash)
    access_token = issue_access_token(subject, session_id, generation, auth_time=now)
    return {"access_token": access_token, "refresh_token": refresh.value}


def refresh(body: Refresh) -> dict[str, str]:
    """`POST /auth/refresh`: rotates the refresh token. A repeat of the just-rotated token within
    `REFRESH_REUSE_GRACE_SECONDS` gets the same new refresh token (a client's retry, or concurrent
    refreshes); any other reuse of a rotated token revokes the session and its access tokens."""
    presented = RefreshToken.parse(body.refresh_token)
    if presented.owner.startswith("apk-"):
        return _refresh_api_key(presented)
    session, user = session_store.get_with_user(presented.session_id, presented.owner)
    if session is None or session.user_id != presented.owner:
        raise Unauthorized("Invalid refresh token")
    logger.append_keys(user_id=session.user_id)  # on the request's INFO line
    repeat = _check_presented(session, presented, user)
    if user is None or not user.active or not _session_is_current(user, presented.session_id, int(session.generation)):
        raise Unauthorized("Refresh token has expired or was revoked")
    return _rotate(session, presented, repeat, user, f"ums:{user.id}", int(user.token_generation))


def _refresh_api_key(presented: RefreshToken) -> dict[str, str]:
    key = presented.owner.removeprefix("apk-")
    session = session_store.get(presented.session_id)
    if session is None or session.user_id != presented.owner:
        raise Unauthorized("Invalid refresh token")
    repeat = _check_presented(session, presented, None)
    if api_keys.find(key) is None:
        raise Unauthorized("Refresh token has expired or was revoked")
    return _rotate(session, presented, repeat, None, f"apk:{key}", 0)


def _check_presented(session: Session, presented: RefreshToken, user: User | None) -> bool:
    """False for the session's current token, True for a repeat of the just-rotated one within the
    grace window; 401 otherwise, and a reuse of one of its last rotated tokens revokes the session."""
    now = int(time.time())
    if session.revoked or session.expires_at <= now:
        raise Unauthorized("Refresh token has expired or was revoked")
    digest = presented.digest
    if secrets_equal(digest, session.token_hash):
        return False
    grace = settings().refresh_reuse_grace_seconds
    if (
        session.previous_hash
        and secrets_equal(digest, session.previous_hash)
        and now - int(session.rotated_at or 0) < grace
    ):
        return True
    if digest in session_store.rotated_hashes(session):
        _revoke(presented.session_id, user)
        metrics.add_metric(name="RefreshTokenReuse", unit=MetricUnit.Count, value=1)
        logger.warning("Rotated refresh token reused; session revoked", extra={"owner": session.user_id})
        raise Unauthorized("Refresh token has already been used; the session is revoked")
    raise Unauthorized("Invalid refresh token")


def _revoke(session_id: str, user: User | None) -> None:
    """Ends the session: its refresh token, and its access tokens at once (through the user's
    `revoked_sessions`, read with the user on every check)."""
    now = int(time.time())
    forget_before = now - settings().access_token_ttl  # older revocations: their access tokens expired
    session_store.revoke(session_id, user, now, forget_before, MAX_REVOKED_SESSIONS)


def sign_out(access_token: str) -> None:
    """`POST /auth/logout`: ends the session the access token belongs to; the user's other
    sessions go on."""
    user, claims = authenticate(access_token)
    _revoke(claims.session_id, user)  # the signed `sid` is this user's session: no read needed
    metrics.add_metric(name="SignOuts", unit=MetricUnit.Count, value=1)


def revoke_token(body: RevokeToken) -> None:
    """`POST /auth/revoke` (RFC 7009): ends the session of a refresh token (its current one or a
    remembered rotated one, or an access token of it). A token that is unknown, malformed,
    expired or revoked already is answered alike (200): the answer tells nothing about it."""
    if body.token.startswith("eyJ"):  # a JWT: an access token
        try:
            user, claims = authenticate(body.token)
        except (Unauthorized, NotFound):
            return
        _revoke(claims.session_id, user)
        metrics.add_metric(name="TokensRevoked", unit=MetricUnit.Count, value=1)
        return
    try:
        presented = RefreshToken.parse(body.token)
    except Unauthorized:
        return
    session = session_store.get(presented.session_id)
    if session is None or session.user_id != presented.owner or session.revoked:
        return
    digest = presented.digest
    chain = {session.token_hash, session.previous_hash, *session_store.rotated_hashes(session)} - {None}
    if not any(secrets_equal(digest, str(known)) for known in chain):
        return
    owner = None if presented.owner.startswith("apk-") else user_store.get(presented.owner)
    _revoke(presented.session_id, owner)
    metrics.add_metric(name="TokensRevoked", unit=MetricUnit.Count, value=1)


def _rotate(
    session: Session,
    presented: RefreshToken,
    repeat: bool,
    user: User | None,
    subject: str,
    generation: int,
) -> dict[str, str]:
    """The session's next refresh token (the one already made, for a repeat) and a fresh access token."""
    if repeat:
        salt = str(session.rotation_salt)
    else:
        salt = new_rotation_salt()
        now = int(time.time())
        expires_at = now + settings().refresh_token_ttl
        new_hash = presented.successor(salt).digest
        if not session_store.rotate(session, presented.digest, new_hash, salt, generation, expires_at, now):
            # A concurrent refresh with the same token won: answer what it answered.
            latest = session_store.get(presented.session_id)
            if latest is None or not _check_presented(latest, presented, user):
                raise Unauthorized("Refresh token has already been used")
            salt = str(latest.rotation_salt)
    return {
        "access_token": issue_access_token(subject, presented.session_id, generation, _auth_time(session)),
        "refresh_token": presented.successor(salt).value,
    }


def _auth_time(session: Session) -> int:
    """When the session's sign-in happened: its creation (RFC 3339, UTC)."""
    return int(datetime.fromisoformat(str(session.created_at)).timestamp())


def signed_in_recently(claims: AccessClaims) -> bool:
    """Whether the token's session began with a sign-in within `RecentSignInSeconds`."""
    return claims.auth_time is not None and time.time() - claims.auth_time <= settings().recent_sign_in_seconds


def authenticate(access_token: str) -> tuple[User, AccessClaims]:
    """The user an access token belongs to: 401 for a bad or revoked token, 404 if the user is gone."""
    claims = verify_access_token(access_token)
    return _current_user(claims), claims


def authenticate_subject(access_token: str) -> str:
    """`ums:<user id>` or `apk:<key>` of a valid, unrevoked access token (401 otherwise)."""
    claims = verify_access_token(access_token)
    if claims.api_key is not None:
        if api_keys.find(claims.api_key) is None:
            raise Unauthorized("Access token has been revoked")
        return claims.subject
    try:
        _current_user(claims)
    except NotFound:
        raise Unauthorized("Access token has been revoked") from None
    return claims.subject


def _current_user(claims: AccessClaims) -> User:
    if claims.user_id is None:
        raise Unauthorized("This route needs a user's access token, not an API key's")
    logger.append_keys(user_id=claims.user_id)  # on the request's INFO line
    user = user_store.get(claims.user_id)
    if user is None:
        raise NotFound("User not found")
    if (
        not user.active
        or not _session_is_current(user, claims.session_id, claims.generation)
        or claims.session_id in _revoked_sessions(user)
    ):
        raise Unauthorized("Access token has been revoked")
    return user


def _revoked_sessions(user: User) -> dict[str, Any]:
    revoked: dict[str, Any] = plain(user.revoked_sessions) if user.revoked_sessions is not None else {}
    return revoked


def _session_is_current(user: User, session_id: str, generation: int) -> bool:
    return generation == int(user.token_generation) or session_id == user.kept_session
