import pytest
from argon2 import PasswordHasher
from ums import crypto, passwords
from ums.config import settings
from ums.errors import BadRequest

from local_stack.template import Stack

# The service's own Argon2id parameters, not the suite's cheap ones (UMS_TEST_FAST_HASHING).
pytestmark = pytest.mark.usefixtures("real_hashing")


def test_hash_is_argon2id_at_least_owasp_minimum() -> None:
    encoded = passwords.hash_password("correct horse battery staple")
    assert encoded.startswith("$argon2id$")
    params = dict(part.split("=") for part in encoded.split("$")[3].split(","))
    assert int(params["m"]) >= 19456 and int(params["t"]) >= 2 and int(params["p"]) >= 1


def test_verify_accepts_the_password_and_refuses_others() -> None:
    encoded = passwords.hash_password("correct horse battery staple")
    assert passwords.verify_password(encoded, "correct horse battery staple")
    assert not passwords.verify_password(encoded, "correct horse battery stable")
    assert not passwords.verify_password("not-a-hash", "anything")


def test_weaker_hash_needs_rehash_and_current_does_not() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("correct horse battery staple")
    assert passwords.needs_rehash(weak)
    assert not passwords.needs_rehash(passwords.hash_password("correct horse battery staple"))


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 8"),
        ("x" * 1025, "at most 1024"),
        ("Ann@Example.com", "must not be the email"),
        ("password123", "too common"),
        ("Qwertyuiop", "too common"),
    ],
)
def test_policy_refuses(password: str, reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        passwords.check_policy(password, "ann@example.com")


@pytest.mark.parametrize("password", ["eight ch", "x" * 256, "naïve pässwörd ✓", "        spaces ok"])
def test_policy_accepts_long_unicode_and_spaces_without_composition_rules(password: str) -> None:
    passwords.check_policy(password, "ann@example.com")


def test_256_characters_are_not_truncated() -> None:
    long = "a" * 255 + "b"
    encoded = passwords.hash_password(long)
    assert not passwords.verify_password(encoded, "a" * 255 + "c")


def test_secrets_equal() -> None:
    assert crypto.secrets_equal("abc", "abc")
    assert not crypto.secrets_equal("abc", "abd")


def test_owasp_minimum_holds_whatever_the_environment_asks_unless_test_fast_hashing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARGON2_TIME_COST", "1")
    monkeypatch.setenv("ARGON2_MEMORY_KIB", "8")
    settings.cache_clear()  # the real_hashing fixture restores the environment and forgets these settings
    clamped = settings()
    monkeypatch.setenv("UMS_TEST_FAST_HASHING", "1")
    settings.cache_clear()
    fast = settings()
    assert (clamped.argon2_time_cost, clamped.argon2_memory_kib, clamped.argon2_parallelism) == (2, 19456, 1)
    assert (fast.argon2_time_cost, fast.argon2_memory_kib, fast.argon2_parallelism) == (1, 8, 1)


def test_no_function_of_the_template_gets_the_test_only_fast_hashing() -> None:
    assert all("UMS_TEST_FAST_HASHING" not in spec.environment for spec in Stack().functions())


def test_fast_test_hashing_is_ignored_inside_lambda() -> None:
    from ums.config import _argon2_cost

    assert _argon2_cost({"UMS_TEST_FAST_HASHING": "1"}) == (1, 8, 1)
    assert _argon2_cost({"UMS_TEST_FAST_HASHING": "1", "AWS_LAMBDA_FUNCTION_NAME": "SignIn"}) == (2, 19456, 1)
