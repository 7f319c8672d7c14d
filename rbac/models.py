"""Roles, the permissions they grant, and who holds them. rbac is the only writer of these
tables (rbac.flows, the admin, the seed command); a change of who holds what is announced with
`rbac.signals.roles_changed` (rbac.receivers).

Our own tables rather than Django's groups and permissions: a role has a description and a
stable lowercase name that tokens carry (`roles` claim), a permission is an application-level
codename (`clients.manage`), not a model permission tied to a content type, and Django's groups
keep meaning what they mean in the admin (which model pages staff may open) without every
such change reaching tokens.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

NAME = RegexValidator(r"^[a-z][a-z0-9_-]{0,63}\Z", "Lowercase letters, digits, '-' and '_', starting with a letter.")
CODENAME = RegexValidator(
    r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\Z", "Two lowercase words joined by a dot, like clients.manage."
)


class Permission(models.Model):
    codename = models.CharField(max_length=100, unique=True, validators=[CODENAME])
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["codename"]
        verbose_name = "permission"

    def __str__(self):
        return self.codename


class Role(models.Model):
    name = models.CharField(max_length=64, unique=True, validators=[NAME], help_text="As tokens carry it.")
    description = models.CharField(max_length=255, blank=True)
    permissions = models.ManyToManyField(Permission, blank=True, related_name="roles")
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, through="RoleAssignment", related_name="roles", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class RoleAssignment(models.Model):
    """`user` holds `role` (since `assigned_at`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="assignments")
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="rbac_assignment_unique")]
        verbose_name = "role assignment"

    def __str__(self):
        return f"{self.user} holds {self.role}"
