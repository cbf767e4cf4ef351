"""The OpenAPI 3.1 contract of every route: the one source of truth for the API's shape.

Served at `GET /openapi.json`, rendered by `make docs` (docs/openapi.json, docs/api-reference.html),
checked against `template.yaml`'s routes and the management routers by the unit tests, and against
the running local stack by Schemathesis (tests/e2e/test_openapi_contract.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

Schema = dict[str, Any]

# --- building blocks ----------------------------------------------------------------------------


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: Schema, example: Any = None) -> Schema:
    media: Schema = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"application/json": media}


def answer(description: str, schema: Schema, example: Any = None, headers: Schema | None = None) -> Schema:
    response: Schema = {"description": description, "content": json_content(schema, example)}
    if headers:
        response["headers"] = headers
    return response


def page(description: str) -> Schema:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


ERROR_DESCRIPTIONS = {
    400: "The request is malformed or a value is refused; the message says which and why",
    401: "Missing, wrong, expired or revoked credentials",
    403: "Authenticated, but not allowed",
    404: "No such resource (or token)",
    405: "The path does not take this method",
    409: "Conflicts with what is stored",
    413: "The body is larger than the route takes",
    429: "Too many requests: wait `Retry-After` seconds",
    502: "A service the request needs failed or could not be reached: try again",
}


def errors(*codes: int) -> dict[str, Schema]:
    return {str(code): {"$ref": f"#/components/responses/Error{code}"} for code in codes}


def body(schema: Schema, example: Any = None, required: bool = True) -> Schema:
    return {"required": required, "content": json_content(schema, example)}


def form(schema: Schema) -> Schema:
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}


def query(name: str, description: str, required: bool = False, schema: Schema | None = None) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def path_param(name: str, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


def obj(required: tuple[str, ...] = (), extra: bool = True, **properties: Schema) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if not extra:
        schema["additionalProperties"] = False
    return schema


STRING: Schema = {"type": "string"}
EMAIL: Schema = {"type": "string", "format": "email", "maxLength": 254}
# PasswordMinLength's default; a stack may ask for more (the 400 says so).
NEW_PASSWORD: Schema = {"type": "string", "minLength": 8, "maxLength": 1024}
BOOLEAN: Schema = {"type": "boolean"}
INTEGER: Schema = {"type": "integer"}
EMPTY = obj(extra=False)
PUBLIC: list[Schema] = []  # no credentials
BEARER: list[Schema] = [{"bearer": []}]
API_KEY: list[Schema] = [{"apiKey": []}, {"bearer": []}]
SIGV4: list[Schema] = [{"sigv4": []}]
# Bodies are parsed as JSON whatever the Content-Type says (Jexia's SDK sends text/plain): every
# route with a body can refuse one that is not JSON, or too large.
BODY_ERRORS = (400, 413)

# --- the UMS routes -----------------------------------------------------------------------------

SEED_USER = {
    "id": "555b9225bffebc31068b4567",
    "email": "ann@example.com",
    "active": True,
    "created_at": "2026-11-24T09:00:00Z",
    "updated_at": "2026-11-24T09:00:00Z",
    "age": 25,
}
TOKENS_EXAMPLE = {"access_token": "eyJhbGciOiJSUzI1NiIs…", "refresh_token": "c3Vw…"}
USER = answer("The user: the default fields, then the schemaless ones", ref("User"), SEED_USER)
USERS = answer("The users, each with the fields asked for (`outputs`)", {"type": "array", "items": ref("UserFields")})
SELECTED = answer(
    "The users, each with the fields asked for (`outputs`)",
    {"type": "array", "items": ref("UserFields")},
    headers={
        "X-Next-Cursor": {
            "schema": STRING,
            "description": "Set when users are left unread (a `range.limit` reached, or the deadline): "
            "send it back as `cursor` with the same `cond` for the next page",
        }
    },
)
TOKENS = answer("An access token (RS256 JWT) and a refresh token (rotates on use)", ref("Tokens"), TOKENS_EXAMPLE)
ACCEPTED = answer("Accepted: the mail is on its way", EMPTY, {})
DONE = answer("Done", EMPTY, {})
COND = query("cond", 'A condition in Jexia\'s grammar, e.g. `[{"field":"email"},"=","ann@example.com"]`')
PAGE_TOKEN = query("token", "The token of the mailed link")
PAGE_APP = query("app", "The application whose branding the page shows")
CUSTOMER = query("customerId", "The customer the link was made for (the customer guide's reset)")


def op(summary: str, tag: str, security: list[Schema], responses: dict[str, Schema], **more: Any) -> Schema:
    operation: Schema = {"summary": summary, "tags": [tag], "security": security, "responses": responses}
    operation.update(more)
    return operation


def ums_paths() -> dict[str, Schema]:
    sign_up_body = body(
        {**obj(("email", "password"), email=EMAIL, password=NEW_PASSWORD, mobile=STRING), "additionalProperties": True},
        {"email": "ann@example.com", "password": "correct horse battery", "age": 25},
    )
    return {
        "/ums/signup": {
            "post": op(
                "Sign up: create a user (extra fields are stored schemaless)",
                "Users",
                PUBLIC,
                {"201": USER, **errors(*BODY_ERRORS, 409)},
                requestBody=sign_up_body,
            )
        },
        "/auth": {
            "post": op(
                "Sign in: with email and password (`ums`), an API key (`apk`) or an OAuth code (`oauth`)",
                "Sessions",
                PUBLIC,
                {"200": TOKENS, **errors(*BODY_ERRORS, 401, 403, 404, 409, 429, 502)},
                requestBody=body(
                    obj(
                        ("method",),
                        method={"enum": ["ums", "apk", "oauth"]},
                        email=EMAIL,
                        password=STRING,
                        key=STRING,
                        secret=STRING,
                        code=STRING,
                        state=STRING,
                    ),
                    {"method": "ums", "email": "ann@example.com", "password": "correct horse battery"},
                ),
            )
        },
        "/auth/refresh": {
            "post": op(
                "New tokens for a refresh token (the old one stops working)",
                "Sessions",
                PUBLIC,
                {"200": TOKENS, **errors(*BODY_ERRORS, 401)},
                requestBody=body(obj(("refresh_token",), refresh_token=STRING)),
            )
        },
        "/auth/logout": {
            "post": op("End this session at once", "Sessions", BEARER, {"200": DONE, **errors(*BODY_ERRORS, 401)})
        },
        "/auth/revoke": {
            "post": op(
                "Revoke a refresh or access token (RFC 7009: the answer tells nothing)",
                "Sessions",
                PUBLIC,
                {"200": DONE, **errors(*BODY_ERRORS)},
                requestBody=body(
                    obj(("token",), token=STRING, token_type_hint={"enum": ["refresh_token", "access_token"]})
                ),
            )
        },
        "/ums/user": {
            "get": op("The caller's user", "Users", BEARER, {"200": USER, **errors(401, 404)}),
            "patch": op(
                "Edit the caller's own fields (`null` removes one)",
                "Users",
                BEARER,
                {"200": USER, **errors(*BODY_ERRORS, 401, 404)},
                requestBody=body({"type": "object"}, {"age": 26, "nickname": "ann"}),
            ),
            "delete": op(
                "Delete the caller's user (the password, or a sign-in in the last 5 minutes)",
                "Users",
                BEARER,
                {"200": USER, **errors(*BODY_ERRORS, 401, 403, 404)},
                requestBody=body(obj(password=STRING), {"password": "correct horse battery"}, required=False),
            ),
        },
        "/ums/user/email": {
            "post": op(
                "Change the email: a confirmation link goes to the new address",
                "Users",
                BEARER,
                {"202": ACCEPTED, **errors(*BODY_ERRORS, 401, 403, 404, 409, 429)},
                requestBody=body(obj(("new_email",), new_email=EMAIL, password=STRING)),
            )
        },
        "/ums/changepassword": {
            "post": op(
                "Change the password; every other session is revoked",
                "Users",
                BEARER,
                {"200": USER, **errors(*BODY_ERRORS, 401, 403, 404)},
                requestBody=body(
                    obj(("old_password", "new_password"), old_password=STRING, new_password=NEW_PASSWORD),
                    {"old_password": "correct horse battery", "new_password": "a brand new passphrase"},
                ),
            )
        },
        "/ums/users": {
            "get": op(
                "Select users (a policy must allow `read`)",
                "Users admin",
                BEARER,
                {"200": SELECTED, **errors(400, 401, 403)},
                parameters=[
                    COND,
                    query("outputs", 'Fields to return, a JSON list: `["email","age"]`'),
                    query("range", 'A window: `{"limit":10,"offset":20}`'),
                    query("order", 'Sort: `{"fields":["created_at"],"direction":"desc"}`'),
                    query("cursor", "The `X-Next-Cursor` of the previous page (not with `range.offset`)"),
                ],
            ),
            "post": op(
                "Create a user, or invite one (no password: a link to set it is mailed)",
                "Users admin",
                BEARER,
                {"201": USER, **errors(*BODY_ERRORS, 401, 403, 409)},
                requestBody=body(obj(("email",), email=EMAIL, password=NEW_PASSWORD, mobile=STRING)),
            ),
            "patch": op(
                "Update (or suspend: `active: false`) the users matching `cond`",
                "Users admin",
                BEARER,
                {"200": USERS, **errors(*BODY_ERRORS, 401, 403)},
                parameters=[COND],
                requestBody=body({"type": "object"}, {"active": False}),
            ),
            "delete": op(
                "Delete the users matching `cond`",
                "Users admin",
                BEARER,
                {"200": USERS, **errors(400, 401, 403)},
                parameters=[COND],
            ),
        },
        "/ums/resetpassword": {
            "post": op(
                "Request a reset mail",
                "Passwords",
                PUBLIC,
                {"202": ACCEPTED, **errors(*BODY_ERRORS, 401, 404, 429)},
                requestBody=body(
                    obj(("email",), email=EMAIL, locale=STRING, application=STRING), {"email": "ann@example.com"}
                ),
            )
        },
        "/ums/resetpassword/{token}": {
            "post": op(
                "Set a new password with the mailed token; every session is revoked",
                "Passwords",
                PUBLIC,
                {"200": USER, **errors(*BODY_ERRORS, 404)},
                parameters=[path_param("token", "The token of the reset mail")],
                requestBody=body(
                    obj(("new_password",), new_password=NEW_PASSWORD), {"new_password": "a brand new passphrase"}
                ),
            )
        },
        "/ums/verify": {
            "post": op(
                "Mail a new verification link",
                "Verification",
                PUBLIC,
                {"202": ACCEPTED, **errors(*BODY_ERRORS, 404, 409, 429)},
                requestBody=body(obj(("email",), email=EMAIL)),
            )
        },
        "/ums/verify/{token}": {
            "post": op(
                "Verify the email with the mailed token",
                "Verification",
                PUBLIC,
                {"200": USER, **errors(404, 409)},
                parameters=[path_param("token", "The token of the verification mail")],
            )
        },
        "/pages/reset": {
            "get": op(
                "The hosted reset page: the new-password form (reads the token only)",
                "Hosted pages",
                PUBLIC,
                {"200": page("The form"), "400": page("No token"), "404": page("The link expired")},
                parameters=[PAGE_TOKEN, PAGE_APP, CUSTOMER],
            ),
            "post": op(
                "The reset form's post: sets the password",
                "Hosted pages",
                PUBLIC,
                {
                    "200": page("Password set"),
                    "400": page("The form again, with the reason"),
                    "404": page("The link expired"),
                    "413": page("The form is too large"),
                },
                requestBody=form(
                    obj(("token",), token=STRING, password=STRING, confirm=STRING, customerId=STRING, app=STRING)
                ),
            ),
        },
        "/pages/verify": {
            "get": op(
                "The hosted verification page: a Confirm button (reads the token only)",
                "Hosted pages",
                PUBLIC,
                {"200": page("The button"), "400": page("No token"), "404": page("The link expired")},
                parameters=[PAGE_TOKEN, PAGE_APP],
            ),
            "post": op(
                "The verification page's post: verifies the email",
                "Hosted pages",
                PUBLIC,
                {
                    "200": page("Verified"),
                    "400": page("No token"),
                    "404": page("The link expired"),
                    "409": page("The new address was taken meanwhile"),
                    "413": page("The form is too large"),
                },
                requestBody=form(obj(("token",), token=STRING, app=STRING)),
            ),
        },
        "/user/password": {
            "post": op(
                "Quicksilver's reset request",
                "Compatibility",
                API_KEY,
                {"202": ACCEPTED, **errors(*BODY_ERRORS, 401, 404, 429)},
                requestBody=body(
                    obj(
                        user_id=STRING,
                        email=EMAIL,
                        mobile=STRING,
                        application_id=STRING,
                        email_template=STRING,
                    ),
                    {
                        "user_id": "555b9225bffebc31068b4567",
                        "application_id": "phoenix",
                        "email_template": "mb-user-password",
                    },
                ),
            )
        },
        "/notifications/customers/reset": {
            "post": op(
                "The customer guide's reset request",
                "Compatibility",
                API_KEY,
                {"202": ACCEPTED, **errors(*BODY_ERRORS, 401, 404, 429)},
                parameters=[query("appName", "The application whose reset URL the link uses")],
                requestBody=body(obj(email=EMAIL, customer_id=STRING), {"email": "ann@example.com"}),
            )
        },
        "/accounts/customers/{customerId}": {
            "patch": op(
                "The customer guide's reset: the token and the new password",
                "Compatibility",
                API_KEY,
                {"200": USER, **errors(*BODY_ERRORS, 401, 404)},
                parameters=[path_param("customerId", "The customer (user id) the token was made for")],
                requestBody=body(obj(("token",), token=STRING, new_password=NEW_PASSWORD, password=NEW_PASSWORD)),
            )
        },
        "/.well-known/openid-configuration": {
            "get": op(
                "OIDC discovery: issuer, jwks_uri, … (cacheable for an hour)",
                "Discovery",
                PUBLIC,
                {"200": answer("The discovery document", obj(("issuer", "jwks_uri"), issuer=STRING, jwks_uri=STRING))},
            )
        },
        "/.well-known/jwks.json": {
            "get": op(
                "The public signing keys (cacheable for an hour)",
                "Discovery",
                PUBLIC,
                {"200": answer("The JWKS", obj(("keys",), keys={"type": "array", "items": {"type": "object"}}))},
            )
        },
        "/openapi.json": {
            "get": op("This contract", "Discovery", PUBLIC, {"200": answer("OpenAPI 3.1", {"type": "object"})})
        },
        "/oauth/init": {
            "get": op(
                "Start a sign-up or sign-in with an OAuth provider: its URL",
                "OAuth",
                PUBLIC,
                {"200": answer("Where to send the browser", obj(("oauth_url",), oauth_url=STRING)), **errors(400, 502)},
                parameters=[
                    query("action", "`sign-up` or `sign-in`", True, {"enum": ["sign-up", "sign-in"]}),
                    query("provider", "A configured provider's name", True),
                    query("redirect", "A redirect URL on the provider's list", True),
                ],
            )
        },
        "/oauth/auth": {
            "post": op(
                "Finish an OAuth sign-up or sign-in: the provider's code and state for tokens",
                "OAuth",
                PUBLIC,
                {"200": TOKENS, **errors(*BODY_ERRORS, 401, 403, 404, 409, 502)},
                requestBody=body(obj(("state",), method={"const": "oauth"}, code=STRING, state=STRING, error=STRING)),
            )
        },
    }


# --- the management API (SigV4 in AWS, open on the local stack) ---------------------------------

ITEM_ID = path_param("id", "The item's id (its name, for templates, applications and OAuth providers)")
# What each kind stores, as `POST` takes it and `GET` shows it (write-only secrets never shown).
KINDS: dict[str, tuple[str, Schema, Any]] = {
    "integrations": (
        "How mail leaves: SES or SMTP",
        obj(
            ("name", "type", "sender"),
            name=STRING,
            type={"enum": ["ses", "smtp"]},
            sender=EMAIL,
            reply_to=EMAIL,
            configuration_set=STRING,
            host=STRING,
            port=INTEGER,
            tls={"oneOf": [{"enum": ["starttls", "implicit", "none"]}, BOOLEAN]},
            username=STRING,
            password={"type": "string", "writeOnly": True},
        ),
        {"name": "smtp", "type": "smtp", "sender": "no-reply@example.com", "host": "smtp.example.com", "port": 587},
    ),
    "automations": (
        "Which mail an event sends",
        obj(
            ("event",),
            name=STRING,
            event=STRING,
            integration_id=STRING,
            subject=STRING,
            body=STRING,
            text_body=STRING,
            template=STRING,
            enabled=BOOLEAN,
        ),
        {
            "name": "Reset mail",
            "event": "AfterPasswordResetRequest",
            "subject": "Reset your password",
            "body": '<a href="{{ reset_link }}">Reset</a>',
        },
    ),
    "templates": (
        "Mail templates: `<name>-<COUNTRY>`, `<name>-<language>`, `<name>`",
        obj(("name",), name=STRING, subject=STRING, html=STRING, text=STRING),
        {"name": "mb-user-password-US", "subject": "Reset", "html": "<p>{{ reset_link }}</p>"},
    ),
    "applications": (
        "Per-application reset links, tags, template and branding",
        obj(
            ("name",),
            name=STRING,
            reset_url=STRING,
            email_tags={"type": ["array", "object"]},
            email_template=STRING,
            display_name=STRING,
            logo_url=STRING,
            brand_color=STRING,
            background_color=STRING,
            after_reset_url=STRING,
            after_verify_url=STRING,
        ),
        {"name": "phoenix", "reset_url": "https://phoenix.example.com/reset", "email_template": "mb-user-password"},
    ),
    "policies": (
        "Who may read, update or delete `/ums/users`",
        obj(
            description=STRING,
            subjects={"type": "array", "items": STRING},
            resources={"type": "array", "items": STRING},
            actions={
                "type": "object",
                "description": "`create`, `read`, `update`, `delete`: each the fields it may touch ([] for all)",
                "additionalProperties": {"type": "array", "items": STRING},
            },
        ),
        {"description": "admins", "subjects": ["ums:<.*>"], "resources": ["ums.users"], "actions": {"read": []}},
    ),
    "keys": (
        "API keys (the secret is shown once, when created)",
        obj(key=STRING, description=STRING, secret={"type": "string", "readOnly": True}),
        {"description": "billing service"},
    ),
    "oauth-providers": (
        "OAuth providers for sign-up and sign-in",
        obj(
            name=STRING,
            preset=STRING,
            type={"enum": ["oidc", "oauth2"]},
            client_id=STRING,
            client_secret={"type": "string", "writeOnly": True},
            scopes={"type": "array", "items": STRING},
            redirects={"type": "array", "items": STRING},
            auto_link=BOOLEAN,
            issuer=STRING,
            authorization_endpoint=STRING,
            token_endpoint=STRING,
            userinfo_endpoint=STRING,
            emails_endpoint=STRING,
            claims={"type": "object"},
            authorize_params={"type": "object"},
            has_client_secret={"type": "boolean", "readOnly": True},
        ),
        {
            "preset": "google",
            "client_id": "123.apps.googleusercontent.com",
            "client_secret": "…",
            "redirects": ["https://app.example.com/oauth"],
        },
    ),
}


def management_paths() -> dict[str, Schema]:
    paths: dict[str, Schema] = {}
    for kind, (summary, schema, example) in KINDS.items():
        item = {**schema, "required": []}  # shown as stored: every field optional but for the id
        shown = answer("The item", item)
        tag = f"Management: {kind}"
        paths[f"/management/{kind}"] = {
            "get": op(f"List {kind}", tag, SIGV4, {"200": answer("All of them", {"type": "array", "items": item})}),
            "post": op(
                f"Create: {summary}",
                tag,
                SIGV4,
                {"201": shown, **errors(*BODY_ERRORS, 409)},
                requestBody=body(schema, example),
            ),
        }
        paths[f"/management/{kind}/{{id}}"] = {
            "parameters": [ITEM_ID],
            "get": op(f"Read one of {kind}", tag, SIGV4, {"200": shown, **errors(404)}),
            "put": op(
                f"Replace one of {kind}",
                tag,
                SIGV4,
                {"200": shown, **errors(*BODY_ERRORS, 404)},
                requestBody=body(schema, example),
            ),
            "delete": op(f"Delete one of {kind}", tag, SIGV4, {"200": DONE, **errors(404)}),
        }
    paths["/management/integrations/{id}/test"] = {
        "post": op(
            "Send a test mail through the integration",
            "Management: integrations",
            SIGV4,
            {"200": answer("Sent", {"type": "object"}), **errors(*BODY_ERRORS, 404, 502)},
            parameters=[ITEM_ID],
            requestBody=body(obj(("to",), to=EMAIL), {"to": "ops@example.com"}),
        )
    }
    paths["/management/templates/preview"] = {
        "post": op(
            "Preview a mail as it would go out (the automation's own, or a named template through the "
            "country/language chain), against sample data or a user; with `to`, also send it",
            "Management: templates",
            SIGV4,
            {
                "200": answer(
                    "The rendered mail, the template used and the chain tried",
                    obj(
                        ("template", "chain", "to", "subject", "html", "text"),
                        template=STRING,
                        chain={
                            "type": "array",
                            "items": obj(("name", "stored", "used"), name=STRING, stored=BOOLEAN, used=BOOLEAN),
                        },
                        to=STRING,
                        subject=STRING,
                        html=STRING,
                        text=STRING,
                        sent=obj(("message_id", "to"), message_id=STRING, to=STRING),
                    ),
                ),
                **errors(*BODY_ERRORS, 404, 502),
            },
            requestBody=body(
                obj(
                    ("event",),
                    event=STRING,
                    subject=STRING,
                    body=STRING,
                    text_body=STRING,
                    template=STRING,
                    user_id=STRING,
                    application=STRING,
                    to=EMAIL,
                    integration_id=STRING,
                ),
                {
                    "event": "AfterPasswordResetRequest",
                    "template": "mb-user-password",
                    "user_id": "555b9225bffebc31068b4567",
                },
            ),
        )
    }
    event = obj(("id", "name", "placeholders"), id=STRING, name=STRING, placeholders={"type": "array"})
    paths["/management/events"] = {
        "get": op(
            "The events automations can use, with their placeholders",
            "Management: events",
            SIGV4,
            {"200": answer("The events", {"type": "array", "items": event})},
        )
    }
    key = obj(
        ("kid", "created_at", "signs_from", "retire_at", "current"),
        kid=STRING,
        created_at=INTEGER,
        signs_from=INTEGER,
        retire_at={"type": ["integer", "null"]},
        current=BOOLEAN,
    )
    key_set = answer(
        "The issuer and the keys (never a private key)",
        obj(("issuer", "keys"), issuer=STRING, keys={"type": "array", "items": key}),
    )
    paths["/management/signing-keys"] = {
        "get": op("The access-token signing keys", "Management: signing keys", SIGV4, {"200": key_set})
    }
    paths["/management/signing-keys/rotate"] = {
        "post": op(
            "Rotate: a new key, published before it signs (`immediate`: signs at once)",
            "Management: signing keys",
            SIGV4,
            {"200": key_set, **errors(*BODY_ERRORS, 409)},
            requestBody=body(obj(immediate=BOOLEAN, extra=False), {"immediate": False}, required=False),
        )
    }
    outbox_event = obj(
        ("id", "event", "status"),
        id=STRING,
        event=STRING,
        occurred_at=STRING,
        user=obj(id={"type": ["string", "null"]}, email={"type": ["string", "null"]}),
        application={"type": ["string", "null"]},
        status={"enum": ["pending", "sent", "failed", "skipped"]},
        reason={"type": ["string", "null"]},
        redrives=INTEGER,
    )
    paths["/management/outbox"] = {
        "get": op(
            "Events whose mail failed (or, with `status=all`, every event), newest first",
            "Management: outbox",
            SIGV4,
            {"200": answer("The failed events", {"type": "array", "items": outbox_event}), **errors(400)},
            parameters=[
                query("status", "`failed` (the default) or `all`", schema={"enum": ["failed", "all"]}),
                query("limit", "1 to 100 (50)", schema={"type": "integer", "minimum": 1, "maximum": 100}),
            ],
        )
    }
    paths["/management/outbox/{id}"] = {
        "get": op(
            "One event's delivery status",
            "Management: outbox",
            SIGV4,
            {"200": answer("The event", outbox_event), **errors(404)},
            parameters=[path_param("id", "The event's id")],
        )
    }
    failure = obj(
        ("message_id", "events"),
        message_id=STRING,
        condition={"type": ["string", "null"]},
        failed_at={"type": ["string", "null"]},
        events={
            "type": ["array", "null"],
            "items": STRING,
            "description": "null: the stream no longer holds the batch",
        },
    )
    paths["/management/failures"] = {
        "get": op(
            "The automation's failure queue: stream batches it gave up on, with their events",
            "Management: outbox",
            SIGV4,
            {"200": answer("The queued batches (up to 100)", {"type": "array", "items": failure}), **errors(502)},
        )
    }
    paths["/management/failures/redrive"] = {
        "post": op(
            "Send every queued batch's failed or pending events again, and delete its message",
            "Management: outbox",
            SIGV4,
            {
                "200": answer(
                    "What was sent again, what was unchanged, the messages kept (their batch is gone)",
                    obj(
                        ("sent_again", "unchanged", "kept"),
                        sent_again={"type": "array", "items": STRING},
                        unchanged={"type": "array", "items": STRING},
                        kept={"type": "array", "items": STRING},
                    ),
                ),
                **errors(502),
            },
        )
    }
    paths["/management/outbox/{id}/redrive"] = {
        "post": op(
            "Send a failed (or stuck pending) event's mail again, once its cause is fixed",
            "Management: outbox",
            SIGV4,
            {"200": answer("The event, pending again", outbox_event), **errors(404, 409)},
            parameters=[path_param("id", "The event's id")],
        )
    }
    import_row = {
        **obj(
            ("email",),
            email=EMAIL,
            id=STRING,
            active=BOOLEAN,
            email_verified=BOOLEAN,
            created_at=STRING,
            mobile=STRING,
            password_hash=STRING,
            password_salt=STRING,
        ),
        "additionalProperties": True,
    }
    firebase = obj(
        ("signer_key", "rounds", "mem_cost"), signer_key=STRING, salt_separator=STRING, rounds=INTEGER, mem_cost=INTEGER
    )
    row_result = obj(("row", "status"), row=INTEGER, status=STRING, id=STRING, reason=STRING)
    paths["/management/users/import"] = {
        "post": op(
            "Import up to 100 users: ids, fields and password hashes kept; rows already there are `exists`",
            "Management: users",
            SIGV4,
            {
                "200": answer(
                    "Each row's result: created, exists, rejected (with the reason) or, in a dry run, would create",
                    obj(
                        ("created", "exists", "rejected", "results"),
                        created=INTEGER,
                        exists=INTEGER,
                        rejected=INTEGER,
                        results={"type": "array", "items": row_result},
                    ),
                ),
                **errors(*BODY_ERRORS),
            },
            requestBody=body(
                obj(
                    ("users",),
                    users={"type": "array", "items": import_row, "minItems": 1, "maxItems": 100},
                    dry_run=BOOLEAN,
                    notify=BOOLEAN,
                    firebase_scrypt=firebase,
                ),
                {
                    "users": [
                        {
                            "id": "555b9225bffebc31068b4567",
                            "email": "ann@example.com",
                            "password_hash": "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
                            "email_verified": True,
                            "created_at": "2015-05-19T12:00:00Z",
                            "first_name": "Ann",
                        }
                    ]
                },
            ),
        )
    }
    paths["/management/users/export"] = {
        "get": op(
            "Export a page of users (all, or those `cond` selects), as import rows; `X-Next-Cursor` pages on",
            "Management: users",
            SIGV4,
            {"200": SELECTED, **errors(400)},
            parameters=[
                COND,
                query("cursor", "The `X-Next-Cursor` of the previous page"),
                query("limit", "Users per page, 1 to 1000 (1000)", schema=INTEGER),
                query("password_hashes", "`true` adds each user's password hash", schema={"enum": ["true", "false"]}),
            ],
        )
    }
    paths["/management/users/reindex"] = {
        "post": op(
            "Put users made before the order indexes (`created_at`, `email`) in them, for one request's time; "
            "`X-Next-Cursor` goes on (`ums users reindex` follows it)",
            "Management: users",
            SIGV4,
            {
                "200": answer(
                    "Users given their place in the index by this pass, and whether every user is in it now",
                    obj(("updated", "complete"), updated=INTEGER, complete=BOOLEAN),
                    {"updated": 1200, "complete": False},
                    headers={"X-Next-Cursor": {"schema": STRING, "description": "Set while users are left to read"}},
                ),
                **errors(400),
            },
            parameters=[query("cursor", "The `X-Next-Cursor` of the previous pass")],
        )
    }
    return paths


# --- the document -------------------------------------------------------------------------------

SCHEMAS: dict[str, Schema] = {
    "Errors": {
        "type": "array",
        "minItems": 1,
        "items": obj(("message", "request_id"), message=STRING, request_id=STRING),
        "example": [{"message": "Field 'email' must be a valid email address", "request_id": "c0ffee00-…"}],
    },
    "User": obj(
        ("id", "email", "active", "created_at", "updated_at"),
        id=STRING,
        email=STRING,
        active=BOOLEAN,
        created_at=STRING,
        updated_at=STRING,
        email_verified=BOOLEAN,
        mobile=STRING,
    ),
    "UserFields": {"type": "object", "description": "A user with the fields `outputs` asked for (all by default)"},
    "Tokens": obj(("access_token", "refresh_token"), access_token=STRING, refresh_token=STRING),
}


def _error_response(code: int) -> Schema:
    headers = {"Retry-After": {"schema": INTEGER, "description": "Seconds to wait"}} if code == 429 else None
    return answer(ERROR_DESCRIPTIONS[code], ref("Errors"), headers=headers)


@cache
def document(server: str = "/") -> dict[str, Any]:
    """The whole contract; `server` is the API's base URL (the issuer)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Serverless UMS",
            "version": "1",
            "description": "Jexia's Project Users (UMS) and Automation API, served by your own AWS account.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": server}],
        "paths": {**ums_paths(), **management_paths()},
        "components": {
            "schemas": SCHEMAS,
            "responses": {f"Error{code}": _error_response(code) for code in ERROR_DESCRIPTIONS},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (RS256, `POST /auth`)"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-KEY", "description": "`<key>:<secret>`"},
                "sigv4": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "AWS Signature Version 4 (IAM); none on the local stack",
                    "x-amazon-apigateway-authtype": "awsSigv4",
                },
            },
        },
    }
