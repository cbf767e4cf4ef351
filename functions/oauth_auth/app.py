"""POST /oauth/auth"""

from ums.bodies import OAuthCallback
from ums.http import Request, Response, api_handler
from ums.oauth.flow import complete


@api_handler
def handler(request: Request) -> Response:
    return Response(200, complete(OAuthCallback.parse(request.json_object())))
