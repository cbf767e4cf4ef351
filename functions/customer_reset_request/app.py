"""POST /notifications/customers/reset?appName=<application> {email | customer_id} (X-API-KEY)"""

from ums.http import Request, Response, api_handler, reject_unknown_fields
from ums.resets import request_reset_for_lookup
from ums.server_keys import require_server_key


@api_handler
def handler(request: Request) -> Response:
    require_server_key(request)
    body = request.json_object()
    reject_unknown_fields(body, {"email", "customer_id"})
    app_name = (request.query.get("appName") or [""])[0].strip() or None
    request_reset_for_lookup(
        {"email": body.get("email"), "user_id": body.get("customer_id"), "application_id": app_name}
    )
    return Response(202, {})
