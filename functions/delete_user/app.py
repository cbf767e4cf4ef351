"""DELETE /ums/user (body: the password)"""

from ums.accounts import delete_self
from ums.bodies import DeleteSelf
from ums.http import Request, Response, api_handler


@api_handler
def handler(request: Request) -> Response:
    token = request.bearer_token()
    return Response(200, delete_self(token, DeleteSelf.parse(request.json_object())))
