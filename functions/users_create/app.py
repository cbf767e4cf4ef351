"""POST /ums/users {email[, password], ...} (Bearer + a policy allowing create): without a password, an invitation"""

from ums import user_admin
from ums.bodies import UserCreate
from ums.http import Request, Response, api_handler
from ums.sessions import authenticate_subject


@api_handler
def handler(request: Request) -> Response:
    subject = authenticate_subject(request.bearer_token())
    return Response(201, user_admin.create(subject, UserCreate.parse(request.json_object())))
