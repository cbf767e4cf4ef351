"""OAuth authorization requests in flight, in the tokens table: written by `GET /oauth/init`,
used once by the callback."""

from __future__ import annotations

import time

from pynamodb.exceptions import DeleteError

from ums.store.models import OAuthStateModel, condition_failed, get_or_none

OAuthState = OAuthStateModel  # the record logic reads (attributes only)


def save(
    state_hash: str, provider: str, action: str, redirect: str, code_verifier: str, nonce: str, expires_at: int
) -> None:
    OAuthStateModel(
        OAuthStateModel.key_for(state_hash),
        provider=provider,
        action=action,
        redirect=redirect,
        code_verifier=code_verifier,
        nonce=nonce,
        expires_at=expires_at,
    ).save()


def consume(state_hash: str) -> OAuthState | None:
    """Reads and deletes the request; None when there is none, it has expired (TTL deletion
    lags), or a concurrent callback with the same state deleted it first: a state works once."""
    state = get_or_none(OAuthStateModel, OAuthStateModel.key_for(state_hash), consistent=True)
    if state is None:
        return None
    try:
        state.delete(condition=OAuthStateModel.pk.exists())
    except DeleteError as err:
        if condition_failed(err):
            return None
        raise
    return state if int(state.expires_at) > time.time() else None
