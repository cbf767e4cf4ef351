"""PATCH /ums/users?cond= with a partial user (Bearer + a policy allowing update)"""

from ums import user_admin
from ums.bodies import UserChanges
from ums.http import Request, Response, api_handler
from ums.sessions import authenticate_subject


@api_handler
def handler(request: Request) -> Response:
    subject = authenticate_subject(request.bearer_token())
    return Response(200, user_admin.update(subject, request.query, UserChanges.parse(request.json_object())))
