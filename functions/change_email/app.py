"""POST /ums/user/email {new_email[, password]}"""

from ums.accounts import request_email_change
from ums.bodies import EmailChange
from ums.http import Request, Response, api_handler


@api_handler
def handler(request: Request) -> Response:
    token = request.bearer_token()
    request_email_change(token, EmailChange.parse(request.json_object()))
    return Response(202, {})
