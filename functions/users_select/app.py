"""GET /ums/users?cond=&outputs=&range=&order=&cursor= (Bearer + a policy allowing read)"""

from ums import user_admin
from ums.http import Request, Response, api_handler
from ums.sessions import authenticate_subject


@api_handler
def handler(request: Request) -> Response:
    subject = authenticate_subject(request.bearer_token())
    selected = user_admin.select(subject, request.query)
    more = {"X-Next-Cursor": selected.next_cursor} if selected.next_cursor else {}
    return Response(200, selected.records, more)
