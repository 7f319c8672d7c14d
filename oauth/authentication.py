"""DRF authentication for APIs protected by our access tokens."""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from .resource import BearerError, authenticate_bearer


class ClientPrincipal:
    """`request.user` for a client-credentials token: the client acting for itself."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, client):
        self.client = client
        self.pk = None

    def __str__(self):
        return f"client:{self.client.client_id}"


def _quoted(value):
    # error_description must not carry quotes, backslashes or line breaks (RFC 6750 3).
    return "".join(c for c in value if c not in '"\\\r\n')


class JWTAccessTokenAuthentication(BaseAuthentication):
    """RFC 6750 Bearer authentication with our RS256 JWT access tokens (RFC 9068).

    Request: `Authorization: Bearer <access token>` (tokens in the query string or form body
    are not accepted: RFC 9700 2.3). The token is verified offline against the JWKS key named
    by its `kid` and checked for revocation.
    - no credentials: 401, `WWW-Authenticate: Bearer realm="identity"`;
    - a bad, expired or revoked token: 401, `WWW-Authenticate: Bearer realm="identity",
      error="invalid_token", error_description="…"`.
    On success `request.user` is the user (or a ClientPrincipal for client-credentials tokens)
    and `request.auth` the VerifiedAccessToken.
    """

    realm = "identity"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        try:
            verified = authenticate_bearer(token.strip())
        except BearerError as exc:
            request._bearer_error = exc
            raise exceptions.AuthenticationFailed({"error": exc.error, "error_description": exc.description}) from exc
        user = verified.user if verified.user is not None else ClientPrincipal(verified.client)
        return user, verified

    def authenticate_header(self, request):
        error = getattr(request, "_bearer_error", None)
        if error is None:
            return f'Bearer realm="{self.realm}"'
        return f'Bearer realm="{self.realm}", error="{error.error}", error_description="{_quoted(error.description)}"'
