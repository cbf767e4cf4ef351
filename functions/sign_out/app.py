"""POST /auth/logout"""

from ums.http import Request, Response, api_handler
from ums.sessions import sign_out


@api_handler
def handler(request: Request) -> Response:
    sign_out(request.bearer_token())
    return Response(200, {})
