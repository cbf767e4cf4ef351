"""Users and their email/mobile uniqueness markers."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from ums.errors import Conflict, EmailTaken, MobileTaken, NotFound
from ums.store.models import SessionModel, UniqueValueModel, UserModel, transaction_connection

# Concurrent transactions on the same marker may be cancelled with TransactionConflict
# instead of losing the condition check; trying again gives the true answer.
TRANSACTION_ATTEMPTS = 3


def _failed(err: TransactWriteError, index: int, code: str = "ConditionalCheckFailed") -> bool:
    reasons = err.cancellation_reasons
    return index < len(reasons) and reasons[index] is not None and reasons[index].code == code  # type: ignore[union-attr]


def create(user: UserModel) -> None:
    """Writes the user with its email (and mobile) marker in one transaction; 409 if either is taken."""
    for attempt in range(TRANSACTION_ATTEMPTS):
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.save(user, condition=UserModel.pk.does_not_exist())
                tx.save(
                    UniqueValueModel(UniqueValueModel.email_key(user.email_key), user_id=user.id),
                    condition=UniqueValueModel.pk.does_not_exist(),
                )
                if user.mobile:
                    tx.save(
                        UniqueValueModel(UniqueValueModel.mobile_key(user.mobile), user_id=user.id),
                        condition=UniqueValueModel.pk.does_not_exist(),
                    )
            return
        except TransactWriteError as err:
            if _failed(err, 1):
                raise EmailTaken() from None
            if _failed(err, 2):
                raise MobileTaken() from None
            conflicted = any(r is not None and r.code == "TransactionConflict" for r in err.cancellation_reasons)
            if not conflicted or attempt == TRANSACTION_ATTEMPTS - 1:
                raise


def get(user_id: str) -> UserModel | None:
    try:
        return UserModel.get(UserModel.key_for(user_id), consistent_read=True)
    except DoesNotExist:
        return None


def find_by_email(email_key: str) -> UserModel | None:
    """The user whose lower-cased email is `email_key` (GSI: one read, eventually consistent)."""
    return next(iter(UserModel.by_email.query(email_key, limit=1)), None)


def update(user: UserModel, actions: list[Action]) -> None:
    """Applies `actions` to an existing user (never recreates a deleted one); 404 if it is gone."""
    try:
        user.update(actions=actions, condition=UserModel.pk.exists())
    except UpdateError as err:
        if err.cause_response_code == "ConditionalCheckFailed":
            raise NotFound("User not found") from None
        raise


def update_if_password_unchanged(user: UserModel, old_hash: str, actions: list[Action]) -> None:
    """Applies `actions` only if nobody changed the password since `user` was read."""
    try:
        user.update(actions=actions, condition=UserModel.password_hash == old_hash)
    except UpdateError as err:
        if err.cause_response_code == "ConditionalCheckFailed":
            raise Conflict("The password was changed by another request; sign in again") from None
        raise


def save_session_and_update(session: SessionModel, user: UserModel, actions: list[Action]) -> None:
    """Starts a session and updates its user in one transaction."""
    with TransactWrite(connection=transaction_connection()) as tx:
        tx.save(session)
        tx.update(user, actions=actions, condition=UserModel.pk.exists())


def delete(user: UserModel) -> None:
    """Deletes the user and its markers in one transaction; 404 if it is already gone."""
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.delete(user, condition=UserModel.pk.exists())
            tx.delete(UniqueValueModel(UniqueValueModel.email_key(user.email_key)))
            if user.mobile:
                tx.delete(UniqueValueModel(UniqueValueModel.mobile_key(user.mobile)))
    except TransactWriteError as err:
        if _failed(err, 0):
            raise NotFound("User not found") from None
        raise
