"""GET /.well-known/openid-configuration and GET /.well-known/jwks.json (public, cacheable)"""

from ums import discovery
from ums.http import Request, Response, api_handler

CACHEABLE = {"Cache-Control": f"public, max-age={discovery.CACHE_SECONDS}"}


@api_handler
def handler(request: Request) -> Response:
    if request.path.endswith(discovery.JWKS_PATH):
        return Response(200, discovery.jwks(), CACHEABLE)
    return Response(200, discovery.openid_configuration(), CACHEABLE)
