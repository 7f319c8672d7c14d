"""`/api/admin/users/`: the operator's user API (list and search, create, disable and enable,
assign and remove roles, log out everywhere), for operators who automate.

Authentication: the project's access tokens (carrying the `roles` scope: the permission
classes read the token's roles) or the browser's session (DRF SessionAuthentication, CSRF
enforced). Permissions (rbac.permissions): reading needs `users.view`, changes `users.manage`,
roles `roles.manage` (the default `operator` role cannot hand out roles, the `admin` role can).
Users are named by `sub` (their subject), never by primary key.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts import flows as accounts
from accounts.serializers import RegistrationSerializer
from audit import api as audit_api
from audit import events
from core import openapi
from rbac import flows as rbac
from rbac import permissions as perms
from rbac.drf import HasPermission, HasRole, caller_permissions
from rbac.models import Role

from . import flows


class AdminUserSerializer(serializers.Serializer):
    sub = serializers.CharField(source="subject")
    username = serializers.CharField()
    email = serializers.EmailField()
    email_verified = serializers.BooleanField()
    is_active = serializers.BooleanField()
    is_staff = serializers.BooleanField()
    roles = serializers.SerializerMethodField()
    date_joined = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True, help_text="Null until the first login.")

    def get_roles(self, user) -> list[str]:
        return sorted(role.name for role in user.roles.all())  # prefetched for lists


class CreateUserSerializer(RegistrationSerializer):
    roles = serializers.ListField(child=serializers.CharField(max_length=64), required=False, default=list)

    def validate_roles(self, roles):
        unknown = set(roles) - set(Role.objects.filter(name__in=roles).values_list("name", flat=True))
        if unknown:
            raise serializers.ValidationError(f"Unknown roles: {', '.join(sorted(unknown))}.")
        return roles


class UserPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AdminUserSerializer(many=True)


class EventPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next (older) page, or null.")
    previous = serializers.URLField(allow_null=True)
    results = audit_api.SecurityEventSerializer(many=True)


USER_EXAMPLE = {
    "sub": "3f0c9a7e-2c1b-4c55-9c43-7d6c1b3f2a10",
    "username": "ada",
    "email": "ada@example.com",
    "email_verified": True,
    "is_active": True,
    "is_staff": False,
    "roles": ["operator"],
    "date_joined": "2026-01-31T12:00:00Z",
    "last_login": "2026-02-01T08:00:00Z",
}
SUB = OpenApiParameter("sub", OpenApiTypes.STR, OpenApiParameter.PATH, description="The user's subject (`sub`).")


def _describe(summary, needs, responses, **kwargs):
    """The OpenAPI description of an admin operation: a token with the `roles` scope (its roles
    must grant `needs`), or a session whose user's roles do."""
    more_errors = kwargs.pop("more_errors", {})
    return extend_schema(
        tags=["admin"],
        summary=summary,
        description=f"Needs {needs}. A token must carry the `roles` scope.",
        auth=openapi.token_or_session("roles"),
        responses={**responses, **openapi.errors(*openapi.AUTHENTICATED), **more_errors},
        **kwargs,
    )


def _user_answer(status_code=200, more=None):
    examples = [OpenApiExample("A user", value=USER_EXAMPLE, response_only=True, status_codes=[str(status_code)])]
    return {status_code: OpenApiResponse(AdminUserSerializer, examples=examples), **(more or {})}


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class AdminAPIView(APIView):
    read_permission = HasPermission(perms.USERS_VIEW)
    write_permission = HasPermission(perms.USERS_MANAGE)

    def get_authenticators(self):
        # The access-token class first (its challenge answers a 401), then the browser session.
        return [*(cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES), SessionAuthentication()]

    def get_permissions(self):
        permission = (
            self.read_permission if self.request.method in ("GET", "HEAD", "OPTIONS") else self.write_permission
        )
        return [permission()]

    def target(self, sub):
        return get_object_or_404(get_user_model(), subject=sub)

    def manageable(self, sub):
        """The user named `sub`, if the caller holds every permission they hold: an operator
        does not disable or log out an administrator (403)."""
        user = self.target(sub)
        missing = rbac.held(user=user)[1] - (caller_permissions(self.request) or frozenset())
        if missing:
            raise PermissionDenied(f"This user holds permissions you do not: {', '.join(sorted(missing))}.")
        return user

    def answer(self, user, status_code=status.HTTP_200_OK):
        user = get_user_model().objects.prefetch_related("roles").get(pk=user.pk)
        return Response(AdminUserSerializer(user).data, status=status_code)


class UserListView(AdminAPIView):
    """`GET /api/admin/users/?q=…&active=true|false&role=…&page=…`: users, paginated, by username.
    `POST /api/admin/users/` {username, email, password, roles?}: create one (201)."""

    @_describe(
        "List and search users",
        "`users.view`",
        {
            200: OpenApiResponse(
                UserPageSerializer,
                examples=[
                    OpenApiExample(
                        "A page",
                        value={"count": 1, "next": None, "previous": None, "results": [USER_EXAMPLE]},
                        response_only=True,
                        status_codes=["200"],
                    )
                ],
            )
        },
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="In the username or email, or a whole `sub`."),
            OpenApiParameter("active", OpenApiTypes.STR, enum=["true", "false"]),
            OpenApiParameter("role", OpenApiTypes.STR, description="Holding this role."),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="Up to 200 (default 50)."),
        ],
        operation_id="admin_users_list",
        more_errors=openapi.errors(404, e404="`Invalid page.`: past the last page, or not a page number."),
    )
    def get(self, request):
        users = get_user_model().objects.prefetch_related("roles").order_by("username")
        if q := request.query_params.get("q", "").strip():
            users = users.filter(Q(username__icontains=q) | Q(email__icontains=q) | Q(subject=q))
        if (active := request.query_params.get("active")) in ("true", "false"):
            users = users.filter(is_active=active == "true")
        if role := request.query_params.get("role"):
            users = users.filter(roles__name=role)
        pages = Pages()
        page = pages.paginate_queryset(users, request, view=self)
        return pages.get_paginated_response(AdminUserSerializer(page, many=True).data)

    @_describe(
        "Create a user",
        "`users.manage` (and `roles.manage` to give roles)",
        {**_user_answer(201), **openapi.errors(400)},
        request=CreateUserSerializer,
        examples=[
            OpenApiExample(
                "New user",
                value={"username": "ada", "email": "ada@example.com", "password": "a long passphrase", "roles": []},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        serializer = CreateUserSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        roles = data.pop("roles")
        if roles and not HasPermission(perms.ROLES_MANAGE)().has_permission(request, self):
            self.permission_denied(request)  # (it raises the 403 itself)
        try:
            with transaction.atomic():
                user = accounts.register_user(**data)
                for role in roles:
                    rbac.assign_role(user=user, role=role)
        except accounts.RegistrationError as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        return self.answer(user, status.HTTP_201_CREATED)


class UserView(AdminAPIView):
    """`GET /api/admin/users/<sub>`: one user."""

    @_describe("One user", "`users.view`", _user_answer(200, openapi.errors(404)), parameters=[SUB])
    def get(self, request, sub):
        return self.answer(self.target(sub))


class UserActiveView(AdminAPIView):
    """`POST /api/admin/users/<sub>/disable` and `/enable`. Disabling ends the user's sessions and
    refuses their tokens. An operator cannot disable themselves (409)."""

    active = True

    @_describe(
        "Disable or enable a user",
        "`users.manage`, and every permission the user holds",
        _user_answer(200, openapi.errors(404, 409, e409="An operator cannot disable their own account.")),
        parameters=[SUB],
        request=None,
    )
    def post(self, request, sub):
        user = self.manageable(sub)
        if not self.active and user.pk == request.user.pk:
            return Response({"detail": "You cannot disable your own account."}, status=status.HTTP_409_CONFLICT)
        accounts.set_active(user=user, active=self.active)
        return self.answer(user)


class UserRoleView(AdminAPIView):
    """`PUT /api/admin/users/<sub>/roles/<name>`: assign the role; `DELETE`: remove it. Needs
    `roles.manage`. Either refuses the user's earlier tokens. 404 for an unknown role."""

    write_permission = HasPermission(perms.ROLES_MANAGE)

    @_describe(
        "Assign a role",
        "`roles.manage`",
        _user_answer(200, openapi.errors(404, e404="No such user or role.")),
        parameters=[SUB, OpenApiParameter("role", OpenApiTypes.STR, OpenApiParameter.PATH, description="A role name.")],
        request=None,
    )
    def put(self, request, sub, role):
        user = self.target(sub)
        try:
            rbac.assign_role(user=user, role=role)
        except rbac.UnknownRole as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
        return self.answer(user)

    @_describe(
        "Remove a role",
        "`roles.manage`",
        _user_answer(200, openapi.errors(404, e404="No such user or role.")),
        parameters=[SUB, OpenApiParameter("role", OpenApiTypes.STR, OpenApiParameter.PATH, description="A role name.")],
    )
    def delete(self, request, sub, role):
        user = self.target(sub)
        try:
            rbac.remove_role(user=user, role=role)
        except rbac.UnknownRole as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
        return self.answer(user)


class UserLogoutView(AdminAPIView):
    """`POST /api/admin/users/<sub>/logout-everywhere`: end every session of the user and refuse
    every token issued to them until now. 204."""

    @_describe(
        "Log a user out everywhere",
        "`users.manage`, and every permission the user holds",
        {204: OpenApiResponse(description="Every session ended."), **openapi.errors(404)},
        parameters=[SUB],
        request=None,
    )
    def post(self, request, sub):
        flows.logout_everywhere(user=self.manageable(sub), why="logged out everywhere by an operator")
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- The audit log ------------------------------------------------------------------------


def subs_of(user_ids):
    """{user id: sub} of the users still there (the audit log keeps ids, not foreign keys)."""
    return dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "subject"))


class AuditEventListView(AdminAPIView):
    """`GET /api/audit/?type=…&user=<sub>&username=…&client=<client_id>&outcome=…&since=…&until=…`:
    security events, newest first, by cursor (`next` / `previous` links; `page_size` up to 200).
    `type` may repeat or be comma-separated; `since` (inclusive) and `until` (exclusive) are ISO
    8601 date-times with an offset. 400 for an unknown type or a malformed time.

    For the `admin` and `auditor` roles, and whoever holds `audit.view` (rbac.permissions). It
    lives here, not in audit (the bottom of the dependency order), because it needs rbac's
    permission classes and the users' `sub` (accounts); audit provides the filters and the
    serializer (audit.api)."""

    read_permission = HasRole(perms.ADMIN, perms.AUDITOR) | HasPermission(perms.AUDIT_VIEW)
    http_method_names = ["get", "head", "options"]

    @extend_schema(
        tags=["audit"],
        summary="The security events",
        description="For the `admin` and `auditor` roles, and whoever holds `audit.view`. A token must "
        "carry the `roles` scope.",
        auth=openapi.token_or_session("roles"),
        parameters=[
            OpenApiParameter(
                "type",
                OpenApiTypes.STR,
                many=True,
                explode=True,
                enum=list(events.DESCRIPTIONS),
                description="Event types (repeat, or comma-separate).",
            ),
            OpenApiParameter("outcome", OpenApiTypes.STR, enum=[value for value, _ in events.OUTCOMES]),
            OpenApiParameter("user", OpenApiTypes.STR, description="Acted by or on this `sub`."),
            OpenApiParameter("username", OpenApiTypes.STR, description="Acted by or on this username."),
            OpenApiParameter("client", OpenApiTypes.STR, description="A client id."),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="Inclusive, with an offset."),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="Exclusive, with an offset."),
            OpenApiParameter("cursor", OpenApiTypes.STR, description="From a `next` or `previous` link."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="Up to 200 (default 50)."),
        ],
        responses={
            200: EventPageSerializer,
            **openapi.errors(
                400,
                *openapi.AUTHENTICATED,
                404,
                e400="An unknown type or a malformed time.",
                e404="`Invalid cursor`: a cursor this API did not give.",
            ),
        },
        examples=[
            OpenApiExample(
                "Events",
                value={
                    "next": None,
                    "previous": None,
                    "results": [
                        {
                            "id": 42,
                            "time": "2026-01-31T12:00:00Z",
                            "type": "login",
                            "outcome": "success",
                            "actor": {"sub": "3f0c9a7e-…", "username": "ada"},
                            "subject": {"sub": "3f0c9a7e-…", "username": "ada"},
                            "client_id": "",
                            "ip_address": "192.0.2.10",
                            "user_agent": "Mozilla/5.0 …",
                            "detail": {},
                        }
                    ],
                },
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request):
        filters = audit_api.EventFilters.parse(request.query_params)
        user_id = None
        if sub := request.query_params.get("user"):
            # An unknown sub matches nothing (not a 404: a deleted user's events stay, by username).
            user_id = get_user_model().objects.filter(subject=sub[:64]).values_list("pk", flat=True).first() or 0
        pages = audit_api.EventPages()
        page = pages.paginate_queryset(audit_api.filtered(filters, user_id=user_id), request, view=self)
        context = {"subs": subs_of(audit_api.user_ids(page))}
        return pages.get_paginated_response(audit_api.SecurityEventSerializer(page, many=True, context=context).data)
