"""Every setting of the service, read from the environment once and typed.

The names are the environment variables `template.yaml` sets on the functions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

MAX_SCAN_SEGMENTS = 32  # DynamoDB allows a million; more threads than this buy nothing in a function


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    project_id: str
    region: str
    users_table: str
    tokens_table: str
    events_table: str
    config_table: str
    idempotency_table: str
    event_retention_days: int
    token_key_alias: str
    event_bus_name: str
    integration_secret_prefix: str
    oauth_secret_prefix: str  # OAuth providers' client secrets in Secrets Manager
    hash_key_secret_prefix: str  # signer keys of imported Firebase scrypt hashes in Secrets Manager
    legacy_verifier_url: str  # lazy migration: where unknown emails are checked (ums.legacy_verifier)
    legacy_verifier_key_secret: str  # the secret sent to it as X-UMS-Verifier-Key
    reset_token_ttl: int
    jwt_secret_name: str
    access_token_ttl: int
    refresh_token_ttl: int
    refresh_reuse_grace_seconds: int  # a repeat of the just-rotated refresh token gets the same new one
    password_min_length: int
    prevent_user_existence_errors: bool
    default_reset_url: str
    email_verification: str  # off, optional (mail a link, sign-in allowed) or required (sign-in needs it)
    verify_token_ttl: int
    default_verify_url: str
    recent_sign_in_seconds: int  # how recent a sign-in must be for what needs one (deleting without a password)
    mail_sender: str  # the stack's SES identity: the sender of the default mails
    mail_configuration_set: str
    failure_queue_name: str  # the outbox stream's on-failure queue (AutomationFailures)
    default_mails: frozenset[str]  # events (or `all`) whose default mail goes out when no automation exists
    select_deadline_seconds: float  # /ums/users stops matching after this (below the 30 s timeout)
    scan_segments: int  # a /ums/users scan reads this many segments in parallel
    email_order_index: bool  # the users table has `by_email_order` (template: EmailOrderIndex)
    # Argon2id cost; the defaults are OWASP's minimum (m = 19 MiB, t = 2, p = 1); see _argon2_cost.
    argon2_time_cost: int
    argon2_memory_kib: int
    argon2_parallelism: int


@cache
def settings() -> Settings:
    """The settings of this process, read from the environment on first use."""
    env = os.environ
    time_cost, memory_kib, parallelism = _argon2_cost(env)
    return Settings(
        project_id=env.get("UMS_PROJECT_ID", "ums"),
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION", "us-east-1"),
        users_table=env.get("USERS_TABLE", "ums-users"),
        tokens_table=env.get("TOKENS_TABLE", "ums-tokens"),
        events_table=env.get("EVENTS_TABLE", "ums-events"),
        config_table=env.get("CONFIG_TABLE", "ums-config"),
        idempotency_table=env.get("IDEMPOTENCY_TABLE", "ums-idempotency"),
        event_retention_days=int(env.get("EVENT_RETENTION_DAYS", "30")),
        token_key_alias=env.get("TOKEN_KEY_ALIAS", "alias/ums-reset-tokens"),
        event_bus_name=env.get("EVENT_BUS_NAME", "ums"),
        integration_secret_prefix=env.get("INTEGRATION_SECRET_PREFIX", "ums/integrations/"),
        oauth_secret_prefix=env.get("OAUTH_SECRET_PREFIX", "ums/oauth-providers/"),
        hash_key_secret_prefix=env.get("HASH_KEY_SECRET_PREFIX", "ums/hash-keys/"),
        legacy_verifier_url=env.get("LEGACY_VERIFIER_URL", ""),
        legacy_verifier_key_secret=env.get("LEGACY_VERIFIER_KEY_SECRET", ""),
        reset_token_ttl=int(env.get("RESET_TOKEN_TTL", "3600")),
        jwt_secret_name=env.get("JWT_SECRET_NAME", "ums/jwt-signing-key"),
        access_token_ttl=int(env.get("ACCESS_TOKEN_TTL", "7200")),
        refresh_token_ttl=int(env.get("REFRESH_TOKEN_TTL", "2592000")),
        refresh_reuse_grace_seconds=int(env.get("REFRESH_REUSE_GRACE_SECONDS", "30")),
        password_min_length=int(env.get("PASSWORD_MIN_LENGTH", "8")),
        prevent_user_existence_errors=_flag(env.get("PREVENT_USER_EXISTENCE_ERRORS", "false")),
        default_reset_url=env.get("DEFAULT_RESET_URL", ""),
        email_verification=env.get("EMAIL_VERIFICATION", "optional"),
        verify_token_ttl=int(env.get("VERIFY_TOKEN_TTL", "86400")),
        default_verify_url=env.get("DEFAULT_VERIFY_URL", ""),
        recent_sign_in_seconds=int(env.get("RECENT_SIGN_IN_SECONDS", "300")),
        mail_sender=env.get("MAIL_SENDER", ""),
        mail_configuration_set=env.get("MAIL_CONFIGURATION_SET", ""),
        failure_queue_name=env.get("FAILURE_QUEUE_NAME", ""),
        default_mails=_default_mails(env.get("DEFAULT_MAILS", "all")),
        select_deadline_seconds=float(env.get("SELECT_DEADLINE_SECONDS", "20")),
        scan_segments=min(MAX_SCAN_SEGMENTS, max(1, int(env.get("SCAN_SEGMENTS", "8")))),
        email_order_index=_flag(env.get("EMAIL_ORDER_INDEX", "true")),
        argon2_time_cost=time_cost,
        argon2_memory_kib=memory_kib,
        argon2_parallelism=parallelism,
    )


def _default_mails(value: str) -> frozenset[str]:
    """template.yaml's DefaultMails: `all`, `none`, or event ids separated by commas."""
    return frozenset(part.strip() for part in value.split(",") if part.strip() not in ("", "none"))


def _argon2_cost(env: Mapping[str, str]) -> tuple[int, int, int]:
    """Argon2id (time cost, memory KiB, parallelism): never below OWASP's minimum, but for tests.

    `UMS_TEST_FAST_HASHING=1` is for test suites only (tests/helpers.py sets it; template.yaml and
    `make dev` never do): Argon2id at its lowest cost (t = 1, m = 8 KiB, p = 1), so a suite that signs
    up thousands of users does not spend its minutes hashing. Inside AWS Lambda it is ignored, so a
    stray variable can never weaken deployed hashes.
    """
    if _flag(env.get("UMS_TEST_FAST_HASHING", "")) and "AWS_LAMBDA_FUNCTION_NAME" not in env:
        return 1, 8, 1
    return (
        max(2, int(env.get("ARGON2_TIME_COST", "2"))),
        max(19456, int(env.get("ARGON2_MEMORY_KIB", "19456"))),
        max(1, int(env.get("ARGON2_PARALLELISM", "1"))),
    )
