"""`/api/sessions/`: the caller's SSO sessions as JSON.

Authentication: DRF's default authenticators (the project's access-token class, configured in
settings) — an access token must carry the `profile` scope, else 403 `insufficient_scope` with
its `WWW-Authenticate` challenge — or the browser's session cookie (DRF SessionAuthentication,
which enforces CSRF on unsafe methods). No credentials: 401 with the Bearer challenge. The
verified token is read duck-typed (core.permissions): sso imports nothing of oauth.
"""

from django.contrib.auth import get_user_model
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from core import openapi
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

    def get_current(self, session) -> bool:
        return session.sid == self.context.get("current_sid")


def _describe(summary, responses, **kwargs):
    """The OpenAPI description of a sessions operation: a `profile` token or the session."""
    return extend_schema(
        tags=["sessions"],
        summary=summary,
        auth=openapi.token_or_session(REQUIRED_SCOPE),
        responses={**responses, **openapi.errors(*openapi.AUTHENTICATED)},
        **kwargs,
    )


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

    @_describe(
        "The caller's active sessions",
        {200: SessionSerializer(many=True)},
        examples=[
            OpenApiExample(
                "Sessions",
                value=[
                    {
                        "id": "0b7e7f0e-8d7a-4a8e-a9a5-1f4c2b9d6e11",
                        "current": True,
                        "user_agent": "Mozilla/5.0 …",
                        "ip": "192.0.2.10",
                        "created_at": "2026-01-31T09:00:00Z",
                        "last_seen_at": "2026-01-31T12:00:00Z",
                        "expires_at": "2026-02-14T09:00:00Z",
                        "amr": ["pwd", "otp"],
                    }
                ],
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request):
        context = {"current_sid": self.current_sid(request)}
        return Response(SessionSerializer(flows.list_sessions(user=request.user), many=True, context=context).data)


class SessionView(SessionsAPIView):
    """`DELETE /api/sessions/<id>`: end one of the caller's sessions. 204; 404 if not theirs."""

    @_describe(
        "End one of the caller's sessions",
        {
            204: OpenApiResponse(description="Ended."),
            **openapi.errors(404, e404="No active session of the caller has this id."),
        },
    )
    def delete(self, request, public_id):
        try:
            flows.end_session(user=request.user, session_id=public_id)
        except SSOSession.DoesNotExist:
            raise Http404 from None
        return Response(status=204)


class LogoutAllView(SessionsAPIView):
    """`POST /api/sessions/logout-all`: end every session of the caller and refuse every token
    issued to them until now (this one included). 204."""

    @_describe("Log out everywhere", {204: OpenApiResponse(description="Every session ended.")}, request=None)
    def post(self, request):
        flows.logout_everywhere(user=request.user)
        return Response(status=204)
