"""ANY /management/{proxy+}: the management API (IAM-protected in AWS)."""

from ums import management
from ums.http import Request, Response, api_handler


@api_handler
def handler(request: Request) -> Response:
    return management.handle(request)
