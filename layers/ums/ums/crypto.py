"""Reset tokens travel through the outbox encrypted with the stack's KMS key."""

from __future__ import annotations

import base64
from functools import cache
from typing import Any

import boto3

from ums.config import settings

ENCRYPTION_CONTEXT = {"purpose": "ums-reset-token"}


@cache
def _kms() -> Any:
    return boto3.client("kms", region_name=settings().region)


def encrypt_token(token: str) -> str:
    blob = _kms().encrypt(
        KeyId=settings().token_key_alias, Plaintext=token.encode("utf-8"), EncryptionContext=ENCRYPTION_CONTEXT
    )["CiphertextBlob"]
    return base64.b64encode(blob).decode("ascii")


def decrypt_token(ciphertext: str) -> str:
    blob = base64.b64decode(ciphertext)
    return str(_kms().decrypt(CiphertextBlob=blob, EncryptionContext=ENCRYPTION_CONTEXT)["Plaintext"].decode("utf-8"))
