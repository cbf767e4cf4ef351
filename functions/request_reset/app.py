"""POST /ums/resetpassword {email[, application (with X-API-KEY), locale]}"""

from ums.bodies import ResetRequest
from ums.http import Request, Response, api_handler
from ums.resets import request_public_reset
from ums.server_keys import require_server_key


@api_handler
def handler(request: Request) -> Response:
    body = ResetRequest.parse(request.json_object())
    presents_key = bool(request.headers.get("x-api-key", "").strip())
    request_public_reset(body, (lambda: require_server_key(request)) if presents_key else None)
    return Response(202, {})
