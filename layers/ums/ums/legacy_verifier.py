"""Lazy migration: users move over from a legacy system as they come back (Cognito's "user
migration" trigger, done as configuration: the `LegacyVerifierUrl` template parameter).

When a sign-in or a reset request names an email this service does not know, it asks the
legacy verifier once, with one request of JSON:

    {"email": "...", "password": "..."}   (a sign-in)
    {"email": "..."}                      (a reset request: no password to check)

The verifier is an HTTPS endpoint, POSTed to with the header `X-UMS-Verifier-Key: <the
LegacyVerifierKey secret>` so it can tell this stack from anyone else; it answers 200 with the
user's profile (a JSON object: `id`, `email_verified`, `created_at`, `mobile` and any other
fields, as an import row takes them; `password_hash` is ignored: the password itself was just
proved), or 401, 403 or 404 for a wrong password or an unknown user. Or it is a Lambda function
(its ARN), invoked with the request as its event (IAM is the authentication); it returns the
profile, or null for a wrong password or an unknown user. The user is then created here with an Argon2id hash of the
password (a reset: with none, so the mailed link sets it) and the profile, and the sign-in goes
on as for any user. Nothing is retried: a timeout (LEGACY_TIMEOUT_SECONDS), a network error or
any other answer is a 502 that names the legacy user store, and nothing is created.

Enumeration: an unknown email costs a call to the verifier, a known one does not, so a
sign-in's time tells whether an email is here already (not whether the legacy system has it);
the answer to a wrong password is the same 401 either way.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from ums import passwords
from ums.config import settings
from ums.errors import BadRequest, EmailTaken, UpstreamUnavailable, UserIdTaken
from ums.observability import logger, metrics
from ums.store import users as user_store
from ums.store.users import User
from ums.user_rows import user_from

LEGACY_TIMEOUT_SECONDS = 3.0
MAX_ANSWER_BYTES = 64 * 1024
REFUSED = (401, 403, 404)
UNAVAILABLE = "The legacy user store did not answer as expected; try again shortly"
SECRET_CACHE_SECONDS = 300


def configured() -> bool:
    return bool(settings().legacy_verifier_url)


def migrate(email: str, password: str | None) -> User | None:
    """The user the legacy verifier vouches for, now created here with `password` (None: it does
    not know the email, or the password is wrong; or a concurrent request created the user a
    moment ago and `password` is not theirs); 502 when the verifier cannot answer."""
    profile = _ask(email, password)
    if profile is None:
        metrics.add_metric(name="LegacyVerifierRefusals", unit=MetricUnit.Count, value=1)
        return None
    row = {**profile, "email": email}
    row.pop("password_hash", None)
    row.pop("password_salt", None)
    try:
        user, _ = user_from(row, None)
    except BadRequest as err:
        logger.warning("Legacy verifier's profile refused", extra={"reason": err.message})
        raise UpstreamUnavailable(UNAVAILABLE) from None
    user.password_hash = passwords.hash_password(password) if password is not None else ""
    try:
        user_store.create(user, None)
    except (EmailTaken, UserIdTaken):  # a concurrent request migrated it a moment ago
        owner = user_store.owner_of_email(user.email_key)
        if owner is None or (password is not None and not passwords.verify_password(owner.password_hash, password)):
            return None
        return owner
    metrics.add_metric(name="UsersMigrated", unit=MetricUnit.Count, value=1)
    logger.append_keys(migrated=True)  # on the request's INFO line
    return user


def _ask(email: str, password: str | None) -> dict[str, Any] | None:
    """The verifier's profile of the user; None when it refuses (a wrong password, an unknown user)."""
    body = json.dumps({"email": email, **({"password": password} if password is not None else {})}).encode()
    target = settings().legacy_verifier_url
    is_function = target.startswith("arn:")
    raw = _invoke(target, body) if is_function else _post(target, body)
    if raw is None:
        return None
    try:
        profile = json.loads(raw if len(raw) <= MAX_ANSWER_BYTES else b"")
    except ValueError:
        profile = "not JSON"  # refused below, as any answer but an object is
    if profile is None and is_function:
        return None  # a function's refusal
    if not isinstance(profile, dict):
        logger.warning("Legacy verifier answered something other than a JSON object")
        raise UpstreamUnavailable(UNAVAILABLE)
    return profile


def _post(url: str, body: bytes) -> bytes | None:
    """The HTTPS verifier's answer; None for a refusal (401, 403, 404)."""
    import urllib.error  # here: only a stack with a legacy verifier pays for loading them
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 (the URL is the operator's https:// parameter)
        url, data=body, method="POST", headers={"Content-Type": "application/json", "X-UMS-Verifier-Key": _key()}
    )
    try:
        with urllib.request.urlopen(request, timeout=LEGACY_TIMEOUT_SECONDS) as answer:  # noqa: S310
            return bytes(answer.read(MAX_ANSWER_BYTES + 1))
    except urllib.error.HTTPError as err:
        if err.code in REFUSED:
            return None
        logger.warning("Legacy verifier answered an error", extra={"status": err.code})
        raise UpstreamUnavailable(UNAVAILABLE) from None
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        logger.warning("Legacy verifier unreachable", extra={"error": type(err).__name__})
        raise UpstreamUnavailable(UNAVAILABLE) from None


def _invoke(arn: str, body: bytes) -> bytes:
    """The verifier function's answer (its return value as JSON); 502 when it fails or times out."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = _lambda_client().invoke(FunctionName=arn, Payload=body)
    except (BotoCoreError, ClientError) as err:
        logger.warning("Legacy verifier unreachable", extra={"error": type(err).__name__})
        raise UpstreamUnavailable(UNAVAILABLE) from None
    if answer.get("FunctionError"):
        logger.warning("Legacy verifier failed", extra={"error": answer["FunctionError"]})
        raise UpstreamUnavailable(UNAVAILABLE)
    return bytes(answer["Payload"].read(MAX_ANSWER_BYTES + 1))


@cache
def _lambda_client() -> Any:
    """One Lambda client per execution environment: no retries, and the HTTPS path's timeout."""
    import boto3
    from botocore.config import Config

    timeouts = Config(
        connect_timeout=LEGACY_TIMEOUT_SECONDS, read_timeout=LEGACY_TIMEOUT_SECONDS, retries={"total_max_attempts": 1}
    )
    return boto3.client("lambda", config=timeouts)


def _key() -> str:
    from aws_lambda_powertools.utilities import parameters

    name = settings().legacy_verifier_key_secret
    return str(parameters.get_secret(name, max_age=SECRET_CACHE_SECONDS)) if name else ""
