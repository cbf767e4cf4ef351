"""A small, standard OpenID Connect provider, so the OAuth flow runs offline: `make dev` serves it
under `/_local/idp` as provider `local`; tests serve it alone on loopback (`serve`).

Endpoints (relative to the issuer): `/.well-known/openid-configuration`, `/jwks.json`,
`/authorize` (a page asking for an email and a name; `login_hint=<email>` answers it at once, so
scripts and tests can follow the redirect without a browser), `/token` (authorization code with
PKCE S256, client_secret_post or client_secret_basic), `/userinfo`. It signs real RS256 ID tokens
with a key made at start.

Local-only knobs on `/authorize`: `name=` (default: the email's local part), `email_verified=false`
(default true), `deny=1` (the user cancels: `error=access_denied`). Test-only attributes:
`id_token_claims_override` (merged into every ID token) and `sign_with_other_key` (a key not in
the JWKS).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CODE_SECONDS = 60
TOKEN_SECONDS = 300
Answer = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class Grant:
    """What a code stands for until the token endpoint redeems it (once)."""

    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    claims: dict[str, Any]
    expires_at: float


@dataclass
class LocalIdentityProvider:
    issuer: str
    clients: dict[str, str] = field(default_factory=dict)  # client id -> secret
    id_token_claims_override: dict[str, Any] = field(default_factory=dict)
    sign_with_other_key: bool = False

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        self._kid = _thumbprint(self._jwk)
        self._lock = threading.Lock()
        self._codes: dict[str, Grant] = {}
        self._tokens: dict[str, tuple[dict[str, Any], float]] = {}  # access token -> claims, expiry
        self._issued: list[str] = []

    def add_client(self, client_id: str, secret: str) -> None:
        self.clients[client_id] = secret

    @staticmethod
    def subject_for(email: str) -> str:
        """The stable `sub` of an email's account."""
        return "local-" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]

    def issued_tokens(self) -> list[str]:
        """Every access and ID token given out so far (tests check none is stored or logged)."""
        with self._lock:
            return list(self._issued)

    # --- HTTP ---------------------------------------------------------------------------------
    def handle(
        self, method: str, path: str, query: dict[str, str], form: dict[str, str], headers: dict[str, str]
    ) -> Answer:
        """One request, `path` relative to the issuer: (status, headers, body)."""
        routes = {
            ("GET", "/.well-known/openid-configuration"): lambda: _json(200, self.discovery()),
            ("GET", "/jwks.json"): lambda: _json(200, {"keys": [self.public_jwk()]}),
            ("GET", "/authorize"): lambda: self._authorize(query),
            ("POST", "/authorize"): lambda: self._authorize(form),
            ("POST", "/token"): lambda: self._token(form, headers),
            ("GET", "/userinfo"): lambda: self._userinfo(headers),
        }
        route = routes.get((method, path))
        if route is None:
            return _json(404, {"error": "not_found", "error_description": f"{method} {path} is not served"})
        return route()

    def public_jwk(self) -> dict[str, Any]:
        return {**self._jwk, "kid": self._kid, "use": "sig", "alg": "RS256"}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks.json",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "email", "email_verified", "name"],
        }

    def _authorize(self, params: dict[str, str]) -> Answer:
        redirect_uri, client_id = params.get("redirect_uri", ""), params.get("client_id", "")
        # Never redirect for an unknown client or a missing redirect: that would be an open redirect.
        if client_id not in self.clients:
            return _page(400, "Unknown client", f"<p>No client <code>{escape(client_id)}</code> is registered.</p>")
        if not redirect_uri.startswith(("http://", "https://")):
            return _page(400, "Bad request", "<p>The request has no valid <code>redirect_uri</code>.</p>")
        state = params.get("state")

        def back(answer: dict[str, str]) -> Answer:
            answer = {**answer, **({"state": state} if state is not None else {})}
            separator = "&" if "?" in redirect_uri else "?"
            return 302, {"Location": f"{redirect_uri}{separator}{urlencode(answer)}", "Cache-Control": "no-store"}, b""

        if params.get("deny") == "1" or params.get("action") == "cancel":
            return back({"error": "access_denied", "error_description": "The user cancelled the sign-in"})
        if params.get("response_type") != "code":
            return back({"error": "unsupported_response_type", "error_description": "Only response_type=code"})
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return back({"error": "invalid_request", "error_description": "PKCE with S256 is required"})
        email = params.get("login_hint", "").strip()
        if not email:
            return self._sign_in_page(params)
        if "@" not in email:
            return back({"error": "invalid_request", "error_description": "login_hint must be an email"})
        claims = {
            "sub": self.subject_for(email),
            "email": email,
            "email_verified": params.get("email_verified", "true") != "false",
            "name": params.get("name") or email.split("@", 1)[0],
        }
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = Grant(
                client_id,
                redirect_uri,
                params["code_challenge"],
                params.get("nonce"),
                claims,
                time.time() + CODE_SECONDS,
            )
        return back({"code": code})

    def _sign_in_page(self, params: dict[str, str]) -> Answer:
        hidden = "".join(
            f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
            for k, v in params.items()
            if k not in ("login_hint", "name", "action")
        )
        body = (
            "<p>This is the local stack's identity provider: nobody checks a password here.</p>"
            f'<form method="post" action="{escape(urlsplit(self.issuer).path)}/authorize">{hidden}'
            '<p><label for="email">Email</label> '
            '<input id="email" name="login_hint" type="email" required autofocus></p>'
            '<p><label for="name">Name</label> <input id="name" name="name" autocomplete="name"></p>'
            '<p><button type="submit" name="action" value="sign-in">Sign in</button> '
            '<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button></p></form>'
        )
        return _page(200, "Sign in to the local provider", body)

    def _token(self, form: dict[str, str], headers: dict[str, str]) -> Answer:
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        basic = headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            except ValueError:
                return _error(401, "invalid_client", "Malformed Basic credentials")
        if client_id not in self.clients or not secrets.compare_digest(self.clients[client_id], secret or ""):
            return _error(401, "invalid_client", "Unknown client or wrong client secret")
        if form.get("grant_type") != "authorization_code":
            return _error(400, "unsupported_grant_type", "Only authorization_code")
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # a code works once
        if grant is None or grant.expires_at < time.time() or grant.client_id != client_id:
            return _error(400, "invalid_grant", "Unknown, used, expired or another client's code")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _error(400, "invalid_grant", "redirect_uri differs from the authorization request's")
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not verifier or not secrets.compare_digest(challenge, grant.challenge):
            return _error(400, "invalid_grant", "code_verifier does not match the code_challenge")
        now = int(time.time())
        id_claims = {
            "iss": self.issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + TOKEN_SECONDS,
            **grant.claims,
            **({"nonce": grant.nonce} if grant.nonce is not None else {}),
            **self.id_token_claims_override,
        }
        key = self._other_key if self.sign_with_other_key else self._key
        id_token = jwt.encode(id_claims, key, algorithm="RS256", headers={"kid": self._kid})
        access_token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[access_token] = (grant.claims, time.time() + TOKEN_SECONDS)
            self._issued += [access_token, id_token]
        return _json(
            200,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": TOKEN_SECONDS,
                "id_token": id_token,
                "scope": "openid email profile",
            },
        )

    def _userinfo(self, headers: dict[str, str]) -> Answer:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        with self._lock:
            found = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if found is None or found[1] < time.time():
            status, answer_headers, body = _error(401, "invalid_token", "Unknown or expired access token")
            return status, {**answer_headers, "WWW-Authenticate": 'Bearer error="invalid_token"'}, body
        return _json(200, found[0])


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 of the required members, in order, without spaces."""
    members = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()


def _json(status: int, body: Any) -> Answer:
    return status, {"Content-Type": "application/json", "Cache-Control": "no-store"}, json.dumps(body).encode()


def _error(status: int, error: str, description: str) -> Answer:
    return _json(status, {"error": error, "error_description": description})


def _page(status: int, title: str, body: str) -> Answer:
    html = (
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{escape(title)}</title>'
        '<meta name="viewport" content="width=device-width">'
        "<style>body{font:16px sans-serif;max-width:30em;margin:3em auto}input{font:inherit}</style>"
        f"<h1>{escape(title)}</h1>{body}</html>"
    )
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        "Cache-Control": "no-store",
    }
    return status, headers, html.encode()


def request_parts(raw_path: str, body: bytes, headers: dict[str, str]) -> tuple[str, dict[str, str], dict[str, str]]:
    """(path, query, form) of a request as the provider reads them (the last value of a repeated name)."""
    url = urlsplit(raw_path)
    form: dict[str, str] = {}
    if "application/x-www-form-urlencoded" in headers.get("content-type", ""):
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return url.path, dict(parse_qsl(url.query, keep_blank_values=True)), form


class StandaloneServer:
    """The provider alone on loopback (tests): its issuer is the server's base URL."""

    def __init__(self, provider_ref: list[LocalIdentityProvider]) -> None:
        providers = provider_ref

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                path, query, form = request_parts(self.path, body, headers)
                status, answer_headers, raw = providers[0].handle(self.command, path, query, form, headers)
                self.send_response(status)
                for name, value in {**answer_headers, "Content-Length": str(len(raw))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            do_POST = do_GET

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="local-idp", daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def serve() -> tuple[StandaloneServer, LocalIdentityProvider]:
    """A provider on a free loopback port, its issuer the server's URL."""
    holder: list[LocalIdentityProvider] = []
    server = StandaloneServer(holder)
    holder.append(LocalIdentityProvider(server.base_url))
    return server, holder[0]
