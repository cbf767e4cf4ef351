"""GET and POST /pages/verify: the hosted email verification page."""

from ums.http import Request, Response, api_handler
from ums.pages import verify_page


@api_handler
def handler(request: Request) -> Response:
    return verify_page(request)
