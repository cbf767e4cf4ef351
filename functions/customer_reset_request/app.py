"""POST /notifications/customers/reset?appName=<application> {email | customer_id} (X-API-KEY)"""

from ums.bodies import ResetLookup
from ums.http import Request, Response, api_handler
from ums.resets import request_reset_for_lookup
from ums.server_keys import require_server_key


@api_handler
def handler(request: Request) -> Response:
    require_server_key(request)
    app_name = (request.query.get("appName") or [""])[0].strip() or None
    request_reset_for_lookup(ResetLookup.parse_customer(request.json_object(), app_name))
    return Response(202, {})
