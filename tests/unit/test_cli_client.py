"""The `ums` command's HTTP client: an endpoint that does not answer in time is a clear error
(exit 3, as for one that cannot be reached), never a traceback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ums_cli.__main__ import main
from ums_cli.client import Client


class Slow(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(2)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_request_that_outlasts_the_timeout_is_a_connection_error_that_says_so(slow_endpoint: str) -> None:
    with pytest.raises(ConnectionError, match=r"GET /management/keys did not answer within 0.5 s"):
        Client(slow_endpoint, timeout=0.5).request("GET", "/management/keys?x=1")


def test_the_command_exits_3_with_one_line(
    slow_endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("ums_cli.__main__.Client", lambda endpoint: Client(endpoint, timeout=0.5))
    assert main(["--endpoint", slow_endpoint, "keys", "list"]) == 3
    assert capsys.readouterr().err == "ums: GET /management/keys did not answer within 0.5 s\n"
