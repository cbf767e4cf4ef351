"""GET /ums/users over more users than a page: the parallel scan, the cursor that pages to the
end with every user exactly once, the deadline, and order's limit (issue 14, part 1)."""

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from helpers import Answer, call, manage, sign_in, sign_up

READ_ALL = {"subjects": ["ums:<.*>"], "resources": ["ums.users"], "actions": {"read": [], "update": [], "delete": []}}


def select(token: str, **params: Any) -> Answer:
    parts = []
    for name, value in params.items():
        for item in value if name == "order" else [value]:  # each order spec is a parameter of its own
            parts.append(f"{name}={item if name == 'cursor' else quote(json.dumps(item))}")
    query = "&".join(parts)
    return call("UsersSelectFunction", token=token, query=query)


@pytest.fixture
def token(aws: None) -> str:
    assert sign_up("admin@example.com").status == 201
    assert manage("policies", READ_ALL).status == 201
    return str(sign_in("admin@example.com").body["access_token"])


def add_users(count: int) -> None:
    """`count` users `crowd<n>@example.com` with `n` and `even` fields (the user items only)."""
    from ums.store.models import UserModel
    from ums.users import new_user

    with UserModel.batch_write() as batch:
        for n in range(count):
            batch.save(new_user(f"crowd{n}@example.com", "not-a-real-hash", {"n": n, "even": n % 2 == 0}, None))


def page_through(token: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every page of a select, following X-Next-Cursor: (all records, pages)."""
    records: list[dict[str, Any]] = []
    pages = 0
    cursor = None
    while True:
        answer = select(token, **params, **({"cursor": cursor} if cursor else {}))
        assert answer.status == 200, answer.body
        records += answer.body
        pages += 1
        cursor = answer.headers.get("X-Next-Cursor")
        if cursor is None:
            return records, pages


@pytest.fixture
def scan_page_size(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    from ums.store import users as user_store

    return lambda size: monkeypatch.setattr(user_store, "SCAN_PAGE_SIZE", size)


def test_limit_and_cursor_page_through_every_user_exactly_once(
    token: str, scan_page_size: Callable[[int], None]
) -> None:
    add_users(600)
    scan_page_size(50)  # 601 users over 8 segments: several pages each
    cond = [{"field": "email"}, "like", "crowd%"]
    records, pages = page_through(token, cond=cond, outputs=["n"], range={"limit": 70})
    assert sorted(r["n"] for r in records) == list(range(600))
    assert pages == 9  # 8 full pages of 70, then the last 40 (and no cursor after it)


def test_a_select_stopped_by_its_deadline_goes_on_with_its_cursor_to_the_end(
    token: str, scan_page_size: Callable[[int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ums import user_admin

    add_users(500)
    scan_page_size(10)  # 501 users over 8 segments: 7 rounds
    clock = [0.0]

    def ticking() -> float:
        """Each look at the clock "takes" 5 s: with the 20 s deadline a request reads a few rounds."""
        clock[0] += 5
        return clock[0]

    monkeypatch.setattr(user_admin, "monotonic", ticking)
    records, pages = page_through(token, cond=[{"field": "even"}, "=", True], outputs=["n"])
    assert sorted(r["n"] for r in records) == list(range(0, 500, 2))
    assert pages >= 2  # it did stop


def test_the_cursor_keeps_what_is_left_of_the_offset(
    token: str, scan_page_size: Callable[[int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ums import user_admin

    add_users(200)
    scan_page_size(10)
    whole = select(token, cond=[{"field": "email"}, "like", "crowd%"], outputs=["n"]).body
    assert len(whole) == 200
    ticks = iter([0.0, 1e9])  # the deadline; past it after the first round
    monkeypatch.setattr(user_admin, "monotonic", lambda: next(ticks))
    first = select(token, cond=[{"field": "email"}, "like", "crowd%"], outputs=["n"], range={"offset": 150})
    assert first.status == 200 and first.body == [] and first.headers["X-Next-Cursor"]
    monkeypatch.setattr(user_admin, "monotonic", time.monotonic)
    rest = select(
        token, cond=[{"field": "email"}, "like", "crowd%"], outputs=["n"], cursor=first.headers["X-Next-Cursor"]
    )
    assert rest.status == 200 and rest.body == whole[150:]  # the same order, 150 skipped in all
    assert "X-Next-Cursor" not in rest.headers


def test_a_cursor_is_refused_when_tampered_with_reused_for_another_condition_or_combined_with_offset(
    token: str, scan_page_size: Callable[[int], None]
) -> None:
    add_users(30)
    scan_page_size(5)
    cond = [{"field": "even"}, "=", True]
    cursor = select(token, cond=cond, range={"limit": 2}).headers["X-Next-Cursor"]
    body, _, mac = cursor.partition(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
    for answer in (
        select(token, cond=cond, cursor=forged),
        select(token, cond=cond, cursor="not-a-cursor"),
        select(token, cond=[{"field": "even"}, "=", False], cursor=cursor),
        select(token, cond=[{"field": "email"}, "=", "crowd1@example.com"], cursor=cursor),
    ):
        assert answer.status == 400
        assert answer.message.startswith("cursor is not one this service issued for this condition")
    combined = select(token, cond=cond, range={"offset": 1}, cursor=cursor)
    assert combined.status == 400 and "range.offset cannot be combined with cursor" in combined.message
    patch = call("UsersUpdateFunction", {"x": 1}, token=token, query=f"cond={quote(json.dumps(cond))}&cursor={cursor}")
    assert patch.status == 400 and "takes no cursor" in patch.message
    assert select(token, cond=cond, cursor=cursor).status == 200  # the real one still works


def test_order_over_a_scan_too_big_to_hold_is_refused_unless_the_caller_pages(
    token: str, scan_page_size: Callable[[int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ums import user_admin

    add_users(120)
    scan_page_size(10)
    monkeypatch.setattr(user_admin, "ORDER_SCAN_MAX_USERS", 100)
    order = [{"fields": ["n"], "direction": "desc"}]
    refused = select(token, order=order, range={"limit": 5})
    assert refused.status == 400
    assert refused.message.startswith("order needs every matching user in memory, and this condition scans more")
    assert "page with range.limit and the X-Next-Cursor cursor" in refused.message
    narrow = select(token, cond=[{"field": "n"}, "<", 3], order=order, outputs=["n"])
    assert narrow.status == 400  # a condition that cannot use an index still scans every user
    first = select(token, range={"limit": 30})
    page = select(token, order=order, outputs=["n"], range={"limit": 30}, cursor=first.headers["X-Next-Cursor"])
    assert page.status == 200 and len(page.body) == 30
    numbers = [r.get("n", -1) for r in page.body]  # the admin has none: sorted last
    assert numbers == sorted(numbers, reverse=True)  # the page, sorted
    monkeypatch.setattr(user_admin, "ORDER_SCAN_MAX_USERS", 121)  # every user fits: ordered as before
    whole = select(token, order=order, outputs=["n"], range={"limit": 3})
    assert whole.status == 200 and [r["n"] for r in whole.body] == [119, 118, 117]


def test_the_scan_reads_its_segments_in_parallel_rounds(
    token: str, scan_page_size: Callable[[int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each round is one page of each open segment, read in parallel threads (under the
    function's IAM policy, which the local stack checks in those threads too)."""
    import threading

    from ums.store import users as user_store

    add_users(100)
    scan_page_size(10)
    pages: list[tuple[int, str]] = []
    read_page = user_store._scan_page

    def recorded(segment: int, after: str, segments: int) -> Any:
        pages.append((segment, threading.current_thread().name))
        assert segments == 8
        return read_page(segment, after, segments)

    monkeypatch.setattr(user_store, "_scan_page", recorded)
    everyone = select(token, outputs=["email"])
    assert len(everyone.body) == 101
    assert {segment for segment, _ in pages} == set(range(8))
    # the first round's eight pages ran in the pool's threads (a lone segment left at the end need not)
    assert all(name.startswith("store") for _, name in pages[:8])
    limited = len(pages)
    pages.clear()
    assert len(select(token, range={"limit": 1}).body) == 1
    assert len(pages) == 8 < limited  # one round was enough
