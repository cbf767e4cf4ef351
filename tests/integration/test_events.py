"""Every file in events/ runs through its function (as `make invoke` and `sam local invoke` do)."""

import json
from pathlib import Path

from helpers import FUNCTIONS, STACK
from ums.crypto import decrypt_token
from ums.store.models import EventModel, RateLimitModel

from local_stack.functions import LocalFunction
from local_stack.template import Stack

EVENTS = Path(__file__).resolve().parents[2] / "events"
# The example API's function (ExampleApi=true: not in the default stack the other tests use).
EXAMPLES = {
    spec.logical_id: LocalFunction(spec, STACK.region)
    for spec in Stack({"ExampleApi": "true"}).functions()
    if spec.logical_id not in FUNCTIONS
}
# In the order a user meets them. Placeholders are replaced by what earlier steps produced.
SEQUENCE = [
    ("SignUpFunction", "sign_up.json", 201),
    ("SignInFunction", "sign_in.json", 200),
    ("GetUserFunction", "get_user.json", 200),
    ("HelloFunction", "hello.json", 200),  # the claims its JWT authorizer passes on
    ("RefreshTokenFunction", "refresh_token.json", 200),
    ("ChangePasswordFunction", "change_password.json", 200),
    ("UpdateUserFunction", "update_user.json", 200),
    ("ChangeEmailFunction", "change_email.json", 202),  # signed in a moment ago: no password needed
    ("LogoutFunction", "logout.json", 200),  # the session ends here
    ("RevokeTokenFunction", "revoke_token.json", 200),  # its refresh token: revoked already, the same 200
    ("VerifyRequestFunction", "verify_request.json", 202),  # a new link, beside the sign-up's
    ("VerifyPageFunction", "verify_page.json", 200),  # the hosted page's form: the token stays usable
    ("VerifyEmailFunction", "verify_email.json", 200),
    ("RequestResetFunction", "request_reset.json", 202),
    ("ResetPageFunction", "reset_page.json", 200),  # the hosted page's form, posted
    ("RequestResetFunction", "request_reset.json", 202),
    ("ApplyResetFunction", "apply_reset.json", 200),
    ("QuicksilverResetFunction", "quicksilver_reset.json", 202),
    ("CustomerResetRequestFunction", "customer_reset_request.json", 202),
    ("CustomerResetApplyFunction", "customer_reset_apply.json", 200),
    ("ManagementFunction", "management.json", 201),
    ("AutomationFunction", "automation_stream.json", None),
    ("ResetMessageFunction", "reset_message.json", None),
    ("SignInFunction", "sign_in.json", 401),  # the password was reset meanwhile
    ("DeleteUserFunction", "delete_user.json", 401),  # and every session with it
    ("UsersSelectFunction", "users_select.json", 200),
    ("UsersUpdateFunction", "users_update.json", 200),
    ("UsersDeleteFunction", "users_delete.json", 200),
    ("UsersCreateFunction", "users_create.json", 201),  # an invitation
    ("UsersImportFunction", "users_import.json", 200),  # a dry run
    ("UsersExportFunction", "users_export.json", 200),
    ("UsersReindexFunction", "users_reindex.json", 200),  # nothing to do: the deploy's pass did it
    ("WellKnownFunction", "well_known.json", 200),
    ("WellKnownFunction", "openapi.json", 200),
    ("OAuthInitFunction", "oauth_init.json", 200),  # provider github, configured below
    ("OAuthAuthFunction", "oauth_auth.json", 401),  # a state /oauth/init never gave
    ("SigningKeysFunction", "signing_keys_rotation.json", None),
]


def newest_reset_token() -> str:
    resets = [e for e in EventModel.scan() if e.event == "AfterPasswordResetRequest"]
    return decrypt_token(max(resets, key=lambda e: e.occurred_at).token_ciphertext)


def newest_verify_token() -> str:
    mailed = [e for e in EventModel.scan() if e.event == "AfterEmailVerificationRequest"]
    return decrypt_token(max(mailed, key=lambda e: e.occurred_at).token_ciphertext)


def allow_next_reset_request() -> None:
    for limit in RateLimitModel.scan(RateLimitModel.pk.startswith("limit#")):
        limit.delete()


def test_every_event_file_is_in_the_sequence_and_every_function_has_one() -> None:
    assert sorted(p.name for p in EVENTS.glob("*.json")) == sorted({name for _, name, _ in SEQUENCE})
    assert {fn for fn, _, _ in SEQUENCE} == set(FUNCTIONS) | set(EXAMPLES)
    assert set(EXAMPLES) == {"HelloFunction"}


def test_every_function_answers_its_event_file(server_key: str) -> None:
    from ums.oauth import providers
    from ums.store import config as config_store
    from ums.store.records import OAUTH_PROVIDERS, POLICIES, PolicyData

    key, secret = server_key.split(":")
    apk = FUNCTIONS["SignInFunction"].invoke(
        {"body": json.dumps({"method": "apk", "key": key, "secret": secret}), "requestContext": {}}
    )
    state = {"SERVER_API_KEY": server_key, "API_KEY_TOKEN": json.loads(apk["body"])["access_token"]}
    policy: PolicyData = {
        "description": None,
        "subjects": ["apk:<.*>"],
        "resources": ["ums.users"],
        "actions": {"create": [], "read": [], "update": [], "delete": []},
    }
    config_store.put(POLICIES, "all-keys", policy, create=True)
    github = {"preset": "github", "client_id": "Iv1.example", "redirects": ["https://app.example.com/oauth/callback"]}
    config_store.put(OAUTH_PROVIDERS, "github", providers.validate(github, "github"), create=True)
    for function, name, expected in SEQUENCE:
        text = (EVENTS / name).read_text()
        if "REPLACE_WITH_RESET_TOKEN" in text:
            state["RESET_TOKEN"] = newest_reset_token()
        if "REPLACE_WITH_VERIFY_TOKEN" in text:
            state["VERIFY_TOKEN"] = newest_verify_token()
        for key, value in state.items():
            text = text.replace(f"REPLACE_WITH_{key}", value)
        allow_next_reset_request()
        result = {**FUNCTIONS, **EXAMPLES}[function].invoke(json.loads(text))
        if function == "SigningKeysFunction":  # the scheduled rotation: a new key, published first
            assert [key["current"] for key in result["keys"]] == [True, False], result
            continue
        if expected is None:  # not an HTTP function
            assert result in ({"batchItemFailures": []}, {"status": "issued"}), (name, result)
            continue
        assert result["statusCode"] == expected, (name, result["body"])
        if result["headers"]["Content-Type"].startswith("text/html"):  # a hosted page
            assert "<form" in result["body"] or "Password changed" in result["body"], (name, result["body"])
            continue
        body = json.loads(result["body"])
        if function in ("SignInFunction", "RefreshTokenFunction") and expected == 200:
            state["ACCESS_TOKEN"], state["REFRESH_TOKEN"] = body["access_token"], body["refresh_token"]
        if function == "SignUpFunction":
            state["USER_ID"] = body["id"]
            assert body["email"] == "elon@tesla.com"
        if function == "UpdateUserFunction":
            assert body["city"] == "Apeldoorn" and "age" not in body, body
        if function == "VerifyEmailFunction":
            assert body["email_verified"] is True, body
        if function == "HelloFunction":
            assert body == {"sub": f"ums:{state['USER_ID']}", "scope": "ums:user"}
        if function == "OAuthInitFunction":
            assert body["oauth_url"].startswith("https://github.com/login/oauth/authorize?"), body
        if function == "OAuthAuthFunction":
            assert body[0]["message"].startswith("Unknown, expired or already used OAuth state"), body
        if function == "UsersCreateFunction":
            assert body["email"] == "gwynne@spacex.com", body
        elif function == "UsersImportFunction":
            assert body["results"] == [{"row": 0, "id": "555b9225bffebc31068b4567", "status": "would create"}], body
        elif function == "UsersExportFunction":
            assert "gwynne@spacex.com" in [u["email"] for u in body], body  # (elon was deleted above)
        elif function == "UsersReindexFunction":
            assert body == {"updated": 0, "complete": True}, body
        elif function.startswith("Users"):
            assert [u["email"] for u in body] == ["elon@tesla.com"], (name, body)


def test_bearer_events_without_a_real_token_answer_401(aws: None) -> None:
    event = json.loads((EVENTS / "get_user.json").read_text())
    assert FUNCTIONS["GetUserFunction"].invoke(event)["statusCode"] == 401
