"""`/api/sessions/`: the caller's SSO sessions as JSON.

Authentication: an access token (`Authorization: Bearer`, our JWT class, the project default)
carrying the `profile` scope, or the browser's session cookie (DRF SessionAuthentication, which
enforces CSRF on unsafe methods). No credentials: 401 with the Bearer challenge.
"""

from django.contrib.auth import get_user_model
from django.http import Http404
from django.utils.module_loading import import_string
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from . import flows
from .models import SSOSession

# Named, never imported at module level: sso sits below oauth (DESIGN.md).
BEARER_AUTHENTICATION = "oauth.authentication.JWTAccessTokenAuthentication"
REQUIRED_SCOPE = "profile"


class IsUserWithScope(BasePermission):
    """A person (not a client acting for itself); a token must carry REQUIRED_SCOPE."""

    def has_permission(self, request, view):
        if not isinstance(request.user, get_user_model()):
            return False
        scopes = getattr(request.auth, "scopes", None)
        if scopes is not None and REQUIRED_SCOPE not in scopes:
            raise exceptions.PermissionDenied(
                {"error": "insufficient_scope", "error_description": f"This call needs the scope: {REQUIRED_SCOPE}."}
            )
        return True


class SessionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    current = serializers.SerializerMethodField()

    class Meta:
        model = SSOSession
        fields = ["id", "current", "user_agent", "ip", "created_at", "last_seen_at", "expires_at", "amr"]

    def get_current(self, session):
        return session.sid == self.context.get("current_sid")


class SessionsAPIView(APIView):
    permission_classes = [IsUserWithScope]

    def get_authenticators(self):
        return [import_string(BEARER_AUTHENTICATION)(), SessionAuthentication()]

    def current_sid(self, request):
        """The sid of the session the caller speaks for: the token's `sid` claim, or the cookie's."""
        claims = getattr(request.auth, "claims", None)
        if isinstance(claims, dict):
            return claims.get("sid")
        if isinstance(request.successful_authenticator, SessionAuthentication):
            return flows.current_sid(request._request)
        return None


class SessionListView(SessionsAPIView):
    """`GET /api/sessions/`: the caller's active sessions, the current one marked."""

    def get(self, request):
        context = {"current_sid": self.current_sid(request)}
        return Response(SessionSerializer(flows.list_sessions(user=request.user), many=True, context=context).data)


class SessionView(SessionsAPIView):
    """`DELETE /api/sessions/<id>`: end one of the caller's sessions. 204; 404 if not theirs."""

    def delete(self, request, public_id):
        try:
            flows.end_session(user=request.user, session_id=public_id)
        except SSOSession.DoesNotExist:
            raise Http404 from None
        return Response(status=204)


class LogoutAllView(SessionsAPIView):
    """`POST /api/sessions/logout-all`: end every session of the caller and refuse every token
    issued to them until now (this one included). 204."""

    def post(self, request):
        flows.logout_everywhere(user=request.user)
        return Response(status=204)
