"""The one Logger and Metrics of the service (service name from POWERTOOLS_SERVICE_NAME).

No Powertools Tracer: Lambda's active tracing (template Globals) records each invocation, and
the X-Ray SDK the Tracer needs would add about 100 ms to every cold start (bench measure 1).
"""

from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools import Logger, Metrics


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


logger = InvocationLogger()
metrics = Metrics(namespace="ServerlessUMS")
