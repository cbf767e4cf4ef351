"""Every file in events/ runs through its function (as `make invoke` and `sam local invoke` do)."""

import json
from pathlib import Path

from helpers import FUNCTIONS

EVENTS = Path(__file__).resolve().parents[2] / "events"
# In the order a user meets them; placeholders are replaced by tokens from the sign-in.
SEQUENCE = [
    ("SignUpFunction", "sign_up.json", 201),
    ("SignInFunction", "sign_in.json", 200),
    ("GetUserFunction", "get_user.json", 200),
    ("RefreshTokenFunction", "refresh_token.json", 200),
    ("ChangePasswordFunction", "change_password.json", 200),
    ("DeleteUserFunction", "delete_user.json", 200),
]


def test_every_event_file_belongs_to_a_function_in_the_sequence():
    assert sorted(p.name for p in EVENTS.glob("*.json")) == sorted(name for _, name, _ in SEQUENCE)
    assert {fn for fn, _, _ in SEQUENCE} == set(FUNCTIONS)


def test_every_function_answers_its_event_file(aws):
    tokens: dict[str, str] = {}
    for function, name, expected in SEQUENCE:
        text = (EVENTS / name).read_text()
        text = text.replace("REPLACE_WITH_ACCESS_TOKEN", tokens.get("access_token", ""))
        text = text.replace("REPLACE_WITH_REFRESH_TOKEN", tokens.get("refresh_token", ""))
        event = json.loads(text)
        result = FUNCTIONS[function].invoke(event)
        assert result["statusCode"] == expected, (name, result["body"])
        body = json.loads(result["body"])
        if function == "SignInFunction":
            tokens = body
        if function == "RefreshTokenFunction":
            tokens = body
        if function in ("SignUpFunction", "GetUserFunction", "DeleteUserFunction"):
            assert body["email"] == "elon@tesla.com"


def test_bearer_events_without_a_real_token_answer_401(aws):
    event = json.loads((EVENTS / "get_user.json").read_text())
    assert FUNCTIONS["GetUserFunction"].invoke(event)["statusCode"] == 401
