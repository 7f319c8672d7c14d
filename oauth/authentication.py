"""DRF authentication for APIs protected by our access tokens."""

import functools

from django.utils.functional import SimpleLazyObject
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


def _principal(verified):
    """`request.user`, loaded only when a view or permission looks at it (the token check
    itself needs no SQL). A user disabled since the check is refused then (401)."""
    if verified.is_client_token:
        return ClientPrincipal(verified.client)
    try:
        return verified.user
    except BearerError as exc:
        raise exceptions.AuthenticationFailed({"error": exc.error, "error_description": exc.description}) from exc


REALM = "identity"


def _quoted(value):
    # error_description must not carry quotes, backslashes or line breaks (RFC 6750 3).
    return "".join(c for c in value if c not in '"\\\r\n')


def bearer_challenge(error=None, description=None):
    """The RFC 6750 3 `WWW-Authenticate` value; no error code when no token was sent."""
    if error is None:
        return f'Bearer realm="{REALM}"'
    challenge = f'Bearer realm="{REALM}", error="{error}"'
    if description:
        challenge += f', error_description="{_quoted(description)}"'
    return challenge


class JWTAccessTokenAuthentication(BaseAuthentication):
    """RFC 6750 Bearer authentication with our RS256 JWT access tokens (RFC 9068).

    Request: `Authorization: Bearer <access token>` (tokens in the query string or form body
    are not accepted: RFC 9700 2.3). The token is verified offline against the JWKS key named
    by its `kid` and checked for revocation.
    - no credentials: 401, `WWW-Authenticate: Bearer realm="identity"`;
    - a bad, expired or revoked token: 401, `WWW-Authenticate: Bearer realm="identity",
      error="invalid_token", error_description="…"`.
    On success `request.user` is the user (or a ClientPrincipal for client-credentials tokens),
    loaded lazily, and `request.auth` the VerifiedAccessToken.
    """

    realm = REALM

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
        return SimpleLazyObject(functools.partial(_principal, verified)), verified

    def authenticate_header(self, request):
        error = getattr(request, "_bearer_error", None)
        if error is None:
            return bearer_challenge()
        return bearer_challenge(error.error, error.description)
