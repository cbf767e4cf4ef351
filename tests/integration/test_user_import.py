"""POST /management/users/import and GET /management/users/export through their handlers: ids,
fields and foreign password hashes kept, upgraded to Argon2id at the first sign-in, idempotent,
safe under concurrent imports, and an export that pages to the end (issue 14, parts 2 and 4)."""

import json
import threading
from typing import Any
from urllib.parse import quote

import bcrypt
from helpers import PASSWORD, Answer, call, sign_in
from passlib.hash import pbkdf2_sha256

NORTHSTAR_ID = "555b9225bffebc31068b4567"  # Quicksilver's seed user id
FIREBASE = {
    "signer_key": "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
    "salt_separator": "Bw==",
    "rounds": 8,
    "mem_cost": 14,
}


def import_users(users: list[Any], **options: Any) -> Answer:
    return call("UsersImportFunction", {"users": users, **options})


def export(**params: str) -> Answer:
    return call("UsersExportFunction", query="&".join(f"{k}={quote(v)}" for k, v in params.items()))


def stored_hash(user_id: str) -> str:
    from ums.store import users as user_store

    user = user_store.get(user_id)
    assert user is not None
    return str(user.password_hash)


def test_users_keep_their_ids_fields_and_passwords_and_upgrade_at_first_sign_in(aws: None) -> None:
    rows = [
        {
            "id": NORTHSTAR_ID,
            "email": "ann@example.com",
            "password_hash": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode(),
            "email_verified": True,
            "created_at": "2015-05-19T12:00:00+02:00",
            "first_name": "Ann",
            "address": {"city": "Utrecht"},
        },
        {"email": "bob@example.com", "password_hash": pbkdf2_sha256.using(rounds=1000).hash(PASSWORD), "active": False},
        {
            "email": "fb@example.com",
            "password_hash": "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
            "password_salt": "42xEC+ixf3L2lw==",
        },
        {"email": "nopass@example.com"},
    ]
    answer = import_users(rows, firebase_scrypt=FIREBASE)
    assert answer.status == 200, answer.body
    assert (answer.body["created"], answer.body["exists"], answer.body["rejected"]) == (4, 0, 0)
    assert answer.body["results"][0] == {"row": 0, "id": NORTHSTAR_ID, "status": "created"}

    assert stored_hash(NORTHSTAR_ID).startswith("$2b$04$")
    signed_in = sign_in("ann@example.com")
    assert signed_in.status == 200
    assert stored_hash(NORTHSTAR_ID).startswith("$argon2id$")  # upgraded by the sign-in that proved it
    assert sign_in("ann@example.com").status == 200  # and the new hash works
    me = call("GetUserFunction", token=signed_in.body["access_token"]).body
    assert me["id"] == NORTHSTAR_ID and me["first_name"] == "Ann" and me["address"] == {"city": "Utrecht"}
    assert me["created_at"] == "2015-05-19T10:00:00.000000Z" and me["email_verified"] is True

    assert sign_in("bob@example.com").status == 403  # imported suspended: the right password, refused
    assert sign_in("fb@example.com", "user1password").status == 200  # Firebase's scrypt
    assert sign_in("fb@example.com", "user1password!").status == 401
    assert sign_in("nopass@example.com", "").status in (400, 401)  # no password until a reset sets one


def test_a_second_run_creates_nothing_and_a_dry_run_writes_nothing(aws: None) -> None:
    from ums.store.models import EventModel

    rows = [{"id": f"legacy-{n}", "email": f"user{n}@example.com"} for n in range(5)] + [{"email": "noid@example.com"}]
    dry = import_users(rows, dry_run=True)
    assert [r["status"] for r in dry.body["results"]] == ["would create"] * 6
    assert export().body == []
    first = import_users(rows)
    assert first.body["created"] == 6
    again = import_users(rows)
    assert (again.body["created"], again.body["exists"]) == (0, 6)
    assert again.body["results"][5]["id"] == first.body["results"][5]["id"]  # the email's user, found
    assert [r["status"] for r in import_users(rows, dry_run=True).body["results"]] == ["exists"] * 6
    assert len(export().body) == 6
    assert not any(e.event == "AfterSignUp" for e in EventModel.scan())  # no mail without notify


def test_every_bad_row_is_rejected_with_its_reason_and_the_rest_imported(aws: None) -> None:
    assert import_users([{"id": "taken", "email": "first@example.com", "mobile": "+31612345678"}]).body["created"] == 1
    rows: list[Any] = [
        "not an object",
        {"email": "not-an-email"},
        {"email": "md5@example.com", "password_hash": "5f4dcc3b5aa765d61d8327deb882cf99"},
        {"email": "salted@example.com", "password_hash": "aGFzaA==", "password_salt": "c2FsdA=="},
        {"id": "taken", "email": "other@example.com"},
        {"id": "bad id!", "email": "badid@example.com"},
        {"email": "FIRST@example.com", "id": "new-id"},
        {"email": "mobile@example.com", "mobile": "+31 6 12345678"},
        {"email": "when@example.com", "created_at": "yesterday"},
        {"email": "reserved@example.com", "password": "plain"},
        {"email": "fine@example.com", "age": 30},
    ]
    answer = import_users(rows)
    reasons = [r.get("reason", r["status"]) for r in answer.body["results"]]
    assert reasons == [
        "a user must be a JSON object",
        "Field 'email' must be a valid email address",
        "password_hash is not in a format this service verifies: Argon2 (PHC), bcrypt ($2a$/$2b$/$2y$), "
        "PBKDF2-SHA256 (Django or passlib) or Firebase scrypt",
        "password_salt is for Firebase scrypt hashes: give the firebase_scrypt parameters",
        "id is another user's (with another email)",
        "id must be 1 to 128 letters, digits or _ . : @ - (starting with a letter or digit)",
        "email is already another user's",
        "mobile is already another user's",
        "created_at must be an RFC 3339 time with its offset, or epoch milliseconds",
        "Field 'password' is reserved and cannot be set",
        "created",
    ]
    assert (answer.body["created"], answer.body["rejected"]) == (1, 10)


def test_a_batch_is_checked_as_a_whole_first(aws: None) -> None:
    for body, message in [
        ({"users": []}, "users must be an array of 1 to 100 users"),
        ({"users": [{"email": "a@b.co"}] * 101}, "users must be an array of 1 to 100 users"),
        ({"users": [{"email": "a@b.co"}], "notify": "yes"}, "notify must be true or false"),
        ({"users": [{"email": "a@b.co"}], "overwrite": True}, "Unknown field(s) overwrite"),
        ({"users": [{"email": "a@b.co"}], "firebase_scrypt": {"rounds": 8}}, "firebase_scrypt.signer_key"),
    ]:
        answer = call("UsersImportFunction", body)
        assert answer.status == 400 and answer.message.startswith(message), answer.body


def test_two_imports_of_the_same_rows_at_once_create_each_user_once(aws: None) -> None:
    rows = [{"email": f"race{n}@example.com", **({"id": f"race-{n}"} if n % 2 else {})} for n in range(40)]
    answers: list[Answer] = []
    threads = [threading.Thread(target=lambda: answers.append(import_users(rows))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(a.status == 200 for a in answers)
    assert sum(a.body["created"] for a in answers) == 40
    assert sum(a.body["exists"] for a in answers) == 40  # each row: created by one, found by the other
    assert len(export().body) == 40


def test_notify_sends_the_sign_up_or_invitation_mail(aws: None) -> None:
    from ums.store.models import EventModel

    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    answer = import_users(
        [{"email": "mailme@example.com", "password_hash": hashed}, {"email": "invite@example.com"}], notify=True
    )
    assert answer.body["created"] == 2
    assert sorted(e.event for e in EventModel.scan()) == ["AfterSignUp", "AfterUserInvite"]


def test_an_export_pages_through_every_user_once_and_imports_again(aws: None) -> None:
    from ums.store import users as user_store

    rows = [
        {"id": f"u{n:04d}", "email": f"e{n}@example.com", "n": n, "password_hash": "$2b$04$" + "a" * 53}
        for n in range(250)
    ]
    for start in range(0, 250, 100):
        assert import_users(rows[start : start + 100]).body["created"] == len(rows[start : start + 100])
    original_page = user_store.SCAN_PAGE_SIZE
    user_store.SCAN_PAGE_SIZE = 20  # many pages per segment
    try:
        exported: list[dict[str, Any]] = []
        cursor = None
        pages = 0
        while True:
            page = export(limit="60", password_hashes="true", **({"cursor": cursor} if cursor else {}))
            assert page.status == 200, page.body
            exported += page.body
            pages += 1
            cursor = page.headers.get("X-Next-Cursor")
            if not cursor:
                break
    finally:
        user_store.SCAN_PAGE_SIZE = original_page
    assert sorted(r["id"] for r in exported) == [f"u{n:04d}" for n in range(250)] and pages >= 5
    assert all(r["password_hash"] == "$2b$04$" + "a" * 53 and r["email_verified"] is False for r in exported)
    assert "password_hash" not in export(limit="1").body[0]  # only when asked
    selected = export(cond=json.dumps([{"field": "n"}, "<", 3]))
    assert sorted(r["n"] for r in selected.body) == [0, 1, 2]
    # What an export writes, an import takes: every row is already here
    again = import_users(exported[:100])
    assert again.body["exists"] == 100, again.body["results"][:3]
    for params, message in [
        ({"limit": "0"}, "limit must be"),
        ({"limit": "²"}, "limit must be"),  # a digit to str.isdigit, not to int()
        ({"order": "x"}, "An export takes"),
        ({"password_hashes": "yes"}, "password_hashes must"),
    ]:
        answer = export(**params)
        assert answer.status == 400 and answer.message.startswith(message)
    raw = call("UsersExportFunction", query="cursor=%ED%A0%80&limit=%C2%B2")  # invalid UTF-8, a superscript two
    assert raw.status == 400, raw.body
