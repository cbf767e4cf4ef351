import pytest
from argon2 import PasswordHasher
from ums import passwords
from ums.errors import BadRequest


def test_hash_is_argon2id_at_least_owasp_minimum():
    encoded = passwords.hash_password("correct horse battery staple")
    assert encoded.startswith("$argon2id$")
    params = dict(part.split("=") for part in encoded.split("$")[3].split(","))
    assert int(params["m"]) >= 19456 and int(params["t"]) >= 2 and int(params["p"]) >= 1


def test_verify_accepts_the_password_and_refuses_others():
    encoded = passwords.hash_password("correct horse battery staple")
    assert passwords.verify_password(encoded, "correct horse battery staple")
    assert not passwords.verify_password(encoded, "correct horse battery stable")
    assert not passwords.verify_password("not-a-hash", "anything")


def test_weaker_hash_needs_rehash_and_current_does_not():
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
def test_policy_refuses(password, reason):
    with pytest.raises(BadRequest, match=reason):
        passwords.check_policy(password, "ann@example.com")


@pytest.mark.parametrize("password", ["eight ch", "x" * 256, "naïve pässwörd ✓", "        spaces ok"])
def test_policy_accepts_long_unicode_and_spaces_without_composition_rules(password):
    passwords.check_policy(password, "ann@example.com")


def test_256_characters_are_not_truncated():
    long = "a" * 255 + "b"
    encoded = passwords.hash_password(long)
    assert not passwords.verify_password(encoded, "a" * 255 + "c")


def test_secrets_equal():
    assert passwords.secrets_equal("abc", "abc")
    assert not passwords.secrets_equal("abc", "abd")
