"""Jexia's Python SDK (PyPI jexia-sdk 0.0.1.dev6) against a Serverless UMS endpoint.

python flow.py <projectURL> <key> <secret>; prints one "ok <step>" line per step.
"""

import sys
import time

from jexia_sdk import http

url, key, secret = sys.argv[1:4]
http.URLS["consumption"] = url  # the SDK builds https://<project>.app.jexia.com otherwise


def ok(step: str) -> None:
    print(f"ok {step}", flush=True)


email = f"py-{int(time.time() * 1000)}@example.com"
anonymous = http.HTTPClient()
anonymous.base_url = url
user = anonymous.request(
    "POST", "/ums/signup", data={"email": email, "password": "correct horse battery", "age": 7}, check_token=False
)
assert user["email"] == email and user["age"] == 7
ok("signup")

client = http.HTTPClient()
client.auth_consumption(project="x", method="ums", email=email, password="correct horse battery")
assert client.is_authenticated()
ok("auth ums")
me = client.request("GET", "/ums/user")
assert me["id"] == user["id"]
ok("get user")

try:
    client.request(
        "POST", "/ums/changepassword", data={"old_password": "not it at all", "new_password": "whatever 123"}
    )
    raise AssertionError("a wrong old password was accepted")
except http.HTTPRequestError as error:
    assert "Wrong password (req_id: " in str(error), str(error)
    ok("error format")

server = http.HTTPClient()
server.auth_consumption(project="x", method="apk", key=key, secret=secret)
assert server.is_authenticated()
ok("auth apk")
