"""The AWS SDK the Lambda runtime provides, against the version the code is tested with
(`runtime-sdk.txt`, the one place it is recorded). AWS does not publish one fixed version for
python3.13, so the deploy reports what it finds (the SigningKey resource's `RuntimeSdk`)."""

from __future__ import annotations

from importlib.resources import files

import boto3
import botocore

from ums.observability import logger


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


def tested() -> dict[str, str]:
    """{package: version} as pinned in runtime-sdk.txt."""
    lines = files("ums").joinpath("runtime-sdk.txt").read_text(encoding="utf-8").splitlines()
    return dict(line.split("==", 1) for line in lines if line and not line.startswith("#"))


def report() -> str:
    """One line for the stack's outputs; logs a warning when the runtime's botocore is older than
    the tested one (an API parameter the tests used may be unknown to it)."""
    expected = tested()["botocore"]
    found = f"boto3 {boto3.__version__}, botocore {botocore.__version__}"
    if _version(botocore.__version__) < _version(expected):
        logger.warning(
            "The runtime's botocore is older than the tested one", extra={"found": found, "tested": expected}
        )
        return f"{found}: OLDER than the tested botocore {expected} (README, Deploy)"
    return f"{found} (tested with botocore {expected})"
