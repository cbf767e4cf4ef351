"""POST /ums/signup"""

from ums.accounts import sign_up
from ums.bodies import SignUp
from ums.http import Request, Response, api_handler


@api_handler
def handler(request: Request) -> Response:
    return Response(201, sign_up(SignUp.parse(request.json_object())))
