"""Model-signal receivers (connected in RBACConfig.ready()): every way a holding can change —
rbac.flows, the admin's inline and forms, a shell — ends in `roles_changed` per user."""

from django.contrib.auth import get_user_model

import audit
from audit import events

from .models import Permission, Role, RoleAssignment
from .signals import roles_changed

CHANGES = {"post_add", "post_remove", "post_clear"}


def _announce(users):
    for user in users:
        roles_changed.send(sender=Role, user=user)


def assignment_saved(sender, instance, created, raw=False, **kwargs):
    if not raw:
        if created:
            audit.record(event=events.ROLE_ASSIGNED, subject=instance.user, detail={"roles": [instance.role.name]})
        _announce([instance.user])


def assignment_deleted(sender, instance, origin=None, **kwargs):
    # A deleted user needs no not-before (and cannot get one: its row is going).
    if isinstance(origin, get_user_model()):
        return
    user = get_user_model().objects.filter(pk=instance.user_id).first()
    if user is not None:
        audit.record(event=events.ROLE_REMOVED, subject=user, detail={"roles": _role_names([instance.role_id])})
        _announce([user])


def users_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """`m2m_changed` of Role.users (role.users.add(), user.roles.remove(), …)."""
    if action == "pre_clear":
        instance._rbac_before_clear = list(instance.users.all()) if isinstance(instance, Role) else [instance]
        return
    if action not in CHANGES:
        return
    if action == "post_clear":
        users = getattr(instance, "_rbac_before_clear", [])
    elif isinstance(instance, Role):
        users = get_user_model().objects.filter(pk__in=pk_set or ())
    else:
        users = [instance]
    users = list(users)  # read once, for the audit log and the announcement
    _record_holdings(instance, action, pk_set, users)
    _announce(users)


def _record_holdings(instance, action, pk_set, users):
    event = events.ROLE_ASSIGNED if action == "post_add" else events.ROLE_REMOVED
    if isinstance(instance, Role):
        roles = [instance.name]
    else:
        roles = None if action == "post_clear" else _role_names(pk_set)
    for user in users:
        audit.record(event=event, subject=user, detail={"roles": roles} if roles is not None else {"all": True})


def _role_names(pks):
    return sorted(Role.objects.filter(pk__in=pks or ()).values_list("name", flat=True)) or [str(pk) for pk in pks]


def permissions_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """`m2m_changed` of Role.permissions: every holder of an affected role."""
    if action == "pre_clear":
        instance._rbac_before_clear = list(_holders_of_roles(_roles(instance, reverse, None)))
        return
    if action not in CHANGES:
        return
    if action == "post_clear":
        users = getattr(instance, "_rbac_before_clear", [])
    else:
        users = _holders_of_roles(_roles(instance, reverse, pk_set))
    _record_permissions(instance, reverse, action, pk_set)
    _announce(users)


def _record_permissions(instance, reverse, action, pk_set):
    """One event per change of what a role grants (not one per holder)."""
    change = action.removeprefix("post_")
    if reverse:  # permission.roles.add(...): this permission, those roles
        detail = {"permissions": [instance.codename], "change": change}
        names = None if pk_set is None else _role_names(pk_set)
        detail["roles"] = names if names is not None else "all"
    else:
        codenames = Permission.objects.filter(pk__in=pk_set or ()).values_list("codename", flat=True)
        detail = {"roles": [instance.name], "change": change, "permissions": sorted(codenames) if pk_set else "all"}
    audit.record(event=events.ROLE_PERMISSIONS_CHANGED, subject=None, detail=detail)


def permission_deleted(sender, instance, **kwargs):
    """`pre_delete` of a Permission: its roles lose it (the rows go without m2m signals)."""
    _announce(_holders_of_roles(instance.roles.all()))


def _roles(instance, reverse, pk_set):
    if not reverse:
        return Role.objects.filter(pk=instance.pk)
    roles = instance.roles.all()  # from the permission's side
    return roles if pk_set is None else Role.objects.filter(pk__in=pk_set)


def _holders_of_roles(roles):
    user_ids = RoleAssignment.objects.filter(role__in=roles).values("user_id")
    return get_user_model().objects.filter(pk__in=user_ids)
