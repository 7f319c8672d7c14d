"""DRF permission classes that read a verified access token, whoever verified it.

The protocol (duck-typed, so that a permission can live in any app without importing the one
that verifies tokens): after authentication, `request.auth` is either
- a verified access token: an object with `scopes` (a set of scope strings) and `claims` (the
  token's claims, a dict) — oauth.resource.VerifiedAccessToken is one; or
- anything else (None, or a session login's credential), which has no `scopes`.
"""

from rest_framework import exceptions
from rest_framework.permissions import BasePermission


def token_scopes(request):
    """The scopes of the verified access token `request` was authenticated with, or None when
    it was not authenticated with an access token."""
    scopes = getattr(request.auth, "scopes", None)
    return None if scopes is None else frozenset(scopes)


class InsufficientScope(exceptions.PermissionDenied):
    """403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` (RFC 6750 3.1)."""

    def __init__(self, required):
        scope = " ".join(sorted(required))
        super().__init__({"error": "insufficient_scope", "error_description": f"This call needs the scope: {scope}."})
        self.auth_header = f'Bearer realm="identity", error="insufficient_scope", scope="{scope}"'


class HasScope(BasePermission):
    """Requires an access token holding every scope in the view's `required_scopes`.

    Missing or invalid token: 401 (from the authentication class). Token without the scopes:
    403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` (RFC 6750 3.1).
    A session login (no token) is refused unless `allow_session` is set, as in
    HasScopeOrSession: a browser's own session is not limited by scopes.
    """

    allow_session = False

    def has_permission(self, request, view):
        scopes = token_scopes(request)
        if scopes is None:
            # No token: DRF answers 401 with the authentication challenge.
            return self.allow_session and bool(request.user and request.user.is_authenticated)
        required = set(getattr(view, "required_scopes", ()))
        if not required <= scopes:
            raise InsufficientScope(required)
        return True


class HasScopeOrSession(HasScope):
    """HasScope, or the browser's session cookie (DRF SessionAuthentication, which enforces CSRF)."""

    allow_session = True
