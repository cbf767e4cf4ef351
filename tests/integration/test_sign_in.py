"""Sign-in: tokens, one message for every refusal, throttling per (account, source), per source
and per account, and no way to tell a real account from an unknown email."""

import json
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from argon2 import PasswordHasher
from helpers import FUNCTIONS, PASSWORD, Answer, call, sign_in, sign_up
from ums import sessions
from ums.store.models import RateLimitModel, UserModel
from ums.users import email_key

from local_stack.gateway import http_api_event

WRONG = "not the password at all"


def stored_user(email: str = "ann@example.com") -> UserModel:
    return next(iter(UserModel.by_email.query(email_key(email))))


def sign_in_from(source_ip: str, email: str = "ann@example.com", password: str = PASSWORD) -> Answer:
    """A sign-in as API Gateway delivers it from `source_ip`."""
    body = json.dumps({"method": "ums", "email": email, "password": password}).encode()
    event = http_api_event(
        method="POST",
        path="/auth",
        route_key="POST /auth",
        headers={"content-type": "text/plain;charset=UTF-8"},
        body=body,
        source_ip=source_ip,
    )
    result = FUNCTIONS["SignInFunction"].invoke(event)
    return Answer(result["statusCode"], result["headers"], json.loads(result["body"]))


def pair_counters() -> list[RateLimitModel]:
    return list(RateLimitModel.scan(RateLimitModel.pk.startswith("limit#signin#")))


def age_pair_counters(seconds: int) -> None:
    """As if the last failure were `seconds` earlier."""
    for counter in pair_counters():
        counter.update(actions=[RateLimitModel.last_at.set(int(counter.last_at) - seconds)])


def test_sign_in_returns_a_jwt_jexia_clients_can_read(aws: None) -> None:
    user = sign_up().body
    answer = sign_in("ANN@example.com")
    assert answer.status == 200
    assert set(answer.body) == {"access_token", "refresh_token"}
    claims = jwt.decode(answer.body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == f"ums:{user['id']}"
    assert claims["aud"] == "ums"
    assert claims["exp"] - claims["iat"] == 7200
    assert {"iss", "jti", "sid"} <= set(claims)
    assert jwt.get_unverified_header(answer.body["access_token"])["alg"] == "RS256"
    assert answer.headers["Cache-Control"] == "no-store"


def test_wrong_password_and_unknown_email_get_one_message(aws: None) -> None:
    sign_up()
    wrong = sign_in(password="not the password at all")
    unknown = sign_in(email="nobody@example.com")
    assert wrong.status == unknown.status == 401
    assert wrong.message == unknown.message == "Invalid email or password"


def test_missing_fields_and_unknown_methods_are_400(aws: None) -> None:
    assert call("SignInFunction", {"method": "ums", "email": "a@b.co"}).status == 400
    assert call("SignInFunction", {"email": "a@b.co", "password": PASSWORD}).status == 400
    assert call("SignInFunction", {"method": "magic", "email": "a@b.co", "password": PASSWORD}).status == 400


def test_inactive_user_gets_403_with_the_right_password_only(aws: None) -> None:
    sign_up()
    stored_user().update(actions=[UserModel.active.set(False)])
    assert sign_in().status == 403
    assert sign_in(password="not the password at all").status == 401


def test_weak_hash_is_upgraded_on_sign_in(aws: None, real_hashing: None) -> None:
    sign_up()
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    stored_user().update(actions=[UserModel.password_hash.set(weak)])
    assert sign_in().status == 200
    upgraded = stored_user().password_hash
    assert upgraded != weak and "m=19456" in upgraded


def test_five_failures_from_one_source_throttle_it_with_retry_after_and_a_success_resets(aws: None) -> None:
    sign_up()
    for _ in range(4):
        assert sign_in_from("198.51.100.7", password=WRONG).status == 401
    assert sign_in_from("198.51.100.7").status == 200  # a success resets the count
    assert pair_counters() == []
    for _ in range(5):
        assert sign_in_from("198.51.100.7", password=WRONG).status == 401
    throttled = sign_in_from("198.51.100.7")  # from that source even the right password waits
    assert throttled.status == 429
    assert throttled.message == "Too many failed sign-in attempts; try again later"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 30
    age_pair_counters(31)
    assert sign_in_from("198.51.100.7").status == 200


def test_failures_from_one_source_do_not_stop_a_correct_sign_in_from_another(aws: None) -> None:
    sign_up()
    for _ in range(12):
        assert sign_in_from("198.51.100.7", password=WRONG).status in (401, 429)
    assert sign_in_from("198.51.100.7").status == 429
    assert sign_in_from("203.0.113.9").status == 200  # the owner elsewhere is not locked out
    assert sign_in_from("2001:db8::1").status == 200


def test_an_ipv6_source_is_its_64_prefix(aws: None) -> None:
    sign_up()
    for host in range(1, 6):
        assert sign_in_from(f"2001:db8:0:1::{host}", password=WRONG).status == 401
    assert sign_in_from("2001:db8:0:1:ffff::1").status == 429  # same /64: same source
    assert sign_in_from("2001:db8:0:2::1").status == 200


def test_throttle_delay_grows_and_is_capped_at_15_minutes(aws: None) -> None:
    sign_up()
    for _ in range(5):
        assert sign_in_from("198.51.100.7", password=WRONG).status == 401
    assert int(sign_in_from("198.51.100.7").headers["Retry-After"]) <= 30
    age_pair_counters(31)
    assert sign_in_from("198.51.100.7", password=WRONG).status == 401  # the 6th failure: 60 s
    assert 30 < int(sign_in_from("198.51.100.7").headers["Retry-After"]) <= 60
    counter = pair_counters()[0]
    counter.update(actions=[RateLimitModel.requests.set(20)])
    assert 14 * 60 < int(sign_in_from("198.51.100.7").headers["Retry-After"]) <= 15 * 60
    age_pair_counters(15 * 60)
    assert sign_in_from("198.51.100.7").status == 200


def test_per_source_ceiling_over_all_accounts(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sessions, "SOURCE_MAX_FAILURES", 3)
    sign_up()
    for i in range(3):  # one failure each on three accounts, real or not
        assert sign_in_from("198.51.100.7", email=f"guess{i}@example.com").status == 401
    refused = sign_in_from("198.51.100.7")
    assert refused.status == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= sessions.SOURCE_WINDOW
    assert sign_in_from("198.51.100.7", email="other@example.com", password=WRONG).status == 429
    assert sign_in_from("203.0.113.9").status == 200


def test_account_ceiling_refuses_everyone_but_reset_still_works(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sessions, "ACCOUNT_MAX_FAILURES", 3)
    sign_up()
    for i in range(3):  # a distributed guess: one failure from each of many sources
        assert sign_in_from(f"198.51.100.{i}", password=WRONG).status == 401
    refused = sign_in_from("203.0.113.9")
    assert refused.status == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= sessions.ACCOUNT_WINDOW
    assert sign_in_from("203.0.113.9", email="bob@example.com").status == 401  # other accounts go on
    assert call("RequestResetFunction", {"email": "ann@example.com"}).status == 202


def test_a_suspended_user_is_throttled_like_anyone(aws: None) -> None:
    sign_up()
    stored_user().update(actions=[UserModel.active.set(False)])
    for _ in range(5):
        assert sign_in_from("198.51.100.7", password=WRONG).status == 401
    assert sign_in_from("198.51.100.7").status == 429  # not 403: a lock hides whether the password was right
    assert sign_in_from("203.0.113.9").status == 403


def comparable(answer: Answer) -> tuple[int, list[dict[str, Any]], dict[str, str]]:
    """An answer without what differs for every request (its id) or every second (Retry-After)."""
    body = [{k: v for k, v in error.items() if k != "request_id"} for error in answer.body]
    headers = {k: v for k, v in answer.headers.items() if k != "X-Request-Id"}
    headers["Retry-After"] = "present" if "Retry-After" in headers else "absent"
    return answer.status, body, headers


def test_known_and_unknown_emails_answer_alike_also_when_throttled(aws: None) -> None:
    sign_up()
    for attempt in range(7):
        known = sign_in_from("198.51.100.7", password=WRONG)
        unknown = sign_in_from("198.51.100.7", email="nobody@example.com")
        assert known.status == (401 if attempt < 5 else 429)
        assert comparable(known) == comparable(unknown)


@pytest.fixture
def aws_calls(aws: None) -> Iterator[list[tuple[str, str, list[str]]]]:
    """Every DynamoDB call (service, operation, tables) of the models' clients, recorded by a
    botocore hook on those clients only and removed afterwards."""
    from ums.store import models

    calls: list[tuple[str, str, list[str]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        tables = [params["TableName"]] if "TableName" in params else []
        tables += [item["TableName"] for entry in params.get("TransactItems", []) for item in entry.values()]
        tables += list(params.get("RequestItems", {}))
        calls.append((model.service_model.service_name, model.name, tables))

    used = (models.UserModel, models.SessionModel, models.RateLimitModel)
    connections = [model._get_connection().connection for model in used]
    clients = {id(c.client): c.client for c in connections}.values()
    for client in clients:
        client.meta.events.register("provide-client-params.dynamodb.*", record, unique_id="test-sign-in-calls")
    yield calls
    for client in clients:
        client.meta.events.unregister("provide-client-params.dynamodb.*", unique_id="test-sign-in-calls")


def test_wrong_password_and_unknown_email_make_the_same_aws_calls_and_hash_once(
    aws_calls: list[tuple[str, str, list[str]]], monkeypatch: pytest.MonkeyPatch, real_hashing: None
) -> None:
    from ums import passwords

    sign_up()
    verifications: list[str] = []
    real_verify = passwords.verify_password

    def verify_password(encoded: str, password: str) -> bool:
        verifications.append(encoded)
        return real_verify(encoded, password)

    monkeypatch.setattr(passwords, "verify_password", verify_password)

    def calls_of(email: str) -> list[tuple[str, str, list[str]]]:
        aws_calls.clear()
        verifications.clear()
        assert sign_in_from("198.51.100.7", email=email, password=WRONG).status == 401
        assert len(verifications) == 1 and "m=19456" in verifications[0]  # one Argon2id check, same cost
        return list(aws_calls)

    known, unknown = calls_of("ann@example.com"), calls_of("nobody@example.com")
    assert known == unknown
    assert [operation for _, operation, _ in known] == ["Query", "TransactWriteItems"]


def test_sign_in_success_is_two_dynamodb_calls(aws_calls: list[tuple[str, str, list[str]]]) -> None:
    sign_up()
    aws_calls.clear()
    assert sign_in_from("198.51.100.7").status == 200
    assert [operation for _, operation, _ in aws_calls] == ["Query", "TransactWriteItems"]
