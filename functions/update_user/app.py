"""PATCH /ums/user {field: value | null, ...}"""

from ums.accounts import update_own
from ums.bodies import OwnChanges
from ums.http import Request, Response, api_handler


@api_handler
def handler(request: Request) -> Response:
    return Response(200, update_own(request.bearer_token(), OwnChanges.parse(request.json_object())))
