"""Starts and stops the whole local stack: emulator, resources, functions, gateway."""

from __future__ import annotations

import threading
from typing import Any

from local_stack.aws import MotoServer, create_resources, use_endpoint
from local_stack.functions import LocalFunction, prepare_process
from local_stack.gateway import Gateway, GatewayHandler
from local_stack.template import Stack


class LocalStack:
    def __init__(self, port: int = 3000, overrides: dict[str, str] | None = None) -> None:
        self.stack = Stack(overrides)
        self.port = port
        self.moto: MotoServer | None = None
        self.gateway: Gateway | None = None
        self.functions: dict[str, LocalFunction] = {}

    def start(self) -> LocalStack:
        self.moto = MotoServer().start()
        use_endpoint(self.moto.endpoint, self.stack.region)
        create_resources(self.stack)
        self.functions = prepare_process(self.stack)
        self.gateway = Gateway(self.port, self.functions, self.stack.allowed_origins(), self._local_routes())
        threading.Thread(target=self.gateway.serve_forever, name="gateway", daemon=True).start()
        return self

    def stop(self) -> None:
        if self.gateway:
            self.gateway.shutdown()
            self.gateway.server_close()
        if self.moto:
            self.moto.stop()

    @property
    def base_url(self) -> str:
        assert self.gateway is not None
        return self.gateway.base_url

    def _local_routes(self) -> dict[tuple[str, str], Any]:
        def health(_: GatewayHandler) -> tuple[int, Any]:
            assert self.moto is not None
            return 200, {"status": "ok", "aws_endpoint": self.moto.endpoint, "region": self.stack.region}

        return {("GET", "/_local/health"): health}
