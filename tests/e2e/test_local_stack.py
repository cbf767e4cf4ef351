"""Over HTTP against the local stack: what a user of `make dev` and Jexia's SDKs sees."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

PASSWORD = "correct horse battery staple"


def unique_email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


def test_health_names_the_aws_endpoint(base_url):
    body = requests.get(f"{base_url}/_local/health", timeout=5).json()
    assert body["status"] == "ok"
    assert body["aws_endpoint"].startswith("http://127.0.0.1:")
    assert body["region"]


def test_the_readme_flow_sign_up_sign_in_get_change_delete(base_url):
    email = unique_email()
    # Jexia's JS SDK sends JSON without a Content-Type: it arrives as text/plain.
    signup = requests.post(
        f"{base_url}/ums/signup",
        data=f'{{"email":"{email}","password":"{PASSWORD}","age":3}}',
        headers={"Content-Type": "text/plain;charset=UTF-8"},
        timeout=10,
    )
    assert signup.status_code == 201 and signup.json()["age"] == 3
    tokens = requests.post(
        f"{base_url}/auth", json={"method": "ums", "email": email, "password": PASSWORD}, timeout=10
    ).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = requests.get(f"{base_url}/ums/user", headers=auth, timeout=10)
    assert me.status_code == 200 and me.json()["email"] == email
    assert me.headers["Cache-Control"] == "no-store"
    changed = requests.post(
        f"{base_url}/ums/changepassword",
        json={"old_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=auth,
        timeout=10,
    )
    assert changed.status_code == 200
    deleted = requests.delete(
        f"{base_url}/ums/user", json={"password": "a brand new passphrase"}, headers=auth, timeout=10
    )
    assert deleted.status_code == 200 and deleted.json()["id"] == signup.json()["id"]
    assert requests.get(f"{base_url}/ums/user", headers=auth, timeout=10).status_code == 404


def test_fifty_concurrent_sign_ups_with_one_email_give_one_201(base_url):
    email = unique_email()

    def attempt(_: int) -> int:
        body = {"email": email, "password": PASSWORD}
        return requests.post(f"{base_url}/ums/signup", json=body, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(attempt, range(50)))
    assert statuses.count(201) == 1
    assert statuses.count(409) == 49


def test_trailing_slash_and_errors_in_jexia_format(base_url):
    answer = requests.post(f"{base_url}/ums/signup/", data="{broken", timeout=10)
    assert answer.status_code == 400
    [error] = answer.json()
    assert "not valid JSON" in error["message"]
    assert uuid.UUID(error["request_id"])


def test_unknown_route_is_404(base_url):
    assert requests.get(f"{base_url}/no/such/route", timeout=10).status_code == 404


def test_cors_preflight_and_headers(base_url):
    preflight = requests.options(
        f"{base_url}/auth",
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    answer = requests.post(f"{base_url}/auth", data="{}", headers={"Origin": "https://app.example.com"}, timeout=10)
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_refresh_and_reuse_over_http(base_url):
    email = unique_email()
    requests.post(f"{base_url}/ums/signup", json={"email": email, "password": PASSWORD}, timeout=10)
    tokens = requests.post(
        f"{base_url}/auth", json={"method": "ums", "email": email, "password": PASSWORD}, timeout=10
    ).json()
    first = requests.post(f"{base_url}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, timeout=10)
    assert first.status_code == 200
    reuse = requests.post(f"{base_url}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, timeout=10)
    assert reuse.status_code == 401
    after = requests.post(f"{base_url}/auth/refresh", json={"refresh_token": first.json()["refresh_token"]}, timeout=10)
    assert after.status_code == 401
