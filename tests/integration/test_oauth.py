"""Sign-up and sign-in with OAuth through the real handlers against moto, with the provider's
HTTP calls served by the local OpenID Connect provider on loopback (no network)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from helpers import Answer, call, manage, sign_in, sign_up
from ums.store.models import EventModel, IdentityModel, OAuthStateModel, UserModel

from local_stack.idp import LocalIdentityProvider, serve

CLIENT_ID, CLIENT_SECRET = "ums-tests", "client-secret-for-tests"
CALLBACK = "https://app.example.com/oauth/callback"


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalIdentityProvider]:
    server, provider = serve()
    provider.add_client(CLIENT_ID, CLIENT_SECRET)
    yield provider
    server.stop()


@pytest.fixture
def local(aws: None, idp: LocalIdentityProvider) -> Iterator[LocalIdentityProvider]:
    """Provider `local` configured through the management API; the IdP's test knobs reset after."""
    created = manage(
        "oauth-providers",
        {
            "name": "local",
            "type": "oidc",
            "issuer": idp.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirects": [CALLBACK, "http://localhost:8080/cb"],
        },
    )
    assert created.status == 201, created.body
    yield idp
    idp.id_token_claims_override = {}
    idp.sign_with_other_key = False


def identities() -> list[IdentityModel]:
    return list(IdentityModel.scan(IdentityModel.pk.startswith("identity#")))


def states() -> list[OAuthStateModel]:
    return list(OAuthStateModel.scan(OAuthStateModel.pk.startswith("oauth-state#")))


def users() -> list[UserModel]:
    return list(UserModel.scan(UserModel.pk.startswith("user#")))


def init(action: str = "sign-up", provider: str = "local", redirect: str | None = None) -> Answer:
    query = f"action={action}&provider={provider}" + (f"&redirect={redirect}" if redirect else "")
    return call("OAuthInitFunction", query=query)


def authorize(oauth_url: str, email: str, **knobs: str) -> dict[str, str]:
    """What the provider sends the browser back with (the local provider's login_hint answers its page)."""
    extra = "".join(f"&{k}={v}" for k, v in {"login_hint": email, **knobs}.items())
    answer = requests.get(oauth_url + extra, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(CALLBACK)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def oauth(action: str, email: str, function: str = "OAuthAuthFunction", **knobs: str) -> Answer:
    """The whole flow: init, the provider, the callback."""
    started = init(action)
    assert started.status == 200, started.body
    callback = authorize(started.body["oauth_url"], email, **knobs)
    return call(function, {"method": "oauth", "code": callback["code"], "state": callback["state"]})


def me(tokens: Answer) -> dict[str, Any]:
    answer = call("GetUserFunction", token=tokens.body["access_token"])
    assert answer.status == 200, answer.body
    return dict(answer.body)


def test_init_answers_the_providers_url_with_pkce_nonce_and_a_stored_hashed_state(local: LocalIdentityProvider) -> None:
    answer = init()
    assert answer.status == 200 and list(answer.body) == ["oauth_url"]
    url = urlsplit(answer.body["oauth_url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{local.issuer}/authorize"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == CALLBACK  # the first allowed redirect: the default
    assert query["scope"] == "openid email profile"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 43 and len(query["nonce"]) >= 32
    stored_states = states()
    assert len(stored_states) == 1
    stored = stored_states[0]
    assert query["state"] not in stored.pk  # only its hash is the key
    assert (stored.provider, stored.action, stored.redirect) == ("local", "sign-up", CALLBACK)
    assert 590 <= stored.expires_at - time.time() <= 600


def test_sign_up_then_sign_in_gives_sessions_of_one_user(local: LocalIdentityProvider) -> None:
    signed_up = oauth("sign-up", "ann@example.com")
    assert signed_up.status == 200, signed_up.body
    assert set(signed_up.body) == {"access_token", "refresh_token"}
    user = me(signed_up)
    assert user["email"] == "ann@example.com" and user["name"] == "ann" and user["active"] is True
    assert [e.event for e in EventModel.scan()] == ["AfterSignUp"]
    assert [i.pk for i in identities()] == [f"identity#local#{local.subject_for('ann@example.com')}"]
    signed_in = oauth("sign-in", "ann@example.com")
    assert signed_in.status == 200, signed_in.body
    assert me(signed_in)["id"] == user["id"]
    refreshed = call("RefreshTokenFunction", {"refresh_token": signed_in.body["refresh_token"]})
    assert refreshed.status == 200  # a session like any other: it rotates
    assert states() == []  # each state was used up


def test_post_auth_with_method_oauth_is_the_same_callback(local: LocalIdentityProvider) -> None:
    oauth("sign-up", "ann@example.com")
    answer = oauth("sign-in", "ann@example.com", function="SignInFunction")
    assert answer.status == 200, answer.body
    assert me(answer)["email"] == "ann@example.com"


def test_post_auth_with_method_oauth_signs_up_too(local: LocalIdentityProvider) -> None:
    """Jexia's SDK finishes an `initOAuth` sign-up with `signIn({code, state})`: SignInFunction
    creates the user, under its own IAM policy (users, the event, the encrypted verify link)."""
    answer = oauth("sign-up", "ann@example.com", function="SignInFunction", email_verified="false")
    assert answer.status == 200, answer.body
    user = me(answer)
    assert user["email"] == "ann@example.com" and user["email_verified"] is False
    [event] = EventModel.scan()
    assert event.event == "AfterSignUp" and event.token_ciphertext  # the verification link, KMS-encrypted


def test_a_replayed_state_is_401(local: LocalIdentityProvider) -> None:
    callback = authorize(init().body["oauth_url"], "ann@example.com")
    body = {"method": "oauth", "code": callback["code"], "state": callback["state"]}
    assert call("OAuthAuthFunction", body).status == 200
    replayed = call("OAuthAuthFunction", body)
    assert (replayed.status, replayed.message) == (
        401,
        "Unknown, expired or already used OAuth state; start again with /oauth/init",
    )


def test_an_expired_state_is_401(local: LocalIdentityProvider) -> None:
    callback = authorize(init().body["oauth_url"], "ann@example.com")
    for state in states():  # as if 10 minutes had passed (TTL deletion lags: checked in code)
        state.update(actions=[OAuthStateModel.expires_at.set(int(time.time()) - 1)])
    answer = call("OAuthAuthFunction", {"method": "oauth", **callback})
    assert answer.status == 401 and answer.message.startswith("Unknown, expired or already used OAuth state")


def test_an_unknown_state_is_401_before_any_provider_call(local: LocalIdentityProvider) -> None:
    answer = call("OAuthAuthFunction", {"method": "oauth", "code": "c", "state": "never-issued"})
    assert answer.status == 401


def test_a_code_from_another_provider_does_not_redeem_this_state(local: LocalIdentityProvider) -> None:
    local.add_client("another-app", "another-secret")
    other = manage(
        "oauth-providers",
        {
            "name": "other",
            "type": "oidc",
            "issuer": local.issuer,
            "client_id": "another-app",
            "client_secret": "another-secret",
            "redirects": [CALLBACK],
        },
    )
    assert other.status == 201
    ours = authorize(init(provider="local").body["oauth_url"], "ann@example.com")
    theirs = authorize(init(provider="other").body["oauth_url"], "ann@example.com")
    answer = call("OAuthAuthFunction", {"method": "oauth", "code": theirs["code"], "state": ours["state"]})
    assert answer.status == 401
    assert answer.message.startswith("The provider did not accept the authorization code (invalid_grant")


@pytest.mark.parametrize(
    ("tampered", "message"),
    [
        ({"nonce": "not-this-sign-ins"}, "The provider's ID token does not carry this sign-in's nonce"),
        ({"aud": "someone-else"}, "The provider's ID token is for another client (aud)"),
        ({"iss": "https://evil.example"}, "The provider's ID token has another issuer (iss)"),
        ({"exp": 1_000_000_000, "iat": 999_999_000}, "The provider's ID token has expired"),
    ],
)
def test_an_id_token_that_fails_a_check_is_401(
    local: LocalIdentityProvider, tampered: dict[str, Any], message: str
) -> None:
    local.id_token_claims_override = tampered
    answer = oauth("sign-up", "ann@example.com")
    assert (answer.status, answer.message) == (401, message)
    assert users() == []


def test_an_id_token_signed_by_another_key_is_401(local: LocalIdentityProvider) -> None:
    local.sign_with_other_key = True
    answer = oauth("sign-up", "ann@example.com")
    assert (answer.status, answer.message) == (401, "The provider's ID token is not signed by one of its keys")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("action=sign-up&provider=local&redirect=https://evil.example/cb", "Query parameter 'redirect' is not one"),
        ("action=sign-up&provider=nobody", "Query parameter 'provider': no OAuth provider 'nobody' is configured"),
        ("action=register&provider=local", "Query parameter 'action' must be 'sign-up' or 'sign-in'"),
    ],
)
def test_init_refuses_what_it_must_not_follow(local: LocalIdentityProvider, query: str, message: str) -> None:
    answer = call("OAuthInitFunction", query=query)
    assert answer.status == 400 and answer.message.startswith(message)
    assert states() == []


def test_an_allowed_redirect_other_than_the_default_is_used_as_given(local: LocalIdentityProvider) -> None:
    answer = init(redirect="http://localhost:8080/cb")
    query = parse_qs(urlsplit(answer.body["oauth_url"]).query)
    assert query["redirect_uri"] == ["http://localhost:8080/cb"]


def test_an_unverified_email_of_an_existing_account_is_409_and_a_verified_one_links(
    local: LocalIdentityProvider,
) -> None:
    existing = sign_up("ann@example.com").body
    unverified = oauth("sign-up", "ann@example.com", email_verified="false")
    assert (unverified.status, unverified.message) == (409, "A user with this email is already registered")
    assert identities() == []
    verified = oauth("sign-up", "ann@example.com")
    assert verified.status == 200, verified.body
    assert me(verified)["id"] == existing["id"]  # linked, and signed in as the existing user
    assert sign_in("ann@example.com").status == 200  # the password still works
    again = oauth("sign-in", "ann@example.com", email_verified="false")
    assert me(again)["id"] == existing["id"]  # linked now: no email needed


def test_auto_link_off_never_links_by_email(local: LocalIdentityProvider) -> None:
    sign_up("ann@example.com")
    provider = manage("oauth-providers/local", method="GET").body
    changed = {k: v for k, v in provider.items() if k not in ("id", "created_at", "updated_at", "has_client_secret")}
    assert manage("oauth-providers/local", {**changed, "auto_link": False}, method="PUT").status == 200
    assert oauth("sign-up", "ann@example.com").status == 409
    assert oauth("sign-in", "ann@example.com").status == 404


def test_sign_in_with_an_identity_nobody_signed_up_with_is_404_unless_a_verified_email_links_it(
    local: LocalIdentityProvider,
) -> None:
    unknown = oauth("sign-in", "bob@example.com")
    assert (unknown.status, unknown.message) == (404, "No user has signed up with this local account; sign up first")
    existing = sign_up("bob@example.com").body
    assert oauth("sign-in", "bob@example.com", email_verified="false").status == 404
    linked = oauth("sign-in", "bob@example.com")
    assert linked.status == 200 and me(linked)["id"] == existing["id"]


def test_signing_up_an_identity_twice_is_409(local: LocalIdentityProvider) -> None:
    assert oauth("sign-up", "ann@example.com").status == 200
    again = oauth("sign-up", "ann@example.com")
    assert (again.status, again.message) == (409, "This local account has already signed up; sign in instead")


def test_concurrent_sign_ups_of_one_identity_make_exactly_one_user(local: LocalIdentityProvider) -> None:
    callbacks = [authorize(init().body["oauth_url"], "ann@example.com") for _ in range(4)]
    answers: list[Answer] = []
    threads = [
        threading.Thread(target=lambda c=c: answers.append(call("OAuthAuthFunction", {"method": "oauth", **c})))
        for c in callbacks
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status for a in answers).count(200) >= 1
    assert {a.status for a in answers} <= {200, 409}
    assert len(users()) == 1 and len(identities()) == 1


def test_a_suspended_user_is_403(local: LocalIdentityProvider) -> None:
    oauth("sign-up", "ann@example.com")
    user = users()[0]
    user.update(actions=[UserModel.active.set(False)])
    answer = oauth("sign-in", "ann@example.com")
    assert (answer.status, answer.message) == (403, "User is not active")


def test_the_providers_error_reaches_the_app_as_a_403_and_uses_the_state_up(local: LocalIdentityProvider) -> None:
    callback = authorize(init().body["oauth_url"], "ann@example.com", deny="1")
    assert callback["error"] == "access_denied" and "code" not in callback
    body = {"method": "oauth", "state": callback["state"], "error": callback["error"]}
    answer = call("OAuthAuthFunction", body)
    assert answer.status == 403
    assert answer.message.startswith("The provider did not authorize the sign-in: access_denied")
    assert call("OAuthAuthFunction", body).status == 401


def test_an_oauth_only_user_has_no_password_to_sign_in_with(local: LocalIdentityProvider) -> None:
    oauth("sign-up", "ann@example.com")
    for password in ("x", " ", "anything at all"):
        answer = call("SignInFunction", {"method": "ums", "email": "ann@example.com", "password": password})
        assert (answer.status, answer.message) == (401, "Invalid email or password")


def test_deleting_the_user_deletes_its_identities(local: LocalIdentityProvider, server_key: str) -> None:
    oauth("sign-up", "ann@example.com")
    policy = {"subjects": ["apk:<.*>"], "resources": ["ums.users"], "actions": {"delete": []}}
    assert manage("policies", policy).status == 201
    key, secret = server_key.split(":")
    apk = call("SignInFunction", {"method": "apk", "key": key, "secret": secret}).body["access_token"]
    cond = quote('[{"field":"email"},"=","ann@example.com"]')
    deleted = call("UsersDeleteFunction", query=f"cond={cond}", token=apk)
    assert deleted.status == 200, deleted.body
    assert identities() == []
    assert oauth("sign-in", "ann@example.com").status == 404


def test_an_identity_linked_while_its_user_is_being_deleted_is_deleted_too(local: LocalIdentityProvider) -> None:
    from ums.events import USER_DELETE, new_event
    from ums.store import users as user_store

    sign_up("ann@example.com", "correct horse battery")
    [read_by_delete] = users()  # what a delete read before the sign-in below linked an identity
    assert read_by_delete.identities is None
    assert oauth("sign-in", "ann@example.com").status == 200  # verified email: linked
    assert len(identities()) == 1
    user_store.delete(read_by_delete, new_event(USER_DELETE, read_by_delete))
    assert users() == [] and identities() == []
    assert oauth("sign-up", "ann@example.com").status == 200  # nothing left behind blocks a new account


def test_a_wrong_client_secret_is_a_502_for_the_operator(local: LocalIdentityProvider) -> None:
    provider = manage("oauth-providers/local", method="GET").body
    changed = {k: v for k, v in provider.items() if k not in ("id", "created_at", "updated_at", "has_client_secret")}
    assert manage("oauth-providers/local", {**changed, "client_secret": "not-it"}, method="PUT").status == 200
    answer = oauth("sign-up", "ann@example.com")
    assert answer.status == 502
    assert answer.message.startswith("OAuth provider 'local' refused this service's client credentials")


def test_an_unreachable_provider_is_a_502(aws: None) -> None:
    manage(
        "oauth-providers",
        {"name": "down", "type": "oidc", "issuer": "http://127.0.0.1:9", "client_id": "x", "redirects": [CALLBACK]},
    )
    answer = init(provider="down")
    assert answer.status == 502 and answer.message.startswith("The OAuth provider could not be reached")


def test_the_providers_tokens_are_never_stored_or_logged(
    local: LocalIdentityProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    assert oauth("sign-up", "ann@example.com").status == 200
    issued = local.issued_tokens()
    assert issued  # the access and ID tokens it gave out
    stored = [str(item.attribute_values) for model in (UserModel, IdentityModel, EventModel) for item in model.scan()]
    stored += [str(item.attribute_values) for item in states()]
    for token in issued:
        assert not any(token in text for text in stored)
        assert token not in caplog.text


def test_a_provider_vouching_for_the_email_verifies_it_and_required_mode_needs_that(
    local: LocalIdentityProvider, setting: Any
) -> None:
    setting("EMAIL_VERIFICATION", "required")
    vouched = oauth("sign-up", "ann@example.com")
    assert vouched.status == 200, vouched.body
    [ann] = users()
    assert ann.email_verified is True
    assert [e.token_ciphertext for e in EventModel.scan() if e.event == "AfterSignUp"] == [None]  # no link
    unvouched = oauth("sign-up", "bob@example.com", email_verified="false")
    assert (unvouched.status, unvouched.message) == (403, "Email is not verified")
    [bob] = [u for u in users() if u.email == "bob@example.com"]
    assert bob.email_verified is False  # signed up; a verification link is on its way
    sign_up("cy@example.com")
    assert oauth("sign-in", "cy@example.com").status == 200  # linked by a vouched email: verified now
