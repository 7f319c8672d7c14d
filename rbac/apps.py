from django.apps import AppConfig


class RBACConfig(AppConfig):
    name = "rbac"
    verbose_name = "Roles and permissions"

    def ready(self):
        from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

        from . import receivers
        from .models import Permission, Role, RoleAssignment

        post_save.connect(receivers.assignment_saved, sender=RoleAssignment, dispatch_uid="rbac.assignment_saved")
        post_delete.connect(receivers.assignment_deleted, sender=RoleAssignment, dispatch_uid="rbac.assignment_deleted")
        m2m_changed.connect(receivers.users_changed, sender=Role.users.through, dispatch_uid="rbac.users_changed")
        m2m_changed.connect(
            receivers.permissions_changed, sender=Role.permissions.through, dispatch_uid="rbac.permissions_changed"
        )
        pre_delete.connect(receivers.permission_deleted, sender=Permission, dispatch_uid="rbac.permission_deleted")
