"""`/api/sessions/`: the caller's SSO sessions as JSON.

Authentication: DRF's default authenticators (the project's access-token class, configured in
settings) — an access token must carry the `profile` scope, else 403 `insufficient_scope` with
its `WWW-Authenticate` challenge — or the browser's session cookie (DRF SessionAuthentication,
which enforces CSRF on unsafe methods). No credentials: 401 with the Bearer challenge. The
verified token is read duck-typed (core.permissions): sso imports nothing of oauth.
"""

from django.contrib.auth import get_user_model
from django.http import Http404
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from core.permissions import HasScopeOrSession

from . import flows
from .models import SSOSession

REQUIRED_SCOPE = "profile"


class IsUserWithScope(HasScopeOrSession):
    """A person (not a client acting for itself); a token must carry the view's required_scopes."""

    def has_permission(self, request, view):
        return isinstance(request.user, get_user_model()) and super().has_permission(request, view)


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
    required_scopes = [REQUIRED_SCOPE]

    def get_authenticators(self):
        # The project's default authenticators (the access-token class first: its challenge
        # answers a 401), then the browser's session.
        return [*(cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES), SessionAuthentication()]

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
