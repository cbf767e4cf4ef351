"""GET /.well-known/openid-configuration, GET /.well-known/jwks.json and GET /openapi.json
(public, cacheable)"""

from ums import discovery
from ums.http import Request, Response, api_handler

CACHEABLE = {"Cache-Control": f"public, max-age={discovery.CACHE_SECONDS}"}


@api_handler
def handler(request: Request) -> Response:
    if request.path.endswith(discovery.JWKS_PATH):
        return Response(200, discovery.jwks(), CACHEABLE)
    if request.path.endswith(discovery.OPENAPI_PATH):
        return Response(200, discovery.contract(), CACHEABLE)
    return Response(200, discovery.openid_configuration(), CACHEABLE)
