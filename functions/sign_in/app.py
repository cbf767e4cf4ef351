"""POST /auth"""

from ums.bodies import OAuthCallback, parse_sign_in
from ums.http import Request, Response, api_handler
from ums.sessions import sign_in


@api_handler
def handler(request: Request) -> Response:
    credentials = parse_sign_in(request.json_object())
    if isinstance(credentials, OAuthCallback):
        # Jexia also takes the OAuth callback here. Imported on this path only, so a password
        # sign-in's cold start does not pay for the OAuth client.
        from ums.oauth.flow import complete

        return Response(200, complete(credentials))
    return Response(200, sign_in(credentials, request.source_ip))
