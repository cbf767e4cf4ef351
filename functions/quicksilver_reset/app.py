"""POST /user/password: Quicksilver's suggested API (X-API-KEY)."""

from ums.bodies import ResetLookup
from ums.http import Request, Response, api_handler
from ums.resets import request_reset_for_lookup
from ums.server_keys import require_server_key


@api_handler
def handler(request: Request) -> Response:
    require_server_key(request)
    request_reset_for_lookup(ResetLookup.parse(request.json_object()))
    return Response(202, {})
