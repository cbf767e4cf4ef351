"""Refresh-token rotation, its grace window, reuse detection and revocation (of one session on
reuse, of the others on password change, of all on deletion)."""

import contextlib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from helpers import PASSWORD, Answer, call, sign_in
from ums import sessions
from ums.store import users as user_store
from ums.store.models import SessionModel, UserModel


def refresh(token: str) -> Answer:
    return call("RefreshTokenFunction", {"refresh_token": token})


def session_key(refresh_token: str) -> str:
    """The key of the session a refresh token (`<owner>.<session id>.<secret>`) belongs to."""
    return SessionModel.key_for(refresh_token.split(".")[1])


def age_rotation(refresh_token: str, seconds: int) -> None:
    """As if the session's last rotation were `seconds` earlier (past the grace window)."""
    session = SessionModel.get(session_key(refresh_token))
    session.update(actions=[SessionModel.rotated_at.set(int(session.rotated_at) - seconds)])


def change_password(access_token: str) -> Answer:
    body = {"old_password": PASSWORD, "new_password": "a brand new passphrase"}
    return call("ChangePasswordFunction", body, token=access_token)


def stored(user_id: str) -> UserModel:
    """The user's record, which the test expects to exist."""
    record = user_store.get(user_id)
    assert record is not None, user_id
    return record


def test_refresh_rotates_the_token(user: dict[str, Any]) -> None:
    answer = refresh(user["refresh_token"])
    assert answer.status == 200
    assert answer.body["refresh_token"] != user["refresh_token"]
    assert call("GetUserFunction", token=answer.body["access_token"]).status == 200
    assert refresh(answer.body["refresh_token"]).status == 200


def test_reusing_a_rotated_token_after_the_grace_window_revokes_the_whole_family(user: dict[str, Any]) -> None:
    second = refresh(user["refresh_token"]).body
    age_rotation(user["refresh_token"], 31)
    reuse = refresh(user["refresh_token"])
    assert reuse.status == 401
    assert "already been used" in reuse.message
    assert refresh(second["refresh_token"]).status == 401  # the family is gone


def test_reuse_revokes_the_sessions_access_tokens_at_once(user: dict[str, Any]) -> None:
    other = sign_in().body  # another session of the same user
    second = refresh(user["refresh_token"]).body
    age_rotation(user["refresh_token"], 31)
    assert refresh(user["refresh_token"]).status == 401
    for access_token in (user["access_token"], second["access_token"]):
        assert call("GetUserFunction", token=access_token).status == 401
        assert change_password(access_token).status == 401
    # only that session: the user's other session goes on
    assert call("GetUserFunction", token=other["access_token"]).status == 200
    assert refresh(other["refresh_token"]).status == 200


def refreshes(token: str, count: int) -> list[str]:
    """`token` and the refresh tokens of `count` refreshes in a row, each with the one before."""
    tokens = [token]
    for _ in range(count):
        answer = refresh(tokens[-1])
        assert answer.status == 200, answer.body
        tokens.append(answer.body["refresh_token"])
    return tokens


def digest(refresh_token: str) -> str:
    from ums.tokens import RefreshToken

    return RefreshToken.parse(refresh_token).digest


def item_bytes(item: dict[str, Any]) -> int:
    """An upper bound of a raw item's size as DynamoDB counts it: each attribute's name and value."""
    return sum(len(name.encode()) + value_bytes(value) for name, value in item.items())


def value_bytes(value: dict[str, Any]) -> int:
    """Strings in UTF-8 bytes, a number at most 21, a boolean or null 1, a list or map 3 and 1 an
    element more."""
    [(kind, inner)] = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return min(21, len(inner) // 2 + 2)
    if kind == "SS":
        return sum(len(member.encode()) for member in inner)
    if kind == "L":
        return 3 + sum(1 + value_bytes(member) for member in inner)
    if kind == "M":
        return 3 + len(inner) + item_bytes(inner)
    return 1


def raw_session(refresh_token: str) -> dict[str, Any]:
    import boto3
    from ums.config import settings

    client = boto3.client("dynamodb", region_name=settings().region)
    key = {"pk": {"S": session_key(refresh_token)}}
    item: dict[str, Any] = client.get_item(TableName=settings().tokens_table, Key=key)["Item"]
    return item


def test_a_session_remembers_its_last_rotations_and_stays_under_one_write_unit(user: dict[str, Any]) -> None:
    from ums.store.sessions import ROTATIONS_REMEMBERED

    tokens = refreshes(user["refresh_token"], ROTATIONS_REMEMBERED + 4)
    remembered = [digest(token) for token in tokens[-ROTATIONS_REMEMBERED - 1 : -1]]
    item = raw_session(tokens[-1])
    assert [entry["S"] for entry in item["rotated_hashes"]["L"]] == remembered
    assert "used_hashes" not in item
    # A refresh's rotation is one write unit (bench/prices.json), however long the session lives.
    assert item_bytes(item) <= 1024
    age_rotation(tokens[-1], 31)

    # A token rotated out before the remembered ones is refused like an unknown one: no revocation.
    forgotten = refresh(tokens[0])
    assert forgotten.status == 401
    assert forgotten.message == "Invalid refresh token"
    assert call("GetUserFunction", token=user["access_token"]).status == 200

    # The oldest remembered one is a reuse: the session and its access tokens end.
    reuse = refresh(tokens[-ROTATIONS_REMEMBERED - 1])
    assert reuse.status == 401
    assert "already been used" in reuse.message
    assert refresh(tokens[-1]).status == 401
    assert call("GetUserFunction", token=user["access_token"]).status == 401


def test_a_session_rotated_before_the_bound_keeps_its_reuse_detection_and_shrinks(user: dict[str, Any]) -> None:
    """Sessions stored before 2026-11-25 keep every rotated hash in the unordered `used_hashes`."""
    from ums.store.sessions import ROTATIONS_REMEMBERED

    def as_before_the_bound(refresh_token: str, old: list[str]) -> None:
        session = SessionModel.get(session_key(refresh_token))
        filler = {f"{n:064x}" for n in range(100)}
        session.update(actions=[SessionModel.used_hashes.set(filler | set(old)), SessionModel.rotated_hashes.remove()])

    first, second = refreshes(user["refresh_token"], 1)
    as_before_the_bound(second, [digest(first)])
    age_rotation(second, 31)
    assert "already been used" in refresh(first).message  # detected in the old set
    assert refresh(second).status == 401

    other = refreshes(sign_in().body["refresh_token"], 1)
    as_before_the_bound(other[1], [digest(other[0])])
    third = refreshes(other[1], 1)[1]  # the next rotation folds the set into the bounded list
    item = raw_session(third)
    assert "used_hashes" not in item
    hashes = [entry["S"] for entry in item["rotated_hashes"]["L"]]
    assert len(hashes) == ROTATIONS_REMEMBERED
    assert hashes[-1] == digest(other[1])
    age_rotation(third, 31)
    assert "already been used" in refresh(other[1]).message


def test_a_repeat_within_the_grace_window_gets_the_same_token_and_revokes_nothing(user: dict[str, Any]) -> None:
    first = refresh(user["refresh_token"])
    repeat = refresh(user["refresh_token"])
    assert repeat.status == 200
    assert repeat.body["refresh_token"] == first.body["refresh_token"]
    assert call("GetUserFunction", token=repeat.body["access_token"]).status == 200
    newer = refresh(first.body["refresh_token"])
    assert newer.status == 200
    # the first token is now two rotations old: not a retry any more, but a reuse
    assert refresh(user["refresh_token"]).status == 401
    assert refresh(newer.body["refresh_token"]).status == 401


def test_twenty_concurrent_refreshes_with_one_token_all_get_the_same_new_token(user: dict[str, Any]) -> None:
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: refresh(user["refresh_token"]), range(20)))
    assert [a.status for a in answers] == [200] * 20
    tokens = {a.body["refresh_token"] for a in answers}
    assert len(tokens) == 1
    assert all(call("GetUserFunction", token=a.body["access_token"]).status == 200 for a in answers[:3])
    assert refresh(tokens.pop()).status == 200


def test_an_api_key_session_reuse_revokes_its_refresh_tokens(server_key: str) -> None:
    key, secret = server_key.split(":")
    tokens = call("SignInFunction", {"method": "apk", "key": key, "secret": secret}).body
    second = refresh(tokens["refresh_token"]).body
    assert refresh(tokens["refresh_token"]).body["refresh_token"] == second["refresh_token"]  # grace
    age_rotation(tokens["refresh_token"], 31)
    assert refresh(tokens["refresh_token"]).status == 401
    assert refresh(second["refresh_token"]).status == 401


def test_old_revocations_are_pruned_and_many_revoke_every_session(
    user: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    long_ago = int(time.time()) - 3 * 7200  # its access tokens expired long ago
    stored(user["id"]).update(actions=[UserModel.revoked_sessions.set({"old-session": long_ago})])
    refresh(user["refresh_token"])
    age_rotation(user["refresh_token"], 31)
    assert refresh(user["refresh_token"]).status == 401
    assert set(stored(user["id"]).revoked_sessions.as_dict()) == {user["refresh_token"].split(".")[1]}

    monkeypatch.setattr(sessions, "MAX_REVOKED_SESSIONS", 1)
    survivor = sign_in().body
    doomed = sign_in().body
    refresh(doomed["refresh_token"])
    age_rotation(doomed["refresh_token"], 31)
    assert refresh(doomed["refresh_token"]).status == 401
    # past the bound every session of the user ends, and the map stays small
    assert call("GetUserFunction", token=survivor["access_token"]).status == 401
    assert len(stored(user["id"]).revoked_sessions.as_dict()) == 1
    assert sign_in().status == 200


def test_unknown_malformed_and_missing_refresh_tokens(user: dict[str, Any]) -> None:
    user_id, session_id, _ = user["refresh_token"].split(".")
    assert refresh(f"{user_id}.{session_id}.forged-secret").status == 401
    assert refresh("not-a-token").status == 401
    assert refresh(f"{user_id}.unknown-session.secret").status == 401
    assert call("RefreshTokenFunction", {}).status == 400
    assert call("RefreshTokenFunction", {"refresh_token": 7}).status == 400
    assert call("RefreshTokenFunction", {"refresh_token": user["refresh_token"], "x": 1}).status == 400
    # a guess at the secret does not revoke the real session
    assert refresh(user["refresh_token"]).status == 200


def test_expired_session_is_refused_although_the_item_still_exists(user: dict[str, Any]) -> None:
    _, session_id, _ = user["refresh_token"].split(".")
    session = SessionModel.get(SessionModel.key_for(session_id))
    session.update(actions=[SessionModel.expires_at.set(int(time.time()) - 1)])
    assert refresh(user["refresh_token"]).status == 401


def test_password_change_keeps_the_changing_session_and_revokes_the_others(user: dict[str, Any]) -> None:
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


def test_deleting_the_user_revokes_everything(user: dict[str, Any]) -> None:
    assert call("DeleteUserFunction", {"password": PASSWORD}, token=user["access_token"]).status == 200
    assert call("GetUserFunction", token=user["access_token"]).status == 404
    assert refresh(user["refresh_token"]).status == 401


def test_a_rotation_that_lost_a_race_reports_it(user: dict[str, Any]) -> None:
    from ums.store import sessions as session_store
    from ums.tokens import RefreshToken

    presented = RefreshToken.parse(user["refresh_token"])
    session, _ = session_store.get_with_user(presented.session_id, presented.owner)
    stale, _ = session_store.get_with_user(presented.session_id, presented.owner)
    assert session is not None and stale is not None
    now = int(time.time())
    assert session_store.rotate(session, presented.digest, "new-hash-1", "salt-1", 0, now + 60, now)
    assert not session_store.rotate(stale, presented.digest, "new-hash-2", "salt-2", 0, now + 60, now)


def test_updating_a_user_deleted_meanwhile_is_404_not_a_recreation(user: dict[str, Any]) -> None:
    from ums.errors import NotFound

    stale = stored(user["id"])
    assert call("DeleteUserFunction", {"password": PASSWORD}, token=user["access_token"]).status == 200
    with pytest.raises(NotFound):
        user_store.update(stale, [UserModel.updated_at.set("2020-01-01T00:00:00Z")])
    assert user_store.get(user["id"]) is None


@contextlib.contextmanager
def unprocessed_batch_answers(rounds: int) -> Iterator[list[int]]:
    """Turns moto's first `rounds` BatchGetItem answers into `UnprocessedKeys`, as DynamoDB may
    answer under throttling; yields the list of calls seen (one entry each)."""
    from ums.store.models import transaction_connection

    seen: list[int] = []

    def throttled(parsed: dict[str, Any], **_: Any) -> None:
        seen.append(1)
        if len(seen) <= rounds:
            tables = parsed.pop("Responses", {})
            parsed["UnprocessedKeys"] = {
                table: {"Keys": [{"pk": item["pk"]} for item in items], "ConsistentRead": True}
                for table, items in tables.items()
            }

    events = transaction_connection().client.meta.events
    events.register("after-call.dynamodb.BatchGetItem", throttled)
    try:
        yield seen
    finally:
        events.unregister("after-call.dynamodb.BatchGetItem", throttled)


@pytest.mark.parametrize("unprocessed_rounds", [1, 3])
def test_refresh_reads_keys_dynamodb_left_unprocessed_again(user: dict[str, Any], unprocessed_rounds: int) -> None:
    with unprocessed_batch_answers(unprocessed_rounds) as seen:
        answer = refresh(user["refresh_token"])
    assert answer.status == 200, answer.body
    assert len(seen) == unprocessed_rounds + 1


def test_a_batch_dynamodb_never_processes_is_an_error_not_a_wrong_answer(user: dict[str, Any]) -> None:
    from ums.store import sessions as session_store
    from ums.store.models import BATCH_ATTEMPTS
    from ums.tokens import RefreshToken

    presented = RefreshToken.parse(user["refresh_token"])
    with unprocessed_batch_answers(BATCH_ATTEMPTS) as seen, pytest.raises(RuntimeError, match="unprocessed"):
        session_store.get_with_user(presented.session_id, presented.owner)
    assert len(seen) == BATCH_ATTEMPTS
