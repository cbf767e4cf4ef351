"""Password hashes made by other systems, kept by an import and checked at sign-in until the
first successful sign-in replaces them with Argon2id (`ums.passwords` dispatches here).

Accepted, as their own libraries write them:
- Argon2 (argon2id, argon2i, argon2d) PHC strings: `$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`
- bcrypt: `$2a$`, `$2b$`, `$2y$` (cost 4 to 31); bcrypt reads only a password's first 72 bytes
- PBKDF2-SHA256 in Django's format, `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`, and
  passlib's, `$pbkdf2-sha256$<rounds>$<ab64 salt>$<ab64 hash>`
- Firebase's modified scrypt: the export's base64 `passwordHash` and `salt`, with the project's
  signer key, salt separator, rounds and memory cost given once per import. It is stored as
  `$firebase-scrypt$k=<key id>,r=<rounds>,m=<mem cost>$<salt>$<separator>$<hash>`: the signer
  key itself is kept in Secrets Manager (HASH_KEY_SECRET_PREFIX + key id), not next to the
  hashes, so the users table alone is not enough to test guesses against them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass

from ums.errors import BadRequest

BCRYPT = re.compile(r"^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$")
ARGON2 = re.compile(r"^\$argon2(id|i|d)\$(v=\d+\$)?m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")
DJANGO_PBKDF2 = re.compile(r"^pbkdf2_sha256\$(\d{1,7})\$([^$]{1,128})\$([A-Za-z0-9+/]+=*)$")
PASSLIB_PBKDF2 = re.compile(r"^\$pbkdf2-sha256\$(\d{1,7})\$([./A-Za-z0-9]{0,256})\$([./A-Za-z0-9]{43})$")
FIREBASE = re.compile(
    r"^\$firebase-scrypt\$k=([0-9a-f]{16}),r=(\d{1,2}),m=(\d{1,2})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]*)\$([A-Za-z0-9+/=]+)$"
)
MAX_HASH_LENGTH = 1024
MAX_SCRYPT_MEMORY = 64 * 2**20  # what one sign-in may take of the function's memory
MAX_PBKDF2_ITERATIONS = 10_000_000  # a hash's own figure: bounds the work one sign-in can cost
FORMATS = "Argon2 (PHC), bcrypt ($2a$/$2b$/$2y$), PBKDF2-SHA256 (Django or passlib) or Firebase scrypt"


@dataclass(frozen=True)
class FirebaseScrypt:
    """A Firebase project's password hash parameters (Authentication > Users > ⋮ > Password hash
    parameters)."""

    signer_key: str  # base64
    salt_separator: str  # base64
    rounds: int
    mem_cost: int

    @classmethod
    def parse(cls, raw: object) -> FirebaseScrypt:
        if not isinstance(raw, dict) or set(raw) - {"signer_key", "salt_separator", "rounds", "mem_cost"}:
            raise BadRequest("firebase_scrypt takes signer_key, salt_separator, rounds and mem_cost")
        signer_key, separator = raw.get("signer_key"), raw.get("salt_separator", "")
        rounds, mem_cost = raw.get("rounds"), raw.get("mem_cost")
        if not isinstance(signer_key, str) or not _is_base64(signer_key) or not signer_key:
            raise BadRequest("firebase_scrypt.signer_key must be the project's base64 signer key")
        if not isinstance(separator, str) or not _is_base64(separator):
            raise BadRequest("firebase_scrypt.salt_separator must be base64 (Firebase's is usually Bw==)")
        for name, value, top in (("rounds", rounds, 32), ("mem_cost", mem_cost, 16)):
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
                raise BadRequest(f"firebase_scrypt.{name} must be a whole number from 1 to {top}")
        assert isinstance(rounds, int) and isinstance(mem_cost, int)
        if _scrypt_memory(str(rounds), str(mem_cost)) > MAX_SCRYPT_MEMORY:
            raise BadRequest(
                "firebase_scrypt: rounds and mem_cost need more than 64 MiB a sign-in (Firebase's are 8 and 14)"
            )
        return cls(signer_key, separator, rounds, mem_cost)

    @property
    def key_id(self) -> str:
        return hashlib.sha256(base64.b64decode(self.signer_key)).hexdigest()[:16]

    def stored(self, salt: str, password_hash: str) -> str:
        """The stored form of one user's exported hash and salt; 400 when they are not base64."""
        if not (_is_base64(salt) and salt and _is_base64(password_hash) and password_hash):
            raise BadRequest("a Firebase password_hash and its salt must be base64")
        params = f"k={self.key_id},r={self.rounds},m={self.mem_cost}"
        return f"$firebase-scrypt${params}${salt}${self.salt_separator}${password_hash}"


def check_imported(password_hash: str) -> str:
    """`password_hash` as stored, if it is in one of FORMATS; 400 (the reason) otherwise."""
    if len(password_hash) > MAX_HASH_LENGTH:
        raise BadRequest(f"password_hash is longer than {MAX_HASH_LENGTH} characters")
    for pattern in (BCRYPT, ARGON2, PASSLIB_PBKDF2):
        if pattern.match(password_hash):
            return password_hash
    firebase = FIREBASE.match(password_hash)  # as exported: its signer key is kept under its id
    if firebase and _scrypt_memory(firebase.group(2), firebase.group(3)) <= MAX_SCRYPT_MEMORY:
        return password_hash
    django = DJANGO_PBKDF2.match(password_hash)
    if django and int(django.group(1)) <= MAX_PBKDF2_ITERATIONS and _is_base64(django.group(3)):
        return password_hash
    if password_hash.startswith(("pbkdf2_sha256$", "$pbkdf2-sha256$")):
        raise BadRequest(
            f"password_hash: a PBKDF2-SHA256 hash that is malformed or has over {MAX_PBKDF2_ITERATIONS:,} iterations"
        )
    raise BadRequest(f"password_hash is not in a format this service verifies: {FORMATS}")


def is_foreign(password_hash: str) -> bool:
    return not password_hash.startswith("$argon2id$")


def verify(password_hash: str, password: str) -> bool:
    """Whether `password` matches an imported hash (False for anything unrecognised)."""
    secret = password.encode("utf-8", "surrogatepass")
    if BCRYPT.match(password_hash):
        import bcrypt  # only for imported bcrypt users: most sign-ins never load it

        # bcrypt uses the first 72 bytes (bcrypt 5 refuses longer input rather than cutting it).
        return bool(bcrypt.checkpw(secret[:72], password_hash.replace("$2y$", "$2b$", 1).encode("ascii")))
    if django := DJANGO_PBKDF2.match(password_hash):
        iterations, salt, expected = django.groups()
        derived = hashlib.pbkdf2_hmac("sha256", secret, salt.encode("utf-8"), int(iterations))
        return hmac.compare_digest(base64.b64encode(derived), expected.encode("ascii"))
    if passlib := PASSLIB_PBKDF2.match(password_hash):
        rounds, salt, expected = passlib.groups()
        derived = hashlib.pbkdf2_hmac("sha256", secret, _ab64_decode(salt), int(rounds))
        return hmac.compare_digest(_ab64_encode(derived), expected)
    if firebase := FIREBASE.match(password_hash):
        return _verify_firebase(secret, *firebase.groups())
    return False


def _verify_firebase(secret: bytes, key_id: str, rounds: str, mem_cost: str, salt: str, sep: str, hashed: str) -> bool:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    from ums.operator_secrets import HASH_KEYS  # boto3: only for the few Firebase users' sign-ins

    signer_key = HASH_KEYS.read(key_id)
    if signer_key is None or _scrypt_memory(rounds, mem_cost) > MAX_SCRYPT_MEMORY:
        return False  # the import's key is gone: nobody with this hash can sign in until a reset
    n, r = 2 ** int(mem_cost), int(rounds)
    derived = hashlib.scrypt(
        secret, salt=base64.b64decode(salt) + base64.b64decode(sep), n=n, r=r, p=1, dklen=64, maxmem=256 * n * r
    )
    encryptor = Cipher(algorithms.AES(derived[:32]), modes.CTR(b"\0" * 16)).encryptor()
    signed = encryptor.update(base64.b64decode(signer_key)) + encryptor.finalize()
    return hmac.compare_digest(signed, base64.b64decode(hashed))


def _scrypt_memory(rounds: str, mem_cost: str) -> int:
    return 128 * int(rounds) * (1 << int(mem_cost))


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _ab64_decode(text: str) -> bytes:
    """passlib's "adapted base64": `.` for `+`, no padding."""
    padded = text.replace(".", "+")
    return base64.b64decode(padded + "=" * (-len(padded) % 4))


def _ab64_encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=").replace("+", ".")
