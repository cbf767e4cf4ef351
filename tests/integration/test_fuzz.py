"""Property-based: whatever a client sends, every route answers 2xx or 4xx, never 5xx."""

import json

from helpers import HTTP_FUNCTIONS, call
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "email",
        "password",
        "method",
        "refresh_token",
        "old_password",
        "new_password",
        "mobile",
        "country",
        "language",
        "id",
        "_x",
        "age",
        "",
    ]
)
bodies = st.one_of(
    st.dictionaries(field_names, json_values, max_size=6).map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(function=st.sampled_from(HTTP_FUNCTIONS), body=bodies)
def test_no_input_gives_a_5xx(user, function, body):
    answer = call(function, raw_body=body, token=user["access_token"])
    assert 200 <= answer.status < 500, (function, body, answer.body)
    if answer.status >= 400:
        assert answer.body[0]["message"] and answer.body[0]["request_id"]


@FUZZ
@given(token=st.text(max_size=300))
def test_no_bearer_token_gives_a_5xx(aws, token):
    answer = call("GetUserFunction", headers={"authorization": f"Bearer {token}"})
    assert answer.status in (400, 401)
