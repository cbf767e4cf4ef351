"""Users of a made-up legacy system, their password hashes in the five formats an import takes
(bcrypt $2b$ and $2a$, passlib's and Django's PBKDF2-SHA256, Argon2id at another cost, and a few
Firebase scrypt hashes: they are slow to make and to check). User n's password is
`legacy-pass-<n>`. Shared by `make bench`'s import measure and tests/e2e/test_user_migration.py."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

FIREBASE: dict[str, Any] = {  # Firebase's documented example project (github.com/firebase/scrypt)
    "signer_key": "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
    "salt_separator": "Bw==",
    "rounds": 8,
    "mem_cost": 14,
}
FIREBASE_OPTIONS = [
    "--firebase-signer-key",
    FIREBASE["signer_key"],
    "--firebase-rounds",
    "8",
    "--firebase-mem-cost",
    "14",
]


def password(n: int) -> str:
    return f"legacy-pass-{n}"


def firebase_hash(secret: str, salt: bytes) -> str:
    """Firebase's modified scrypt, as firebase/scrypt computes it (its README's vector is checked
    in tests/unit/test_password_formats.py)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    separator = base64.b64decode(FIREBASE["salt_separator"])
    derived = hashlib.scrypt(secret.encode(), salt=salt + separator, n=2**14, r=8, p=1, dklen=64)
    encryptor = Cipher(algorithms.AES(derived[:32]), modes.CTR(b"\0" * 16)).encryptor()
    signed = encryptor.update(base64.b64decode(FIREBASE["signer_key"])) + encryptor.finalize()
    return base64.b64encode(signed).decode()


def legacy_user(n: int) -> dict[str, Any]:
    """User n, with a 24-hex id (as Northstar's) and a `plan` field."""
    import bcrypt
    from argon2 import PasswordHasher
    from passlib.hash import pbkdf2_sha256

    secret = password(n)
    row: dict[str, Any] = {"id": f"{n:024x}", "email": f"legacy{n}@example.com", "plan": "gold" if n % 3 else "free"}
    match n % 5:
        case 0:
            row["password_hash"] = bcrypt.hashpw(secret.encode(), bcrypt.gensalt(rounds=4)).decode()
        case 1:
            row["password_hash"] = pbkdf2_sha256.using(rounds=1000).hash(secret)
        case 2:
            django_salt = f"salt{n}"
            digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), django_salt.encode(), 1000)
            row["password_hash"] = f"pbkdf2_sha256$1000${django_salt}${base64.b64encode(digest).decode()}"
        case 3:
            row["password_hash"] = PasswordHasher(time_cost=1, memory_cost=16, parallelism=1).hash(secret)
        case _:
            if n % 50 == 4:
                salt = f"fb-salt-{n}".encode()
                row["password_hash"] = firebase_hash(secret, salt)
                row["password_salt"] = base64.b64encode(salt).decode()
            else:
                row["password_hash"] = bcrypt.hashpw(secret.encode(), bcrypt.gensalt(rounds=4, prefix=b"2a")).decode()
    return row
