"""Loads the functions of `template.yaml` in this process and invokes them as Lambda would."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

import botocore.handlers

from local_stack import iam
from local_stack.template import ROOT, FunctionSpec, Stack

LAYER_PATH = ROOT / "layers" / "ums"


@dataclass
class LambdaContext:
    """The context object the Lambda runtime hands a handler."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    deadline: float
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class LocalFunction:
    """One function: its handler imported once (a warm environment), one invocation at a time,
    as each Lambda execution environment works."""

    def __init__(self, spec: FunctionSpec, region: str) -> None:
        self.spec = spec
        self._region = region
        self._lock = threading.Lock()
        self._handler: Any = None

    def _load(self) -> Any:
        module_name, _, attribute = self.spec.handler.rpartition(".")
        path = self.spec.code_uri / f"{module_name.replace('.', '/')}.py"
        unique = f"lambda_{self.spec.logical_id}"
        loader_spec = importlib.util.spec_from_file_location(unique, path)
        if loader_spec is None or loader_spec.loader is None:
            raise ImportError(f"Cannot load {path}")
        module: ModuleType = importlib.util.module_from_spec(loader_spec)
        sys.modules[unique] = module
        loader_spec.loader.exec_module(module)
        return getattr(module, attribute)

    def invoke(self, event: dict[str, Any]) -> Any:
        with self._lock, iam.acting_as(self.spec.logical_id):  # its AWS calls, init's too, meet its policy
            _own_caches(self.spec.logical_id)
            if self._handler is None:
                self._handler = self._load()
            context = LambdaContext(
                function_name=self.spec.logical_id,
                memory_limit_in_mb=self.spec.memory_mb,
                invoked_function_arn=f"arn:aws:lambda:{self._region}:123456789012:function:{self.spec.logical_id}",
                aws_request_id=str(uuid.uuid4()),
                deadline=time.monotonic() + self.spec.timeout_s,
            )
            return self._handler(event, context)


_cache_owner: list[str] = []  # the function whose Powertools providers are the process's now
_providers: dict[str, dict[str, Any]] = {}  # each other function's providers (their caches), kept aside


def _own_caches(function: str) -> None:
    """In Lambda each function has its own Powertools parameter providers, caches included. Here
    all share the process's, so each function gets its own back when it runs: it reads, under its
    own IAM policy, the secrets it uses, as it would in AWS, and keeps what it cached."""
    if _cache_owner[:1] == [function]:
        return
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    if _cache_owner:
        _providers[_cache_owner[0]] = dict(DEFAULT_PROVIDERS)
    DEFAULT_PROVIDERS.clear()
    DEFAULT_PROVIDERS.update(_providers.pop(function, {}) or _new_providers())
    _cache_owner[:] = [function]


def _new_providers() -> dict[str, Any]:
    """An empty cache for one function; the client is the process's (making one costs 30 ms)."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return {"secrets": SecretsProvider(boto3_client=_secrets_client())}


@cache
def _secrets_client() -> Any:
    import boto3

    return boto3.client("secretsmanager")


def _secret_written(model: Any, **_: Any) -> None:
    """A function wrote a secret: the others' cached copies go at once (in AWS they expire within
    their cache time, 5 minutes; here a rotation or a new SMTP password is seen by the next call)."""
    if model.name in ("CreateSecret", "PutSecretValue", "UpdateSecret", "DeleteSecret"):
        _providers.clear()


# Registered before any botocore session exists (this module is imported first).
botocore.handlers.BUILTIN_HANDLERS.append(("after-call.secretsmanager.*", _secret_written))


def forget_caches() -> None:
    """Empties every function's parameter caches (the tests: each has a fresh emulator)."""
    from aws_lambda_powertools.utilities import parameters

    _providers.clear()
    parameters.clear_caches()
    _cache_owner.clear()


def prepare_process(stack: Stack, enforce_iam: bool = True) -> dict[str, LocalFunction]:
    """Puts the layer on sys.path and every function's environment into os.environ, and (unless
    `enforce_iam` is false: the bench) checks each function's AWS calls against its IAM policy.

    All functions share this process, so their variables are merged; `template.yaml` gives
    them the same names and values (Globals), so nothing is lost.
    """
    if enforce_iam:
        iam.enforce(stack)
    if str(LAYER_PATH) not in sys.path:
        sys.path.insert(0, str(LAYER_PATH))
    specs = stack.functions()
    for spec in specs:
        os.environ.update(spec.environment)
    return {spec.logical_id: LocalFunction(spec, stack.region) for spec in specs}
