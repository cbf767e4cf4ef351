"""GET /management/users/export?cond=&cursor=&limit=&password_hashes= (IAM-signed): a page of users"""

from ums import user_transfer
from ums.http import Request, Response, api_handler


@api_handler
def handler(request: Request) -> Response:
    page = user_transfer.export(request.query)
    return Response(200, page.records, {"X-Next-Cursor": page.next_cursor} if page.next_cursor else {})
