"""A role change (rbac.signals.roles_changed) refuses every earlier token of the user; Django's
groups and model permissions (the admin's) are not in tokens and leave them alone."""

import pytest
from django.contrib.auth.models import Group

from conftest import bearer
from rbac import flows as rbac
from rbac.models import Permission, Role
from sso.models import UserNotBefore

from .conftest import is_logged_in, log_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the change's commit callbacks (they update the Redis fast path), as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def role():
    return Role.objects.create(name="editor")


def _me(client, token):
    return client.get("/api/me", **bearer(token)).status_code


def test_assigning_a_role_refuses_earlier_tokens_but_keeps_the_session(flow, client, user, role, committed):
    token = flow.tokens()["access_token"]
    browser = log_in(user)
    assert _me(client, token) == 200  # (the fast path now knows the user's not-before)
    with committed():
        rbac.assign_role(user=user, role="editor")
    assert _me(client, token) == 401
    assert is_logged_in(browser)


@pytest.mark.parametrize("change", ["flow", "remove", "clear", "role-side-clear", "delete-role"])
def test_removing_roles_refuses_earlier_tokens(flow, client, user, role, change):
    rbac.assign_role(user=user, role="editor")
    UserNotBefore.objects.filter(user=user).delete()
    token = flow.tokens()["access_token"]
    if change == "flow":
        assert rbac.remove_role(user=user, role="editor")
    elif change == "remove":
        user.roles.remove(role)
    elif change == "clear":
        user.roles.clear()
    elif change == "role-side-clear":
        role.users.clear()
    else:
        role.delete()
    assert _me(client, token) == 401


def test_a_change_from_the_role_side_reaches_its_users_only(flow, client, user, make_user, role):
    token = flow.tokens()["access_token"]
    bystander = make_user()
    role.users.add(user)
    assert _me(client, token) == 401
    assert UserNotBefore.objects.filter(user=user).exists()
    assert not UserNotBefore.objects.filter(user=bystander).exists()


@pytest.mark.parametrize("side", ["role", "permission", "delete-permission"])
def test_a_change_of_what_a_role_grants_reaches_its_holders(flow, client, user, make_user, role, side):
    rbac.assign_role(user=user, role="editor")
    UserNotBefore.objects.filter(user=user).delete()
    bystander = make_user()
    permission = Permission.objects.create(codename="pages.edit")
    token = flow.tokens()["access_token"]
    if side == "role":
        role.permissions.add(permission)
    elif side == "permission":
        permission.roles.add(role)
    else:
        role.permissions.add(permission)
        UserNotBefore.objects.filter(user=user).delete()
        token = flow.tokens()["access_token"]
        permission.delete()
    assert _me(client, token) == 401
    assert not UserNotBefore.objects.filter(user=bystander).exists()


def test_an_unrelated_user_keeps_working_tokens(flow, client, make_user, role):
    token = flow.tokens()["access_token"]
    rbac.assign_role(user=make_user(), role="editor")
    assert _me(client, token) == 200


def test_deleting_a_user_with_roles_works(user, role):
    rbac.assign_role(user=user, role="editor")
    user.delete()
    assert not role.assignments.exists()


def test_django_groups_are_not_roles(flow, client, user):
    token = flow.tokens()["access_token"]
    user.groups.add(Group.objects.create(name="admin-page-editors"))
    assert _me(client, token) == 200


def test_a_rolled_back_assignment_moves_nothing(user, role):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        rbac.assign_role(user=user, role="editor")
        raise RuntimeError
    assert not UserNotBefore.objects.filter(user=user).exists()
    assert not user.roles.exists()
