"""The one home of the service's hashing and encryption helpers: SHA-256 digests of tokens and
secrets, their constant-time comparison, and the KMS encryption of reset tokens in the outbox.
(Password hashing is Argon2id, in `ums.passwords`; JWT signing is in `ums.tokens`.)"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cache
from typing import Any

from ums.config import settings

ENCRYPTION_CONTEXT = {"purpose": "ums-reset-token"}


def sha256_hex(value: str) -> str:
    """The hex SHA-256 of `value`: how tokens, API-key secrets and throttle keys are stored."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def secrets_equal(a: str, b: str) -> bool:
    """Constant-time comparison for secrets and their digests."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


@cache
def _kms() -> Any:
    import boto3  # here, not at the top: most functions never encrypt, and boto3 costs cold start

    return boto3.client("kms", region_name=settings().region)


def encrypt_token(token: str) -> str:
    blob = _kms().encrypt(
        KeyId=settings().token_key_alias, Plaintext=token.encode("utf-8"), EncryptionContext=ENCRYPTION_CONTEXT
    )["CiphertextBlob"]
    return base64.b64encode(blob).decode("ascii")


def decrypt_token(ciphertext: str) -> str:
    blob = base64.b64decode(ciphertext)
    return str(_kms().decrypt(CiphertextBlob=blob, EncryptionContext=ENCRYPTION_CONTEXT)["Plaintext"].decode("utf-8"))
