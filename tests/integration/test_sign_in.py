import time

import jwt
from argon2 import PasswordHasher
from helpers import PASSWORD, call, sign_in, sign_up
from ums.store.models import UserModel
from ums.users import email_key


def stored_user(email: str = "ann@example.com") -> UserModel:
    return next(iter(UserModel.by_email.query(email_key(email))))


def test_sign_in_returns_a_jwt_jexia_clients_can_read(aws):
    user = sign_up().body
    answer = sign_in("ANN@example.com")
    assert answer.status == 200
    assert set(answer.body) == {"access_token", "refresh_token"}
    claims = jwt.decode(answer.body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == f"ums:{user['id']}"
    assert claims["aud"] == "ums"
    assert claims["exp"] - claims["iat"] == 7200
    assert {"iss", "jti", "sid"} <= set(claims)
    assert jwt.get_unverified_header(answer.body["access_token"])["alg"] == "HS256"
    assert answer.headers["Cache-Control"] == "no-store"


def test_wrong_password_and_unknown_email_get_one_message(aws):
    sign_up()
    wrong = sign_in(password="not the password at all")
    unknown = sign_in(email="nobody@example.com")
    assert wrong.status == unknown.status == 401
    assert wrong.message == unknown.message == "Invalid email or password"


def test_missing_fields_and_unknown_methods_are_400(aws):
    assert call("SignInFunction", {"method": "ums", "email": "a@b.co"}).status == 400
    assert call("SignInFunction", {"email": "a@b.co", "password": PASSWORD}).status == 400
    assert call("SignInFunction", {"method": "magic", "email": "a@b.co", "password": PASSWORD}).status == 400


def test_inactive_user_gets_403_with_the_right_password_only(aws):
    sign_up()
    stored_user().update(actions=[UserModel.active.set(False)])
    assert sign_in().status == 403
    assert sign_in(password="not the password at all").status == 401


def test_five_failures_throttle_with_retry_after_and_a_success_resets(aws):
    sign_up()
    for _ in range(4):
        assert sign_in(password="wrong password here").status == 401
    assert sign_in().status == 200  # a success resets the count
    assert stored_user().failed_signins == 0
    for _ in range(5):
        assert sign_in(password="wrong password here").status == 401
    throttled = sign_in()  # even the right password waits
    assert throttled.status == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 30
    stored_user().update(actions=[UserModel.locked_until.set(int(time.time()) - 1)])
    assert sign_in().status == 200


def test_throttle_delay_grows_and_is_capped_at_15_minutes(aws):
    sign_up()
    user = stored_user()
    user.update(actions=[UserModel.failed_signins.set(20)])
    assert sign_in(password="wrong password here").status == 401
    assert stored_user().locked_until - time.time() <= 15 * 60
    assert int(sign_in().headers["Retry-After"]) > 14 * 60


def test_weak_hash_is_upgraded_on_sign_in(aws):
    sign_up()
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    stored_user().update(actions=[UserModel.password_hash.set(weak)])
    assert sign_in().status == 200
    upgraded = stored_user().password_hash
    assert upgraded != weak and "m=19456" in upgraded
