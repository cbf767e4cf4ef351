"""POST /ums/verify {email}"""

from ums.bodies import VerifyRequest
from ums.http import Request, Response, api_handler
from ums.verification import request_verification


@api_handler
def handler(request: Request) -> Response:
    request_verification(VerifyRequest.parse(request.json_object()))
    return Response(202, {})
