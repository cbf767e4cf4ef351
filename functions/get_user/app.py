"""GET /ums/user"""

from ums.accounts import current_user
from ums.http import Request, Response, api_handler


@api_handler
def handler(request: Request) -> Response:
    return Response(200, current_user(request.bearer_token()))
