"""GET /ums/users ordered by created_at or email through their order indexes (issue 14, part 1):
oldest or newest first over more users than a page, with a condition, offset and limit, the
cursor to the end; emails in the order a sort gives; and users made before the indexes, put in
them by the deploy's UsersIndex custom resource or `POST /management/users/reindex`."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from helpers import FUNCTIONS, call, manage, sign_in, sign_up
from test_users_paging import page_through, select

READ_ALL = {"subjects": ["ums:<.*>"], "resources": ["ums.users"], "actions": {"read": []}}
NEWEST = [{"fields": ["created_at"], "direction": "desc"}]
OLDEST = [{"fields": ["created_at"], "direction": "asc"}]
START = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.fixture
def token(aws: None) -> str:
    assert sign_up("admin@example.com").status == 201
    assert manage("policies", READ_ALL).status == 201
    return str(sign_in("admin@example.com").body["access_token"])


def add_users(count: int, *, indexed: bool = True) -> None:
    """Users `crowd<n>@example.com`, n hours after 2020-01-01 (shuffled: the order is the index's,
    not the writes'), with `n` and `even` fields; `indexed=False`: as a stack before the index
    made them, without a shard."""
    from ums.store.models import UserModel
    from ums.users import new_user

    with UserModel.batch_write() as batch:
        for n in sorted(range(count), key=lambda n: (n * 7919) % count):
            user = new_user(f"crowd{n}@example.com", "not-a-real-hash", {"n": n, "even": n % 2 == 0}, None)
            user.created_at = (START + timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            if not indexed:
                user.order_shard = None
            batch.save(user)


@pytest.fixture
def index_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The shards of every order index page read; a scan fails the test."""
    from ums.store import users as user_store

    shards: list[int] = []
    read_page = user_store._order_page

    def recorded(field: str, shard: int, after: str, descending: bool, size: int) -> Any:
        shards.append(shard)
        return read_page(field, shard, after, descending, size)

    def no_scan(*args: Any) -> Any:
        raise AssertionError("scanned")

    monkeypatch.setattr(user_store, "_order_page", recorded)
    monkeypatch.setattr(user_store, "_scan_page", no_scan)
    yield shards


def ns(records: list[dict[str, Any]]) -> list[int]:
    return [record["n"] for record in records if "n" in record]


def test_created_at_order_reads_the_index_newest_or_oldest_first(token: str, index_reads: list[int]) -> None:
    add_users(300)
    newest = select(token, order=NEWEST, outputs=["n"], range={"limit": 5})
    assert newest.status == 200  # the admin signed up today: the newest
    assert newest.body == [{}, {"n": 299}, {"n": 298}, {"n": 297}, {"n": 296}]
    assert newest.headers["X-Next-Cursor"]  # more users than the limit
    assert sorted(index_reads) == list(range(8))  # one page of each shard, no scan
    oldest = select(token, order=OLDEST, outputs=["n"], range={"limit": 3, "offset": 10})
    assert ns(oldest.body) == [10, 11, 12]
    matching = select(token, cond=[{"field": "even"}, "=", False], order=NEWEST, outputs=["n"], range={"limit": 4})
    assert ns(matching.body) == [299, 297, 295, 293]
    every = select(token, order=OLDEST, outputs=["n", "email"])
    assert ns(every.body) == list(range(300)) and every.body[-1]["email"] == "admin@example.com"
    assert "X-Next-Cursor" not in every.headers


def test_the_cursor_pages_the_index_to_the_end_in_order_every_user_once(
    token: str, index_reads: list[int], monkeypatch: pytest.MonkeyPatch, setting: Any
) -> None:
    from ums.store import users as user_store

    add_users(250)
    monkeypatch.setattr(user_store, "ORDER_PAGE_MAX", 7)  # many pages a shard
    cond = [{"field": "n"}, ">=", 0]
    records, pages = page_through(token, cond=cond, order=NEWEST, outputs=["n"], range={"limit": 40})
    assert ns(records) == list(range(249, -1, -1)) and pages == 7
    setting("SELECT_DEADLINE_SECONDS", "0")  # each request reads one round of pages, then stops
    records, pages = page_through(token, order=OLDEST, outputs=["n"])
    assert ns(records) == list(range(250)) and pages > 1  # it stopped, and went on where it stopped
    cursor = select(token, order=OLDEST, range={"limit": 2}).headers["X-Next-Cursor"]
    refused = select(token, order=NEWEST, cursor=cursor)  # another order: another reading
    assert refused.status == 400 and refused.message.startswith("cursor is not one this service issued")


EMAIL_ASC = [{"fields": ["email"], "direction": "asc"}]
EMAIL_DESC = [{"fields": ["email"], "direction": "desc"}]


def test_email_order_reads_its_index_in_the_order_a_sort_gives(token: str, index_reads: list[int]) -> None:
    add_users(120)
    assert sign_up("Zoe@example.com").status == 201  # as stored: "Z" sorts before "a"
    emails, pages = page_through(token, order=EMAIL_ASC, outputs=["email"], range={"limit": 50})
    assert [r["email"] for r in emails] == sorted(r["email"] for r in emails) and pages == 3
    assert emails[0] == {"email": "Zoe@example.com"} and len(emails) == 122
    last = select(token, order=EMAIL_DESC, outputs=["email"], range={"limit": 3})
    assert last.body == emails[:-4:-1]
    assert index_reads  # no scan (the fixture refuses one)


def test_without_the_email_index_email_order_sorts_in_memory_the_same(token: str, setting: Any) -> None:
    add_users(60)
    indexed = select(token, order=EMAIL_DESC, outputs=["email"], range={"limit": 10})
    setting("EMAIL_ORDER_INDEX", "false")  # a stack deployed with EmailOrderIndex=false
    sorted_here = select(token, order=EMAIL_DESC, outputs=["email"], range={"limit": 10})
    assert indexed.status == sorted_here.status == 200 and indexed.body == sorted_here.body
    assert "X-Next-Cursor" in indexed.headers and "X-Next-Cursor" not in sorted_here.headers


def test_users_made_before_the_index_are_put_in_it_by_reindex(
    token: str, monkeypatch: pytest.MonkeyPatch, setting: Any
) -> None:
    from ums.store import users as user_store
    from ums.store.models import ConfigModel

    assert user_store.order_index_complete()  # the deploy's pass found an empty table
    ConfigModel("users-index", "order-shards").delete()  # as a stack deployed before the index
    add_users(120, indexed=False)
    scans: list[int] = []
    scan_page = user_store._scan_page

    def counted(*args: Any) -> Any:
        scans.append(1)
        return scan_page(*args)

    monkeypatch.setattr(user_store, "_scan_page", counted)
    monkeypatch.setattr(user_store, "SCAN_PAGE_SIZE", 4)
    before = select(token, order=NEWEST, outputs=["n"], range={"limit": 4})  # the admin, then 119...
    assert ns(before.body) == [119, 118, 117] and scans  # not complete: sorted in memory over a scan
    setting("SELECT_DEADLINE_SECONDS", "0")  # each pass: one round of the scan
    passes, updated, cursor = 0, 0, None
    while True:
        answer = call("UsersReindexFunction", query=f"cursor={quote(cursor)}" if cursor else "")
        assert answer.status == 200, answer.body
        passes += 1
        updated += answer.body["updated"]
        cursor = answer.headers.get("X-Next-Cursor")
        assert answer.body["complete"] is (cursor is None)
        if cursor is None:
            break
    assert updated == 120 and passes > 1 and user_store.order_index_complete()
    assert call("UsersReindexFunction").body == {"updated": 0, "complete": True}
    scans.clear()
    after = select(token, order=NEWEST, outputs=["n"], range={"limit": 4})
    assert ns(after.body) == [119, 118, 117] and not scans  # the index now


def test_the_deploy_pass_puts_users_in_the_index(token: str) -> None:
    from helpers import STACK
    from ums.store import users as user_store
    from ums.store.models import ConfigModel, UserModel

    from local_stack.custom_resources import run_custom_resources

    ConfigModel("users-index", "order-shards").delete()
    add_users(40, indexed=False)
    assert run_custom_resources(STACK, FUNCTIONS)["UsersIndex"] == {"Updated": "40", "Complete": "true"}
    assert all(user.order_shard for user in UserModel.scan(UserModel.pk.startswith("user#")))
    assert user_store.order_index_complete()


def test_reindex_refuses_what_it_does_not_take_and_never_brings_a_user_back(token: str) -> None:
    from ums.store import users as user_store
    from ums.users import new_user

    for query in ("limit=3", "cursor=a&cursor=b", "cursor=forged"):
        assert call("UsersReindexFunction", query=query).status == 400, query
    ghost = new_user("ghost@example.com", "x", {}, None)  # read by a pass, deleted since
    ghost.order_shard = None
    assert user_store.add_to_order_index([ghost]) == 0
    assert user_store.get(ghost.id) is None
