"""The one place that hashes and checks passwords (Argon2id) and applies the password policy."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ums import password_formats
from ums.config import settings
from ums.errors import BadRequest

MAX_PASSWORD_LENGTH = 1024  # policy accepts at least 256; the cap only bounds hashing work


@cache
def _hasher() -> PasswordHasher:
    s = settings()
    return PasswordHasher(
        time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_kib, parallelism=s.argon2_parallelism
    )


@cache
def _common_passwords() -> frozenset[str]:
    text = files("ums").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


@cache
def _dummy_hash() -> str:
    return _hasher().hash("timing-equaliser-for-unknown-users")


def check_policy(password: str, email: str) -> None:
    """400 when `password` breaks the policy: length, equal to the email, or too common."""
    minimum = settings().password_min_length
    if len(password) < minimum:
        raise BadRequest(f"Password must be at least {minimum} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise BadRequest(f"Password must be at most {MAX_PASSWORD_LENGTH} characters long")
    if password.strip().lower() == email.strip().lower():
        raise BadRequest("Password must not be the email address")
    if password.lower() in _common_passwords():
        raise BadRequest("Password is too common; choose a less guessable one")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` is the one `password_hash` was made from. A user without a password
    (signed up with an OAuth provider) has an empty hash: never a match, after the same work, so
    the time of a refusal does not tell such an account from others."""
    if not password_hash:
        spend_verification_time(password)
        return False
    if not password_hash.startswith("$argon2"):
        return password_formats.verify(password_hash, password)  # an imported bcrypt, PBKDF2 or scrypt hash
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash is not Argon2id with the current parameters (an imported hash, or a
    weaker cost): the sign-in that proves the password replaces it."""
    return password_formats.is_foreign(password_hash) or _hasher().check_needs_rehash(password_hash)


def spend_verification_time(password: str) -> None:
    """Verify against a dummy hash so an unknown email costs the same time as a wrong password."""
    verify_password(_dummy_hash(), password)
