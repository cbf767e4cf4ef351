import pytest
from ums.errors import BadRequest
from ums.users import email_key, normalize_email, normalize_mobile, now_rfc3339, validate_profile


def test_timestamps_are_rfc3339_utc_with_microseconds():
    import re

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", now_rfc3339())


@pytest.mark.parametrize("email", ["", "plain", "a@b", "a b@c.d", "a@b\n.c", "x" * 250 + "@b.cd", 3, None])
def test_bad_emails_are_refused(email):
    with pytest.raises(BadRequest, match="email"):
        normalize_email(email)


def test_email_is_kept_as_given_and_keyed_lower_case():
    assert normalize_email("  Ann@Example.COM ") == "Ann@Example.COM"
    assert email_key("Ann@Example.COM") == "ann@example.com"


@pytest.mark.parametrize("field", ["id", "active", "created_at", "updated_at", "password", "_internal"])
def test_reserved_fields_cannot_be_set(field):
    with pytest.raises(BadRequest, match=f"'{field}' is reserved"):
        validate_profile({field: "x"})


def test_schemaless_fields_keep_their_types():
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
def test_values_dynamodb_cannot_store_are_400(value):
    with pytest.raises(BadRequest):
        validate_profile({"field": value})


def test_country_and_language_are_checked():
    assert validate_profile({"country": "us", "language": "pt-BR"}) == {"country": "US", "language": "pt-BR"}
    with pytest.raises(BadRequest, match="country"):
        validate_profile({"country": "USA"})
    with pytest.raises(BadRequest, match="language"):
        validate_profile({"language": "english please"})


def test_mobile_is_normalized():
    assert normalize_mobile("+31 (6) 1234-5678") == "+31612345678"
    assert normalize_mobile(31612345678) == "+31612345678"
    with pytest.raises(BadRequest, match="mobile"):
        normalize_mobile("call me")
