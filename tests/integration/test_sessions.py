"""Refresh-token rotation, reuse detection and revocation on password change and deletion."""

import time

from helpers import PASSWORD, call, sign_in
from ums.store.models import SessionModel


def refresh(token: str):
    return call("RefreshTokenFunction", {"refresh_token": token})


def test_refresh_rotates_the_token(user):
    answer = refresh(user["refresh_token"])
    assert answer.status == 200
    assert answer.body["refresh_token"] != user["refresh_token"]
    assert call("GetUserFunction", token=answer.body["access_token"]).status == 200
    assert refresh(answer.body["refresh_token"]).status == 200


def test_reusing_a_rotated_token_revokes_the_whole_family(user):
    second = refresh(user["refresh_token"]).body
    reuse = refresh(user["refresh_token"])
    assert reuse.status == 401
    assert "already been used" in reuse.message
    assert refresh(second["refresh_token"]).status == 401  # the family is gone


def test_unknown_malformed_and_missing_refresh_tokens(user):
    user_id, session_id, _ = user["refresh_token"].split(".")
    assert refresh(f"{user_id}.{session_id}.forged-secret").status == 401
    assert refresh("not-a-token").status == 401
    assert refresh(f"{user_id}.unknown-session.secret").status == 401
    assert call("RefreshTokenFunction", {}).status == 400
    assert call("RefreshTokenFunction", {"refresh_token": 7}).status == 400
    assert call("RefreshTokenFunction", {"refresh_token": user["refresh_token"], "x": 1}).status == 400
    # a guess at the secret does not revoke the real session
    assert refresh(user["refresh_token"]).status == 200


def test_expired_session_is_refused_although_the_item_still_exists(user):
    _, session_id, _ = user["refresh_token"].split(".")
    session = SessionModel.get(SessionModel.key_for(session_id))
    session.update(actions=[SessionModel.expires_at.set(int(time.time()) - 1)])
    assert refresh(user["refresh_token"]).status == 401


def test_password_change_keeps_the_changing_session_and_revokes_the_others(user):
    other = sign_in().body
    changed = call(
        "ChangePasswordFunction",
        {"old_password": PASSWORD, "new_password": "a brand new passphrase"},
        token=user["access_token"],
    )
    assert changed.status == 200
    # the session that changed the password goes on
    assert call("GetUserFunction", token=user["access_token"]).status == 200
    rotated = refresh(user["refresh_token"])
    assert rotated.status == 200
    assert call("GetUserFunction", token=rotated.body["access_token"]).status == 200
    # every other session is revoked: access and refresh tokens
    assert call("GetUserFunction", token=other["access_token"]).status == 401
    assert refresh(other["refresh_token"]).status == 401
    # new sign-ins work with the new password only
    assert sign_in(password=PASSWORD).status == 401
    fresh = sign_in(password="a brand new passphrase")
    assert fresh.status == 200
    assert call("GetUserFunction", token=fresh.body["access_token"]).status == 200


def test_deleting_the_user_revokes_everything(user):
    assert call("DeleteUserFunction", {"password": PASSWORD}, token=user["access_token"]).status == 200
    assert call("GetUserFunction", token=user["access_token"]).status == 404
    assert refresh(user["refresh_token"]).status == 401


def test_a_rotation_that_lost_a_race_is_401_not_500(user):
    import pytest
    from ums.errors import Unauthorized
    from ums.store import sessions as session_store
    from ums.tokens import RefreshToken

    presented = RefreshToken.parse(user["refresh_token"])
    session, _ = session_store.get_with_user(presented.session_id, presented.owner)
    stale, _ = session_store.get_with_user(presented.session_id, presented.owner)
    session_store.rotate(session, presented.digest, "new-hash-1", 0, int(time.time()) + 60)
    with pytest.raises(Unauthorized):
        session_store.rotate(stale, presented.digest, "new-hash-2", 0, int(time.time()) + 60)


def test_a_failed_sign_in_for_a_user_deleted_meanwhile_is_still_401(user):
    from ums.store import users as user_store
    from ums.store.models import UserModel

    stale = user_store.get(user["id"])
    assert call("DeleteUserFunction", {"password": PASSWORD}, token=user["access_token"]).status == 200
    import pytest
    from ums.errors import NotFound

    with pytest.raises(NotFound):
        user_store.update(stale, [UserModel.failed_signins.add(1)])
