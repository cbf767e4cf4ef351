"""POST /management/users/reindex?cursor= (IAM-signed): puts the users made before the order
indexes in them, for one request's time; and the UsersIndex custom resource, which
does the same on every deploy for as long as it may."""

from typing import Any

from ums import custom_resource, user_index
from ums.http import Request, Response, api_handler
from ums.observability import logger

DEPLOY_SPARE_SECONDS = 30  # left of the function's time when a deploy's pass stops


@api_handler
def _route(request: Request) -> Response:
    done = user_index.reindex(request.query)
    return Response(200, done.record(), {"X-Next-Cursor": done.next_cursor} if done.next_cursor else {})


@logger.inject_lambda_context(clear_state=True)
def _deploy(event: dict[str, Any], context: Any) -> dict[str, Any]:
    seconds = context.get_remaining_time_in_millis() / 1000 - DEPLOY_SPARE_SECONDS
    return custom_resource.respond(event, context, lambda _: user_index.reindex_for(seconds))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _deploy(event, context) if "RequestType" in event else _route(event, context)
