"""What a user holds, assignment, the default roles, and the pure claims."""

import pytest

from rbac import flows
from rbac import permissions as perms
from rbac.claims import rbac_claims, wanted
from rbac.models import Permission, Role

pytestmark = pytest.mark.django_db


def test_claims_by_scope():
    assert rbac_claims(scopes=["profile"], roles={"admin"}, permissions={"a.b"}) == {}
    assert rbac_claims(scopes=["roles"], roles={"b", "a"}, permissions={"a.b"}) == {"roles": ["a", "b"]}
    assert rbac_claims(scopes=["permissions"], roles=(), permissions={"x.y", "a.b"}) == {"permissions": ["a.b", "x.y"]}
    assert wanted(["roles"]) and wanted({"permissions"}) and not wanted(["openid"]) and not wanted(None)


def test_held_is_one_query(user, django_assert_num_queries):
    flows.seed_default_roles()
    flows.assign_role(user=user, role="operator")
    flows.assign_role(user=user, role="user")  # a role without permissions still counts
    with django_assert_num_queries(1):
        roles, permissions = flows.held(user=user)
    assert roles == {"operator", "user"}
    assert permissions == set(perms.DEFAULT_ROLES["operator"][1])


def test_assign_and_remove_report_whether_anything_changed(user):
    flows.seed_default_roles()
    assert flows.assign_role(user=user, role="auditor") is True
    assert flows.assign_role(user=user, role="auditor") is False
    assert flows.remove_role(user=user, role="auditor") is True
    assert flows.remove_role(user=user, role="auditor") is False
    with pytest.raises(flows.UnknownRole, match="nobody"):
        flows.assign_role(user=user, role="nobody")


def test_seeding_twice_changes_nothing_the_second_time():
    first = flows.seed_default_roles()
    assert "created role admin" in first
    assert flows.seed_default_roles() == []
    assert set(Role.objects.values_list("name", flat=True)) == {"admin", "operator", "auditor", "user"}
    admin = Role.objects.get(name="admin")
    assert set(admin.permissions.values_list("codename", flat=True)) == set(perms.DESCRIPTIONS)


def test_seeding_restores_a_removed_default_permission_and_keeps_additions():
    flows.seed_default_roles()
    operator = Role.objects.get(name="operator")
    operator.permissions.remove(Permission.objects.get(codename=perms.CLIENTS_MANAGE))
    extra = Permission.objects.create(codename="reports.view")
    operator.permissions.add(extra)
    assert flows.seed_default_roles() == ["role operator granted clients.manage"]
    assert operator.permissions.filter(codename="reports.view").exists()


def test_every_default_role_grants_only_known_permissions():
    for _, codenames in perms.DEFAULT_ROLES.values():
        assert set(codenames) <= set(perms.DESCRIPTIONS)
