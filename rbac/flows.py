"""rbac's use cases: what a user holds, and changing it. Each change is announced by the model
signals (rbac.receivers → rbac.signals.roles_changed) inside its transaction."""

from django.db import transaction

from .models import Permission, Role, RoleAssignment
from .permissions import DEFAULT_ROLES, DESCRIPTIONS


class UnknownRole(ValueError):
    """No role has this name; the message is safe to show."""


def held(*, user):
    """(role names, permission codenames) `user` holds, as two frozensets: one query."""
    rows = RoleAssignment.objects.filter(user=user).values_list("role__name", "role__permissions__codename")
    return _split(rows)


def _split(rows):
    roles, permissions = set(), set()
    for role, codename in rows:
        roles.add(role)
        if codename:
            permissions.add(codename)
    return frozenset(roles), frozenset(permissions)


def role_names(*, user):
    return frozenset(RoleAssignment.objects.filter(user=user).values_list("role__name", flat=True))


def permissions_of_roles(roles):
    """The codenames the roles named `roles` grant: one query."""
    return frozenset(
        Permission.objects.filter(roles__name__in=list(roles)).values_list("codename", flat=True).distinct()
    )


def _role(name):
    role = Role.objects.filter(name=name).first()
    if role is None:
        raise UnknownRole(f"There is no role named {name!r}.")
    return role


def assign_role(*, user, role):
    """Give `user` the role named `role`; True if they did not hold it. UnknownRole if none."""
    with transaction.atomic():
        _, created = RoleAssignment.objects.get_or_create(user=user, role=_role(role))
    return created


def remove_role(*, user, role):
    """Take the role named `role` from `user`; True if they held it. UnknownRole if none."""
    with transaction.atomic():
        assignment = RoleAssignment.objects.filter(user=user, role=_role(role)).first()
        if assignment is None:
            return False
        assignment.delete()
    return True


def seed_default_roles():
    """Create or update the default roles and permissions (rbac.permissions); returns a list of
    what changed ("created role admin", …), empty when everything was already in place. A role
    is given the permissions it lacks; permissions an operator added to it stay."""
    changes = []
    with transaction.atomic():
        permissions = {}
        for codename, description in DESCRIPTIONS.items():
            permission, created = Permission.objects.get_or_create(
                codename=codename, defaults={"description": description}
            )
            permissions[codename] = permission
            if created:
                changes.append(f"created permission {codename}")
        for name, (description, codenames) in DEFAULT_ROLES.items():
            role, created = Role.objects.get_or_create(name=name, defaults={"description": description})
            if created:
                changes.append(f"created role {name}")
            missing = set(codenames) - set(role.permissions.values_list("codename", flat=True))
            if missing:
                role.permissions.add(*(permissions[codename] for codename in sorted(missing)))
                changes.append(f"role {name} granted {' '.join(sorted(missing))}")
    return changes
