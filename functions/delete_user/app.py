"""DELETE /ums/user (body: the password, or none with a recently signed-in token)"""

from ums.accounts import delete_self
from ums.bodies import DeleteSelf
from ums.http import Request, Response, api_handler


@api_handler
def handler(request: Request) -> Response:
    token = request.bearer_token()
    body = request.json_object() if request.raw_body.strip() else None
    return Response(200, delete_self(token, DeleteSelf.parse(body)))
