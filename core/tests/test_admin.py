from django.contrib import admin
from django.test import RequestFactory

from accounts.models import User
from core.admin import ReadOnlyAdminMixin


class _Base:
    def has_delete_permission(self, request, obj=None):
        return True  # what ModelAdmin answers a superuser


class ReadOnly(ReadOnlyAdminMixin, _Base):
    pass


class Deletable(ReadOnlyAdminMixin, _Base):
    allow_delete = True


def test_read_only_refuses_add_change_and_delete():
    request = RequestFactory().get("/")
    assert not ReadOnly().has_add_permission(request)
    assert not ReadOnly().has_change_permission(request)
    assert not ReadOnly().has_delete_permission(request)


def test_allow_delete_defers_to_the_admin_below():
    request = RequestFactory().get("/")
    assert Deletable().has_delete_permission(request)
    assert not Deletable().has_change_permission(request)


def test_every_registered_read_only_admin_refuses_edits():
    request = RequestFactory().get("/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    read_only = [a for a in admin.site._registry.values() if isinstance(a, ReadOnlyAdminMixin)]
    assert len(read_only) >= 4  # signing keys, back-channel logouts, consents, SSO sessions, ...
    for model_admin in read_only:
        assert not model_admin.has_add_permission(request), model_admin
        assert not model_admin.has_change_permission(request), model_admin
        assert model_admin.has_delete_permission(request) == model_admin.allow_delete, model_admin
