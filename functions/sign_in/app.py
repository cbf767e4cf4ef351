"""POST /auth"""

from ums.bodies import parse_sign_in
from ums.http import Request, Response, api_handler
from ums.sessions import sign_in


@api_handler
def handler(request: Request) -> Response:
    return Response(200, sign_in(parse_sign_in(request.json_object()), request.source_ip))
