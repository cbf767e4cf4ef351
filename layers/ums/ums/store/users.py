"""Users and their email/mobile uniqueness markers."""

from __future__ import annotations

import contextvars
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import size
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action

from ums.config import MAX_SCAN_SEGMENTS
from ums.errors import Conflict, EmailTaken, IdentityTaken, MobileTaken, NotFound, UserIdTaken
from ums.store import events
from ums.store.models import (
    ConfigModel,
    IdentityModel,
    ResetTokenModel,
    SessionModel,
    Transaction,
    UniqueValueModel,
    UserModel,
    VerifyTokenModel,
    condition_failed,
    conflicted,
    get_or_none,
)

T = TypeVar("T")
R = TypeVar("R")

User = UserModel  # the record logic reads (attributes only)
# Every attribute of the stored user item: no client-chosen field may take one of these names.
STORED_ATTRIBUTES = frozenset(UserModel.get_attributes())

# Concurrent transactions on the same marker may be cancelled with TransactionConflict
# instead of losing the condition check; trying again gives the true answer.
TRANSACTION_ATTEMPTS = 3


def new(
    user_id: str,
    email: str,
    email_key: str,
    mobile: str | None,
    profile: dict[str, Any],
    password_hash: str,
    now: str,
) -> User:
    """A user record not yet stored (`create` stores it)."""
    return UserModel(
        UserModel.key_for(user_id),
        order_shard=_order_shard(user_id),
        id=user_id,
        email=email,
        email_key=email_key,
        mobile=mobile,
        active=True,
        created_at=now,
        updated_at=now,
        profile=profile,
        password_hash=password_hash,
    )


def create(
    user: User,
    event: dict[str, Any] | None,
    identity: tuple[str, str] | None = None,
    tokens: Sequence[VerifyTokenModel | ResetTokenModel] = (),
) -> None:
    """Writes the user, its email (and mobile) marker, its OAuth `identity` (provider, subject)
    if any, the `tokens` its event mails (an email verification, an invitation's reset), and its
    event (an import may have none) in one transaction; 409 if the id, email, mobile or identity
    is taken."""
    email_marker = UniqueValueModel(UniqueValueModel.email_key(user.email_key), user_id=user.id)
    mobile_marker = UniqueValueModel(UniqueValueModel.mobile_key(user.mobile), user_id=user.id) if user.mobile else None
    identity_item = _identity(user, *identity) if identity else None
    if identity_item:
        user.identities = {identity_item.pk}
    for attempt in range(TRANSACTION_ATTEMPTS):
        tx = Transaction()
        try:
            with tx:
                tx.save(user, condition=UserModel.pk.does_not_exist())
                for marker in (email_marker, mobile_marker):
                    if marker:
                        tx.save(marker, condition=UniqueValueModel.pk.does_not_exist())
                if identity_item:
                    tx.save(identity_item, condition=IdentityModel.pk.does_not_exist())
                for token in tokens:
                    tx.save(token)
                if event is not None:
                    tx.save(events.item(event))
            return
        except TransactWriteError as err:
            failed = tx.failed_keys(err)
            if user.pk in failed:
                raise UserIdTaken() from None
            if identity_item and identity_item.pk in failed:
                raise IdentityTaken() from None
            if email_marker.pk in failed:
                raise EmailTaken() from None
            if mobile_marker and mobile_marker.pk in failed:
                raise MobileTaken() from None
            if not conflicted(err) or attempt == TRANSACTION_ATTEMPTS - 1:
                raise


def _identity(user: User, provider: str, subject: str) -> IdentityModel:
    return IdentityModel(
        IdentityModel.key_for(provider, subject),
        user_id=user.id,
        provider=provider,
        subject=subject,
        created_at=user.updated_at,
    )


def find_by_identity(provider: str, subject: str) -> User | None:
    """The user a provider's account signs in as (two reads: the identity, then its user)."""
    identity = get_or_none(IdentityModel, IdentityModel.key_for(provider, subject), consistent=True)
    return get(identity.user_id) if identity else None


def link_identity(user: User, provider: str, subject: str, now: str) -> None:
    """Links an OAuth identity to an existing user, in one transaction; 409 if it is linked
    already (to anyone), 404 if the user is gone."""
    item = _identity(user, provider, subject)
    item.created_at = now
    tx = Transaction()
    try:
        with tx:
            tx.save(item, condition=IdentityModel.pk.does_not_exist())
            # The provider vouches for the email that linked it: it is verified now.
            actions: list[Action] = [UserModel.identities.add({item.pk}), UserModel.email_verified.set(True)]
            tx.update(user, actions=actions, condition=UserModel.pk.exists())
        user.email_verified = True
    except TransactWriteError as err:
        failed = tx.failed_keys(err)
        if item.pk in failed:
            raise IdentityTaken() from None
        if user.pk in failed:
            raise NotFound("User not found") from None
        raise


def get(user_id: str) -> User | None:
    return get_or_none(UserModel, UserModel.key_for(user_id), consistent=True)


def get_many(user_ids: Iterable[str]) -> dict[str, User]:
    """{id: user} of those of `user_ids` that exist (BatchGetItem: 100 keys a call, consistent)."""
    keys = sorted({UserModel.key_for(user_id) for user_id in user_ids})
    return {user.id: user for user in UserModel.batch_get(keys, consistent_read=True)}


def owners_of_emails(email_keys: Iterable[str]) -> dict[str, User]:
    """{email key: user} of those of `email_keys` a user holds, read consistently (the markers,
    then their users: two BatchGetItem calls a hundred emails)."""
    keys = sorted({UniqueValueModel.email_key(key) for key in email_keys})
    owners = {
        marker.pk.removeprefix("email#"): marker.user_id
        for marker in UniqueValueModel.batch_get(keys, consistent_read=True)
    }
    users = get_many(owners.values())
    return {key: users[user_id] for key, user_id in owners.items() if user_id in users}


def find_by_email(email_key: str) -> User | None:
    """The user whose lower-cased email is `email_key` (GSI: one read, eventually consistent)."""
    return next(iter(UserModel.by_email.query(email_key, limit=1)), None)


def owner_of_email(email_key: str) -> User | None:
    """The user whose email marker holds `email_key`, read consistently (two reads, where
    `find_by_email`'s index may not show a sign-up of a moment ago yet)."""
    marker = get_or_none(UniqueValueModel, UniqueValueModel.email_key(email_key), consistent=True)
    return get(marker.user_id) if marker else None


def find_by_mobile(mobile: str) -> User | None:
    return next(iter(UserModel.by_mobile.query(mobile, limit=1)), None)


def update(user: User, actions: list[Action]) -> None:
    """Applies `actions` to an existing user (never recreates a deleted one); 404 if it is gone."""
    try:
        user.update(actions=actions, condition=UserModel.pk.exists())
    except UpdateError as err:
        if condition_failed(err):
            raise NotFound("User not found") from None
        raise


def update_profile(
    user: User,
    set_fields: dict[str, Any],
    removed_fields: list[str],
    updated_at: str,
    *,
    active: bool | None = None,
    email_verified: bool | None = None,
    suspend: bool = False,
) -> None:
    """Sets and removes schemaless fields (names checked by the caller), `active` and
    `email_verified`; `suspend` also ends every session of the user. 404 if the user is gone."""
    actions: list[Action] = [UserModel.updated_at.set(updated_at)]
    if active is not None:
        actions.append(UserModel.active.set(active))
    if email_verified is not None:
        actions.append(UserModel.email_verified.set(email_verified))
    actions += [profile_field(name).set(value) for name, value in set_fields.items()]
    actions += [profile_field(name).remove() for name in removed_fields]
    if suspend:
        actions += [UserModel.token_generation.add(1), UserModel.kept_session.remove()]
    update(user, actions)


def profile_field(name: str) -> Path:
    """The schemaless field `name` as an update target. Each element of the list is one attribute
    name (sent as an ExpressionAttributeNames placeholder), so '.' is just a character; '[n]'
    PynamoDB would still read as a list index, so it is refused here too (logic's
    `check_field_name` answers 400 for it first): a client's name is never a path."""
    if "[" in name or "]" in name:
        raise ValueError(f"not a field name: {name!r}")
    return Path([UserModel.profile.attr_name, name])


def password_replaced(password_hash: str, updated_at: str, keep_session: str | None = None) -> list[Action]:
    """What every new password does to the user: pending reset tokens and every session but
    `keep_session` are over. (Also used by `store.resets.consume`.)"""
    return [
        UserModel.password_hash.set(password_hash),
        UserModel.updated_at.set(updated_at),
        UserModel.token_generation.add(1),
        UserModel.kept_session.set(keep_session) if keep_session else UserModel.kept_session.remove(),
        UserModel.reset_token_hash.remove(),
    ]


def replace_password(
    user: User, password_hash: str, updated_at: str, event: dict[str, Any], *, keep_session: str | None = None
) -> None:
    """The password change: sets the new hash (revoking every session but `keep_session` and any
    reset token) and writes `event`, only if nobody changed the password since `user` was read (409)."""
    tx = Transaction()
    try:
        with tx:
            tx.update(
                user,
                actions=password_replaced(password_hash, updated_at, keep_session),
                condition=UserModel.password_hash == user.password_hash,
            )
            tx.save(events.item(event))
    except TransactWriteError as err:
        if user.pk in tx.failed_keys(err):
            raise Conflict("The password was changed by another request; sign in again") from None
        raise


def delete(user: User, event: dict[str, Any]) -> None:
    """Deletes the user, its markers and OAuth identities and writes `event`, in one
    transaction; 404 if it is already gone. An identity linked since `user` was read (a sign-in
    at that instant) is caught by the condition and deleted too, never left behind."""
    for _ in range(3):
        tx = Transaction()
        linked = sorted(user.identities or ())
        # Identities are only ever added, so an unchanged count means the same set.
        unchanged = size(UserModel.identities) == len(linked) if linked else UserModel.identities.does_not_exist()
        try:
            with tx:
                tx.delete(user, condition=UserModel.pk.exists() & unchanged)
                tx.delete(UniqueValueModel(UniqueValueModel.email_key(user.email_key)))
                if user.mobile:
                    tx.delete(UniqueValueModel(UniqueValueModel.mobile_key(user.mobile)))
                for key in linked:
                    tx.delete(IdentityModel(key))
                tx.save(events.item(event))
            return
        except TransactWriteError as err:
            if user.pk not in tx.failed_keys(err):
                raise
        current = get(user.id)
        if current is None:
            raise NotFound("User not found")
        user = current  # its markers and identities as they are now
    raise Conflict("The user changed while it was being deleted; try again")


SCAN_PAGE_SIZE = 500


@dataclass(frozen=True)
class ScanPage:
    """One page of one segment of a parallel scan."""

    segment: int
    users: list[User]
    resume_after: str | None  # the key to read on from; None: the segment is finished


def scan_round(positions: Mapping[int, str], segments: int) -> list[ScanPage]:
    """One page of each segment in `positions` ({segment: key to read on after, "" at its start})
    of a scan in `segments` segments, read in parallel, in segment order. A position may be any
    user's key (`User.pk`): the page starts after that user."""
    return in_parallel(lambda entry: _scan_page(entry[0], entry[1], segments), sorted(positions.items()))


def in_parallel(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`work` of each item, in threads (the calls' waits overlap), in the items' order; an
    exception of any is raised. One item runs here, without a thread."""
    if len(items) <= 1:
        return [work(item) for item in items]
    # Each call runs in a copy of this context (the local stack's IAM check reads it).
    futures = [_pool().submit(contextvars.copy_context().run, work, item) for item in items]
    return [future.result() for future in futures]


def _scan_page(segment: int, after: str, segments: int) -> ScanPage:
    found = UserModel.scan(
        UserModel.pk.startswith("user#"),
        segment=segment,
        total_segments=segments,
        last_evaluated_key={"pk": {"S": after}} if after else None,
        page_size=SCAN_PAGE_SIZE,
    )
    page = next(found.page_iter)  # one request
    last = page.get("LastEvaluatedKey")
    users = [UserModel.from_raw_data(item) for item in page.get("Items", [])]
    return ScanPage(segment, users, last["pk"]["S"] if last else None)


@cache
def _pool() -> ThreadPoolExecutor:
    """Kept for the life of the execution environment: a warm function starts no threads."""
    return ThreadPoolExecutor(max_workers=MAX_SCAN_SEGMENTS, thread_name_prefix="store")


def delete_tokens(user_id: str) -> int:
    """Deletes the user's sessions and reset tokens (they stop working anyway once the user is
    gone; this removes them rather than waiting for their TTL)."""
    deleted = 0
    with SessionModel.batch_write() as batch:
        for item in SessionModel.by_user.query(user_id):
            batch.delete(item)
            deleted += 1
    return deleted


# --- the order indexes: users by `created_at` (`by_created_at`) or `email` (`by_email_order`) ---

ORDER_SHARDS = 8
ORDER_PAGE_MAX = 100  # keys a page: one BatchGetItem reads their users
_ORDER_INDEX_STATE = ("users-index", "order-shards")  # config item: every user has its shard


def _order_shard(user_id: str) -> str:
    return str(hashlib.sha256(user_id.encode("utf-8", "surrogatepass")).digest()[0] % ORDER_SHARDS)


@dataclass(frozen=True)
class OrderPage:
    """One page of one shard of an order index, its users read (those deleted meanwhile left out)."""

    shard: int
    users: list[User]
    resume_after: str | None  # the position to read on from; None: the shard is finished


def order_position(user: User, field: str) -> str:
    """Where a shard's reading in `field`'s order goes on after `user` (the index key, as text)."""
    return _position(getattr(user, field), user.pk)


def _position(value: str, pk: str) -> str:
    return json.dumps([value, pk])


def order_round(field: str, starts: Mapping[int, str], descending: bool, page_size: int) -> list[OrderPage]:
    """A page of each shard in `starts` ({shard: `order_position` to read on after, "" at its
    start}) of `field`'s order index (`created_at` or `email`), ascending or descending, read
    in parallel: a Query for the keys, then one BatchGetItem for their users."""
    limit = max(1, min(page_size, ORDER_PAGE_MAX))
    return in_parallel(lambda entry: _order_page(field, *entry, descending, limit), sorted(starts.items()))


def _order_page(field: str, shard: int, after: str, descending: bool, size: int) -> OrderPage:
    index = UserModel.by_created_at if field == "created_at" else UserModel.by_email_order
    start = None
    if after:
        value, pk = json.loads(after)
        start = {"order_shard": {"S": str(shard)}, field: {"S": value}, "pk": {"S": pk}}
    found = index.query(str(shard), scan_index_forward=not descending, last_evaluated_key=start, page_size=size)
    page = next(found.page_iter)  # one request
    keys = [item["pk"]["S"] for item in page.get("Items", [])]
    users = {user.pk: user for user in UserModel.batch_get(keys, consistent_read=True)} if keys else {}
    last = page.get("LastEvaluatedKey")
    resume = _position(last[field]["S"], last["pk"]["S"]) if last else None
    return OrderPage(shard, [users[key] for key in keys if key in users], resume)


def add_to_order_index(users: Sequence[User]) -> int:
    """Gives each of `users` made before the order indexes its shard, in parallel; how many it
    changed (a user deleted meanwhile is not brought back, one given a shard already is left)."""

    def add(user: User) -> bool:
        try:
            user.update(
                actions=[UserModel.order_shard.set(_order_shard(user.id))],
                condition=UserModel.pk.exists() & UserModel.order_shard.does_not_exist(),
            )
        except UpdateError as err:
            if condition_failed(err):
                return False
            raise
        return True

    return sum(in_parallel(add, [user for user in users if user.order_shard is None]))


def order_index_complete() -> bool:
    """Whether every user has its shard, so the order indexes hold every user (set by
    `mark_order_index_complete`, never unset)."""
    return get_or_none(ConfigModel, *_ORDER_INDEX_STATE) is not None


def mark_order_index_complete(now: str) -> None:
    ConfigModel(*_ORDER_INDEX_STATE, created_at=now, updated_at=now).save()
