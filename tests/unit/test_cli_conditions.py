"""The `ums users` condition shorthand: typos of keywords are errors, strings are quoted or obvious."""

import pytest

from ums_cli.conditions import parse


def test_keywords_numbers_and_obvious_strings_stand_unquoted() -> None:
    assert parse("active = true and email like %@example.com") == [
        {"field": "active"}, "=", True, "and", {"field": "email"}, "like", "%@example.com",
    ]  # fmt: skip
    assert parse("email = ann@example.com or age >= -3.5") == [
        {"field": "email"}, "=", "ann@example.com", "or", {"field": "age"}, ">=", -3.5,
    ]  # fmt: skip
    assert parse("deleted_at null true") == [{"field": "deleted_at"}, "null", True]
    assert parse("age in [1, 2]") == [{"field": "age"}, "in", [1, 2]]


def test_quoted_words_are_always_strings() -> None:
    assert parse("country = 'NL'") == [{"field": "country"}, "=", "NL"]
    assert parse('name = "Ann Lee" and flag = \'true\'') == [
        {"field": "name"}, "=", "Ann Lee", "and", {"field": "flag"}, "=", "true",
    ]  # fmt: skip


@pytest.mark.parametrize(("text", "hint"), [("active = tru", "true"), ("active = True", "true"), ("x = nul", "null")])
def test_a_near_miss_of_a_keyword_is_an_error_that_suggests_it_and_quoting(text: str, hint: str) -> None:
    with pytest.raises(ValueError, match=rf"did you mean {hint}\? quote a string"):
        parse(text)


def test_a_plain_unquoted_word_must_be_quoted() -> None:
    with pytest.raises(ValueError, match="quote a string: 'NL'"):
        parse("country = NL")


@pytest.mark.parametrize("text", ["name = 'Ann", "age in [1, 2", "active =", "active ~ true", ""])
def test_malformed_shorthand_is_an_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse(text)
