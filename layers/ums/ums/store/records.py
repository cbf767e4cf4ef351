"""The records of the config table: for each kind of item, the `data` the management API
validates and stores, and the item as `store.config` returns it (that data with `id`,
`created_at` and `updated_at`), which the automation pipeline, mail sending, policies and API
keys read.

One TypedDict per kind, so that writer and readers agree on every field under mypy: a field
written under one name and read under another, or read and never written, is a type error.
Items stored by an older version may lack a field added since: those are `NotRequired`, and
readers use `.get` for them.

A `Kind` names the kind as the table does (its partition key) and carries both types, so
`config.get(TEMPLATES, name)` is a `Template | None` with no cast at the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, Literal, NotRequired, TypedDict, TypeVar


class Stored(TypedDict):
    """What the store adds to every item's data."""

    id: str
    created_at: str
    updated_at: str


# Integrations: how mail leaves. An SMTP password is kept in Secrets Manager
# (`ums.operator_secrets`), never here: the item records only whether there is one.
TlsMode = Literal["starttls", "implicit", "none"]


class _IntegrationData(TypedDict):
    name: str
    sender: str  # the From address of every mail sent through the integration
    reply_to: str | None
    has_password: NotRequired[bool]  # set by the management API beside the validated fields


class SesIntegrationData(_IntegrationData):
    type: Literal["ses"]
    configuration_set: str | None


class SmtpIntegrationData(_IntegrationData):
    type: Literal["smtp"]
    host: str
    port: int
    tls: TlsMode
    username: str | None


class SesIntegration(SesIntegrationData, Stored):
    pass


class SmtpIntegration(SmtpIntegrationData, Stored):
    pass


IntegrationData = SesIntegrationData | SmtpIntegrationData
Integration = SesIntegration | SmtpIntegration


class AutomationData(TypedDict):
    """Which mail goes out on which event, through which integration: either a named template
    (`template`) or the mail itself (`subject`, `body` and an optional `text_body`)."""

    name: str
    event: str  # an event type's id (`ums.events.EVENT_TYPES`)
    integration_id: str
    enabled: bool
    template: NotRequired[str]
    subject: NotRequired[str]
    body: NotRequired[str]
    text_body: NotRequired[str]


class Automation(AutomationData, Stored):
    pass


class TemplateData(TypedDict):
    """A named mail template (its id is its name, e.g. `mb-user-password-US`)."""

    name: str
    subject: str
    html: str
    text: NotRequired[str]


class Template(TemplateData, Stored):
    pass


class ApplicationData(TypedDict):
    """One application (id: its name): where its mailed links point (no `reset_url`: the hosted
    page), how its mails are tagged, and the hosted pages' branding."""

    name: str
    email_tags: list[str] | dict[str, str]
    email_template: str | None
    reset_url: NotRequired[str]
    after_reset_url: NotRequired[str]
    after_verify_url: NotRequired[str]
    display_name: NotRequired[str]
    logo_url: NotRequired[str]
    brand_color: NotRequired[str]
    background_color: NotRequired[str]


class Application(ApplicationData, Stored):
    pass


class PolicyRules(TypedDict):
    """Who (`subjects`) may do which `actions` to which `resources` (`ums.policies`)."""

    subjects: list[str]
    resources: list[str]
    actions: dict[str, list[str]]


class PolicyData(PolicyRules):
    description: str | None


class Policy(PolicyData, Stored):
    pass


class ApiKeyData(TypedDict):
    """A server-side app's key (the item's id); the secret only as its SHA-256."""

    description: str | None
    secret_hash: str


class ApiKey(ApiKeyData, Stored):
    pass


# OAuth providers (`ums.oauth`): how users sign in with Google, GitHub, ... The client secret is
# kept in Secrets Manager (`ums.operator_secrets`), never here: the item records only whether
# there is one.
OAuthType = Literal["oidc", "oauth2"]


class OAuthClaimMap(TypedDict):
    """Where a plain OAuth 2 provider's user-info answer keeps each claim: a field name, or a
    dotted path (`picture.data.url`). `email_verified` may instead be a constant the provider
    guarantees (true or false); absent, emails are taken as unverified."""

    subject: str
    email: str
    email_verified: NotRequired[str | bool]
    name: NotRequired[str]
    picture: NotRequired[str]


class OAuthProviderData(TypedDict):
    """One provider, by the `name` Jexia's SDK passes as `provider` (the item's id).

    `oidc`: `issuer` (its discovery document gives the endpoints and keys; ID tokens are
    verified). `oauth2`: the three endpoints and `claims` (plus GitHub's `emails_endpoint`, which
    lists a user's addresses with their verification). `redirects` are the exact URLs the
    provider may send the browser back to, the first being the default. `auto_link`: a sign-in
    whose provider asserts a verified email of an existing user links the identity to it."""

    name: str
    type: OAuthType
    preset: str | None
    client_id: str
    scopes: list[str]
    redirects: list[str]
    auto_link: bool
    issuer: str | None
    authorization_endpoint: str | None
    token_endpoint: str | None
    userinfo_endpoint: str | None
    emails_endpoint: str | None
    claims: OAuthClaimMap | None
    authorize_params: dict[str, str]  # extra authorization-request parameters (Apple's response_mode)
    has_client_secret: NotRequired[bool]  # set by the management API beside the validated fields


class OAuthProvider(OAuthProviderData, Stored):
    pass


# A kind's records come out (covariant: a Kind[..., Template] is a Kind[..., Mapping]); its data
# goes in and stays exact (invariant), so a dict literal given to `put` is checked as that data.
D = TypeVar("D", bound=Mapping[str, object])
R = TypeVar("R", bound=Mapping[str, object], covariant=True)


@dataclass(frozen=True)
class Kind(Generic[D, R]):
    """A kind of config item: `name` is its partition key in the config table; `D` the data
    stored, `R` the item read back."""

    name: str


INTEGRATIONS: Kind[IntegrationData, Integration] = Kind("integration")
AUTOMATIONS: Kind[AutomationData, Automation] = Kind("automation")
TEMPLATES: Kind[TemplateData, Template] = Kind("template")
APPLICATIONS: Kind[ApplicationData, Application] = Kind("application")
POLICIES: Kind[PolicyData, Policy] = Kind("policy")
API_KEYS: Kind[ApiKeyData, ApiKey] = Kind("apikey")
OAUTH_PROVIDERS: Kind[OAuthProviderData, OAuthProvider] = Kind("oauth-provider")
