"""PATCH /accounts/customers/{customerId} {token, new_password | password} (X-API-KEY)"""

from ums.errors import BadRequest
from ums.http import Request, Response, api_handler, reject_unknown_fields, required_string
from ums.resets import apply_reset
from ums.server_keys import require_server_key


@api_handler
def handler(request: Request) -> Response:
    require_server_key(request)
    body = request.json_object()
    reject_unknown_fields(body, {"token", "new_password", "password"})
    if "new_password" in body and "password" in body:
        raise BadRequest("Give 'new_password' or 'password', not both")
    token = required_string(body, "token")
    new_password = required_string(body, "new_password" if "new_password" in body else "password")
    return Response(200, apply_reset(token, new_password, customer_id=request.path_parameters.get("customerId")))
