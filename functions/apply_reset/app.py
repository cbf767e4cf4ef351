"""POST /ums/resetpassword/{token} {new_password}"""

from ums.bodies import ResetApply
from ums.http import Request, Response, api_handler
from ums.resets import apply_reset


@api_handler
def handler(request: Request) -> Response:
    token = request.path_parameters.get("token", "")
    return Response(200, apply_reset(ResetApply.parse(request.json_object(), token)))
