"""The one Logger and Metrics of the service (service name from POWERTOOLS_SERVICE_NAME).

An API request logs one line at INFO (`log_request`, called by `ums.http.api_handler`): method,
route, status, duration, request id, whether the environment was cold, and the keys the logic
added with `logger.append_keys` (the user, the refusal's reason, ...). Everything else the logic
logs on the way is DEBUG, except warnings (throttling, a reused refresh token) and errors.
The Lambda context is not copied onto each line: the function is the log group, and Lambda's own
REPORT line carries its request id, duration and memory.

No Powertools Tracer: Lambda's active tracing (the stack's `Tracing` parameter) records each
invocation, and the X-Ray SDK the Tracer needs would add about 100 ms to every cold start (bench measure 1).
"""

import os
import time
from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import LogRecord


class SampledTraceFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON line, with the X-Ray trace id only when X-Ray records the trace
    (`Sampled=1` in the header Lambda sets): with the stack's default `Tracing` (PassThrough) no
    trace is recorded, and with Active 95% are not, so the id would lead nowhere. It is 52 bytes
    of a request's line of about 300 (bench measure 7)."""

    def serialize(self, log: LogRecord) -> str:
        if "Sampled=1" not in os.environ.get("_X_AMZN_TRACE_ID", "").split(";"):
            log.pop("xray_trace_id", None)
        return super().serialize(log)


class InvocationLogger(Logger):
    """Powertools' Logger whose per-invocation keys (the Lambda context that
    `inject_lambda_context` adds, the correlation id, anything `append_keys` adds) live in a
    context variable instead of the one formatter every function shares.

    In AWS an environment runs one invocation at a time, so nothing changes there (a context
    variable lookup per line). The local stack runs every function in one process, in threads:
    with shared keys, one function's name and request id would show on another's lines.
    """

    _configured = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._configured = True

    def structure_logs(
        self, append: bool = False, formatter_options: dict[str, Any] | None = None, **keys: Any
    ) -> None:
        if not self._configured:  # the constructor's keys (service, ...) are the shared ones
            super().structure_logs(append, formatter_options, **keys)
            return
        if not append:  # `inject_lambda_context(clear_state=True)`: a new invocation's keys
            self.thread_safe_clear_keys()
        self.thread_safe_append_keys(**keys)

    def append_keys(self, **additional_keys: object) -> None:
        self.thread_safe_append_keys(**additional_keys)

    def remove_keys(self, keys: Iterable[str]) -> None:
        self.thread_safe_remove_keys(keys)

    def get_current_keys(self) -> dict[str, Any]:
        return {**super().get_current_keys(), **self.thread_safe_get_current_keys()}

    def get_correlation_id(self) -> str | None:
        value = self.thread_safe_get_current_keys().get("correlation_id")
        return None if value is None else str(value)


# Where a line comes from is in its message: no file:line (`location`).
logger = InvocationLogger(location=None, logger_formatter=SampledTraceFormatter())
_warm: set[str] = set()  # functions (by name) that have served a request in this process


def log_request(event: dict[str, Any], context: Any, status: int, started: float) -> None:
    """The one INFO line of an API request. `route` is the route's template (`/ums/resetpassword/{token}`),
    never the path: a path can carry a secret (a reset token)."""
    method = event.get("requestContext", {}).get("http", {}).get("method", "")  # not ANY of `ANY /management/…`
    route = str(event.get("routeKey", "")).partition(" ")[2]
    keys: dict[str, Any] = {"method": method, "route": route, "status": status}
    keys["ms"] = round((time.perf_counter() - started) * 1000, 1)
    function = str(getattr(context, "function_name", ""))
    if function not in _warm:
        _warm.add(function)
        keys["cold_start"] = True
    logger.info("request", extra=keys)


metrics = Metrics(namespace="ServerlessUMS")
