"""The management API (`ANY /management/{proxy+}`): events (read only), integrations,
automations, templates, applications, policies, API keys, OAuth providers, the access-token
signing keys, the outbox (and sending a failed mail again) and the failure queue.

Powertools' `APIGatewayHttpResolver` routes; each kind is one router in its own module, with its
validation (items are checked when saved, so nothing fails later when mail is due). The resolver
only routes: `ums.http.api_handler` stays the one place where errors become answers (Jexia's
error array, the request id) and where the body is serialized.
"""

from __future__ import annotations

from typing import Any, NoReturn
from urllib.parse import quote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ums.errors import MethodNotAllowed, NotFound
from ums.http import Request, Response
from ums.management import (
    applications,
    automations,
    events,
    failures,
    integrations,
    keys,
    oauth_providers,
    outbox,
    policies,
    signing_keys,
    templates,
)

PREFIX = "/management"
ROUTERS: dict[str, APIGatewayHttpRouter] = {
    "events": events.router,
    "integrations": integrations.router,
    "automations": automations.router,
    "templates": templates.router,
    "applications": applications.router,
    "policies": policies.router,
    "keys": keys.router,
    "oauth-providers": oauth_providers.router,
    "signing-keys": signing_keys.router,
    "outbox": outbox.router,
    "failures": failures.router,
}
# What a path segment may hold as the resolver matches it: RFC 3986's pchar, '%' included.
_SEGMENT_SAFE = "!$&'()*+,;=:@%"


def _as_is(body: Any) -> Any:
    return body  # `Response.to_api_gateway` serializes


app = APIGatewayHttpResolver(serializer=_as_is)
for _name, _router in ROUTERS.items():
    app.include_router(_router, prefix=f"{PREFIX}/{_name}")


def _to_api_handler(error: Exception) -> NoReturn:
    # Handled here, the resolver would log every 4xx as an unhandled exception first.
    raise error


# Registered by a call, not as a decorator: Powertools' `exception_handler` is unannotated, and as a
# decorator it would make `_to_api_handler` untyped (mypy --strict's untyped-decorator).
app.exception_handler(Exception)(_to_api_handler)


@app.not_found
def _no_route(_: NotFoundError) -> NoReturn:
    method, path = app.current_event.http_method, app.current_event.path
    if _served(path.split("/")[2:]):
        raise MethodNotAllowed(f"{method} is not supported on {path}")
    raise NotFound(f"No management resource '{path}'; try {', '.join(ROUTERS)}")


def _served(segments: list[str]) -> bool:
    """Whether a route serves these segments (after /management/) with some method."""
    match segments:
        case ["events"]:
            return True
        case ["integrations", _, "test"] | ["outbox", _, "redrive"] | ["signing-keys"] | ["signing-keys", "rotate"]:
            return True
        case ["failures"] | ["failures", "redrive"] | ["users", "import"] | ["users", "export"]:
            return True  # (the users' routes have functions of their own, for their other method)
        case ["signing-keys", *_] | ["failures", *_]:
            return False
        case [kind] | [kind, _]:
            return kind in ROUTERS and kind != "events"
    return False


def handle(request: Request) -> Response:
    """Routes `request` on its path (`rawPath`), given to the resolver normalized: empty segments
    dropped (`/management/integrations/` is `/management/integrations`, as it always was), each
    segment percent-encoded as a URL carries it (the resolver's `<id>` matches nothing else)."""
    segments = [quote(s, safe=_SEGMENT_SAFE, errors="surrogatepass") for s in request.path.split("/") if s]
    path = "/" + "/".join(segments)
    # The HTTP API has only the $default stage: rawPath carries no stage name to strip.
    event = {"rawPath": path, "requestContext": {"stage": "$default", "http": {"method": request.method, "path": path}}}
    app.append_context(request=request)  # for `common.body`; the resolver clears it after each call
    result = app.resolve(event, None)  # type: ignore[arg-type]  # no Lambda context: nothing reads it
    return Response(result["statusCode"], result["body"])
