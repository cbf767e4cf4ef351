"""POST /ums/resetpassword {email[, application, locale]}"""

from ums.http import Request, Response, api_handler, optional_string, reject_unknown_fields
from ums.resets import request_reset
from ums.store.users import find_by_email
from ums.users import email_key, normalize_email


@api_handler
def handler(request: Request) -> Response:
    body = request.json_object()
    reject_unknown_fields(body, {"email", "application", "locale"})
    email = normalize_email(body.get("email"))
    request_reset(
        find_by_email(email_key(email)),
        email,
        application=optional_string(body, "application"),
        locale=optional_string(body, "locale"),
    )
    return Response(202, {})
