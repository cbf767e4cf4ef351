"""GET /oauth/init"""

from ums.bodies import OAuthInit
from ums.http import Request, Response, api_handler
from ums.oauth.flow import start


@api_handler
def handler(request: Request) -> Response:
    return Response(200, start(OAuthInit.parse(request.query)))
