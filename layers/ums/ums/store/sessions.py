"""Refresh-token families (sessions) in the tokens table."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.transactions import TransactGet

from ums.errors import Unauthorized
from ums.store.models import SessionModel, UserModel, condition_failed, transaction_connection


def save(session: SessionModel) -> None:
    session.save()


def get(session_id: str) -> SessionModel | None:
    try:
        return SessionModel.get(SessionModel.key_for(session_id), consistent_read=True)
    except DoesNotExist:
        return None


def get_with_user(session_id: str, user_id: str) -> tuple[SessionModel | None, UserModel | None]:
    """The session and its user in one strongly consistent read."""
    with TransactGet(connection=transaction_connection()) as tx:
        session_future = tx.get(SessionModel, SessionModel.key_for(session_id))
        user_future = tx.get(UserModel, UserModel.key_for(user_id))
    try:
        session = session_future.get()
    except DoesNotExist:
        session = None
    try:
        user = user_future.get()
    except DoesNotExist:
        user = None
    return session, user


def rotate(session: SessionModel, old_hash: str, new_hash: str, generation: int, expires_at: int) -> None:
    """Replaces the current refresh token; 401 if it was rotated meanwhile (a reuse)."""
    try:
        session.update(
            actions=[
                SessionModel.token_hash.set(new_hash),
                SessionModel.used_hashes.add({old_hash}),
                SessionModel.generation.set(generation),
                SessionModel.expires_at.set(expires_at),
            ],
            condition=(SessionModel.token_hash == old_hash) & (SessionModel.revoked == False),  # noqa: E712
        )
    except UpdateError as err:
        if condition_failed(err):
            raise Unauthorized("Refresh token has already been used") from None
        raise


def revoke(session: SessionModel) -> None:
    try:
        session.update(actions=[SessionModel.revoked.set(True)], condition=SessionModel.pk.exists())
    except UpdateError as err:
        if not condition_failed(err):
            raise
