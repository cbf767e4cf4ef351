import pytest
from ums.clock import now_rfc3339
from ums.errors import BadRequest
from ums.store.users import profile_field
from ums.users import (
    MAX_FIELD_NAME_LENGTH,
    check_field_name,
    email_key,
    normalize_email,
    normalize_mobile,
    validate_profile,
)


def test_timestamps_are_rfc3339_utc_with_microseconds() -> None:
    import re

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", now_rfc3339())


@pytest.mark.parametrize("email", ["", "plain", "a@b", "a b@c.d", "a@b\n.c", "x" * 250 + "@b.cd", 3, None])
def test_bad_emails_are_refused(email: object) -> None:
    with pytest.raises(BadRequest, match="email"):
        normalize_email(email)


def test_email_is_kept_as_given_and_keyed_lower_case() -> None:
    assert normalize_email("  Ann@Example.COM ") == "Ann@Example.COM"
    assert email_key("Ann@Example.COM") == "ann@example.com"


def test_emails_are_stored_nfkc_and_keyed_nfkc_case_folded() -> None:
    assert normalize_email("\uff21\uff2e\uff2e\uff20example.com") == "ANN@example.com"  # full-width
    assert email_key(normalize_email("\uff21\uff2e\uff2e\uff20example.com")) == "ann@example.com"
    assert normalize_email("Stra\u00dfe@example.com") == "Stra\u00dfe@example.com"  # shown as typed
    assert email_key("Stra\u00dfe@example.com") == email_key("STRASSE@example.com") == "strasse@example.com"
    assert email_key("\ufb01x@example.com") == "fix@example.com"  # the ligature ﬁ
    for email in ("Stra\u00dfe@Example.com", "\u0130stanbul@x.tr", "\u1e9e@x.de", "\uff21@x.com"):
        assert email_key(email_key(email)) == email_key(email)


@pytest.mark.parametrize(
    "field",
    [
        "id",
        "email",
        "mobile",
        "active",
        "created_at",
        "updated_at",
        "password",
        "email_verified",
        "_internal",
        "pk",
        "profile",
        "email_key",
        "password_hash",
        "reset_token_hash",
        "token_generation",
        "kept_session",
        "anything_hash",
    ],
)
def test_reserved_fields_cannot_be_set(field: str) -> None:
    with pytest.raises(BadRequest, match=f"'{field}' is reserved"):
        validate_profile({field: "x"})


def test_schemaless_fields_keep_their_types() -> None:
    profile = {"age": 25, "score": 1.5, "vip": True, "tags": ["a", 1], "address": {"city": "Apeldoorn"}, "x": None}
    assert validate_profile(dict(profile)) == profile


@pytest.mark.parametrize(
    "value",
    [
        float("inf"),
        1e300,
        10**40,
        {"": 1},
        {
            "a": {
                "b": {
                    "c": {
                        "d": {
                            "e": {"f": {"g": {"h": {"i": {"j": {"k": {"l": {"m": {"n": {"o": {"p": {"q": 1}}}}}}}}}}}}
                        }
                    }
                }
            }
        },
    ],
)
def test_values_dynamodb_cannot_store_are_400(value: object) -> None:
    with pytest.raises(BadRequest):
        validate_profile({"field": value})


def test_country_and_language_are_checked() -> None:
    assert validate_profile({"country": "us", "language": "pt-BR"}) == {"country": "US", "language": "pt-BR"}
    with pytest.raises(BadRequest, match="country"):
        validate_profile({"country": "USA"})
    with pytest.raises(BadRequest, match="language"):
        validate_profile({"language": "english please"})


def test_mobile_is_normalized() -> None:
    assert normalize_mobile("+31 (6) 1234-5678") == "+31612345678"
    assert normalize_mobile(31612345678) == "+31612345678"
    with pytest.raises(BadRequest, match="mobile"):
        normalize_mobile("call me")


@pytest.mark.parametrize(
    "name",
    ["", "lst[0]", "c[0]", "[", "a]b", "a.b", "x" * (MAX_FIELD_NAME_LENGTH + 1), "a\x00b", "a\t", "a\u2028b", "\u200b"],
)
def test_field_names_outside_the_grammar_are_400(name: str) -> None:
    with pytest.raises(BadRequest, match="Field name"):
        check_field_name(name)
    with pytest.raises(BadRequest, match="Field name"):
        validate_profile({name: 1})


@pytest.mark.parametrize("name", ["bio", "first name", "x" * MAX_FIELD_NAME_LENGTH, "Stra\u00dfe", "a:b", "\U0001f600"])
def test_field_names_in_the_grammar_are_kept(name: str) -> None:
    assert check_field_name(name) == name
    assert validate_profile({name: 1}) == {name: 1}


def test_a_field_is_written_by_one_attribute_name_never_a_path() -> None:
    names: dict[str, str] = {}
    assert profile_field("a b:c-d").set(1).serialize(names, {}) == "#0.#1 = :0"
    assert names == {"profile": "#0", "a b:c-d": "#1"}
    with pytest.raises(BadRequest):
        check_field_name("lst[0]")  # PynamoDB would read '[0]' as a list index
    with pytest.raises(ValueError):
        profile_field("lst[0]")  # and the store refuses it too


def test_nested_keys_are_data_not_paths_but_must_be_printable() -> None:
    address = {"a.b": 1, "c[0]": 2, "]": {"x.y": 3}}
    assert validate_profile({"address": address}) == {"address": address}
    with pytest.raises(BadRequest, match="control characters"):
        validate_profile({"address": {"a\x00": 1}})
    with pytest.raises(BadRequest, match="empty key"):
        validate_profile({"address": {"ok": {"": 1}}})
