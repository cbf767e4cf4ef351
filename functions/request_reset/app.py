"""POST /ums/resetpassword {email[, application (with X-API-KEY), locale]}"""

from ums.http import Request, Response, api_handler
from ums.resets import request_public_reset


@api_handler
def handler(request: Request) -> Response:
    request_public_reset(request)
    return Response(202, {})
