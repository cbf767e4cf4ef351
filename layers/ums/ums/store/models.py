"""PynamoDB models of the tables `template.yaml` declares.

Users table (`pk`):
  `user#<id>`            the user record (GSI `by_email` on `email_key`, GSI `by_mobile` on
                         `mobile`; keys only, GSIs `by_created_at` on `order_shard` + `created_at`
                         and `by_email_order` on `order_shard` + `email`)
  `email#<lower email>`  uniqueness marker, written in the same transaction as the user
  `mobile#<mobile>`      uniqueness marker, likewise
  `identity#<provider>#<subject>`  an OAuth identity: which user a provider's account signs in as
Tokens table (`pk`, TTL on `expires_at`, checked on every read as well):
  `session#<id>`         a refresh-token family (one sign-in and its rotations)
  `reset#<sha256>`       a password-reset token (only its hash is stored)
  `oauth-state#<sha256>` an OAuth authorization request in flight (only the state's hash is the key)
  `limit#reset#<sha256 of email>#<hour>`  per-email reset request counter
  `limit#signin#<account>#<source>#<day>`   failed sign-ins of one account from one source
  `limit#signin-ip#<source>#<15 minutes>`   failed sign-ins from one source
  `limit#signin-account#<account>#<hour>`   failed sign-ins of one account
      (account: sha256 of email key and token generation; source: sha256 of the IP or IPv6 /64)
Events table (`id`, stream NEW_IMAGE, TTL on `expires_at`): the outbox and audit trail.
Config table (`kind`, `id`): integrations, automations, templates, applications; and
  `users-index`/`order-shards` once every user has its shard (`ums users reindex`).
"""

from __future__ import annotations

import time
from typing import Any, TypeVar

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ums.config import settings


class ByEmailIndex(GlobalSecondaryIndex["UserModel"]):
    class Meta:
        index_name = "by_email"
        projection = AllProjection()

    email_key = UnicodeAttribute(hash_key=True)


class ByMobileIndex(GlobalSecondaryIndex["UserModel"]):
    class Meta:
        index_name = "by_mobile"
        projection = AllProjection()

    mobile = UnicodeAttribute(hash_key=True)


class ByCreatedAtIndex(GlobalSecondaryIndex["UserModel"]):
    """Users by creation time, in ORDER_SHARDS shards (keys only: the users are read after)."""

    class Meta:
        index_name = "by_created_at"
        projection = KeysOnlyProjection()

    order_shard = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ByEmailOrderIndex(GlobalSecondaryIndex["UserModel"]):
    """Users by email (as stored), in ORDER_SHARDS shards, keys only (template: EmailOrderIndex)."""

    class Meta:
        index_name = "by_email_order"
        projection = KeysOnlyProjection()

    order_shard = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)


class UserModel(Model):
    class Meta:
        table_name = settings().users_table
        region = settings().region

    pk = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute()
    email = UnicodeAttribute()
    email_key = UnicodeAttribute()
    mobile = UnicodeAttribute(null=True)
    active = BooleanAttribute(default=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    profile: MapAttribute[str, Any] = MapAttribute(default=dict)  # the schemaless fields
    password_hash = UnicodeAttribute()
    # Sessions and access tokens of an older generation are revoked, except `kept_session`'s.
    token_generation = NumberAttribute(default=0)
    kept_session = UnicodeAttribute(null=True)
    # {session id: epoch revoked}: sessions revoked one by one (refresh-token reuse). Read with
    # the user on every authenticated request, so revocation costs no extra call; entries older
    # than the access-token lifetime are pruned when the map is written.
    revoked_sessions: MapAttribute[str, Any] = MapAttribute(null=True)
    reset_token_hash = UnicodeAttribute(null=True)  # the one reset token still valid, if any
    email_verified = BooleanAttribute(null=True)  # missing: not verified (users from before verification)
    identities = UnicodeSetAttribute(null=True)  # keys of its OAuth identity items (deleted with it)
    order_shard = UnicodeAttribute(null=True)  # its shard of the order indexes (missing: made before them)

    by_email = ByEmailIndex()
    by_mobile = ByMobileIndex()
    by_created_at = ByCreatedAtIndex()
    by_email_order = ByEmailOrderIndex()

    @staticmethod
    def key_for(user_id: str) -> str:
        return f"user#{user_id}"


class UniqueValueModel(Model):
    """A marker that claims an email or mobile for one user."""

    class Meta:
        table_name = settings().users_table
        region = settings().region

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()

    @staticmethod
    def email_key(email_key: str) -> str:
        return f"email#{email_key}"

    @staticmethod
    def mobile_key(mobile: str) -> str:
        return f"mobile#{mobile}"


class IdentityModel(Model):
    """An OAuth identity (a provider's account) and the user it signs in as: the key makes it unique."""

    class Meta:
        table_name = settings().users_table
        region = settings().region

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    provider = UnicodeAttribute()
    subject = UnicodeAttribute()
    created_at = UnicodeAttribute()

    @staticmethod
    def key_for(provider: str, subject: str) -> str:
        return f"identity#{provider}#{subject}"


class ByUserIndex(GlobalSecondaryIndex["SessionModel"]):
    """Sessions and reset tokens of one user (keys only: enough to delete them)."""

    class Meta:
        index_name = "by_user"
        projection = KeysOnlyProjection()

    user_id = UnicodeAttribute(hash_key=True)


class SessionModel(Model):
    class Meta:
        table_name = settings().tokens_table
        region = settings().region

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    token_hash = UnicodeAttribute()  # SHA-256 of the current refresh token
    # The last ROTATIONS_REMEMBERED rotated tokens' hashes, oldest first: presenting one revokes
    # the family. Bounded, so a session refreshed for months stays one item under 1 KB (one
    # write unit a rotation) instead of growing towards DynamoDB's 400 KB limit.
    rotated_hashes: ListAttribute[str] = ListAttribute(null=True)
    used_hashes = UnicodeSetAttribute(null=True)  # before 2026-11-25, unbounded: folded in by the next rotation
    # The last rotation: the current token is HMAC(previous token, rotation_salt), so a repeat of
    # the previous token within the grace window gets the same new token back (no raw token stored).
    previous_hash = UnicodeAttribute(null=True)
    rotation_salt = UnicodeAttribute(null=True)
    rotated_at = NumberAttribute(null=True)  # epoch seconds
    generation = NumberAttribute()
    revoked = BooleanAttribute(default=False)
    created_at = UnicodeAttribute()
    expires_at = NumberAttribute()  # epoch seconds; the table's TTL attribute

    by_user = ByUserIndex()

    @staticmethod
    def key_for(session_id: str) -> str:
        return f"session#{session_id}"


class ResetTokenModel(Model):
    class Meta:
        table_name = settings().tokens_table
        region = settings().region

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    expires_at = NumberAttribute()  # epoch seconds; TTL, and checked on read

    @staticmethod
    def key_for(token_hash: str) -> str:
        return f"reset#{token_hash}"


class VerifyTokenModel(Model):
    """An email verification token (only its hash): it proves `email_key` for `user_id`."""

    class Meta:
        table_name = settings().tokens_table
        region = settings().region

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    email_key = UnicodeAttribute()  # the user's address when it was issued: a changed email voids it
    new_email = UnicodeAttribute(null=True)  # an email change: the address it was mailed to, which it confirms
    expires_at = NumberAttribute()  # epoch seconds; TTL, and checked on read

    @staticmethod
    def key_for(token_hash: str) -> str:
        return f"verify#{token_hash}"


class OAuthStateModel(Model):
    """An OAuth authorization request in flight, keyed by the hash of its `state`: what the
    callback needs (and the client must not choose), used once."""

    class Meta:
        table_name = settings().tokens_table
        region = settings().region

    pk = UnicodeAttribute(hash_key=True)
    provider = UnicodeAttribute()
    action = UnicodeAttribute()
    redirect = UnicodeAttribute()
    code_verifier = UnicodeAttribute()  # PKCE: useless without the code the provider sends the browser
    nonce = UnicodeAttribute()
    expires_at = NumberAttribute()  # epoch seconds; TTL, and checked on read

    @staticmethod
    def key_for(state_hash: str) -> str:
        return f"oauth-state#{state_hash}"


class RateLimitModel(Model):
    """A counter of requests (reset requests) or failures (sign-in) in the window of its key."""

    class Meta:
        table_name = settings().tokens_table
        region = settings().region

    pk = UnicodeAttribute(hash_key=True)
    requests = NumberAttribute(default=0)
    last_at = NumberAttribute(default=0)
    expires_at = NumberAttribute()


class FailedEventsIndex(GlobalSecondaryIndex["EventModel"]):
    """Sparse: only failed events carry `failed`, so operators list them without a scan."""

    class Meta:
        index_name = "failed"
        projection = AllProjection()

    failed = UnicodeAttribute(hash_key=True)  # always FAILED
    occurred_at = UnicodeAttribute(range_key=True)


class RecentEventsIndex(GlobalSecondaryIndex["EventModel"]):
    """Every event (`feed` is always FEED), newest first: the operator's delivery view. One key
    for all events: fine for a user-management service's rate of events (a partition takes 1,000
    writes a second); the events' TTL keeps it to EventRetentionDays."""

    class Meta:
        index_name = "recent"
        projection = AllProjection()

    feed = UnicodeAttribute(hash_key=True)
    occurred_at = UnicodeAttribute(range_key=True)


class EventModel(Model):
    """One event of the outbox. `token_ciphertext` is the reset token encrypted with KMS."""

    FAILED = "failed"
    FEED = "event"
    PENDING = "pending"

    class Meta:
        table_name = settings().events_table
        region = settings().region

    id = UnicodeAttribute(hash_key=True)
    event = UnicodeAttribute()
    name = UnicodeAttribute()
    occurred_at = UnicodeAttribute()
    routing_key = UnicodeAttribute()
    user: MapAttribute[str, Any] = MapAttribute(default=dict)
    application: MapAttribute[str, Any] = MapAttribute(null=True)
    email_template = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)  # language for template choice, when the request names one
    country = UnicodeAttribute(null=True)  # likewise for the country (Quicksilver's user_country)
    email_tags = ListAttribute(of=UnicodeAttribute, null=True)
    merge_vars: MapAttribute[str, Any] = MapAttribute(null=True)
    token_ciphertext = UnicodeAttribute(null=True)
    token_expires_at = UnicodeAttribute(null=True)
    mail_to = UnicodeAttribute(null=True)  # when the mail is not for the user's address (an email change)
    email_change: MapAttribute[str, Any] = MapAttribute(null=True)  # {old_email, new_email}
    status = UnicodeAttribute(default="pending")  # then sent, failed or skipped (no mail was due)
    failure = UnicodeAttribute(null=True)  # why it failed or was skipped
    failed = UnicodeAttribute(null=True)  # FAILED when it failed: the key of `failed_events`
    expires_at = NumberAttribute()
    feed = UnicodeAttribute(default=FEED)  # the key of `recent_events`
    redrives = NumberAttribute(null=True)  # how often an operator sent it through again

    failed_events = FailedEventsIndex()
    recent_events = RecentEventsIndex()


class ConfigModel(Model):
    """Operator configuration; `data` holds the item's fields as the management API shows them."""

    class Meta:
        table_name = settings().config_table
        region = settings().region

    kind = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    data: MapAttribute[str, Any] = MapAttribute(default=dict)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


M = TypeVar("M", bound=Model)
# Rounds of a BatchGetItem whose keys DynamoDB left unprocessed (throttling) before giving up.
BATCH_ATTEMPTS = 4


def get_or_none(model: type[M], hash_key: str, range_key: str | None = None, *, consistent: bool = False) -> M | None:
    """The item with this key, or None: the one way the store reads a single item."""
    try:
        return model.get(hash_key, range_key, consistent_read=consistent)
    except DoesNotExist:
        return None


def get_many(*wanted: tuple[type[Model], str]) -> list[Model | None]:
    """The items of these (model, hash key) pairs, from any tables, each strongly consistent, in
    one `BatchGetItem` (a read unit per item of up to 4 KB, where `TransactGetItems` costs two);
    None for an item that does not exist. Not a snapshot: each item is as of its own read."""
    request: dict[str, dict[str, Any]] = {}
    for model, key in wanted:
        table = request.setdefault(model.Meta.table_name, {"Keys": [], "ConsistentRead": True})
        table["Keys"].append({"pk": {"S": key}})
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for attempt in range(BATCH_ATTEMPTS):
        if attempt:
            time.sleep(0.025 * 2**attempt)  # keys left unprocessed under throttling: back off
        answer = transaction_connection().dispatch("BatchGetItem", {"RequestItems": request})
        for table_name, items in answer.get("Responses", {}).items():
            found.update({(table_name, item["pk"]["S"]): item for item in items})
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            break
    else:
        raise RuntimeError("DynamoDB left keys of a BatchGetItem unprocessed; try again")
    return [
        None if (raw := found.get((model.Meta.table_name, key))) is None else model.from_raw_data(raw)
        for model, key in wanted
    ]


def transaction_connection() -> Connection:
    """The users table's connection, reused for multi-item transactions (one botocore client).

    PynamoDB has no public accessor for it; a `Connection` of our own would load a second
    botocore session (about 80 ms more on every cold start), so this one private call stays."""
    return UserModel._get_connection().connection


class Transaction:
    """A `TransactWrite` that remembers each item's key, so the cancellation reasons of a failed
    transaction can be matched to items (`failed_keys`).

    DynamoDB gives one reason per item in the order sent, and PynamoDB sends condition checks,
    then deletes, puts and updates (the order of `Connection.transact_write_items`' parameters),
    whatever the order of the calls: the keys are kept in those four groups here."""

    def __init__(self) -> None:
        self._tx = TransactWrite(connection=transaction_connection())
        self._keys: dict[str, list[str]] = {"check": [], "delete": [], "put": [], "update": []}

    def __enter__(self) -> Transaction:
        self._tx.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._tx.__exit__(*exc)

    def condition_check(self, model: type[Model], hash_key: str, condition: Condition) -> None:
        self._keys["check"].append(hash_key)
        self._tx.condition_check(model, hash_key, condition=condition)

    def delete(self, item: Model, condition: Condition | None = None) -> None:
        self._keys["delete"].append(_hash_key(item))
        self._tx.delete(item, condition=condition)

    def save(self, item: Model, condition: Condition | None = None) -> None:
        self._keys["put"].append(_hash_key(item))
        self._tx.save(item, condition=condition)

    def update(self, item: Model, actions: list[Action], condition: Condition | None = None) -> None:
        self._keys["update"].append(_hash_key(item))
        self._tx.update(item, actions=actions, condition=condition)

    def failed_keys(self, err: TransactWriteError) -> set[str]:
        """The hash keys (`pk` or `id`) of the items whose condition failed."""
        keys = [*self._keys["check"], *self._keys["delete"], *self._keys["put"], *self._keys["update"]]
        return {
            key
            for key, reason in zip(keys, err.cancellation_reasons, strict=False)
            if reason is not None and reason.code == "ConditionalCheckFailed"
        }


def _hash_key(item: Model) -> str:
    name = next(name for name, attr in type(item).get_attributes().items() if attr.is_hash_key)
    return str(getattr(item, name))


def condition_failed(err: PynamoDBException) -> bool:
    """True when a single-item write failed its condition (transactions: `Transaction.failed_keys`)."""
    return err.cause_response_code == "ConditionalCheckFailedException"


def conflicted(err: TransactWriteError) -> bool:
    """True when DynamoDB cancelled the transaction for a concurrent one on the same items."""
    return any(r is not None and r.code == "TransactionConflict" for r in err.cancellation_reasons)


def lost_race(err: TransactWriteError) -> bool:
    """True when a condition failed or a concurrent transaction won: for a single-use token,
    "used already" (another attempt got there first)."""
    return any(
        r is not None and r.code in ("ConditionalCheckFailed", "TransactionConflict") for r in err.cancellation_reasons
    )
