"""POST /management/users/import (IAM-signed, as all of /management): a batch of up to 100 users"""

from ums import user_transfer
from ums.http import Request, Response, api_handler
from ums.user_transfer import ImportBatch


@api_handler
def handler(request: Request) -> Response:
    return Response(200, user_transfer.import_users(ImportBatch.parse(request.json_object())))
