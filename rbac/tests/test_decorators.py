"""role_required: anonymous → the login page and back; logged in without the role → 403."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory

from rbac import flows
from rbac.decorators import role_required

pytestmark = pytest.mark.django_db


@role_required("admin", "operator")
def console(request):
    return HttpResponse("console")


def get(user):
    request = RequestFactory().get("/console/?tab=users")
    request.user = user
    return console(request)


def test_anonymous_goes_to_the_login_page_and_back():
    response = get(AnonymousUser())
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/console/%3Ftab%3Dusers"


def test_a_user_without_the_role_is_refused(user):
    flows.seed_default_roles()
    flows.assign_role(user=user, role="auditor")
    with pytest.raises(PermissionDenied):
        get(user)


def test_any_of_the_roles_lets_in(user):
    flows.seed_default_roles()
    flows.assign_role(user=user, role="operator")
    assert get(user).content == b"console"


def test_it_needs_a_role_name():
    with pytest.raises(TypeError):
        role_required()
