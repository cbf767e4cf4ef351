"""Imported password hashes, checked against vectors the reference libraries make: bcrypt,
passlib's and Django's PBKDF2-SHA256, argon2-cffi, and Firebase's documented scrypt example."""

from collections.abc import Iterator

import bcrypt
import pytest
from argon2 import PasswordHasher, Type
from passlib.hash import pbkdf2_sha256
from ums import password_formats, passwords
from ums.errors import BadRequest
from ums.operator_secrets import HASH_KEYS
from ums.password_formats import FirebaseScrypt

PASSWORD = "correct horse battery"

# Firebase's own example (github.com/firebase/scrypt, README): the project's parameters, one
# exported user's salt and hash, and that user's password.
FIREBASE = FirebaseScrypt(
    signer_key="jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
    salt_separator="Bw==",
    rounds=8,
    mem_cost=14,
)
FIREBASE_SALT = "42xEC+ixf3L2lw=="
FIREBASE_HASH = "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ=="
FIREBASE_PASSWORD = "user1password"


def django_hash(password: str, iterations: int = 1000) -> str:
    from django.conf import settings

    if not settings.configured:
        settings.configure(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"])
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    return str(PBKDF2PasswordHasher().encode(password, "seasalt2024", iterations))


def reference_hashes(password: str) -> dict[str, str]:
    return {
        "bcrypt $2b$": bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode(),
        "bcrypt $2a$": bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4, prefix=b"2a")).decode(),
        "bcrypt $2y$": bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2y$", 1),
        "passlib pbkdf2_sha256": pbkdf2_sha256.using(rounds=1000).hash(password),
        "django pbkdf2_sha256": django_hash(password),
        "argon2id": PasswordHasher(time_cost=1, memory_cost=16, parallelism=1, type=Type.ID).hash(password),
        "argon2i": PasswordHasher(time_cost=1, memory_cost=16, parallelism=1, type=Type.I).hash(password),
    }


@pytest.fixture
def signer_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The Firebase project's signer key, as the import keeps it (Secrets Manager, by key id)."""
    keys = {FIREBASE.key_id: FIREBASE.signer_key}
    monkeypatch.setattr(HASH_KEYS, "read", lambda key_id, fresh=False: keys.get(key_id))
    yield


FORMATS = [
    "bcrypt $2b$",
    "bcrypt $2a$",
    "bcrypt $2y$",
    "passlib pbkdf2_sha256",
    "django pbkdf2_sha256",
    "argon2id",
    "argon2i",
]


def test_the_reference_hashes_are_the_formats_named() -> None:
    assert list(reference_hashes(PASSWORD)) == FORMATS


@pytest.mark.parametrize("name", FORMATS)
def test_each_reference_hash_verifies_its_password_only(name: str) -> None:
    stored = password_formats.check_imported(reference_hashes(PASSWORD)[name])
    assert passwords.verify_password(stored, PASSWORD)
    assert not passwords.verify_password(stored, PASSWORD + "!")
    assert passwords.needs_rehash(stored)  # not our Argon2id at our cost: the next sign-in upgrades it


def test_firebase_scrypt_verifies_firebase_s_documented_example(signer_key: None) -> None:
    stored = FIREBASE.stored(FIREBASE_SALT, FIREBASE_HASH)
    assert stored.startswith(f"$firebase-scrypt$k={FIREBASE.key_id},r=8,m=14$")
    assert FIREBASE.signer_key not in stored  # the key stays in Secrets Manager
    assert password_formats.check_imported(stored) == stored  # an export of it imports again
    assert passwords.verify_password(stored, FIREBASE_PASSWORD)
    assert not passwords.verify_password(stored, "user1password!")
    assert passwords.needs_rehash(stored)


def test_a_firebase_hash_whose_signer_key_is_gone_never_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HASH_KEYS, "read", lambda key_id, fresh=False: None)
    assert not passwords.verify_password(FIREBASE.stored(FIREBASE_SALT, FIREBASE_HASH), FIREBASE_PASSWORD)


def test_bcrypt_checks_the_first_72_bytes_as_bcrypt_always_did() -> None:
    long_password = "a" * 80
    legacy = bcrypt.hashpw(long_password.encode()[:72], bcrypt.gensalt(rounds=4)).decode()
    assert passwords.verify_password(legacy, long_password)


def test_our_own_current_argon2id_needs_no_rehash() -> None:
    assert not passwords.needs_rehash(passwords.hash_password(PASSWORD))


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("5f4dcc3b5aa765d61d8327deb882cf99", "not in a format this service verifies"),  # unsalted MD5
        ("$2b$03$" + "a" * 53, "not in a format"),  # cost below 4
        ("pbkdf2_sha256$99999999$salt$aGFzaA==", "over 10,000,000 iterations"),
        ("$pbkdf2-sha256$1000$c2FsdA$short", "malformed"),
        ("$firebase-scrypt$k=0123456789abcdef,r=32,m=16$c2FsdA==$Bw==$aGFzaA==", "not in a format"),  # 256 MiB
        ("x" * 2000, "longer than 1024"),
    ],
)
def test_a_hash_it_cannot_verify_is_refused_with_the_reason(given: str, reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        password_formats.check_imported(given)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"signer_key": "!!", "rounds": 8, "mem_cost": 14}, "signer_key must be the project's base64"),
        ({"signer_key": "AA==", "rounds": 0, "mem_cost": 14}, "rounds must be a whole number"),
        ({"signer_key": "AA==", "rounds": 32, "mem_cost": 16}, "more than 64 MiB"),
        ({"signer_key": "AA==", "rounds": 8, "mem_cost": 14, "extra": 1}, "takes signer_key"),
    ],
)
def test_firebase_parameters_are_checked(params: dict[str, object], reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        FirebaseScrypt.parse(params)
