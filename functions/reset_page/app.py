"""GET and POST /pages/reset: the hosted password reset (and invitation) page."""

from ums.http import Request, Response, api_handler
from ums.pages import reset_page


@api_handler
def handler(request: Request) -> Response:
    return reset_page(request)
