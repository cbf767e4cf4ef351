"""The access-token signing keys: RSA key pairs kept in Secrets Manager, rotated without downtime.

The secret `JwtSigningKey` holds `{"issuer": "<the API's public base URL>", "keys": [{"kid",
"private_key" (PEM, PKCS#8), "created_at", "signs_from", "retire_at"}]}`; the stack's
custom resource writes the issuer and the first key at deploy time (functions/signing_keys).
- Tokens are signed with the newest key whose `signs_from` has come.
- Every key not yet retired verifies, and is published in the JWKS.
- A rotation adds a key that starts signing PUBLISH_LEAD_SECONDS later (API Gateway's JWT
  authorizer caches a key set for up to two hours: every cache holds the new key before any
  token uses it) and retires the old key GRACE_SECONDS after that (its last tokens expire, and
  the caches that still hold it expire too). An immediate rotation (a leaked key) signs with the
  new key at once and drops every other key: their tokens stop verifying.
Functions read the secret through Powertools' cache (SECRET_CACHE_SECONDS), so a rotation
reaches every warm function within that time. The private keys never leave the secret.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any, TypedDict

from aws_lambda_powertools.utilities import parameters
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ums.config import settings
from ums.errors import Conflict

ALGORITHM = "RS256"  # the only family API Gateway's JWT authorizers accept
KEY_BITS = 2048
SECRET_CACHE_SECONDS = 300
PUBLISH_LEAD_SECONDS = 2 * 3600  # the longest an API Gateway JWT authorizer caches a key set
AUTHORIZER_CACHE_SECONDS = 2 * 3600


def grace_seconds() -> int:
    """How long an old key verifies after a rotation's new key starts signing: the access-token
    lifetime (its last tokens) plus the two hours a gateway may cache the key set."""
    return settings().access_token_ttl + AUTHORIZER_CACHE_SECONDS


class StoredKey(TypedDict):
    kid: str
    private_key: str
    created_at: int
    signs_from: int
    retire_at: int | None


@dataclass(frozen=True)
class KeySet:
    issuer: str
    keys: list[StoredKey]

    def signing(self, now: float) -> StoredKey | None:
        """The newest key that has started signing and is not retired."""
        ready = [k for k in self.keys if k["signs_from"] <= now and not _retired(k, now)]
        return max(ready, key=lambda k: k["signs_from"], default=None)

    def verifying(self, kid: str, now: float) -> StoredKey | None:
        return next((k for k in self.keys if k["kid"] == kid and not _retired(k, now)), None)

    def published(self, now: float) -> list[dict[str, str]]:
        """The JWKS `keys`: the public half of every key not retired, newest first."""
        live = sorted((k for k in self.keys if not _retired(k, now)), key=lambda k: -k["signs_from"])
        return [public_jwk(k["kid"], k["private_key"]) for k in live]


def _retired(key: StoredKey, now: float) -> bool:
    return key["retire_at"] is not None and key["retire_at"] <= now


class SigningKeysUnavailable(RuntimeError):
    """The secret holds no usable key: the stack's SigningKey custom resource has not run."""


def key_set(*, fresh: bool = False) -> KeySet:
    """The issuer and keys, from the cached secret (`fresh`: read it again now)."""
    try:
        raw = parameters.get_secret(
            settings().jwt_secret_name, transform="json", max_age=SECRET_CACHE_SECONDS, force_fetch=fresh
        )
    except parameters.exceptions.GetParameterError as err:
        if "AWSCURRENT" in str(err):  # the secret has no value yet: the custom resource has not run
            return KeySet("", [])
        raise
    if not isinstance(raw, dict):
        raise SigningKeysUnavailable("The JWT signing secret is not a JSON object")
    return KeySet(str(raw.get("issuer") or ""), list(raw.get("keys") or []))


def signing_key(now: float) -> tuple[str, rsa.RSAPrivateKey, str]:
    """(kid, private key, issuer) to sign a token with now."""
    keys = key_set()
    key = keys.signing(now)
    if key is None or not keys.issuer:
        raise SigningKeysUnavailable("No signing key is ready: the SigningKey custom resource has not run")
    return key["kid"], _private_key(key["private_key"]), keys.issuer


def verification_key(kid: str, now: float) -> tuple[rsa.RSAPublicKey, str] | None:
    """(public key, issuer) for a token's `kid`, or None when no live key has it."""
    keys = key_set()
    key = keys.verifying(kid, now)
    return (_private_key(key["private_key"]).public_key(), keys.issuer) if key else None


@cache
def _private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SigningKeysUnavailable("A signing key is not an RSA key")
    return key


@cache
def public_jwk(kid: str, pem: str) -> dict[str, str]:
    numbers = _private_key(pem).public_key().public_numbers()
    return {"kty": "RSA", "use": "sig", "alg": ALGORITHM, "kid": kid, "n": _b64(numbers.n), "e": _b64(numbers.e)}


def _b64(number: int) -> str:
    data = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def generate_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def new_key(now: int, signs_from: int) -> StoredKey:
    """A fresh RSA key pair; its `kid` is the RFC 7638 thumbprint of the public key."""
    private = generate_private_key()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    numbers = private.public_key().public_numbers()
    canonical = json.dumps({"e": _b64(numbers.e), "kty": "RSA", "n": _b64(numbers.n)}, separators=(",", ":"))
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode("ascii")
    return StoredKey(kid=kid, private_key=pem, created_at=now, signs_from=signs_from, retire_at=None)


def rotated(keys: KeySet, now: int, *, immediate: bool) -> KeySet:
    """`keys` with a new key added (see the module's docstring) and retired keys dropped."""
    if immediate or keys.signing(now) is None:
        return KeySet(keys.issuer, [new_key(now, now)])
    signs_from = now + PUBLISH_LEAD_SECONDS
    kept: list[StoredKey] = []
    for key in keys.keys:
        if _retired(key, now):
            continue
        retire_at = signs_from + grace_seconds()
        kept.append({**key, "retire_at": min(key["retire_at"] or retire_at, retire_at)})
    return KeySet(keys.issuer, [*kept, new_key(now, signs_from)])


def summary(keys: KeySet, now: float) -> dict[str, Any]:
    """What an operator may see of the key set: never a private key."""
    current = keys.signing(now)
    return {
        "issuer": keys.issuer,
        "keys": [
            {
                "kid": k["kid"],
                "created_at": k["created_at"],
                "signs_from": k["signs_from"],
                "retire_at": k["retire_at"],
                "current": current is not None and k["kid"] == current["kid"],
            }
            for k in keys.keys
            if not _retired(k, now)
        ],
    }


def save(keys: KeySet) -> None:
    """Writes `keys` as the secret's new current version and refreshes this process's cache."""
    import boto3  # only the functions that rotate keys write the secret

    client = boto3.client("secretsmanager", region_name=settings().region)
    client.put_secret_value(SecretId=settings().jwt_secret_name, SecretString=json.dumps(asdict(keys)))
    key_set(fresh=True)


def rotate(*, immediate: bool = False, now: int | None = None) -> dict[str, Any]:
    """Adds a new signing key (see the module's docstring); what an operator may see of the result.

    While an earlier rotation's key still waits to sign, a plain rotation is a 409: each would add
    a key to the secret (at most 64 KiB) and to every JWKS, and none would sign sooner."""
    at = int(time.time()) if now is None else now
    keys = key_set(fresh=True)
    waiting = [k for k in keys.keys if k["signs_from"] > at]
    if not immediate and waiting and keys.signing(at) is not None:
        newest = max(waiting, key=lambda k: k["signs_from"])
        raise Conflict(
            f"A rotation is already under way: key '{newest['kid']}' signs from {newest['signs_from']} "
            "(Unix time); rotate again after that, or with immediate true for a leaked key"
        )
    keys = rotated(keys, at, immediate=immediate)
    save(keys)
    return summary(keys, at)


def ensure(issuer: str, now: int | None = None) -> dict[str, Any]:
    """The deploy-time step: records `issuer` and makes sure a key can sign (a first key is made
    when there is none). Running it again changes nothing but a changed issuer."""
    at = int(time.time()) if now is None else now
    keys = key_set(fresh=True)
    updated = KeySet(issuer, keys.keys)
    if updated.signing(at) is None:
        updated = rotated(updated, at, immediate=True)
    if updated != keys:
        save(updated)
    return summary(updated, at)
