"""Other apps extend the User admin through accounts.admin's hooks, not by re-registering it."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import RequestFactory

from accounts import admin as accounts_admin
from accounts.models import User


def request_as(user):
    request = RequestFactory().get("/admin/accounts/user/")
    request.user = user
    return request


@pytest.mark.django_db
def test_the_user_admin_is_accounts_own():
    assert type(admin.site._registry[User]) is accounts_admin.UserAdmin


@pytest.mark.django_db
def test_registered_actions_follow_their_permissions(make_user):
    model_admin = admin.site._registry[User]
    viewer = make_user(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    viewer = User.objects.get(pk=viewer.pk)  # a fresh permission cache
    superuser = make_user(username="root", is_staff=True, is_superuser=True)
    assert "log_out_everywhere" in model_admin.get_actions(request_as(superuser))  # sso's, needs "change"
    assert "log_out_everywhere" not in model_admin.get_actions(request_as(viewer))


@pytest.mark.django_db
def test_registered_inlines_are_shown(make_user):
    from sso.admin import SSOSessionInline

    model_admin = admin.site._registry[User]
    superuser = make_user(username="root", is_staff=True, is_superuser=True)
    assert SSOSessionInline in model_admin.get_inlines(request_as(superuser), superuser)


def test_registering_twice_adds_once():
    def probe(modeladmin, request, queryset):
        raise AssertionError("never run")

    accounts_admin.add_user_action(probe)
    accounts_admin.add_user_action(probe)
    try:
        assert accounts_admin._actions.count(probe) == 1
    finally:
        accounts_admin._actions.remove(probe)
