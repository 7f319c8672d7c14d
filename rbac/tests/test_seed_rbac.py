"""seed_rbac: the default roles, and the first administrator; twice gives the same state."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from rbac.models import Permission, Role, RoleAssignment

pytestmark = pytest.mark.django_db
PASSWORD = "a long enough admin passphrase"
ADMIN = ["--admin-username", "root", "--admin-email", "root@example.com"]


def seed(*args):
    out = StringIO()
    call_command("seed_rbac", *args, stdout=out)
    return out.getvalue()


def state():
    User = get_user_model()
    return (
        sorted(Role.objects.values_list("name", "description")),
        sorted(Permission.objects.values_list("codename", "description")),
        sorted(Role.permissions.through.objects.values_list("role__name", "permission__codename")),
        sorted(RoleAssignment.objects.values_list("user__username", "role__name")),
        sorted(User.objects.values_list("username", "email", "password", "is_staff", "is_superuser", "is_active")),
    )


def test_default_roles_twice_same_state():
    assert "created role admin" in seed()
    before = state()
    assert "Nothing to do" in seed()
    assert state() == before


def test_the_first_admin(monkeypatch):
    monkeypatch.setenv("SEED_ADMIN_PASSWORD", PASSWORD)
    output = seed(*ADMIN)
    assert "created administrator root" in output
    root = get_user_model().objects.get(username="root")
    assert root.is_staff and root.is_superuser and root.check_password(PASSWORD)
    assert list(root.roles.values_list("name", flat=True)) == ["admin"]
    before = state()
    assert "Nothing to do" in seed(*ADMIN)
    assert state() == before  # the password was not re-hashed


def test_an_existing_admin_is_completed(monkeypatch, make_user):
    user = make_user(username="root", email="old@example.com")
    assert "root" in seed(*ADMIN)  # no password needed for an existing user
    user.refresh_from_db()
    assert user.email == "root@example.com" and user.is_superuser and user.roles.filter(name="admin").exists()
    monkeypatch.setenv("SEED_ADMIN_PASSWORD", PASSWORD)
    assert "password set" in seed(*ADMIN)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize(
    "args, env, message",
    [
        (ADMIN, None, "Set SEED_ADMIN_PASSWORD"),
        (ADMIN, "123", "SEED_ADMIN_PASSWORD is refused"),
        (["--admin-username", "root"], PASSWORD, "both"),
    ],
)
def test_refusals_change_nothing(monkeypatch, args, env, message):
    if env:
        monkeypatch.setenv("SEED_ADMIN_PASSWORD", env)
    else:
        monkeypatch.delenv("SEED_ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError, match=message):
        seed(*args)
    assert not Role.objects.exists() and not get_user_model().objects.exists()


def test_an_address_taken_by_someone_else_is_refused(monkeypatch, make_user):
    make_user(username="alice", email="root@example.com")
    monkeypatch.setenv("SEED_ADMIN_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="already has the address"):
        seed(*ADMIN)
    assert not Role.objects.exists()
