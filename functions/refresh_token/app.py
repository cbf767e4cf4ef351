"""POST /auth/refresh"""

from ums.bodies import Refresh
from ums.http import Request, Response, api_handler
from ums.sessions import refresh


@api_handler
def handler(request: Request) -> Response:
    return Response(200, refresh(Refresh.parse(request.json_object())))
