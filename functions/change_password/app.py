"""POST /ums/changepassword"""

from ums.accounts import change_password
from ums.bodies import ChangePassword
from ums.http import Request, Response, api_handler


@api_handler
def handler(request: Request) -> Response:
    token = request.bearer_token()
    return Response(200, change_password(token, ChangePassword.parse(request.json_object())))
