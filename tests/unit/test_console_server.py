"""`ums console`'s server, on its own: what the browser may load and what /api forwards. The
flows through it run in Chromium against a local stack (tests/e2e/test_console.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests

from ums_cli.client import Client
from ums_cli.console import CSP, make_server

NOWHERE = "http://127.0.0.1:9"  # nothing listens: a forwarded request fails with a 502
CONSOLE = {"X-UMS-Console": "1"}


def started(endpoint: str) -> Iterator[str]:
    server = make_server(Client(endpoint, timeout=2))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def console() -> Iterator[str]:
    yield from started(NOWHERE)


@pytest.fixture
def remote_console() -> Iterator[str]:
    yield from started("https://abc123.execute-api.eu-west-1.amazonaws.com")


def test_the_page_its_script_and_styles_with_a_strict_policy(console: str) -> None:
    for path, kind in (("/", "text/html"), ("/app.js", "text/javascript"), ("/style.css", "text/css")):
        answer = requests.get(console + path, timeout=5)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith(kind)
        assert answer.headers["Content-Security-Policy"] == CSP
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self';" in CSP and "frame-ancestors 'none'" in CSP and "unsafe-eval" not in CSP
    page = requests.get(console, timeout=5).text
    assert "http://" not in page and "https://" not in page  # nothing from elsewhere
    assert requests.get(console + "/secrets.txt", timeout=5).status_code == 404


def test_api_takes_only_the_console_pages_own_requests(console: str) -> None:
    path = console + "/api/management/integrations"
    assert requests.get(path, timeout=5).status_code == 403  # no X-UMS-Console: a form or image from a site
    foreign = {**CONSOLE, "Origin": "https://evil.example"}
    assert requests.post(path, headers=foreign, data="{}", timeout=5).status_code == 403
    own = {**CONSOLE, "Origin": console}
    assert requests.get(path, headers=own, timeout=5).status_code == 502  # forwarded: nothing listens there


def test_another_host_name_is_refused(console: str) -> None:
    port = console.rsplit(":", 1)[1]
    answer = requests.get(
        console + "/api/management/keys", headers={**CONSOLE, "Host": f"evil.example:{port}"}, timeout=5
    )
    assert answer.status_code == 421  # a DNS-rebinding page cannot reach /api


def test_only_management_and_users_routes_are_forwarded(console: str, remote_console: str) -> None:
    for path in ("/auth", "/ums/user", "/.well-known/jwks.json", "/ums/signup"):
        assert requests.get(console + "/api" + path, headers=CONSOLE, timeout=5).status_code == 404
    assert requests.get(console + "/api/_local/mail", headers=CONSOLE, timeout=5).status_code == 502  # local: forwarded
    assert requests.get(remote_console + "/api/_local/mail", headers=CONSOLE, timeout=5).status_code == 404


def test_users_of_a_deployed_stack_need_an_api_key(remote_console: str) -> None:
    answer = requests.get(remote_console + "/api/ums/users?cond=[]", headers=CONSOLE, timeout=5)
    assert answer.status_code == 403 and "--key" in answer.json()[0]["message"]


def test_a_large_body_is_refused_before_it_is_read(console: str) -> None:
    answer = requests.post(console + "/api/management/templates", headers=CONSOLE, data="x" * 300_000, timeout=5)
    assert answer.status_code == 413


def test_only_the_next_page_cursor_of_the_api_s_headers_is_passed_on() -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Upstream(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Next-Cursor", "eyJrIjoiYSJ9.bWFj")
            self.send_header("Set-Cookie", "session=upstream")  # never the console's to set
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"[]")

        def log_message(self, *args: object) -> None:
            pass

    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    try:
        for url in started(f"http://127.0.0.1:{upstream.server_address[1]}"):
            answer = requests.get(url + "/api/management/outbox", headers=CONSOLE, timeout=5)
            assert answer.status_code == 200 and answer.json() == []
            assert answer.headers["X-Next-Cursor"] == "eyJrIjoiYSJ9.bWFj"
            assert "Set-Cookie" not in answer.headers
    finally:
        upstream.shutdown()
        upstream.server_close()
