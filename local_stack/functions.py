"""Loads the functions of `template.yaml` in this process and invokes them as Lambda would."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from types import ModuleType
from typing import Any

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
        with self._lock:
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


def prepare_process(stack: Stack) -> dict[str, LocalFunction]:
    """Puts the layer on sys.path and every function's environment into os.environ.

    All functions share this process, so their variables are merged; `template.yaml` gives
    them the same names and values (Globals), so nothing is lost.
    """
    if str(LAYER_PATH) not in sys.path:
        sys.path.insert(0, str(LAYER_PATH))
    specs = stack.functions()
    for spec in specs:
        os.environ.update(spec.environment)
    return {spec.logical_id: LocalFunction(spec, stack.region) for spec in specs}
