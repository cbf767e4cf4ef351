"""POST /ums/resetpassword/{token} {new_password}"""

from ums.http import Request, Response, api_handler, reject_unknown_fields, required_string
from ums.resets import apply_reset


@api_handler
def handler(request: Request) -> Response:
    body = request.json_object()
    reject_unknown_fields(body, {"new_password"})
    new_password = required_string(body, "new_password")
    return Response(200, apply_reset(request.path_parameters.get("token", ""), new_password))
