"""POST /ums/verify/{token}"""

from ums.http import Request, Response, api_handler
from ums.verification import verify


@api_handler
def handler(request: Request) -> Response:
    return Response(200, verify(request.path_parameters.get("token", "")))
