"""HasScope, HasRole and HasPermission, alone and combined: 401 with the Bearer challenge for no
or a bad token, 403 insufficient_scope for the wrong scope or role, never swapped. The token is
any object with `scopes` and `claims` (duck-typed: no oauth here)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from rbac import flows
from rbac import permissions as perms
from rbac.drf import HasPermission, HasRole, HasScope

pytestmark = pytest.mark.django_db


class Token:
    def __init__(self, scope="", **claims):
        self.scopes = frozenset(scope.split())
        self.claims = {"scope": scope, **claims}


class BearerOnly(BaseAuthentication):
    """Stands in for the project's access-token class: a token given to the factory, or none.
    A request carrying `Authorization: Bearer bad` is a bad token (401)."""

    def authenticate(self, request):
        if request.META.get("HTTP_AUTHORIZATION") == "Bearer bad":
            raise exceptions.AuthenticationFailed("bad token")
        return None

    def authenticate_header(self, request):
        return 'Bearer realm="identity"'


def call(permission, *, token=None, user=None, bad=False, required_scopes=()):
    class View(APIView):
        authentication_classes = [BearerOnly, SessionAuthentication]
        permission_classes = [permission]

        def get(self, request):
            return Response({"ok": True})

    View.required_scopes = list(required_scopes)
    headers = {"HTTP_AUTHORIZATION": "Bearer bad"} if bad else {}
    request = APIRequestFactory().get("/", **headers)
    if token is not None or user is not None:
        force_authenticate(request, user=user or AnonymousUser(), token=token)
    return View.as_view()(request)


@pytest.fixture(autouse=True)
def _roles():
    flows.seed_default_roles()


def assert_401(response):
    assert response.status_code == 401, response.data
    assert response["WWW-Authenticate"].startswith("Bearer")


def assert_403(response, scope=None):
    assert response.status_code == 403, response.data
    challenge = response["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge
    if scope:
        assert f'scope="{scope}"' in challenge
    assert response.data["error"] == "insufficient_scope"


@pytest.mark.parametrize("permission", [HasScope("read"), HasRole("admin"), HasPermission(perms.CLIENTS_MANAGE)])
def test_no_or_bad_credentials_are_401(permission):
    assert_401(call(permission))
    assert_401(call(permission, bad=True))


def test_has_scope():
    assert call(HasScope("read"), token=Token("read write")).status_code == 200
    assert_403(call(HasScope("read", "write"), token=Token("read")), scope="read write")


def test_has_scope_without_arguments_reads_the_view():
    assert call(HasScope, token=Token("read"), required_scopes=["read"]).status_code == 200
    assert_403(call(HasScope, token=Token("profile"), required_scopes=["read"]), scope="read")


def test_has_role_reads_the_roles_claim():
    assert call(HasRole("operator"), token=Token("roles", roles=["operator"])).status_code == 200
    assert call(HasRole("admin", "operator"), token=Token("roles", roles=["operator"])).status_code == 200
    assert_403(call(HasRole("admin"), token=Token("roles", roles=["operator"])))


def test_a_token_without_the_roles_scope_is_told_to_ask_for_it():
    assert_403(call(HasRole("admin"), token=Token("profile")), scope="roles")
    # A roles claim without the scope (a forged or foreign token) is not trusted either.
    assert_403(call(HasRole("admin"), token=Token("profile", roles=["admin"])), scope="roles")


def test_has_permission_from_the_permissions_claim_or_the_roles():
    assert (
        call(
            HasPermission(perms.CLIENTS_MANAGE), token=Token("permissions", permissions=["clients.manage"])
        ).status_code
        == 200
    )
    assert call(HasPermission(perms.CLIENTS_MANAGE), token=Token("roles", roles=["operator"])).status_code == 200
    assert_403(call(HasPermission(perms.KEYS_MANAGE), token=Token("roles", roles=["operator"])))
    assert_403(call(HasPermission(perms.KEYS_MANAGE), token=Token("profile")), scope="roles")


def test_session_users_are_checked_against_the_database(user):
    assert call(HasRole("operator"), user=user).status_code == 403
    flows.assign_role(user=user, role="operator")
    assert call(HasRole("operator"), user=user).status_code == 200
    assert call(HasPermission(perms.USERS_MANAGE), user=user).status_code == 200
    denied = call(HasPermission(perms.KEYS_MANAGE), user=user)
    assert denied.status_code == 403 and "WWW-Authenticate" not in denied


def test_or_tries_the_other_side_after_a_denial():
    either = HasRole("admin") | HasScope("read")
    assert call(either, token=Token("read")).status_code == 200
    assert call(either, token=Token("roles", roles=["admin"])).status_code == 200
    assert_403(call(either, token=Token("profile")), scope="roles")  # the left side's answer
    assert_401(call(either))


def test_or_with_a_drf_class_on_the_left():
    from rest_framework.permissions import IsAdminUser

    either = IsAdminUser | HasRole("operator")
    assert call(either, token=Token("roles", roles=["operator"])).status_code == 200


def test_and_needs_both():
    both = HasScope("write") & HasRole("operator")
    assert call(both, token=Token("write roles", roles=["operator"])).status_code == 200
    assert_403(call(both, token=Token("roles", roles=["operator"])), scope="write")
    assert_403(call(both, token=Token("write roles", roles=[])))
    chained = (HasScope("write") & HasRole("operator")) | HasRole("admin")
    assert call(chained, token=Token("roles", roles=["admin"])).status_code == 200


def test_not_inverts_a_denial():
    assert call(~HasRole("admin"), token=Token("roles", roles=["user"])).status_code == 200
    assert call(~HasRole("admin"), token=Token("roles", roles=["admin"])).status_code == 403


def test_the_bound_classes_are_named():
    assert HasRole("admin").__name__ == "HasRole('admin')"
    assert HasRole("admin").values == {"admin"}
