"""DRF permission classes for APIs protected by our access tokens."""

from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from .resource import VerifiedAccessToken


class InsufficientScope(exceptions.PermissionDenied):
    def __init__(self, required):
        scope = " ".join(sorted(required))
        super().__init__({"error": "insufficient_scope", "error_description": f"This call needs the scope: {scope}."})
        self.auth_header = f'Bearer realm="identity", error="insufficient_scope", scope="{scope}"'


class HasScope(BasePermission):
    """Requires an access token holding every scope in the view's `required_scopes`.

    Missing or invalid token: 401 (from the authentication class). Token without the scopes:
    403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` (RFC 6750 3.1).
    """

    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, VerifiedAccessToken):
            return False  # DRF answers 401 with the authentication challenge
        required = set(getattr(view, "required_scopes", ()))
        if not required <= token.scopes:
            raise InsufficientScope(required)
        return True
