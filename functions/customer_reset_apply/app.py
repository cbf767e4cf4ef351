"""PATCH /accounts/customers/{customerId} {token, new_password | password} (X-API-KEY)"""

from ums.bodies import ResetApply
from ums.http import Request, Response, api_handler
from ums.resets import apply_reset
from ums.server_keys import require_server_key


@api_handler
def handler(request: Request) -> Response:
    require_server_key(request)
    customer_id = request.path_parameters.get("customerId")
    return Response(200, apply_reset(ResetApply.parse_customer(request.json_object(), customer_id)))
