"""`GET /api/admin/dashboard`: what an operator glances at first (admin or operator role).

It counts rows of three apps (accounts' users, sso's sessions, oauth's clients and tokens) and
shows the newest security events (audit), so it lives here, the highest of them; rbac only
provides the permission class.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from audit import api as audit_api
from audit.models import SecurityEvent
from core import openapi
from rbac import permissions as perms
from rbac.drf import HasPermission, HasRole
from sso.admin_api import subs_of
from sso.models import SSOSession

from .models import AccessToken, Client


def dashboard_counts(*, now=None):
    """The dashboard's numbers (five COUNT queries). `tokens_issued_last_hour` counts access
    tokens still on record: a token revoked within the hour is no longer counted."""
    now = now or timezone.now()
    users = get_user_model().objects
    return {
        "users": users.count(),
        "active_users": users.filter(is_active=True).count(),
        "clients": Client.objects.count(),
        "active_sessions": SSOSession.objects.active(now).count(),
        "tokens_issued_last_hour": AccessToken.objects.filter(created__gte=now - timedelta(hours=1)).count(),
    }


class DashboardSerializer(serializers.Serializer):
    users = serializers.IntegerField()
    active_users = serializers.IntegerField()
    clients = serializers.IntegerField()
    active_sessions = serializers.IntegerField()
    tokens_issued_last_hour = serializers.IntegerField()
    recent_security_events = audit_api.SecurityEventSerializer(many=True)
    generated_at = serializers.DateTimeField()


class DashboardView(APIView):
    # The admin and operator roles, and whoever an operator grants dashboard.view.
    permission_classes = [HasRole(perms.ADMIN, perms.OPERATOR) | HasPermission(perms.DASHBOARD_VIEW)]

    def get_authenticators(self):
        # The access-token class first (its challenge answers a 401), then the browser session.
        return [*(cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES), SessionAuthentication()]

    @extend_schema(
        tags=["admin"],
        summary="The operator's dashboard",
        description="For the `admin` and `operator` roles, and whoever holds `dashboard.view`: a token "
        "needs the `roles` scope.",
        auth=openapi.token_or_session("roles"),
        responses={200: DashboardSerializer, **openapi.errors(*openapi.AUTHENTICATED)},
        examples=[
            OpenApiExample(
                "Dashboard",
                value={
                    "users": 120,
                    "active_users": 118,
                    "clients": 6,
                    "active_sessions": 40,
                    "tokens_issued_last_hour": 310,
                    "recent_security_events": [],
                    "generated_at": "2026-01-31T12:00:00Z",
                },
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request):
        return Response(
            {**dashboard_counts(), "recent_security_events": recent_events(), "generated_at": timezone.now()}
        )


RECENT_EVENTS = 10


def recent_events(*, limit=RECENT_EVENTS):
    """The newest security events (two queries: the events, their users' subs); the audit log
    itself is `GET /api/audit/`."""
    rows = list(SecurityEvent.objects.order_by("-created_at", "-id")[:limit])
    context = {"subs": subs_of(audit_api.user_ids(rows))}
    return audit_api.SecurityEventSerializer(rows, many=True, context=context).data
