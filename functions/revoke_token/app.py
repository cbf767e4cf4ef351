"""POST /auth/revoke {token[, token_type_hint]}"""

from ums.bodies import RevokeToken
from ums.http import Request, Response, api_handler
from ums.sessions import revoke_token


@api_handler
def handler(request: Request) -> Response:
    revoke_token(RevokeToken.parse(request.json_object()))
    return Response(200, {})
