"""The users select's cursor: signed, bound to its condition, expiring (ums.cursors)."""

import pytest
from ums import cursors, signing_keys
from ums.errors import BadRequest

NOW = 1_800_000_000


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> signing_keys.KeySet:
    keys = signing_keys.KeySet("https://ums.example", [signing_keys.new_key(NOW - 10, NOW - 10)])
    monkeypatch.setattr(signing_keys, "key_set", lambda: keys)
    return keys


def test_a_cursor_says_where_each_segment_goes_on() -> None:
    cursor = cursors.Cursor(8, {0: "user#a", 5: ""}, 3)
    text = cursors.encode(cursor, cursors.condition_digest('[{"field":"n"},">",1]'), NOW)
    assert cursors.decode(text, cursors.condition_digest('[{"field":"n"},">",1]'), NOW + 60) == cursor
    assert "user#a" not in text  # opaque to a glance, though only the mac makes it safe


@pytest.mark.parametrize(
    "change",
    [
        lambda text: text[:-3] + ("x" if text[-3] != "x" else "y") + text[-2:],  # another mac
        lambda text: "f" + text[1:],  # another payload (it starts "eyJ", as JSON does)
        lambda text: text.split(".")[0],  # no mac
        lambda text: "",
        lambda text: "..",
        lambda text: "a" * 10_000,
    ],
)
def test_a_changed_cursor_is_a_400(change: object) -> None:
    digest = cursors.condition_digest(None)
    text = cursors.encode(cursors.Cursor(2, {1: "user#b"}, 0), digest, NOW)
    with pytest.raises(BadRequest, match="cursor is not one this service issued"):
        cursors.decode(change(text), digest, NOW)  # type: ignore[operator]


def test_a_cursor_is_bound_to_its_condition_its_key_and_a_day(keys: signing_keys.KeySet) -> None:
    digest = cursors.condition_digest(None)
    text = cursors.encode(cursors.Cursor(2, {1: "user#b"}, 0), digest, NOW)
    for condition, now in [(cursors.condition_digest("[]"), NOW), (digest, NOW + cursors.CURSOR_TTL_SECONDS + 1)]:
        with pytest.raises(BadRequest):
            cursors.decode(text, condition, now)
    keys.keys[0]["retire_at"] = NOW  # the key it was signed with is gone (an immediate rotation)
    with pytest.raises(BadRequest):
        cursors.decode(text, digest, NOW + 1)
