"""PynamoDB models of the tables `template.yaml` declares.

Users table (`pk`):
  `user#<id>`            the user record (GSI `by_email` on `email_key`, GSI `by_mobile` on `mobile`)
  `email#<lower email>`  uniqueness marker, written in the same transaction as the user
  `mobile#<mobile>`      uniqueness marker, likewise
Tokens table (`pk`, TTL on `expires_at`, checked on every read as well):
  `session#<id>`         a refresh-token family (one sign-in and its rotations)
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

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
    failed_signins = NumberAttribute(default=0)
    locked_until = NumberAttribute(default=0)  # epoch seconds
    # Sessions and access tokens of an older generation are revoked, except `kept_session`'s.
    token_generation = NumberAttribute(default=0)
    kept_session = UnicodeAttribute(null=True)

    by_email = ByEmailIndex()
    by_mobile = ByMobileIndex()

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


class SessionModel(Model):
    class Meta:
        table_name = settings().tokens_table
        region = settings().region

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    token_hash = UnicodeAttribute()  # SHA-256 of the current refresh token
    used_hashes = UnicodeSetAttribute(null=True)  # rotated ones: presenting one revokes the family
    generation = NumberAttribute()
    revoked = BooleanAttribute(default=False)
    created_at = UnicodeAttribute()
    expires_at = NumberAttribute()  # epoch seconds; the table's TTL attribute

    @staticmethod
    def key_for(session_id: str) -> str:
        return f"session#{session_id}"


def transaction_connection() -> Connection:
    """The users table's connection, reused for multi-item transactions (one botocore client)."""
    return UserModel._get_connection().connection
