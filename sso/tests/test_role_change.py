"""A role change (group or permission membership) refuses every earlier token of the user."""

import pytest
from django.contrib.auth.models import Group, Permission

from conftest import bearer
from sso.models import UserNotBefore

from .conftest import is_logged_in, log_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def group():
    return Group.objects.create(name="editors")


def _me(client, token):
    return client.get("/api/me", **bearer(token)).status_code


def test_adding_a_group_refuses_earlier_tokens_but_keeps_the_session(
    flow, client, user, group, django_capture_on_commit_callbacks
):
    token = flow.tokens()["access_token"]
    browser = log_in(user)
    assert _me(client, token) == 200
    with django_capture_on_commit_callbacks(execute=True):
        user.groups.add(group)
    assert _me(client, token) == 401
    assert is_logged_in(browser)


@pytest.mark.parametrize("change", ["remove", "clear"])
def test_removing_groups_refuses_earlier_tokens(flow, client, user, group, change, django_capture_on_commit_callbacks):
    user.groups.add(group)
    UserNotBefore.objects.filter(user=user).delete()
    token = flow.tokens()["access_token"]
    with django_capture_on_commit_callbacks(execute=True):
        if change == "remove":
            user.groups.remove(group)
        else:
            user.groups.clear()
    assert _me(client, token) == 401


def test_a_change_from_the_group_side_reaches_its_users(
    flow, client, user, make_user, group, django_capture_on_commit_callbacks
):
    token = flow.tokens()["access_token"]
    bystander = make_user()
    with django_capture_on_commit_callbacks(execute=True):
        group.user_set.add(user)
    assert _me(client, token) == 401
    assert UserNotBefore.objects.filter(user=user).exists()
    assert not UserNotBefore.objects.filter(user=bystander).exists()


def test_a_permission_change_refuses_earlier_tokens(flow, client, user, django_capture_on_commit_callbacks):
    token = flow.tokens()["access_token"]
    with django_capture_on_commit_callbacks(execute=True):
        user.user_permissions.add(Permission.objects.first())
    assert _me(client, token) == 401


def test_an_unrelated_user_keeps_working_tokens(flow, client, make_user, group, django_capture_on_commit_callbacks):
    token = flow.tokens()["access_token"]
    with django_capture_on_commit_callbacks(execute=True):
        make_user().groups.add(group)
    assert _me(client, token) == 200


def test_clearing_a_group_reaches_its_former_users(flow, client, user, group, django_capture_on_commit_callbacks):
    user.groups.add(group)
    UserNotBefore.objects.filter(user=user).delete()
    token = flow.tokens()["access_token"]
    with django_capture_on_commit_callbacks(execute=True):
        group.user_set.clear()
    assert _me(client, token) == 401
