"""Password reset: request, tokens, limits, apply; the outbox events they write."""

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from helpers import PASSWORD, Answer, call, sign_in
from ums.crypto import decrypt_token, sha256_hex
from ums.store.models import EventModel, RateLimitModel, ResetTokenModel

NEW_PASSWORD = "a brand new passphrase"
T = TypeVar("T")


def events(kind: str) -> list[EventModel]:
    return sorted((e for e in EventModel.scan() if e.event == kind), key=lambda e: e.occurred_at)


def request(email: str = "ann@example.com", headers: dict[str, str] | None = None, **extra: Any) -> Answer:
    return call("RequestResetFunction", {"email": email, **extra}, headers=headers)


def issued_token() -> str:
    """The raw token of the newest reset event, as the automation function decrypts it."""
    return decrypt_token(events("AfterPasswordResetRequest")[-1].token_ciphertext)


def apply(token: str, password: str = NEW_PASSWORD) -> Answer:
    return call("ApplyResetFunction", {"new_password": password}, path_parameters={"token": token})


def allow_next_request() -> None:
    for limit in RateLimitModel.scan(RateLimitModel.pk.startswith("limit#")):
        limit.update(actions=[RateLimitModel.last_at.set(0)])


def test_request_is_202_and_writes_an_event_with_the_token_encrypted(user: dict[str, Any]) -> None:
    answer = request("ANN@example.com")
    assert answer.status == 202 and answer.body == {}
    [event] = events("AfterPasswordResetRequest")
    token = decrypt_token(event.token_ciphertext)
    assert len(token) >= 43 and token not in event.token_ciphertext
    assert event.user["id"] == user["id"] and event.routing_key == "user.password_reset.transactional"
    stored = list(ResetTokenModel.scan(ResetTokenModel.pk.startswith("reset#")))
    assert [t.pk for t in stored] == [f"reset#{sha256_hex(token)}"]  # only the hash is stored


def test_unknown_email_is_404_and_bad_email_400(aws: None) -> None:
    assert request("nobody@example.com").status == 404
    assert request("not an email").status == 400
    assert call("RequestResetFunction", {"email": "a@b.co", "extra": 1}).status == 400


def test_apply_sets_the_password_and_revokes_every_session(user: dict[str, Any]) -> None:
    request()
    token = issued_token()
    answer = apply(token)
    assert answer.status == 200 and answer.body["id"] == user["id"]
    assert sign_in(password=PASSWORD).status == 401
    assert sign_in(password=NEW_PASSWORD).status == 200
    assert call("GetUserFunction", token=user["access_token"]).status == 401
    assert call("RefreshTokenFunction", {"refresh_token": user["refresh_token"]}).status == 401
    assert [e.user["id"] for e in events("AfterPasswordChange")] == [user["id"]]


def test_token_is_single_use_and_unknown_tokens_are_404(user: dict[str, Any]) -> None:
    request()
    token = issued_token()
    assert apply(token).status == 200
    again = apply(token, "yet another passphrase")
    assert again.status == 404 and again.message == "Invalid or expired reset token"
    assert apply("x" * 43).status == 404


def test_a_new_request_invalidates_the_earlier_token(user: dict[str, Any]) -> None:
    request()
    first = issued_token()
    allow_next_request()
    assert request().status == 202
    assert apply(first).status == 404
    assert apply(issued_token()).status == 200


def test_a_password_change_invalidates_pending_tokens(user: dict[str, Any]) -> None:
    request()
    token = issued_token()
    changed = call(
        "ChangePasswordFunction", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, token=user["access_token"]
    )
    assert changed.status == 200
    assert apply(token, "yet another passphrase").status == 404


def test_expired_token_is_refused_although_the_item_still_exists(user: dict[str, Any]) -> None:
    request()
    token = issued_token()
    item = ResetTokenModel.get(ResetTokenModel.key_for(sha256_hex(token)))
    item.update(actions=[ResetTokenModel.expires_at.set(int(time.time()) - 1)])
    assert apply(token).status == 404


def test_weak_or_missing_new_password_is_400(user: dict[str, Any]) -> None:
    request()
    token = issued_token()
    assert apply(token, "short").status == 400
    assert call("ApplyResetFunction", {}, path_parameters={"token": token}).status == 400
    assert apply(token).status == 200  # the token survived the refused attempts


def test_twenty_parallel_applies_of_one_token_give_exactly_one_200(user: dict[str, Any]) -> None:
    request()
    token = issued_token()
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda _: apply(token).status, range(20)))
    assert statuses.count(200) == 1 and statuses.count(404) == 19


def test_per_email_limit_one_a_minute_five_an_hour(user: dict[str, Any]) -> None:
    assert request().status == 202
    limited = request()
    assert limited.status == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    for _ in range(4):
        allow_next_request()
        assert request().status == 202
    allow_next_request()
    hourly = request()
    assert hourly.status == 429 and int(hourly.headers["Retry-After"]) <= 3600


def test_sign_in_throttling_never_locks_out_reset(user: dict[str, Any]) -> None:
    for _ in range(6):
        sign_in(password="wrong password here")
    assert sign_in().status == 429
    assert request().status == 202
    assert apply(issued_token()).status == 200
    assert sign_in(password=NEW_PASSWORD).status == 200


@pytest.mark.parametrize("route", ["QuicksilverResetFunction", "CustomerResetRequestFunction"])
def test_server_routes_need_the_api_key(user: dict[str, Any], server_key: str, route: str) -> None:
    assert call(route, {"email": "ann@example.com"}).status == 401
    key = server_key.split(":")[0]
    assert call(route, {"email": "ann@example.com"}, headers={"x-api-key": f"{key}:wrong"}).status == 401
    assert call(route, {"email": "ann@example.com"}, headers={"x-api-key": "nokey:x"}).status == 401
    assert call(route, {"email": "ann@example.com"}, token=user["access_token"]).status == 401  # a user's token
    secret = server_key.split(":")[1]
    apk = call("SignInFunction", {"method": "apk", "key": key, "secret": secret}).body
    assert call(route, {"email": "ann@example.com"}, token=apk["access_token"]).status == 202  # an API key's token


def test_quicksilver_route_finds_users_by_id_email_or_mobile(server_key: str) -> None:
    q = call("SignUpFunction", {"email": "q@example.com", "password": PASSWORD, "mobile": "+31612345678"}).body
    call("SignUpFunction", {"email": "other@example.com", "password": PASSWORD})
    key = {"x-api-key": server_key}
    lookups = [{"user_id": q["id"]}, {"email": "Q@example.com"}, {"mobile": 31612345678}]
    for lookup in lookups:
        allow_next_request()
        assert call("QuicksilverResetFunction", lookup, headers=key).status == 202, lookup
    assert [e.user["id"] for e in events("AfterPasswordResetRequest")] == [q["id"]] * len(lookups)
    assert call("QuicksilverResetFunction", {"user_id": "no-such-id"}, headers=key).status == 404
    assert call("QuicksilverResetFunction", {"email": "nobody@example.com"}, headers=key).status == 404
    assert call("QuicksilverResetFunction", {}, headers=key).status == 400
    missing_template = call(
        "QuicksilverResetFunction", {"email": "q@example.com", "email_template": "nope"}, headers=key
    )
    assert missing_template.status == 404 and "nope" in missing_template.message


def test_customer_guide_apply_checks_the_customer(user: dict[str, Any], server_key: str) -> None:
    key = {"x-api-key": server_key}
    assert (
        call("CustomerResetRequestFunction", {"email": "ann@example.com"}, headers=key, query="appName=shop").status
        == 202
    )
    token = issued_token()
    assert events("AfterPasswordResetRequest")[-1].application["name"] == "shop"
    other = call(
        "CustomerResetApplyFunction",
        {"token": token, "password": NEW_PASSWORD},
        headers=key,
        path_parameters={"customerId": "someone-else"},
    )
    assert other.status == 404
    mine = call(
        "CustomerResetApplyFunction",
        {"token": token, "password": NEW_PASSWORD},
        headers=key,
        path_parameters={"customerId": user["id"]},
    )
    assert mine.status == 200 and mine.body["id"] == user["id"]


@pytest.fixture
def prevented(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """PreventUserExistenceErrors on."""
    from ums.config import settings

    monkeypatch.setenv("PREVENT_USER_EXISTENCE_ERRORS", "true")
    settings.cache_clear()
    yield
    settings.cache_clear()


def with_aws_calls(action: Callable[[], T]) -> tuple[T, list[str]]:
    """`action()`'s answer and the AWS calls it made, as `service.Operation` names."""
    import botocore.handlers
    from helpers import reset_aws_clients
    from ums import crypto

    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(f"{model.service_model.service_name}.{model.name}")

    hook = ("before-call.*.*", record)
    botocore.handlers.BUILTIN_HANDLERS.append(hook)
    reset_aws_clients()
    crypto._kms.cache_clear()
    try:
        return action(), calls
    finally:
        botocore.handlers.BUILTIN_HANDLERS.remove(hook)
        reset_aws_clients()
        crypto._kms.cache_clear()


def reset_tokens() -> list[ResetTokenModel]:
    return list(ResetTokenModel.scan(ResetTokenModel.pk.startswith("reset#")))


def suspend(email: str) -> None:
    from ums.store import users as user_store
    from ums.store.models import UserModel
    from ums.users import email_key

    found = user_store.find_by_email(email_key(email))
    assert found is not None
    user_store.update(found, [UserModel.active.set(False)])


def test_prevented_mode_answers_202_for_everyone_with_the_same_calls(prevented: None) -> None:
    call("SignUpFunction", {"email": "known@example.com", "password": PASSWORD})
    known, known_calls = with_aws_calls(lambda: request("known@example.com"))
    unknown, unknown_calls = with_aws_calls(lambda: request("unknown@example.com"))
    assert known.status == unknown.status == 202 and known.body == unknown.body == {}
    assert known_calls == unknown_calls and "dynamodb.TransactWriteItems" in known_calls
    assert len(events("AfterPasswordResetRequest")) == 1  # nothing issued for the unknown email
    limited = request("unknown@example.com")  # the limit answers 202 too, sending nothing
    assert limited.status == 202


def test_a_suspended_user_is_an_unknown_email(user: dict[str, Any]) -> None:
    suspend("ann@example.com")
    answer = request()
    assert answer.status == 404 and answer.message == request("nobody@example.com").message
    assert events("AfterPasswordResetRequest") == [] and reset_tokens() == []


def test_a_suspended_user_is_an_unknown_email_in_prevented_mode_too(prevented: None) -> None:
    call("SignUpFunction", {"email": "known@example.com", "password": PASSWORD})
    suspend("known@example.com")
    suspended, suspended_calls = with_aws_calls(lambda: request("known@example.com"))
    unknown, unknown_calls = with_aws_calls(lambda: request("unknown@example.com"))
    assert suspended.status == unknown.status == 202 and suspended.body == unknown.body == {}
    assert suspended_calls == unknown_calls
    assert events("AfterPasswordResetRequest") == [] and reset_tokens() == []


@pytest.mark.parametrize("email", ["\ud800@example.com", "known\udfff@example.com"])
def test_unpaired_surrogates_are_400_in_prevented_mode(prevented: None, email: str) -> None:
    call("SignUpFunction", {"email": "known@example.com", "password": PASSWORD})
    answer = request(email)
    assert answer.status == 400 and "'email'" in answer.message


def test_a_surrogate_in_the_token_path_is_400(user: dict[str, Any]) -> None:
    answer = call("ApplyResetFunction", {"new_password": NEW_PASSWORD}, path_parameters={"token": "x" * 42 + "\ud800"})
    assert answer.status == 400 and "Path parameter 'token'" in answer.message


def test_the_reset_limit_is_per_normalised_email(aws: None) -> None:
    assert call("SignUpFunction", {"email": "stra\u00dfe@example.com", "password": PASSWORD}).status == 201
    assert request("stra\u00dfe@example.com").status == 202
    assert request("STRASSE@example.com").status == 429  # the same account, the same limit
    assert request("\uff33\uff34\uff32\uff21\uff33\uff33\uff25@example.com").status == 429  # full-width


def test_an_anonymous_caller_cannot_name_an_application(user: dict[str, Any]) -> None:
    answer = request(application="partnerapp")
    assert answer.status == 400
    assert answer.message == (
        "Field 'application' needs an API key; anonymous requests use the project's default reset link"
    )
    by_user = call("RequestResetFunction", {"email": "ann@example.com", "application": "x"}, token=user["access_token"])
    assert by_user.status == 400  # a user's token is not an API key
    assert events("AfterPasswordResetRequest") == []
    assert request(locale="nl").status == 202  # locale stays open to everyone
    assert events("AfterPasswordResetRequest")[-1].application is None


def test_an_api_key_may_name_the_application(user: dict[str, Any], server_key: str) -> None:
    key = server_key.split(":")[0]
    wrong = request(application="partnerapp", headers={"x-api-key": f"{key}:wrong"})
    assert wrong.status == 401 and events("AfterPasswordResetRequest") == []
    assert request(application="partnerapp", headers={"x-api-key": server_key}).status == 202
    assert events("AfterPasswordResetRequest")[-1].application["name"] == "partnerapp"
