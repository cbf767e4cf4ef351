"""Users and their email/mobile uniqueness markers."""

from __future__ import annotations

from collections.abc import Iterator

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from ums.errors import Conflict, EmailTaken, MobileTaken, NotFound
from ums.store.models import (
    EventModel,
    SessionModel,
    UniqueValueModel,
    UserModel,
    condition_failed,
    conditional_failures,
    conflicted,
    transaction_connection,
)

# Concurrent transactions on the same marker may be cancelled with TransactionConflict
# instead of losing the condition check; trying again gives the true answer.
TRANSACTION_ATTEMPTS = 3


def create(user: UserModel, event: EventModel) -> None:
    """Writes the user, its email (and mobile) marker and its event in one transaction; 409 if taken."""
    email_marker = UniqueValueModel(UniqueValueModel.email_key(user.email_key), user_id=user.id)
    mobile_marker = UniqueValueModel(UniqueValueModel.mobile_key(user.mobile), user_id=user.id) if user.mobile else None
    for attempt in range(TRANSACTION_ATTEMPTS):
        tx = TransactWrite(connection=transaction_connection())
        try:
            with tx:
                tx.save(user, condition=UserModel.pk.does_not_exist())
                for marker in (email_marker, mobile_marker):
                    if marker:
                        tx.save(marker, condition=UniqueValueModel.pk.does_not_exist())
                tx.save(event)
            return
        except TransactWriteError as err:
            failed = conditional_failures(tx, err)
            if email_marker.pk in failed:
                raise EmailTaken() from None
            if mobile_marker and mobile_marker.pk in failed:
                raise MobileTaken() from None
            if not conflicted(err) or attempt == TRANSACTION_ATTEMPTS - 1:
                raise


def get(user_id: str) -> UserModel | None:
    try:
        return UserModel.get(UserModel.key_for(user_id), consistent_read=True)
    except DoesNotExist:
        return None


def find_by_email(email_key: str) -> UserModel | None:
    """The user whose lower-cased email is `email_key` (GSI: one read, eventually consistent)."""
    return next(iter(UserModel.by_email.query(email_key, limit=1)), None)


def find_by_mobile(mobile: str) -> UserModel | None:
    return next(iter(UserModel.by_mobile.query(mobile, limit=1)), None)


def update(user: UserModel, actions: list[Action]) -> None:
    """Applies `actions` to an existing user (never recreates a deleted one); 404 if it is gone."""
    try:
        user.update(actions=actions, condition=UserModel.pk.exists())
    except UpdateError as err:
        if condition_failed(err):
            raise NotFound("User not found") from None
        raise


def update_if_password_unchanged(user: UserModel, old_hash: str, actions: list[Action], event: EventModel) -> None:
    """Applies `actions` and writes `event`, only if nobody changed the password since `user` was read."""
    tx = TransactWrite(connection=transaction_connection())
    try:
        with tx:
            tx.update(user, actions=actions, condition=UserModel.password_hash == old_hash)
            tx.save(event)
    except TransactWriteError as err:
        if user.pk in conditional_failures(tx, err):
            raise Conflict("The password was changed by another request; sign in again") from None
        raise


def delete(user: UserModel, event: EventModel) -> None:
    """Deletes the user and its markers and writes `event`, in one transaction; 404 if it is already gone."""
    tx = TransactWrite(connection=transaction_connection())
    try:
        with tx:
            tx.delete(user, condition=UserModel.pk.exists())
            tx.delete(UniqueValueModel(UniqueValueModel.email_key(user.email_key)))
            if user.mobile:
                tx.delete(UniqueValueModel(UniqueValueModel.mobile_key(user.mobile)))
            tx.save(event)
    except TransactWriteError as err:
        if user.pk in conditional_failures(tx, err):
            raise NotFound("User not found") from None
        raise


SCAN_PAGE_SIZE = 500


def scan_all() -> Iterator[UserModel]:
    """Every user (not the uniqueness markers), page by page."""
    return iter(UserModel.scan(UserModel.pk.startswith("user#"), page_size=SCAN_PAGE_SIZE))


def delete_tokens(user_id: str) -> int:
    """Deletes the user's sessions and reset tokens (they stop working anyway once the user is
    gone; this removes them rather than waiting for their TTL)."""
    deleted = 0
    with SessionModel.batch_write() as batch:
        for item in SessionModel.by_user.query(user_id):
            batch.delete(item)
            deleted += 1
    return deleted
